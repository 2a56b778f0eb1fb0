"""Scenario folders drive the planner from a real manifest to a pinned plan.

Each folder under ``scenarios/`` holds ``manifest.yaml`` (loaded by the real
manifest pipeline, lifecycle and dependencies included), ``current.json``
(the resources as state records them and the cloud shows them) and either
``expected.json`` (the plan as ``--format json`` prints it) or
``expected_error.txt`` (the diagnostics, one rendered summary per line).
Set RECONCILER_UPDATE_GOLDEN=1 to rewrite ``expected.json`` files after a
deliberate change, then review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from reconciler.diagnostics import DiagnosticError
from reconciler.manifest import load_manifest
from reconciler.model.address import Address
from reconciler.model.resource import CurrentResource
from reconciler.plan.plan import Plan, make_plan
from reconciler.plan.render import render_json

SCENARIOS = Path(__file__).parent / "scenarios"


def plan_of(folder: Path) -> Plan:
    manifest = load_manifest([folder / "manifest.yaml"])
    records = json.loads((folder / "current.json").read_text())
    current = {
        Address.parse(item["address"]): CurrentResource(
            Address.parse(item["address"]), item["resource_id"], item["attributes"]
        )
        for item in records
    }
    return make_plan(
        manifest.resources,
        current,
        [],
        1,
        "<digest>",
        state_lineage="<lineage>",
        lifecycle=manifest.lifecycle,
        dependencies=manifest.dependencies,
    )


@pytest.mark.parametrize(
    "folder", sorted(SCENARIOS.iterdir()), ids=lambda folder: folder.name
)
def test_scenario(folder: Path) -> None:
    error_file = folder / "expected_error.txt"
    if error_file.exists():
        with pytest.raises(DiagnosticError) as raised:
            plan_of(folder)
        summaries = [
            d.render().splitlines()[0].replace(str(folder) + "/", "")
            for d in raised.value.diagnostics
        ]
        assert summaries == error_file.read_text().splitlines()
        return

    rendered = render_json(plan_of(folder)) + "\n"
    expected = folder / "expected.json"
    if os.environ.get("RECONCILER_UPDATE_GOLDEN") or not expected.exists():
        expected.write_text(rendered)
    assert rendered == expected.read_text()
