"""The operations of VPC, subnet and key pair changes.

Called by ``reconciler.plan.graph`` through its per-kind table. Pure. These
kinds answer synchronously: a create, rename or delete is one call, done
when it answers. Subnets of one VPC are created together by one
``CreateSubnet`` call (its ``subnetSet``), and key pairs are deleted
together by one ``DeleteKeyPair`` call.
"""

from __future__ import annotations

from reconciler.model.change import Change, Operation
from reconciler.model.resource import CurrentResource, DesiredResource
from reconciler.plan.chains import KindOperations
from reconciler.plan.instance_operations import DEPOSED, GONE

# Per kind: the create action, the delete action, the rename action.
_ACTIONS = {
    "vpc": ("CreateVpc", "DeleteVpc", "ModifyVpcAttribute"),
    "subnet": ("CreateSubnet", "DeleteSubnet", "ModifySubnetAttribute"),
    "keyPair": ("ImportKeyPair", "DeleteKeyPair", "ModifyKeyPair"),
}


def _create(desired: DesiredResource) -> list[Operation]:
    create_action, _, _ = _ACTIONS[desired.address.kind]
    return [
        Operation(
            desired.address,
            create_action,
            batch_key=_batch_key(desired),
            params=dict(desired.attributes),
        )
    ]


def _rename(
    change: Change, desired: DesiredResource, current: CurrentResource
) -> list[Operation]:
    _, _, rename_action = _ACTIONS[change.address.kind]
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


def _delete(
    change: Change, current: CurrentResource | None, deposed: bool
) -> list[Operation]:
    _, delete_action, _ = _ACTIONS[change.address.kind]
    return [
        Operation(
            change.address,
            delete_action,
            params={DEPOSED: True} if deposed else {},
            resource_id=change.resource_id,
            wait_for=GONE,
        )
    ]


NETWORK_OPERATIONS = KindOperations(_create, _delete, _rename)
network_operations = NETWORK_OPERATIONS.chain
