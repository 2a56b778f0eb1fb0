"""Reading many resources in few calls: pagination and id chunking.

Describe* actions return at most 100 items per call (legacy-api.md, section
13). The service modules (``cvm.py`` ...) use ``describe_all`` to walk every
page (offset/limit 100) and ``describe_ids`` to read N known ids in
ceil(N/100) calls. Both return the raw item objects; the service module turns
them into views.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol, TypeVar

logger = logging.getLogger(__name__)

PAGE_SIZE = 100

T = TypeVar("T")


class Caller(Protocol):
    """What paging needs of ``LegacyClient``."""

    def call(
        self,
        service: str,
        action: str,
        params: Mapping[str, Any],
        *,
        region: str | None = None,
        resource_ids: Sequence[str] = (),
    ) -> dict[str, Any]: ...


def chunked(items: Sequence[T], size: int = PAGE_SIZE) -> Iterator[list[T]]:
    """Consecutive slices of at most ``size`` items."""
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def items_at(body: Mapping[str, Any], path: str) -> list[dict[str, Any]]:
    """The item list at a dotted path (``instanceSet``, ``data.eipSet``)."""
    value: Any = body
    for key in path.split("."):
        value = value.get(key) if isinstance(value, Mapping) else None
    if not isinstance(value, list):
        return []
    return [dict(item) for item in value if isinstance(item, Mapping)]


def total_count(body: Mapping[str, Any]) -> int | None:
    """``totalCount`` at the top or inside ``data`` (EIP puts it at the top)."""
    for holder in (body, body.get("data")):
        if isinstance(holder, Mapping) and "totalCount" in holder:
            try:
                return int(holder["totalCount"])
            except (TypeError, ValueError):
                return None
    return None


def describe_all(
    client: Caller,
    service: str,
    action: str,
    items_path: str,
    params: Mapping[str, Any] | None = None,
    *,
    page_size: int = PAGE_SIZE,
) -> list[dict[str, Any]]:
    """Every item a Describe* action lists, page by page."""
    found: list[dict[str, Any]] = []
    offset = 0
    while True:
        page_params = {**(params or {}), "offset": offset, "limit": page_size}
        body = client.call(service, action, page_params)
        page = items_at(body, items_path)
        found.extend(page)

        # Stop on a short page too: a server that omits totalCount must not
        # make us loop for ever.
        offset += page_size
        total = total_count(body)
        if len(page) < page_size or (total is not None and offset >= total):
            return found


def describe_ids(
    client: Caller,
    service: str,
    action: str,
    items_path: str,
    ids_param: str,
    ids: Sequence[str],
    params: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The items of known ids, 100 ids per call; absent ids are not returned."""
    found: list[dict[str, Any]] = []
    unique = list(dict.fromkeys(ids))
    for chunk in chunked(unique, PAGE_SIZE):
        chunk_params = {
            **(params or {}),
            ids_param: chunk,
            "offset": 0,
            "limit": PAGE_SIZE,
        }
        body = client.call(service, action, chunk_params, resource_ids=chunk)
        found.extend(items_at(body, items_path))
    return found
