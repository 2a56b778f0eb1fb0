"""The plan: changes, their operation graph, and what applying it will cost.

``make_plan`` is the pure core of ``plan``: desired and current resources
in, a ``Plan`` out, with no I/O. The planner (``reconciler.plan.planner``)
feeds it after refresh; a saved plan (``reconciler.plan.saved``) is a
``Plan`` written to a file and read back.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

import networkx as nx

from reconciler.diagnostics import Diagnostic, DiagnosticError
from reconciler.manifest.result import Lifecycle
from reconciler.model.address import Address
from reconciler.model.change import Action, Change, Operation
from reconciler.model.references import references_of
from reconciler.model.resource import CurrentResource, DesiredResource
from reconciler.plan.diff import check_prevent_destroy, diff
from reconciler.plan.estimate import TENCENT_CLOUD, DurationProfile, Estimate, estimate
from reconciler.plan.graph import build_graph
from reconciler.plan.rebind import rebind_replaced
from reconciler.plan.refresh import Drift

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlanOptions:
    """What the user asked of this plan beyond the manifest."""

    # --target: only these resources and what they depend on.
    targets: frozenset[Address] = frozenset()
    # --replace: replace these even when nothing differs.
    replace: frozenset[Address] = frozenset()
    # --refresh-only: show drift and propose to record it; change nothing.
    refresh_only: bool = False


@dataclass
class Plan:
    changes: list[Change]
    graph: nx.DiGraph
    desired: dict[Address, DesiredResource]
    current: dict[Address, CurrentResource]
    drift: list[Drift] = field(default_factory=list)
    state_serial: int = 0
    manifest_digest: str = ""
    state_lineage: str = ""
    options: PlanOptions = field(default_factory=PlanOptions)
    # Assumed durations for the expected time; not part of what is applied.
    profile: DurationProfile = TENCENT_CLOUD

    @property
    def is_empty(self) -> bool:
        """True when applying the plan would do nothing at all."""
        if self.options.refresh_only:
            return not self.drift
        return not self.changes

    def counts(self) -> Counter[Action]:
        return Counter(change.action for change in self.changes)

    def operations(self) -> list[Operation]:
        return [self.graph.nodes[key]["operation"] for key in sorted(self.graph)]

    def estimate(self) -> Estimate:
        return estimate(self.graph, self.profile)

    def predicted_calls(self) -> Counter[str]:
        """API calls per action that the apply will make if nothing fails."""
        return self.estimate().calls


def make_plan(
    desired: Sequence[DesiredResource],
    current: dict[Address, CurrentResource],
    drift: list[Drift],
    state_serial: int,
    manifest_digest: str,
    *,
    state_lineage: str = "",
    lifecycle: Mapping[Address, Lifecycle] | None = None,
    dependencies: Mapping[Address, frozenset[Address]] | None = None,
    options: PlanOptions | None = None,
    profile: DurationProfile = TENCENT_CLOUD,
) -> Plan:
    """Diff, check the lifecycle rules, and build the graph of operations."""
    options = options or PlanOptions()
    lifecycle = lifecycle or {}
    dependencies = _with_current(dependencies or {}, current)
    by_address = {resource.address: resource for resource in desired}
    _check_addresses(options, by_address, current)

    changes: list[Change] = []
    if not options.refresh_only:
        changes = diff(desired, current, lifecycle, options.replace)
        changes = rebind_replaced(changes, by_address, current)
        changes = _targeted(changes, options.targets, dependencies)
        check_prevent_destroy(changes, lifecycle, by_address)

    graph = build_graph(changes, by_address, current, dependencies, lifecycle)
    logger.debug("Plan: %d changes, %d operations.", len(changes), len(graph))
    return Plan(
        changes=changes,
        graph=graph,
        desired=by_address,
        current=current,
        drift=drift,
        state_serial=state_serial,
        manifest_digest=manifest_digest,
        state_lineage=state_lineage,
        options=options,
        profile=profile,
    )


def _with_current(
    dependencies: Mapping[Address, frozenset[Address]],
    current: Mapping[Address, CurrentResource],
) -> dict[Address, frozenset[Address]]:
    """The manifest's dependencies, and the current references of the rest.

    A resource gone from the manifest is still deleted before what it
    references (an instance before its subnet, a subnet before its VPC).
    """
    merged = {
        address: references_of(address.kind, record.attributes)
        for address, record in current.items()
    }
    merged.update(dependencies)
    return merged


def _targeted(
    changes: list[Change],
    targets: Collection[Address],
    dependencies: Mapping[Address, frozenset[Address]],
) -> list[Change]:
    """Only the targets' changes and those of what they depend on."""
    if not targets:
        return changes
    wanted = _with_dependencies(targets, dependencies)
    return [change for change in changes if change.address in wanted]


def _with_dependencies(
    targets: Collection[Address], dependencies: Mapping[Address, frozenset[Address]]
) -> set[Address]:
    found: set[Address] = set()
    todo = list(targets)
    while todo:
        address = todo.pop()
        if address not in found:
            found.add(address)
            todo.extend(dependencies.get(address, ()))
    return found


def _check_addresses(
    options: PlanOptions,
    desired: Mapping[Address, DesiredResource],
    current: Mapping[Address, CurrentResource],
) -> None:
    """A --target or --replace naming nothing is a mistake worth stopping for."""
    known = set(desired) | set(current)
    problems = [
        _unknown_address(flag, address)
        for flag, addresses in (("--target", options.targets),)
        for address in sorted(addresses)
        if address not in known
    ]
    problems += [
        _not_replaceable(address, address in desired)
        for address in sorted(options.replace)
        if address not in current
    ]
    if problems:
        raise DiagnosticError(problems)


def _unknown_address(flag: str, address: Address) -> Diagnostic:
    return Diagnostic(
        "No such resource",
        f"{flag} {address} names a resource that is neither in the manifest "
        "nor in state. Check the spelling with 'reconciler state list'.",
        address=str(address),
    )


def _not_replaceable(address: Address, in_manifest: bool) -> Diagnostic:
    why = (
        "it does not exist yet, so the plan creates it anyway"
        if in_manifest
        else "it is neither in the manifest nor in state"
    )
    return Diagnostic(
        "Nothing to replace",
        f"--replace {address} cannot replace it: {why}.",
        address=str(address),
    )
