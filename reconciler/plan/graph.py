"""The plan graph: a networkx DiGraph whose nodes are operations.

Called by ``reconciler.plan.plan.make_plan``; read by the executor, the
call prediction and the renderers. An edge ``a -> b`` means ``b`` may start
only when ``a`` is done. Each change expands into a chain of operations for
its resource (per kind, see ``OPERATIONS_BY_KIND``); edges between resources
come from the manifest's dependencies: a resource is created after what it
references, and deleted before it. Pure and deterministic: nodes and edges
are added in sorted order, and a cycle is a diagnostic naming its path.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence

import networkx as nx

from reconciler.diagnostics import Diagnostic, DiagnosticError
from reconciler.manifest.result import NO_LIFECYCLE, Lifecycle
from reconciler.model.address import Address
from reconciler.model.change import Action, Change, Operation
from reconciler.model.references import references_of
from reconciler.model.resource import CurrentResource, DesiredResource
from reconciler.plan.eip_operations import eip_operations
from reconciler.plan.instance_operations import GONE, instance_operations
from reconciler.plan.loadbalancer_operations import loadbalancer_operations
from reconciler.plan.network_operations import network_operations

logger = logging.getLogger(__name__)

__all__ = ["GONE", "build_graph", "operations_in_order"]

OperationBuilder = Callable[
    [Change, DesiredResource | None, CurrentResource | None, bool], list[Operation]
]

OPERATIONS_BY_KIND: dict[str, OperationBuilder] = {
    "vpc": network_operations,
    "subnet": network_operations,
    "keyPair": network_operations,
    "instance": instance_operations,
    "eip": eip_operations,
    "loadBalancer": loadbalancer_operations,
}


def build_graph(
    changes: Sequence[Change],
    desired: Mapping[Address, DesiredResource],
    current: Mapping[Address, CurrentResource] | None = None,
    dependencies: Mapping[Address, frozenset[Address]] | None = None,
    lifecycle: Mapping[Address, Lifecycle] | None = None,
) -> nx.DiGraph:
    """Expand changes into operations linked in the order they must run."""
    current, lifecycle = current or {}, lifecycle or {}
    graph = nx.DiGraph()
    chains: dict[Address, list[Operation]] = {}
    for change in sorted(changes, key=lambda c: c.address):
        policy = lifecycle.get(change.address, NO_LIFECYCLE)
        chain = _chain(change, desired, current, policy.create_before_destroy)
        chains[change.address] = chain
        _add_chain(graph, chain, change)

    by_address = {change.address: change for change in changes}
    _link_resources(graph, chains, by_address, dependencies or {})
    _release_before_delete(graph, chains, by_address, current)
    _refuse_cycles(graph)
    return graph


def operations_in_order(graph: nx.DiGraph) -> list[Operation]:
    """Operations in a deterministic topological order (for renderers)."""
    order = nx.lexicographical_topological_sort(graph)
    return [graph.nodes[key]["operation"] for key in order]


def _chain(
    change: Change,
    desired: Mapping[Address, DesiredResource],
    current: Mapping[Address, CurrentResource],
    create_before_destroy: bool,
) -> list[Operation]:
    builder = OPERATIONS_BY_KIND.get(change.address.kind)
    if builder is None:
        raise DiagnosticError(_kind_not_planned(change, desired))
    wanted, live = desired.get(change.address), current.get(change.address)
    return builder(change, wanted, live, create_before_destroy)


def _add_chain(graph: nx.DiGraph, chain: list[Operation], change: Change) -> None:
    for operation in chain:
        graph.add_node(operation.key, operation=operation, change=change)
    for before, after in zip(chain, chain[1:], strict=False):
        graph.add_edge(before.key, after.key)


def _link_resources(
    graph: nx.DiGraph,
    chains: Mapping[Address, list[Operation]],
    changes: Mapping[Address, Change],
    dependencies: Mapping[Address, frozenset[Address]],
) -> None:
    """Creates after what they reference; deletes before what they reference."""
    for address in sorted(dependencies):
        if address not in chains:
            continue
        for needed in sorted(dependencies[address]):
            if needed not in chains:
                continue
            _link_pair(graph, chains, changes, address, needed)


def _link_pair(
    graph: nx.DiGraph,
    chains: Mapping[Address, list[Operation]],
    changes: Mapping[Address, Change],
    dependent: Address,
    needed: Address,
) -> None:
    # The dependent's first building step waits for the needed resource's
    # last one; its return comes before the needed resource's return.
    building = [op for op in chains[dependent] if op.wait_for != GONE]
    built = [op for op in chains[needed] if op.wait_for != GONE]
    if building and built:
        graph.add_edge(built[-1].key, building[0].key)

    leaving = [op for op in chains[dependent] if op.wait_for == GONE]
    going = [op for op in chains[needed] if op.wait_for == GONE]
    if leaving and going and changes[needed].action is not Action.CREATE:
        graph.add_edge(leaving[0].key, going[0].key)


def _release_before_delete(
    graph: nx.DiGraph,
    chains: Mapping[Address, list[Operation]],
    changes: Mapping[Address, Change],
    current: Mapping[Address, CurrentResource],
) -> None:
    """A resource that stays lets go of a deleted one before it goes.

    A load balancer drops a backend, an EIP moves away from an instance:
    those updates run before the instance is returned, so traffic leaves
    it first and nothing points at a resource that no longer exists.
    """
    for address, change in sorted(changes.items()):
        if change.action is not Action.UPDATE or address not in current:
            continue
        record = current[address]
        for released in sorted(references_of(address.kind, record.attributes)):
            gone = changes.get(released)
            if gone is None or gone.action is not Action.DELETE:
                continue
            going = [op for op in chains[released] if op.wait_for == GONE]
            if going and chains[address]:
                graph.add_edge(chains[address][-1].key, going[0].key)


def _refuse_cycles(graph: nx.DiGraph) -> None:
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return
    path = " -> ".join([str(edge[0]) for edge in cycle] + [str(cycle[0][0])])
    raise DiagnosticError(
        Diagnostic(
            "The plan's operations form a cycle",
            f"These operations wait for each other: {path}. This usually comes "
            "from createBeforeDestroy on a resource whose dependencies are "
            "replaced as well; remove createBeforeDestroy from one of them or "
            "apply the changes in two steps.",
        )
    )


def _kind_not_planned(
    change: Change, desired: Mapping[Address, DesiredResource]
) -> Diagnostic:
    wanted = desired.get(change.address)
    return Diagnostic(
        "Kind not planned",
        f"{change.address} is a {change.address.kind}, a kind this version of "
        f"reconciler cannot plan (it knows {', '.join(sorted(OPERATIONS_BY_KIND))}). "
        "This is a bug if the manifest accepted it.",
        position=wanted.position if wanted else None,
        address=str(change.address),
    )
