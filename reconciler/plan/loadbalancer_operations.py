"""The operations of load balancer changes.

Called by ``reconciler.plan.graph`` through its per-kind table. Pure. Every
CLB change is asynchronous: the call answers a task number, polled with
``DescribeLoadBalancersTaskResult``. Listeners and backends are lists: the
plan adds what is new and takes away what is gone, a listener that changed
is taken away and added again, and a backend whose weight changed is
re-weighed in place. One call carries all of a load balancer's listeners
(or backends) of one kind of change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.model.address import Address
from reconciler.model.change import Change, Operation
from reconciler.model.resource import CurrentResource, DesiredResource
from reconciler.plan.chains import KindOperations
from reconciler.plan.instance_operations import DEPOSED, GONE
from reconciler.plan.rebind import REPLACED

TASK = "task"
# Operation params starting with "_" say what the call sends; the others
# are attributes to record once the operation is done.
ADD, REMOVE, REGISTER, DEREGISTER, REWEIGH = (
    "_add",
    "_remove",
    "_register",
    "_deregister",
    "_reweigh",
)


def _create_chain(desired: DesiredResource) -> list[Operation]:
    address, attributes = desired.address, desired.attributes
    basics = {k: attributes.get(k) for k in ("name", "type", "vpc", "subnet")}
    chain = [
        Operation(
            address,
            "CreateLoadBalancer",
            params={**basics, "listeners": [], "backends": []},
            wait_for=TASK,
        )
    ]
    chain += _listener_steps(address, None, [], attributes.get("listeners") or [])
    chain += _backend_steps(address, None, [], attributes.get("backends") or [])
    return chain


def _update_chain(
    change: Change, desired: DesiredResource, current: CurrentResource
) -> list[Operation]:
    rows = {row.name: row for row in change.attributes}
    address, resource_id = change.address, change.resource_id
    chain = []
    if "name" in rows:
        chain.append(
            Operation(
                address,
                "ModifyLoadBalancerAttributes",
                params={"name": rows["name"].new},
                resource_id=resource_id,
                wait_for=TASK,
            )
        )
    # The rows' old values are the current lists, except where a backend's
    # instance is replaced: then it counts as gone, to be registered again.
    if "listeners" in rows:
        chain += _listener_steps(
            address,
            resource_id,
            rows["listeners"].old or [],
            desired.attributes.get("listeners") or [],
        )
    if "backends" in rows:
        chain += _backend_steps(
            address,
            resource_id,
            rows["backends"].old or [],
            desired.attributes.get("backends") or [],
        )
    return chain


def _listener_steps(
    address: Address,
    resource_id: str | None,
    old: Sequence[Mapping[str, Any]],
    new: Sequence[Mapping[str, Any]],
) -> list[Operation]:
    removed = [listener for listener in old if listener not in new]
    added = [listener for listener in new if listener not in old]
    steps = []
    if removed:
        steps.append(
            Operation(
                address,
                "DeleteLoadBalancerListeners",
                params={REMOVE: removed},
                resource_id=resource_id,
                wait_for=TASK,
            )
        )
    if added:
        steps.append(
            Operation(
                address,
                "CreateLoadBalancerListeners",
                params={ADD: added},
                resource_id=resource_id,
                wait_for=TASK,
            )
        )
    return _record_last(steps, "listeners", new)


def _backend_steps(
    address: Address,
    resource_id: str | None,
    old: Sequence[Mapping[str, Any]],
    new: Sequence[Mapping[str, Any]],
) -> list[Operation]:
    old_weights = {row["instance"]: row["weight"] for row in old}
    new_weights = {row["instance"]: row["weight"] for row in new}
    # A replaced instance's old registration goes with the old instance.
    gone = sorted(
        name
        for name in set(old_weights) - set(new_weights)
        if not str(name).endswith(REPLACED)
    )
    joining = sorted(set(new_weights) - set(old_weights))
    reweighed = sorted(
        name
        for name in set(old_weights) & set(new_weights)
        if old_weights[name] != new_weights[name]
    )

    plans = [
        ("DeregisterInstancesFromLoadBalancer", DEREGISTER, gone),
        ("RegisterInstancesWithLoadBalancer", REGISTER, joining),
        ("ModifyLoadBalancerBackends", REWEIGH, reweighed),
    ]
    steps = [
        Operation(
            address,
            action,
            params={
                key: [{"instance": n, "weight": new_weights.get(n)} for n in names]
            },
            resource_id=resource_id,
            wait_for=TASK,
        )
        for action, key, names in plans
        if names
    ]
    return _record_last(steps, "backends", new)


def list_change_actions(
    name: str, old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]]
) -> str:
    """The calls that change a listener or backend list, for the plan's row."""
    address = Address("loadBalancer", "-")
    if name == "listeners":
        steps = _listener_steps(address, None, old, new)
    else:
        steps = _backend_steps(address, None, old, new)
    return ", ".join(step.api_action for step in steps) or "nothing to send"


def _record_last(
    steps: list[Operation], attribute: str, value: Sequence[Mapping[str, Any]]
) -> list[Operation]:
    """The last step of a list change records the whole new list."""
    if not steps:
        return steps
    last = steps[-1]
    params = {**last.params, attribute: [dict(item) for item in value]}
    steps[-1] = Operation(
        last.address,
        last.api_action,
        last.batch_key,
        params,
        last.resource_id,
        last.wait_for,
    )
    return steps


def _delete(
    change: Change, current: CurrentResource | None, deposed: bool
) -> list[Operation]:
    return [
        Operation(
            change.address,
            "DeleteLoadBalancers",
            params={DEPOSED: True} if deposed else {},
            resource_id=change.resource_id,
            wait_for=GONE,
        )
    ]


LOAD_BALANCER_OPERATIONS = KindOperations(_create_chain, _delete, _update_chain)
loadbalancer_operations = LOAD_BALANCER_OPERATIONS.chain
