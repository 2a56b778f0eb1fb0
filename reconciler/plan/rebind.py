"""Bindings to a replaced resource are made again.

When an instance is replaced, its address stays the same, so an EIP or a
load balancer that names it shows no difference in the diff; but returning
the old instance frees its EIP and its load balancer registrations
(legacy-api.md, 14), and the new instance has another id. This pass adds
the update that binds them to the new instance. Pure; called by
``make_plan`` after the diff.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.model.address import Address
from reconciler.model.change import Action, AttributeChange, Change
from reconciler.model.resource import CurrentResource, DesiredResource

_REBIND = "bound again: {} replaced"
# Marks a backend row whose instance is being replaced: the cloud drops its
# registration when the old instance is returned, so it is only shown.
REPLACED = " (replaced)"


def rebind_replaced(
    changes: Sequence[Change],
    desired: Mapping[Address, DesiredResource],
    current: Mapping[Address, CurrentResource],
) -> list[Change]:
    """``changes`` with an update for every binding to a replaced instance."""
    replaced = {
        change.address.name
        for change in changes
        if change.action is Action.REPLACE and change.address.kind == "instance"
    }
    if not replaced:
        return list(changes)

    by_address = {change.address: change for change in changes}
    for address, resource in sorted(desired.items()):
        if address not in current or (
            address in by_address and by_address[address].action is not Action.UPDATE
        ):
            continue
        row = _rebinding(resource, current[address], replaced)
        if row is not None:
            by_address[address] = _with_row(
                by_address.get(address), resource, row, current
            )
    return [by_address[address] for address in sorted(by_address)]


def _rebinding(
    resource: DesiredResource, record: CurrentResource, replaced: set[str]
) -> AttributeChange | None:
    attributes = resource.attributes
    if resource.address.kind == "eip":
        instance = attributes.get("instance")
        if instance in replaced and record.attributes.get("instance") == instance:
            return AttributeChange(
                "instance", instance, instance, _rebind_reason([instance])
            )
    if resource.address.kind == "loadBalancer":
        rows = attributes.get("backends") or []
        moving = sorted({row["instance"] for row in rows} & replaced)
        if moving:
            # Shown as leaving (marked replaced) and joining again, so one
            # register call carries the new instances.
            old = [
                {**row, "instance": f"{row['instance']}{REPLACED}"}
                if row["instance"] in moving
                else row
                for row in _backends(record)
            ]
            return AttributeChange("backends", old, list(rows), _rebind_reason(moving))
    return None


def _rebind_reason(names: Sequence[str]) -> str:
    verb = "is" if len(names) == 1 else "are"
    listed = ", ".join(f"instance.{name}" for name in names)
    return _REBIND.format(f"{listed} {verb}")


def _backends(record: CurrentResource) -> list[dict[str, Any]]:
    return [dict(row) for row in record.attributes.get("backends") or []]


def _with_row(
    change: Change | None,
    resource: DesiredResource,
    row: AttributeChange,
    current: Mapping[Address, CurrentResource],
) -> Change:
    if change is None:
        record = current[resource.address]
        return Change(
            resource.address,
            Action.UPDATE,
            (row,),
            "a resource it binds is replaced",
            record.resource_id,
        )
    others = tuple(r for r in change.attributes if r.name != row.name)
    return Change(
        change.address,
        change.action,
        tuple(sorted((*others, row), key=lambda r: r.name)),
        change.reason or "a resource it binds is replaced",
        change.resource_id,
    )
