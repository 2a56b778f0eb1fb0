"""The plan graph: a networkx DiGraph whose nodes are operations.

An edge ``a -> b`` means ``b`` may start only when ``a`` is done. Each
change expands into a short chain of operations for its resource (return
before re-create, create before rename, rename before a power change, so an
instance is never asked to do two things at once); edges between resources
come from references (none yet for instances alone).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import networkx as nx

from reconciler.model.address import Address
from reconciler.model.change import Action, Change, Operation
from reconciler.model.resource import RUNNING, STOPPED, DesiredResource
from reconciler.plan.rules import INSTANCE_CREATE_KEYS

GONE = "gone"


def build_graph(
    changes: Sequence[Change], desired: Mapping[Address, DesiredResource]
) -> nx.DiGraph:
    """Expand changes into operations linked in the order they must run."""
    graph = nx.DiGraph()
    for change in changes:
        chain = _instance_operations(change, desired.get(change.address))
        for operation in chain:
            graph.add_node(operation.key, operation=operation, change=change)
        for before, after in zip(chain, chain[1:], strict=False):
            graph.add_edge(before.key, after.key)
    return graph


def operations_in_order(graph: nx.DiGraph) -> list[Operation]:
    """Operations in a deterministic topological order (for renderers)."""
    order = nx.lexicographical_topological_sort(graph)
    return [graph.nodes[key]["operation"] for key in order]


def _instance_operations(
    change: Change, desired: DesiredResource | None
) -> list[Operation]:
    if change.action is Action.DELETE:
        return [_return(change)]
    assert desired is not None
    if change.action is Action.CREATE:
        return _create_chain(desired)
    if change.action is Action.REPLACE:
        return [_return(change), *_create_chain(desired)]
    return _update_chain(change)


def _return(change: Change) -> Operation:
    return Operation(
        change.address,
        "ReturnInstance",
        resource_id=change.resource_id,
        wait_for=GONE,
    )


def _create_chain(desired: DesiredResource) -> list[Operation]:
    attributes = desired.attributes
    config = tuple((key, attributes[key]) for key in INSTANCE_CREATE_KEYS)
    chain = [
        Operation(
            desired.address,
            "RunInstancesHour",
            batch_key=config,
            params={**attributes, "state": RUNNING},
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
    if attributes["state"] == STOPPED:
        chain.append(_power(desired.address, STOPPED))
    return chain


def _update_chain(change: Change) -> list[Operation]:
    chain: list[Operation] = []
    for row in change.attributes:
        if row.name == "name":
            chain.append(
                Operation(
                    change.address,
                    "ModifyInstanceAttributes",
                    params={"name": row.new},
                    resource_id=change.resource_id,
                )
            )
        elif row.name == "bandwidth":
            chain.append(
                Operation(
                    change.address,
                    "UpdateInstanceBandwidthHour",
                    params={"bandwidth": row.new},
                    resource_id=change.resource_id,
                )
            )

    power = [row for row in change.attributes if row.name == "state"]
    if power:
        chain.append(_power(change.address, power[0].new, change.resource_id))
    return chain


def _power(address: Address, state: str, resource_id: str | None = None) -> Operation:
    action = "StartInstances" if state == RUNNING else "StopInstances"
    return Operation(
        address,
        action,
        params={"state": state},
        resource_id=resource_id,
        wait_for=state,
    )
