"""The planner: refresh the recorded state, then diff and build the graph.

Called by the CLI (plan, apply, destroy, graph). The refresh is its only
I/O; everything after it is ``make_plan``, pure.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace

from reconciler.cloud.apis import CloudApis
from reconciler.manifest.result import Lifecycle, Manifest
from reconciler.model.address import Address
from reconciler.model.resource import DesiredResource
from reconciler.plan.estimate import TENCENT_CLOUD, DurationProfile
from reconciler.plan.plan import Plan, PlanOptions, make_plan
from reconciler.plan.refresh import refresh
from reconciler.state.store import StateStore

logger = logging.getLogger(__name__)

DESTROY_REASON = "destroy"


def plan_changes(
    desired: Sequence[DesiredResource],
    store: StateStore,
    apis: CloudApis,
    manifest_digest: str = "",
    *,
    lifecycle: Mapping[Address, Lifecycle] | None = None,
    dependencies: Mapping[Address, frozenset[Address]] | None = None,
    options: PlanOptions | None = None,
    profile: DurationProfile = TENCENT_CLOUD,
) -> Plan:
    """Everything needed to bring the cloud to ``desired``."""
    # Read serial and lineage before the records: a write that lands in
    # between then makes a saved plan stale rather than silently wrong.
    serial, lineage = store.serial, store.lineage
    refreshed = refresh(store.resources(), apis)
    return make_plan(
        desired,
        refreshed.current,
        refreshed.drift,
        serial,
        manifest_digest,
        state_lineage=lineage,
        lifecycle=lifecycle,
        dependencies=dependencies,
        options=options,
        profile=profile,
    )


def plan_manifest(
    manifest: Manifest,
    store: StateStore,
    apis: CloudApis,
    options: PlanOptions | None = None,
    profile: DurationProfile = TENCENT_CLOUD,
) -> Plan:
    """``plan_changes`` for a whole manifest, lifecycle and dependencies included."""
    return plan_changes(
        manifest.resources,
        store,
        apis,
        manifest.digest,
        lifecycle=manifest.lifecycle,
        dependencies=manifest.dependencies,
        options=options,
        profile=profile,
    )


def plan_destroy(
    store: StateStore,
    apis: CloudApis,
    manifest: Manifest | None = None,
    profile: DurationProfile = TENCENT_CLOUD,
) -> Plan:
    """Everything needed to delete what the state owns.

    With the manifest, its ``preventDestroy`` rules still protect resources.
    """
    if manifest is None:
        plan = plan_changes([], store, apis, profile=profile)
    else:
        plan = plan_changes(
            [],
            store,
            apis,
            manifest.digest,
            lifecycle=manifest.lifecycle,
            dependencies=manifest.dependencies,
            profile=profile,
        )
    return _as_destroy(plan)


def _as_destroy(plan: Plan) -> Plan:
    """Every deletion says it was asked for, not that the manifest lost it."""
    changes = [replace(change, reason=DESTROY_REASON) for change in plan.changes]
    by_address = {change.address: change for change in changes}
    for key in plan.graph:
        node = plan.graph.nodes[key]
        node["change"] = by_address[node["operation"].address]
    return replace(plan, changes=changes)
