"""The plan: changes, their operation graph, and what applying it will cost."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import networkx as nx

from reconciler.model.address import Address
from reconciler.model.change import Action, Change, Operation
from reconciler.model.resource import CurrentResource, DesiredResource
from reconciler.plan.batching import batch_instance_name, form_batches
from reconciler.plan.diff import diff
from reconciler.plan.graph import build_graph
from reconciler.plan.refresh import Drift


@dataclass
class Plan:
    changes: list[Change]
    graph: nx.DiGraph
    desired: dict[Address, DesiredResource]
    current: dict[Address, CurrentResource]
    drift: list[Drift] = field(default_factory=list)
    state_serial: int = 0
    manifest_digest: str = ""

    @property
    def is_empty(self) -> bool:
        return not self.changes

    def counts(self) -> Counter[Action]:
        return Counter(change.action for change in self.changes)

    def operations(self) -> list[Operation]:
        return [self.graph.nodes[key]["operation"] for key in sorted(self.graph)]

    def predicted_calls(self) -> Counter[str]:
        """API calls per action that the apply will make if nothing fails.

        Batches are formed per dependency level, as the executor forms them
        when every operation of a level becomes ready together.
        """
        calls: Counter[str] = Counter()
        renamed_free: set[Address] = set()
        for level in _levels(self.graph):
            for batch in form_batches(level):
                if batch[0].api_action == "RunInstancesHour":
                    name = batch_instance_name(batch)
                    renamed_free |= {
                        op.address for op in batch if op.params["name"] == name
                    }
                if _needs_call(batch, renamed_free):
                    calls[batch[0].api_action] += 1
        return calls


def make_plan(
    desired: Sequence[DesiredResource],
    current: dict[Address, CurrentResource],
    drift: list[Drift],
    state_serial: int,
    manifest_digest: str,
) -> Plan:
    changes = diff(desired, current)
    by_address = {resource.address: resource for resource in desired}
    return Plan(
        changes=changes,
        graph=build_graph(changes, by_address),
        desired=by_address,
        current=current,
        drift=drift,
        state_serial=state_serial,
        manifest_digest=manifest_digest,
    )


def _needs_call(batch: list[Operation], renamed_free: set[Address]) -> bool:
    first = batch[0]
    is_create_rename = first.api_action == "ModifyInstanceAttributes" and (
        first.resource_id is None
    )
    return not (is_create_rename and first.address in renamed_free)


def _levels(graph: nx.DiGraph) -> list[list[Operation]]:
    return [
        [graph.nodes[key]["operation"] for key in generation]
        for generation in nx.topological_generations(graph)
    ]
