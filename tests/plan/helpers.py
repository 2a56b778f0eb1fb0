"""Hand-built desired and current instances for planner tests."""

from __future__ import annotations

from typing import Any

from reconciler.model.address import Address
from reconciler.model.resource import CurrentResource, DesiredResource

BASE = {
    "zone": "ap-guangzhou-3",
    "image": "img-ubuntu22",
    "cpu": 1,
    "memory": 2,
    "disk": 50,
    "bandwidth": 0,
    "state": "running",
}


def address(name: str) -> Address:
    return Address("instance", name)


def desired(
    key: str, sensitive: frozenset[str] = frozenset(), **changes: Any
) -> DesiredResource:
    attributes = {**BASE, "name": key, **changes}
    return DesiredResource(address(key), attributes, sensitive=sensitive)


def current(key: str, resource_id: str, **changes: Any) -> CurrentResource:
    attributes = {**BASE, "name": key, **changes}
    return CurrentResource(address(key), resource_id, attributes)


def by_address(*records: CurrentResource) -> dict[Address, CurrentResource]:
    return {record.address: record for record in records}
