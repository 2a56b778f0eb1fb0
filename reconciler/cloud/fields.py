"""Tolerant readers for fields of legacy API answers.

The documentation disagrees with itself about many field types (numbers as
strings, ids as lists or maps, empty strings for "none"; legacy-api.md,
section 15). The service modules (``cvm``, ``vpc``, ``clb``, ``eip``) read
answers only through these helpers, so every disagreement is absorbed in one
place and a view never holds a raw wire quirk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.cloud.errors import TransportError, UnknownOutcomeError
from reconciler.cloud.results import parse_task_id


def as_int(value: Any) -> int | None:
    """An int from an int or a numeric string; None for anything else."""
    if isinstance(value, bool):
        return int(value)
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def optional_str(value: Any) -> str | None:
    """A string, or None for the "not set" values: None, "" and 0."""
    if value is None or value == "" or value == 0:
        return None
    return str(value)


def as_list(value: Any) -> list[Any]:
    """A list from a list, a tuple, a single value or None."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def str_tuple(value: Any) -> tuple[str, ...]:
    """Strings of a list field (``wanIpSet``, ``bindUnInstanceIds`` ...)."""
    return tuple(str(item) for item in as_list(value) if item not in (None, ""))


def flatten_ids(value: Any) -> list[str]:
    """Ids given as a list, or as a map of deal id -> list (section 8.1, 9)."""
    if isinstance(value, Mapping):
        return [str(i) for ids in value.values() for i in as_list(ids)]
    return [str(i) for i in as_list(value)]


def first_str(item: Mapping[str, Any], *keys: str) -> str:
    """The first non-empty value among ``keys``; unified ids come first."""
    for key in keys:
        value = optional_str(item.get(key))
        if value is not None:
            return value
    return ""


def data_of(body: Mapping[str, Any]) -> Mapping[str, Any]:
    """The ``data`` object of an answer, or an empty one."""
    data = body.get("data")
    return data if isinstance(data, Mapping) else {}


def require_task_id(
    body: Mapping[str, Any],
    action: str,
    *,
    service: str = "",
    resource_ids: Sequence[str] = (),
) -> int:
    """The task number of a single-async answer.

    An accepted call without a task number cannot be followed: the change may
    be under way, so it is reported as an unknown outcome, for the caller to
    refresh before deciding anything.
    """
    task_id = parse_task_id(body.get("requestId"))
    if task_id is not None:
        return task_id
    raise UnknownOutcomeError(
        action,
        "the call was accepted but its answer has no requestId to follow",
        resource_ids=resource_ids,
        service=service,
    )


def task_status_of(body: Mapping[str, Any], action: str, *, service: str = "") -> int:
    """``data.status`` of a task-result answer (0 done, 1 failed, 2 running)."""
    status = as_int(data_of(body).get("status"))
    if status is not None:
        return status
    # A read that cannot be understood is worth repeating, like a lost one.
    raise TransportError(
        action, "the task-result answer has no data.status", service=service
    )
