"""The operation graph: chains per change, order between resources, cycles."""

from __future__ import annotations

import networkx as nx
import pytest

from reconciler.diagnostics import DiagnosticError
from reconciler.manifest.result import Lifecycle
from reconciler.model.address import Address
from reconciler.model.change import Action, Change
from reconciler.plan.graph import build_graph
from reconciler.plan.plan import PlanOptions, make_plan
from reconciler.plan.sensitive import hash_secret

from .helpers import address, by_address, current, desired


def chain(plan_graph: nx.DiGraph) -> list[str]:
    return [key.split(":")[1] for key in nx.topological_sort(plan_graph)]


def test_a_password_change_stops_the_instance_around_it() -> None:
    wanted = desired("a", frozenset({"password"}), password="new")
    plan = make_plan([wanted], by_address(current("a", "ins-1")), [], 0, "")

    assert chain(plan.graph) == [
        "StopInstances",
        "ResetInstancePassword",
        "StartInstances",
    ]
    reset = plan.graph.nodes["instance.a:ResetInstancePassword"]["operation"]
    assert reset.wait_for == "stopped"
    assert reset.batch_key == (("password", "new"),)


def test_a_stopped_instance_gets_its_key_without_a_power_cycle() -> None:
    plan = make_plan(
        [desired("a", keyPair="ops", state="stopped")],
        by_address(current("a", "ins-1", state="stopped")),
        [],
        0,
        "",
    )

    assert chain(plan.graph) == ["BindInstanceKey"]


def test_a_key_change_on_an_instance_that_should_stop_stops_once() -> None:
    plan = make_plan(
        [desired("a", keyPair="ops", state="stopped", name="b")],
        by_address(current("a", "ins-1")),
        [],
        0,
        "",
    )

    assert chain(plan.graph) == [
        "ModifyInstanceAttributes",
        "StopInstances",
        "BindInstanceKey",
    ]


def test_a_reinstall_waits_for_the_power_state_it_began_in() -> None:
    plan = make_plan(
        [desired("a", image="img-centos7")],
        by_address(current("a", "ins-1")),
        [],
        0,
        "",
    )

    (operation,) = plan.operations()
    assert (operation.api_action, operation.params, operation.wait_for) == (
        "ResetInstances",
        {"image": "img-centos7"},
        "running",
    )


def test_a_create_carries_its_password_key_and_subnet_in_the_batch_key() -> None:
    wanted = desired("a", frozenset({"password"}), password="pw", keyPair="k")
    plan = make_plan([wanted], {}, [], 0, "")

    run = plan.graph.nodes["instance.a:RunInstancesHour"]["operation"]
    assert dict(run.batch_key)["password"] == "pw"
    assert dict(run.batch_key)["keyPair"] == "k"


def test_create_before_destroy_returns_the_old_instance_last() -> None:
    rules = {address("m"): Lifecycle(create_before_destroy=True)}
    plan = make_plan(
        [desired("m", zone="ap-guangzhou-4")],
        by_address(current("m", "ins-9")),
        [],
        0,
        "",
        lifecycle=rules,
    )

    assert chain(plan.graph) == [
        "RunInstancesHour",
        "ModifyInstanceAttributes",
        "ReturnInstance",
    ]
    returned = plan.graph.nodes["instance.m:ReturnInstance"]["operation"]
    assert returned.resource_id == "ins-9"
    assert returned.params == {"deposed": True}


def test_creates_wait_for_what_they_depend_on() -> None:
    dependencies = {
        address("app"): frozenset({address("db")}),
        address("db"): frozenset(),
    }
    plan = make_plan(
        [desired("app"), desired("db")], {}, [], 0, "", dependencies=dependencies
    )

    assert (
        "instance.db:ModifyInstanceAttributes",
        "instance.app:RunInstancesHour",
    ) in (plan.graph.edges)


def test_replaced_dependents_return_before_what_they_depend_on() -> None:
    dependencies = {address("app"): frozenset({address("db")})}
    plan = make_plan(
        [desired("app", zone="ap-guangzhou-4"), desired("db", zone="ap-guangzhou-4")],
        by_address(current("app", "ins-1"), current("db", "ins-2")),
        [],
        0,
        "",
        dependencies=dependencies,
    )

    assert (
        "instance.app:ReturnInstance",
        "instance.db:ReturnInstance",
    ) in plan.graph.edges


def test_a_cycle_is_a_diagnostic_naming_its_path() -> None:
    dependencies = {
        address("a"): frozenset({address("b")}),
        address("b"): frozenset({address("a")}),
    }

    with pytest.raises(DiagnosticError) as raised:
        make_plan(
            [desired("a"), desired("b")], {}, [], 0, "", dependencies=dependencies
        )

    (problem,) = raised.value.diagnostics
    assert "cycle" in problem.summary
    assert "instance.a:" in problem.detail and "instance.b:" in problem.detail
    assert " -> " in problem.detail


def test_a_kind_without_operations_is_a_diagnostic_not_a_crash() -> None:
    change = Change(Address("database", "main"), Action.CREATE)

    with pytest.raises(DiagnosticError, match="cannot plan"):
        build_graph([change], {})


def test_target_keeps_the_resource_and_what_it_depends_on() -> None:
    dependencies = {
        address("app"): frozenset({address("db")}),
        address("db"): frozenset(),
        address("other"): frozenset(),
    }
    options = PlanOptions(targets=frozenset({address("app")}))
    plan = make_plan(
        [desired("app"), desired("db"), desired("other")],
        {},
        [],
        0,
        "",
        dependencies=dependencies,
        options=options,
    )

    assert [str(change.address) for change in plan.changes] == [
        "instance.app",
        "instance.db",
    ]


def test_an_unknown_target_or_replace_is_a_diagnostic() -> None:
    with pytest.raises(DiagnosticError, match="instance.nope"):
        make_plan(
            [], {}, [], 0, "", options=PlanOptions(targets=frozenset({address("nope")}))
        )
    with pytest.raises(DiagnosticError, match="Nothing to replace"):
        make_plan(
            [desired("new")],
            {},
            [],
            0,
            "",
            options=PlanOptions(replace=frozenset({address("new")})),
        )


def test_refresh_only_proposes_no_changes() -> None:
    plan = make_plan(
        [desired("a", name="b")],
        by_address(current("a", "ins-1")),
        [],
        0,
        "",
        options=PlanOptions(refresh_only=True),
    )

    assert plan.changes == [] and len(plan.graph) == 0
    assert plan.is_empty


def test_same_password_batches_together_and_different_ones_apart() -> None:
    secret = frozenset({"password"})
    records = [
        current(f"i{n}", f"ins-{n}", password=hash_secret("old")) for n in range(3)
    ]
    wanted = [
        desired("i0", secret, password="one"),
        desired("i1", secret, password="one"),
        desired("i2", secret, password="two"),
    ]
    plan = make_plan(wanted, by_address(*records), [], 0, "")

    assert plan.predicted_calls() == {
        "StopInstances": 1,
        "ResetInstancePassword": 2,
        "StartInstances": 1,
    }
