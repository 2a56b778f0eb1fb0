"""The operations of VPC, subnet and key pair changes.

Called by ``reconciler.plan.graph`` through its per-kind table. Pure. These
kinds answer synchronously: a create, rename or delete is one call, done
when it answers. Subnets of one VPC are created together by one
``CreateSubnet`` call (its ``subnetSet``), and key pairs are deleted
together by one ``DeleteKeyPair`` call.
"""

from __future__ import annotations

from reconciler.model.change import Action, Change, Operation
from reconciler.model.resource import CurrentResource, DesiredResource
from reconciler.plan.instance_operations import DEPOSED, GONE

# Per kind: the create action, the delete action, the rename action.
_ACTIONS = {
    "vpc": ("CreateVpc", "DeleteVpc", "ModifyVpcAttribute"),
    "subnet": ("CreateSubnet", "DeleteSubnet", "ModifySubnetAttribute"),
    "keyPair": ("ImportKeyPair", "DeleteKeyPair", "ModifyKeyPair"),
}


def network_operations(
    change: Change,
    desired: DesiredResource | None,
    current: CurrentResource | None,
    create_before_destroy: bool = False,
) -> list[Operation]:
    """The chain of operations that carries out ``change``."""
    create_action, _, rename_action = _ACTIONS[change.address.kind]
    if change.action is Action.DELETE:
        return [_delete(change)]
    assert desired is not None, f"{change.address}: a create needs its desired form"

    create = Operation(
        change.address,
        create_action,
        batch_key=_batch_key(desired),
        params=dict(desired.attributes),
    )
    if change.action is Action.CREATE:
        return [create]
    if change.action is Action.REPLACE:
        if create_before_destroy:
            return [create, _delete(change, deposed=True)]
        return [_delete(change), create]

    rows = {row.name: row for row in change.attributes}
    return [
        Operation(
            change.address,
            rename_action,
            params={"name": rows["name"].new},
            resource_id=change.resource_id,
        )
    ]


def _batch_key(desired: DesiredResource) -> tuple[tuple[str, str], ...]:
    # One CreateSubnet call carries subnets of one VPC only.
    if desired.address.kind == "subnet":
        return (("vpc", str(desired.attributes["vpc"])),)
    return ()


def _delete(change: Change, deposed: bool = False) -> Operation:
    _, delete_action, _ = _ACTIONS[change.address.kind]
    return Operation(
        change.address,
        delete_action,
        params={DEPOSED: True} if deposed else {},
        resource_id=change.resource_id,
        wait_for=GONE,
    )
