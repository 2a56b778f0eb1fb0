"""How each attribute of each kind changes: in place (and by which API action),
by powering the resource, by a reinstall, or by replacing it.

The diff reads these tables and the graph turns their API actions into
operations; ``docs/changes.md`` is the user's copy of them. A kind plugs
into the planner by adding its table to ``RULES_BY_KIND``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Mode(StrEnum):
    # A call changes the attribute; the resource keeps running.
    IN_PLACE = "in-place"
    # The attribute is the power state itself: StartInstances/StopInstances.
    POWER = "power"
    # A destructive in-place step: the system disk is rewritten.
    REINSTALL = "reinstall"
    # No action changes it: the resource is deleted and created again.
    REPLACE = "replace"


@dataclass(frozen=True)
class AttributeRule:
    """How one attribute of one kind is changed."""

    mode: Mode
    # The API action that changes it in place (None for POWER and REPLACE).
    api_action: str | None = None
    # The action refuses running resources, so the planner stops the
    # resource around it and starts it again if it should run.
    needs_stop: bool = False
    # Why the attribute forces replacement or what a reinstall destroys;
    # shown beside the attribute in the plan.
    note: str = ""
    # The action that takes the attribute back when the manifest drops it;
    # None when dropping it changes nothing in the cloud.
    unset_action: str | None = None
    # Never shown or stored in clear (state keeps a salted hash).
    sensitive: bool = False


INSTANCE_RULES: dict[str, AttributeRule] = {
    "name": AttributeRule(Mode.IN_PLACE, "ModifyInstanceAttributes"),
    "bandwidth": AttributeRule(Mode.IN_PLACE, "UpdateInstanceBandwidthHour"),
    "state": AttributeRule(Mode.POWER),
    # legacy-api.md 8.1: only stopped instances take a new password or key.
    "password": AttributeRule(
        Mode.IN_PLACE, "ResetInstancePassword", needs_stop=True, sensitive=True
    ),
    "keyPair": AttributeRule(
        Mode.IN_PLACE,
        "BindInstanceKey",
        needs_stop=True,
        unset_action="UnBindInstanceKey",
    ),
    "image": AttributeRule(
        Mode.REINSTALL,
        "ResetInstances",
        note="reinstalls the OS; the system disk is wiped",
    ),
    "zone": AttributeRule(Mode.REPLACE, note="an instance cannot move zone"),
    "subnet": AttributeRule(Mode.REPLACE, note="an instance cannot move subnet"),
    # The legacy API has no resize for hourly instances.
    "cpu": AttributeRule(Mode.REPLACE, note="the legacy API cannot resize"),
    "memory": AttributeRule(Mode.REPLACE, note="the legacy API cannot resize"),
    "disk": AttributeRule(Mode.REPLACE, note="the legacy API cannot resize"),
}

VPC_RULES: dict[str, AttributeRule] = {
    "name": AttributeRule(Mode.IN_PLACE, "ModifyVpcAttribute"),
    "cidr": AttributeRule(Mode.REPLACE, note="a VPC's range cannot change"),
}

SUBNET_RULES: dict[str, AttributeRule] = {
    "name": AttributeRule(Mode.IN_PLACE, "ModifySubnetAttribute"),
    "vpc": AttributeRule(Mode.REPLACE, note="a subnet cannot move VPC"),
    "cidr": AttributeRule(Mode.REPLACE, note="a subnet's range cannot change"),
    "zone": AttributeRule(Mode.REPLACE, note="a subnet cannot move zone"),
}

KEY_PAIR_RULES: dict[str, AttributeRule] = {
    "name": AttributeRule(Mode.IN_PLACE, "ModifyKeyPair"),
    "publicKey": AttributeRule(Mode.REPLACE, note="a key pair's key cannot change"),
}

EIP_RULES: dict[str, AttributeRule] = {
    "name": AttributeRule(Mode.IN_PLACE, "ModifyEipAttributes"),
    # Moving an EIP is an unbind from the old instance, then a bind.
    "instance": AttributeRule(
        Mode.IN_PLACE, "EipBindInstance", unset_action="EipUnBindInstance"
    ),
}

LOAD_BALANCER_RULES: dict[str, AttributeRule] = {
    "name": AttributeRule(Mode.IN_PLACE, "ModifyLoadBalancerAttributes"),
    "type": AttributeRule(Mode.REPLACE, note="public and private cannot swap"),
    "vpc": AttributeRule(Mode.REPLACE, note="a load balancer cannot move VPC"),
    "subnet": AttributeRule(Mode.REPLACE, note="a load balancer cannot move subnet"),
    # Listeners and backends are lists: the operations add what is new,
    # take away what is gone and change weights in place.
    "listeners": AttributeRule(Mode.IN_PLACE, "CreateLoadBalancerListeners"),
    "backends": AttributeRule(Mode.IN_PLACE, "RegisterInstancesWithLoadBalancer"),
}

RULES_BY_KIND: dict[str, dict[str, AttributeRule]] = {
    "vpc": VPC_RULES,
    "subnet": SUBNET_RULES,
    "keyPair": KEY_PAIR_RULES,
    "instance": INSTANCE_RULES,
    "eip": EIP_RULES,
    "loadBalancer": LOAD_BALANCER_RULES,
}

# The configuration a batch create must share: RunInstancesHour creates
# ``goodsNum`` identical instances, so only these may differ between calls.
INSTANCE_CREATE_KEYS = ("zone", "image", "cpu", "memory", "disk", "bandwidth")
# Sent with the create when set, and shared by the whole batch as well.
INSTANCE_CREATE_OPTIONAL = ("subnet", "keyPair", "password")

# The attribute that says whether an instance runs; POWER rules act on it.
POWER_ATTRIBUTE = "state"


def rules_for(kind: str) -> dict[str, AttributeRule]:
    """The table of ``kind``; empty for a kind the planner does not know."""
    return RULES_BY_KIND.get(kind, {})
