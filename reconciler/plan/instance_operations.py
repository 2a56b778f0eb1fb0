"""The operations of one instance change, in the order they must run.

Called by ``reconciler.plan.graph`` through its per-kind table. Pure. An
instance is never asked to do two things at once, so each change becomes a
chain: return before re-create (or after it, with createBeforeDestroy),
create before rename, rename and bandwidth while it runs, a stop around the
steps that need a stopped instance (password, key), and the power change
last.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.model.address import Address
from reconciler.model.change import AttributeChange, Change, Operation
from reconciler.model.resource import (
    RUNNING,
    STOPPED,
    CurrentResource,
    DesiredResource,
)
from reconciler.plan.chains import KindOperations
from reconciler.plan.rules import (
    INSTANCE_CREATE_KEYS,
    INSTANCE_CREATE_OPTIONAL,
    INSTANCE_RULES,
    POWER_ATTRIBUTE,
)

GONE = "gone"
# Params of a ReturnInstance that removes the old instance of a
# create-before-destroy replacement: state already holds the new one.
DEPOSED = "deposed"

# Attributes changed by one call each while the instance keeps running, in
# the order they are sent.
_RUNNING_STEPS = ("name", "bandwidth", "image")
# Attributes changed only while the instance is stopped.
_STOPPED_STEPS = ("password", "keyPair")


def return_operation(change: Change, deposed: bool = False) -> Operation:
    return Operation(
        change.address,
        "ReturnInstance",
        params={DEPOSED: True} if deposed else {},
        resource_id=change.resource_id,
        wait_for=GONE,
    )


def _delete(
    change: Change, current: CurrentResource | None, deposed: bool
) -> list[Operation]:
    return [return_operation(change, deposed)]


def _update(
    change: Change, desired: DesiredResource, current: CurrentResource
) -> list[Operation]:
    return _update_chain(change, current)


def create_config(attributes: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    """What instances must share to be created by one RunInstancesHour."""
    config = [(key, attributes[key]) for key in INSTANCE_CREATE_KEYS]
    config += [
        (key, attributes[key]) for key in INSTANCE_CREATE_OPTIONAL if key in attributes
    ]
    return tuple(config)


def _create_chain(desired: DesiredResource) -> list[Operation]:
    attributes = desired.attributes
    chain = [
        Operation(
            desired.address,
            "RunInstancesHour",
            batch_key=create_config(attributes),
            params={**attributes, POWER_ATTRIBUTE: RUNNING},
            wait_for=RUNNING,
        ),
        # A batch create gives every instance the same name; each one that
        # should be called otherwise is renamed once it runs.
        Operation(
            desired.address,
            "ModifyInstanceAttributes",
            params={"name": attributes["name"]},
        ),
    ]
    if attributes[POWER_ATTRIBUTE] == STOPPED:
        chain.append(_power(desired.address, STOPPED))
    return chain


def _update_chain(change: Change, current: CurrentResource) -> list[Operation]:
    rows = {row.name: row for row in change.attributes}
    live = current.attributes.get(POWER_ATTRIBUTE, RUNNING)
    final = rows[POWER_ATTRIBUTE].new if POWER_ATTRIBUTE in rows else live
    address, resource_id = change.address, change.resource_id

    chain = [
        _in_place(address, resource_id, rows[name], live)
        for name in _RUNNING_STEPS
        if name in rows
    ]
    stopped_steps = [rows[name] for name in _STOPPED_STEPS if name in rows]
    if stopped_steps and live == RUNNING:
        chain.append(_power(address, STOPPED, resource_id))
        live = STOPPED
    chain += [_in_place(address, resource_id, row, live) for row in stopped_steps]

    if final != live:
        chain.append(_power(address, final, resource_id))
    return chain


def _in_place(
    address: Address, resource_id: str | None, row: AttributeChange, live: str
) -> Operation:
    """The one call that changes ``row``; batchable calls carry a batch key."""
    rule = INSTANCE_RULES[row.name]
    if row.name == "keyPair" and row.new is None:
        # Unbinding names the key being taken off.
        return Operation(
            address,
            str(rule.unset_action),
            batch_key=(("keyPair", row.old),),
            resource_id=resource_id,
            wait_for=live,
        )
    if row.name in ("password", "keyPair"):
        # One call sets the same password (or key) on every instance it names.
        return Operation(
            address,
            str(rule.api_action),
            batch_key=((row.name, row.new),),
            resource_id=resource_id,
            wait_for=live,
        )
    # The reinstall is asynchronous and ends in the power state it began in;
    # rename and bandwidth answer at once.
    wait_for = live if row.name == "image" else None
    return Operation(
        address,
        str(rule.api_action),
        params={row.name: row.new},
        resource_id=resource_id,
        wait_for=wait_for,
    )


def _power(address: Address, state: str, resource_id: str | None = None) -> Operation:
    action = "StartInstances" if state == RUNNING else "StopInstances"
    return Operation(
        address,
        action,
        params={POWER_ATTRIBUTE: state},
        resource_id=resource_id,
        wait_for=state,
    )


INSTANCE_OPERATIONS = KindOperations(_create_chain, _delete, _update)
instance_operations = INSTANCE_OPERATIONS.chain
