"""The planner: refresh the recorded state, then diff and build the graph."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.cloud.cvm import CvmApi
from reconciler.model.resource import DesiredResource
from reconciler.plan.plan import Plan, make_plan
from reconciler.plan.refresh import refresh
from reconciler.state.store import StateStore


def plan_changes(
    desired: Sequence[DesiredResource],
    store: StateStore,
    cvm: CvmApi,
    manifest_digest: str = "",
) -> Plan:
    """Everything needed to bring the cloud to ``desired``."""
    serial = store.serial
    refreshed = refresh(store.resources(), cvm)
    return make_plan(
        desired, refreshed.current, refreshed.drift, serial, manifest_digest
    )


def plan_destroy(store: StateStore, cvm: CvmApi) -> Plan:
    """Everything needed to delete what the state owns."""
    return plan_changes([], store, cvm)
