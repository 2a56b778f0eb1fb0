"""Typed results of batch calls (legacy-api.md, section 5, "Batch async").

``LegacyClient.call_batch`` builds a ``BatchResult`` from an answer whose
outer ``code`` is 0, 5100 or 5400: one ``ItemResult`` per id that was sent.
The executor reads ``succeeded`` and ``failed`` and re-queues failed items on
their own; a failed item never fails the rest of the batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.cloud.errors import TRANSIENT_CODES
from reconciler.cloud.redact import redact_text

# Code given to an id that was sent but is absent from ``detail``: the outcome
# is unknown, so the caller should refresh the resource and maybe retry it.
CODE_MISSING = -1


@dataclass(frozen=True)
class ItemResult:
    """The outcome for one resource id inside a batch call."""

    resource_id: str
    code: int
    message: str = ""
    task_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.code == 0

    @property
    def transient(self) -> bool:
        """True when retrying this one item later may succeed."""
        return self.code in TRANSIENT_CODES or self.code == CODE_MISSING


@dataclass(frozen=True)
class BatchResult:
    """All items of one batch call, keyed by the resource ids that were sent."""

    action: str
    outer_code: int
    message: str
    items: dict[str, ItemResult] = field(default_factory=dict)

    @property
    def succeeded(self) -> list[str]:
        return [item.resource_id for item in self.items.values() if item.ok]

    @property
    def failed(self) -> list[ItemResult]:
        return [item for item in self.items.values() if not item.ok]

    @property
    def task_ids(self) -> dict[str, int]:
        """Task numbers of the succeeded items that got one."""
        return {
            item.resource_id: item.task_id
            for item in self.items.values()
            if item.ok and item.task_id is not None
        }


def parse_task_id(value: Any) -> int | None:
    """``requestId`` comes as int or string (section 5); 0 and "" mean none."""
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number or None


def batch_from_answer(
    action: str, ids: Sequence[str], body: Mapping[str, Any]
) -> BatchResult:
    """Build the typed result of a batch answer that carries ``detail``."""
    details = _details_by_id(body.get("detail"))
    items = {resource_id: _item(resource_id, details) for resource_id in ids}
    return BatchResult(
        action=action,
        outer_code=int(body.get("code", 0)),
        message=redact_text(str(body.get("message", ""))),
        items=items,
    )


def merge_batches(parts: Sequence[BatchResult]) -> BatchResult:
    """One result for a batch sent as several calls (100 ids each)."""
    items = {key: item for part in parts for key, item in part.items.items()}
    failed = any(not item.ok for item in items.values())
    succeeded = any(item.ok for item in items.values())
    outer = 0 if not failed else 5400 if succeeded else 5100
    message = "; ".join(part.message for part in parts if part.message)
    return BatchResult(parts[0].action, outer, message, items)


def batch_all_succeeded(action: str, ids: Sequence[str], message: str) -> BatchResult:
    """Some batch actions answer a plain ``code 0`` with no ``detail``."""
    items = {resource_id: ItemResult(resource_id, 0) for resource_id in ids}
    return BatchResult(action=action, outer_code=0, message=message, items=items)


def _item(resource_id: str, details: Mapping[str, Any]) -> ItemResult:
    entry = details.get(resource_id)
    if not isinstance(entry, Mapping):
        return ItemResult(
            resource_id, CODE_MISSING, "the answer's detail did not mention this id"
        )

    return ItemResult(
        resource_id=resource_id,
        code=_int_code(entry.get("code")),
        message=redact_text(str(entry.get("message", ""))),
        task_id=parse_task_id(entry.get("requestId")),
    )


def _details_by_id(detail: Any) -> dict[str, Any]:
    # The docs call ``detail`` an array but show an object keyed by id; accept
    # a list of objects that name their resource too.
    if isinstance(detail, Mapping):
        return {str(key): value for key, value in detail.items()}
    if not isinstance(detail, list):
        return {}
    by_id: dict[str, Any] = {}
    for entry in detail:
        if not isinstance(entry, Mapping):
            continue
        for key in ("unInstanceId", "instanceId", "resourceId", "id"):
            if key in entry:
                by_id[str(entry[key])] = entry
                break
    return by_id


def _int_code(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        # No code means an unknown outcome; an unreadable one is a failure we
        # cannot classify, so it counts as permanent.
        return CODE_MISSING if value is None else 4000
