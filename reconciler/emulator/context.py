"""What an action handler gets: the call, the state, the clock, the faults.

Handlers are plain functions ``handler(call: Call) -> dict`` registered per
service; they run inside the call's transaction and raise ``ApiError`` to
answer an error (their writes are then undone).
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .config import EmulatorConfig
from .faults import RESOURCE_ERROR, CallFaults, Outcome
from .protocol import ApiError, Params
from .store import Resource, Store

ID_ALPHABET = string.ascii_lowercase + string.digits
TASK_BLOCK = 100
ITEM_ERROR_TYPES = frozenset({RESOURCE_ERROR})

Handler = Callable[["Call"], dict[str, Any]]


class IdFactory:
    """Resource ids ``<prefix>-`` + 8 chars of [a-z0-9], unique in the store.

    Seeded from the fault seed when one is loaded, so a seeded run names its
    resources the same way each time it starts from an empty cloud.
    """

    def __init__(self, seed: int | None = None) -> None:
        self._random = random.Random(seed) if seed is not None else random.Random()

    def new(self, store: Store, prefix: str) -> str:
        while True:
            suffix = "".join(self._random.choice(ID_ALPHABET) for _ in range(8))
            candidate = f"{prefix}-{suffix}"
            if not store.exists_id(candidate):
                return candidate

    def hex(self, length: int) -> str:
        return "".join(self._random.choice("0123456789abcdef") for _ in range(length))


@dataclass
class Call:
    """One authenticated API call being served."""

    action: str
    service: str
    params: Params
    region: str
    secret_id: str
    now: float
    store: Store
    config: EmulatorConfig
    faults: CallFaults
    ids: IdFactory
    created: list[str] = field(default_factory=list)
    # Per-call memo for handlers (e.g. addresses in use in a subnet).
    scratch: dict[str, Any] = field(default_factory=dict)

    def done_at(self, action: str | None = None) -> float:
        """When asynchronous work started now by this action finishes."""
        action = action or self.action
        ends: dict[str, float] = self.scratch.setdefault("done_at", {})
        if action not in ends:
            # Asked once per item of a batch; the answer is the same for all.
            ends[action] = self.now + self.config.duration(action)
        return ends[action]

    def task_number(self) -> int:
        """A task number (``requestId``) for asynchronous work on one item.

        Numbers are reserved from the store a block at a time, because a
        batch of 100 items needs 100 of them; unused ones are simply skipped.
        """
        pool: list[int] = self.scratch.setdefault("task_numbers", [])
        if not pool:
            last = self.store.next_value("task", by=TASK_BLOCK)
            pool.extend(range(last, last - TASK_BLOCK, -1))
        return 1000000 + pool.pop()

    def item_fault(self, resource: Resource) -> Outcome | None:
        """An injected per-resource error for this item of the call, if any."""
        if not self.faults.active:
            return None
        return self.faults.resource_outcome(
            ITEM_ERROR_TYPES, resource.id, resource.name
        )

    def raise_item_fault(self, resource: Resource) -> None:
        """Single-resource actions: an injected item error fails the call."""
        outcome = self.item_fault(resource)
        if outcome is not None:
            raise ApiError(outcome.code, outcome.message)

    def effect(self, kind: str, resource_id: str, name: str = "") -> Outcome | None:
        """An injected effect (task failure, hidden, slow delete) for a resource."""
        if not self.faults.active:
            return None
        return self.faults.resource_outcome(frozenset({kind}), resource_id, name)
