"""Refresh: the recorded state read back from the cloud.

The only I/O of the planner. Reading N instances costs ceil(N/100)
``DescribeInstances`` calls. A recorded resource the cloud no longer has
(returned, or deleted outside reconciler) comes back absent, so the diff
plans to create it again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.cloud.cvm import CvmApi, InstanceView
from reconciler.model.address import Address
from reconciler.model.resource import RUNNING, STOPPED, CurrentResource

logger = logging.getLogger(__name__)

# Transitional statuses count as where they are heading (legacy-api.md 8.2).
_STATE_BY_STATUS = {
    1: "fault",
    2: RUNNING,
    3: RUNNING,
    4: STOPPED,
    7: RUNNING,
    8: RUNNING,
    9: STOPPED,
}
_GONE_STATUSES = {5, 6}


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


def refresh(recorded: Mapping[Address, CurrentResource], cvm: CvmApi) -> RefreshResult:
    """Read every recorded resource from the cloud, in batches."""
    instances = {a: r for a, r in recorded.items() if a.kind == "instance"}
    views = {
        view.instance_id: view
        for view in cvm.describe_instances(
            sorted(r.resource_id for r in instances.values())
        )
    }

    current: dict[Address, CurrentResource] = {}
    drift: list[Drift] = []
    for address, record in sorted(instances.items()):
        view = views.get(record.resource_id)
        if view is None or is_gone(view):
            drift.append(Drift(address, deleted=True))
            continue
        live = CurrentResource(
            address, record.resource_id, instance_attributes(view, record)
        )
        current[address] = live
        changed = _changed_attributes(record.attributes, live.attributes)
        if changed:
            drift.append(Drift(address, changed))
    return RefreshResult(current, drift)


def is_gone(view: InstanceView) -> bool:
    """Returned or being returned: as good as absent for planning."""
    return view.status in _GONE_STATUSES


def instance_attributes(
    view: InstanceView, record: CurrentResource | None = None
) -> dict[str, Any]:
    """The manifest's attributes of an instance as the cloud shows them.

    What DescribeInstances cannot show (the password's hash, the key pair,
    the subnet's manifest name) is kept as state recorded it.
    """
    recorded = dict(record.attributes) if record else {}
    recorded_state = recorded.get("state")
    return recorded | {
        "name": view.name,
        "zone": view.zone,
        "image": view.image,
        "cpu": view.cpu,
        "memory": view.memory,
        "disk": view.disk,
        "bandwidth": view.bandwidth,
        "state": _STATE_BY_STATUS.get(view.status, recorded_state or RUNNING),
    }


def _changed_attributes(
    recorded: Mapping[str, Any], live: Mapping[str, Any]
) -> dict[str, tuple[Any, Any]]:
    return {
        name: (recorded.get(name), value)
        for name, value in live.items()
        if recorded.get(name) != value
    }
