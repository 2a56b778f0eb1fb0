"""Saved plans: exact round trip, no secret on disk, refused when stale."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from reconciler.diagnostics import DiagnosticError
from reconciler.manifest.result import Manifest
from reconciler.plan.plan import Plan
from reconciler.plan.render import render_json, render_text
from reconciler.plan.saved import (
    check_still_valid,
    dump_plan,
    load_saved_plan,
    parse_plan,
    save_plan,
)
from reconciler.plan.sensitive import Hidden
from reconciler.state.store import StateStore

from .helpers import address
from .scenario import every_change, wanted


def manifest(digest: str = "sha256:abc") -> Manifest:
    return Manifest(None, "local", wanted(), Path("."), digest)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    opened = StateStore(tmp_path / "state.db")
    yield opened
    opened.close()


def plan_for(store: StateStore) -> Plan:
    return replace(
        every_change(), state_serial=store.serial, state_lineage=store.lineage
    )


def test_a_saved_plan_reads_back_as_the_same_plan(tmp_path: Path) -> None:
    plan = every_change()
    path = tmp_path / "plan.json"
    save_plan(plan, path)

    loaded = load_saved_plan(path)

    assert render_json(loaded) == render_json(plan)
    assert render_text(loaded) == render_text(plan)
    assert dump_plan(loaded) == path.read_text()
    assert sorted(loaded.graph.edges) == sorted(plan.graph.edges)
    assert loaded.predicted_calls() == plan.predicted_calls()


def test_a_saved_plan_holds_no_secret_and_is_deterministic(tmp_path: Path) -> None:
    text = dump_plan(every_change())

    assert "n3w-pw" not in text
    assert '"$sensitive": "sha256:' in text
    assert dump_plan(every_change(reverse=True)) == text


def test_a_valid_plan_comes_back_with_its_secrets(store: StateStore) -> None:
    loaded = parse_plan(dump_plan(plan_for(store)))
    hidden = loaded.graph.nodes["instance.locked:ResetInstancePassword"]["operation"]
    assert isinstance(dict(hidden.batch_key)["password"], Hidden)

    ready = check_still_valid(loaded, store, manifest())

    operation = ready.graph.nodes["instance.locked:ResetInstancePassword"]["operation"]
    assert operation.batch_key == (("password", "n3w-pw"),)
    assert operation.address == address("locked")


def test_a_plan_is_refused_once_state_moved(store: StateStore) -> None:
    loaded = parse_plan(dump_plan(plan_for(store)))
    store.put_resource(address("other"), "ins-x", {})

    with pytest.raises(DiagnosticError) as raised:
        check_still_valid(loaded, store, manifest())

    (problem,) = raised.value.diagnostics
    assert problem.summary == "State changed since the plan was saved"
    assert "serial 0" in problem.detail and "serial 1" in problem.detail


def test_a_plan_is_refused_for_another_state_or_manifest(store: StateStore) -> None:
    loaded = replace(plan_for(store), state_lineage="someone-else")

    with pytest.raises(DiagnosticError) as raised:
        check_still_valid(loaded, store, manifest(digest="sha256:changed"))

    summaries = sorted(d.summary for d in raised.value.diagnostics)
    assert summaries == [
        "The manifest changed since the plan was saved",
        "The plan was made against another state",
    ]


def test_a_plan_is_refused_when_a_secret_changed(store: StateStore) -> None:
    loaded = parse_plan(dump_plan(plan_for(store)))
    changed = manifest()
    index = next(
        n for n, r in enumerate(changed.resources) if r.address == address("locked")
    )
    locked = changed.resources[index]
    changed.resources[index] = replace(
        locked, attributes={**locked.attributes, "password": "other"}
    )

    with pytest.raises(DiagnosticError, match="instance.locked"):
        check_still_valid(loaded, store, changed)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("not json", "Not a saved plan"),
        ('{"kind": "something"}', "not a reconciler plan"),
        ('{"kind": "reconciler-plan", "format_version": 99}', "format version 99"),
        ('{"kind": "reconciler-plan", "format_version": 1}', "damaged"),
    ],
)
def test_a_file_that_is_not_a_plan_is_a_diagnostic(
    tmp_path: Path, content: str, expected: str
) -> None:
    path = tmp_path / "plan.json"
    path.write_text(content)

    with pytest.raises(DiagnosticError, match=expected):
        load_saved_plan(path)
