"""The operations of EIP changes.

Called by ``reconciler.plan.graph`` through its per-kind table. Pure.
``CreateEip`` allocates up to five addresses per call, all alike; each is
then named, and bound when the manifest says to which instance. Binding
and unbinding are asynchronous (the EIP's status says when they are done),
and only an unbound EIP can be bound or released (legacy-api.md, 11).
"""

from __future__ import annotations

from reconciler.model.address import Address
from reconciler.model.change import Change, Operation
from reconciler.model.resource import CurrentResource, DesiredResource
from reconciler.plan.chains import KindOperations
from reconciler.plan.instance_operations import DEPOSED, GONE

BOUND = "bound"
UNBOUND = "unbound"


def _create_chain(desired: DesiredResource) -> list[Operation]:
    address, attributes = desired.address, desired.attributes
    chain = [
        Operation(address, "CreateEip", params={"name": None}, wait_for=UNBOUND),
        Operation(address, "ModifyEipAttributes", params={"name": attributes["name"]}),
    ]
    if attributes.get("instance"):
        chain.append(_bind(address, str(attributes["instance"])))
    return chain


def _update_chain(
    change: Change, desired: DesiredResource, current: CurrentResource
) -> list[Operation]:
    rows = {row.name: row for row in change.attributes}
    chain = []
    if "name" in rows:
        chain.append(
            Operation(
                change.address,
                "ModifyEipAttributes",
                params={"name": rows["name"].new},
                resource_id=change.resource_id,
            )
        )
    if "instance" in rows:
        row = rows["instance"]
        if row.old:
            chain.append(_unbind(change))
        if row.new:
            chain.append(_bind(change.address, str(row.new), change.resource_id))
    return chain


def _delete_chain(
    change: Change, current: CurrentResource | None, deposed: bool
) -> list[Operation]:
    chain = []
    if current is not None and current.attributes.get("instance"):
        chain.append(_unbind(change))
    chain.append(
        Operation(
            change.address,
            "DeleteEip",
            params={DEPOSED: True} if deposed else {},
            resource_id=change.resource_id,
            wait_for=GONE,
        )
    )
    return chain


def _bind(address: Address, instance: str, resource_id: str | None = None) -> Operation:
    return Operation(
        address,
        "EipBindInstance",
        params={"instance": instance},
        resource_id=resource_id,
        wait_for=BOUND,
    )


def _unbind(change: Change) -> Operation:
    return Operation(
        change.address,
        "EipUnBindInstance",
        params={"instance": None},
        resource_id=change.resource_id,
        wait_for=UNBOUND,
    )


EIP_OPERATIONS = KindOperations(_create_chain, _delete_chain, _update_chain)
eip_operations = EIP_OPERATIONS.chain
