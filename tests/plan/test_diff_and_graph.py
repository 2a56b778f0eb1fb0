"""The diff, the operation graph and the call prediction, with no cloud."""

from __future__ import annotations

from typing import Any

from reconciler.model.address import Address
from reconciler.model.change import Action
from reconciler.model.resource import CurrentResource, DesiredResource
from reconciler.plan.batching import form_batches
from reconciler.plan.diff import diff
from reconciler.plan.plan import make_plan

BASE = {
    "zone": "ap-guangzhou-3",
    "image": "img-ubuntu22",
    "cpu": 1,
    "memory": 2,
    "disk": 50,
    "bandwidth": 0,
    "state": "running",
}


def desired(key: str, **changes: Any) -> DesiredResource:
    return DesiredResource(Address("instance", key), {**BASE, "name": key, **changes})


def current(key: str, resource_id: str, **changes: Any) -> CurrentResource:
    attributes = {**BASE, "name": key, **changes}
    return CurrentResource(Address("instance", key), resource_id, attributes)


def by_address(*records: CurrentResource) -> dict[Address, CurrentResource]:
    return {record.address: record for record in records}


def test_identical_resources_give_no_changes() -> None:
    assert diff([desired("a")], by_address(current("a", "ins-1"))) == []


def test_each_kind_of_change_is_classified() -> None:
    changes = diff(
        [
            desired("new"),
            desired("renamed", name="front"),
            desired("moved", zone="ap-guangzhou-4"),
            desired("paused", state="stopped"),
        ],
        by_address(
            current("renamed", "ins-1"),
            current("moved", "ins-2"),
            current("paused", "ins-3"),
            current("gone", "ins-4"),
        ),
    )

    actions = {str(change.address): change.action for change in changes}
    assert actions == {
        "instance.gone": Action.DELETE,
        "instance.moved": Action.REPLACE,
        "instance.new": Action.CREATE,
        "instance.paused": Action.UPDATE,
        "instance.renamed": Action.UPDATE,
    }
    paused = next(c for c in changes if c.address.name == "paused")
    assert [(row.name, row.old, row.new, row.how) for row in paused.attributes] == [
        ("state", "running", "stopped", "StopInstances")
    ]
    moved = next(c for c in changes if c.address.name == "moved")
    assert moved.reason == "changing zone forces replacement"


def test_a_stopped_create_runs_renames_then_stops() -> None:
    plan = make_plan([desired("w", state="stopped")], {}, [], 0, "")

    assert list(plan.graph.edges) == [
        ("instance.w:RunInstancesHour", "instance.w:ModifyInstanceAttributes"),
        ("instance.w:ModifyInstanceAttributes", "instance.w:StopInstances"),
    ]


def test_a_replacement_returns_the_old_instance_first() -> None:
    plan = make_plan(
        [desired("m", zone="ap-guangzhou-4")],
        by_address(current("m", "ins-9")),
        [],
        0,
        "",
    )

    first = next(iter(plan.graph.nodes))
    assert first == "instance.m:ReturnInstance"
    assert (
        "instance.m:ReturnInstance",
        "instance.m:RunInstancesHour",
    ) in plan.graph.edges


def test_same_power_changes_form_one_batch_of_at_most_100() -> None:
    records = [current(f"i{n:03}", f"ins-{n:08}") for n in range(150)]
    wanted = [desired(f"i{n:03}", state="stopped") for n in range(150)]
    plan = make_plan(wanted, by_address(*records), [], 0, "")

    batches = form_batches(plan.operations())
    assert [len(batch) for batch in batches] == [100, 50]
    assert plan.predicted_calls() == {"StopInstances": 2}


def test_creates_batch_by_configuration_and_rename_all_but_the_first() -> None:
    wanted = [desired(f"web-{n}") for n in range(3)] + [desired("big", cpu=4)]
    plan = make_plan(wanted, {}, [], 0, "")

    assert plan.predicted_calls() == {
        "RunInstancesHour": 2,
        "ModifyInstanceAttributes": 2,
    }


def test_the_plan_is_deterministic() -> None:
    wanted = [desired(f"web-{n}") for n in range(20)]
    first = make_plan(wanted, {}, [], 0, "")
    second = make_plan(list(reversed(wanted)), {}, [], 0, "")

    assert first.changes == second.changes
    assert sorted(first.graph.edges) == sorted(second.graph.edges)
