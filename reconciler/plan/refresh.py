"""Refresh: the recorded state read back from the cloud.

The only I/O of the planner, through the per-kind readers of
``reconciler.plan.live``: reading N resources of a kind costs ceil(N/100)
Describe calls. A recorded resource the cloud no longer has (returned, or
deleted outside reconciler) comes back absent, so the diff plans to create
it again; one it shows differently is drift.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.cloud.apis import CloudApis
from reconciler.model.address import Address
from reconciler.model.resource import CurrentResource
from reconciler.plan.live import read_live

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Drift:
    """A recorded resource that differs from what the cloud now shows."""

    address: Address
    attributes: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)
    deleted: bool = False


@dataclass(frozen=True)
class RefreshResult:
    current: dict[Address, CurrentResource]
    drift: list[Drift]


def refresh(
    recorded: Mapping[Address, CurrentResource], apis: CloudApis
) -> RefreshResult:
    """Read every recorded resource from the cloud, in batches."""
    live = read_live(apis, recorded)

    current: dict[Address, CurrentResource] = {}
    drift: list[Drift] = []
    for address, record in sorted(recorded.items()):
        attributes = live.get(address)
        if attributes is None:
            drift.append(Drift(address, deleted=True))
            continue
        current[address] = CurrentResource(address, record.resource_id, attributes)
        changed = _changed_attributes(record.attributes, attributes)
        if changed:
            drift.append(Drift(address, changed))
    return RefreshResult(current, drift)


def _changed_attributes(
    recorded: Mapping[str, Any], live: Mapping[str, Any]
) -> dict[str, tuple[Any, Any]]:
    return {
        name: (recorded.get(name), value)
        for name, value in live.items()
        if recorded.get(name) != value
    }
