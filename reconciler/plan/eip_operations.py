"""The operations of EIP changes.

Called by ``reconciler.plan.graph`` through its per-kind table. Pure.
``CreateEip`` allocates up to five addresses per call, all alike; each is
then named, and bound when the manifest says to which instance. Binding
and unbinding are asynchronous (the EIP's status says when they are done),
and only an unbound EIP can be bound or released (legacy-api.md, 11).
"""

from __future__ import annotations

from reconciler.model.address import Address
from reconciler.model.change import Action, Change, Operation
from reconciler.model.resource import CurrentResource, DesiredResource
from reconciler.plan.instance_operations import DEPOSED, GONE

BOUND = "bound"
UNBOUND = "unbound"


def eip_operations(
    change: Change,
    desired: DesiredResource | None,
    current: CurrentResource | None,
    create_before_destroy: bool = False,
) -> list[Operation]:
    """The chain of operations that carries out ``change``."""
    if change.action is Action.DELETE:
        return _delete_chain(change, current)
    assert desired is not None, f"{change.address}: a create needs its desired form"
    if change.action is Action.CREATE:
        return _create_chain(desired)
    if change.action is Action.REPLACE:
        if create_before_destroy:
            return [*_create_chain(desired), *_delete_chain(change, current, True)]
        return [*_delete_chain(change, current), *_create_chain(desired)]
    return _update_chain(change)


def _create_chain(desired: DesiredResource) -> list[Operation]:
    address, attributes = desired.address, desired.attributes
    chain = [
        Operation(address, "CreateEip", params={"name": None}, wait_for=UNBOUND),
        Operation(address, "ModifyEipAttributes", params={"name": attributes["name"]}),
    ]
    if attributes.get("instance"):
        chain.append(_bind(address, str(attributes["instance"])))
    return chain


def _update_chain(change: Change) -> list[Operation]:
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
    change: Change, current: CurrentResource | None, deposed: bool = False
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
