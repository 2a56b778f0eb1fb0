"""Recording a refresh-only plan in state, without touching the cloud."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.diagnostics import DiagnosticError
from reconciler.plan.adopt import record_refresh
from reconciler.plan.plan import PlanOptions, make_plan
from reconciler.plan.refresh import Drift
from reconciler.state.store import StateStore

from .helpers import address, by_address, current, desired


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    opened = StateStore(tmp_path / "state.db")
    yield opened
    opened.close()


def test_refresh_only_records_drift_and_forgets_what_is_gone(store: StateStore) -> None:
    store.put_resource(address("a"), "ins-1", current("a", "ins-1").attributes)
    store.put_resource(address("b"), "ins-2", current("b", "ins-2").attributes)
    drift = [
        Drift(address("a"), {"name": ("a", "renamed")}),
        Drift(address("b"), deleted=True),
    ]
    plan = make_plan(
        [desired("a"), desired("b")],
        by_address(current("a", "ins-1", name="renamed")),
        drift,
        store.serial,
        "",
        options=PlanOptions(refresh_only=True),
    )

    assert record_refresh(plan, store) == 2

    assert set(store.resources()) == {address("a")}
    recorded = store.resource(address("a"))
    assert recorded is not None and recorded.attributes["name"] == "renamed"


def test_refresh_only_is_refused_once_state_moved(store: StateStore) -> None:
    plan = make_plan(
        [], {}, [], store.serial, "", options=PlanOptions(refresh_only=True)
    )
    store.put_resource(address("x"), "ins-9", {})

    with pytest.raises(DiagnosticError, match="State changed since the plan"):
        record_refresh(plan, store)
