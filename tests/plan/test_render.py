"""Text, JSON and Markdown plans: content, stability and limits."""

from __future__ import annotations

import json
import os
from pathlib import Path

from reconciler.plan.markdown import render_markdown
from reconciler.plan.plan import PlanOptions, make_plan
from reconciler.plan.refresh import Drift
from reconciler.plan.render import (
    NO_CHANGES,
    NO_DRIFT,
    render_dot,
    render_graph_json,
    render_json,
    render_text,
)

from .helpers import address, by_address, current, desired
from .scenario import every_change

GOLDEN = Path(__file__).parent / "testdata" / "every_change.json"


def test_text_shows_each_action_with_old_and_new_values_and_reasons() -> None:
    text = render_text(every_change())

    assert "[green]+ instance.new-0[/green]" in text
    assert "[red]- instance.gone[/red] (ins-00000005)" in text
    assert "-/+ instance.moved" in text
    assert "# changing zone forces replacement" in text
    assert 'name = "renamed" -> "front"  [dim](ModifyInstanceAttributes)' in text
    assert "[bold]Plan:[/bold] 3 to add, 3 to change, 2 to destroy." in text


def test_text_never_shows_a_secret() -> None:
    text = render_text(every_change())

    assert "password = (sensitive) -> (sensitive)" in text
    assert "n3w-pw" not in text and "old-pw" not in text


def test_text_predicts_calls_per_action_and_the_expected_duration() -> None:
    text = render_text(every_change())

    assert "API calls expected: 10 (" in text
    # Both stops share one call, though one waits behind a rename.
    assert "RunInstancesHour 2" in text and "StopInstances 1" in text
    assert "Expected duration: about " in text
    assert "dependency levels (assumed Tencent Cloud timings" in text


def test_text_shows_drift_before_the_changes() -> None:
    text = render_text(every_change())

    assert text.index("Changed outside reconciler") < text.index("will make")
    assert "[red]- instance.vanished[/red] no longer exists" in text
    assert 'name = "paused" -> "paused-old"' in text


def test_an_empty_plan_says_no_changes() -> None:
    plan = make_plan([desired("a")], by_address(current("a", "ins-1")), [], 0, "")

    assert render_text(plan) == f"[bold]{NO_CHANGES}[/bold]"


def test_refresh_only_text_shows_drift_and_what_applying_records() -> None:
    drift = [Drift(address("a"), {"name": ("a", "b")})]
    refreshed = by_address(current("a", "ins-1", name="b"))
    options = PlanOptions(refresh_only=True)
    plan = make_plan([desired("a")], refreshed, drift, 0, "", options=options)
    quiet = make_plan([desired("a")], refreshed, [], 0, "", options=options)

    assert "records 1 resource(s) in state" in render_text(plan)
    assert "changes nothing in the cloud" in render_text(plan)
    assert not plan.is_empty
    assert render_text(quiet) == f"[bold]{NO_DRIFT}[/bold]"


def test_json_is_pinned_by_a_golden_file() -> None:
    rendered = render_json(every_change())
    if os.environ.get("RECONCILER_UPDATE_GOLDEN"):
        GOLDEN.write_text(rendered + "\n")

    assert rendered + "\n" == GOLDEN.read_text()


def test_json_hides_secrets_and_carries_the_documented_top_level_keys() -> None:
    document = json.loads(render_json(every_change()))

    assert list(document) == [
        "format_version",
        "state",
        "manifest_digest",
        "options",
        "summary",
        "changes",
        "drift",
        "operations",
        "prediction",
    ]
    assert document["format_version"] == 1
    assert "n3w-pw" not in json.dumps(document)
    locked = next(c for c in document["changes"] if c["name"] == "locked")
    assert locked["attributes"][0]["new"] == "(sensitive)"


def test_the_same_inputs_give_byte_identical_plans() -> None:
    first, second = every_change(), every_change(reverse=True)

    assert render_json(first) == render_json(second)
    assert render_text(first) == render_text(second)
    assert render_markdown(first) == render_markdown(second)
    assert render_dot(first.graph) == render_dot(second.graph)
    assert render_graph_json(first.graph) == render_graph_json(second.graph)


def test_markdown_folds_each_resource() -> None:
    text = render_markdown(every_change())

    assert text.startswith("### reconciler plan: 3 to add, 3 to change, 2 to destroy")
    assert text.count("<details><summary><code>") == 7
    assert "| password | (sensitive) | (sensitive) |" in text
    assert "n3w-pw" not in text


def test_markdown_escapes_what_would_break_a_table() -> None:
    plan = make_plan(
        [desired("a", name="x|<b>")], by_address(current("a", "ins-1")), [], 0, ""
    )

    assert '"x\\|&lt;b&gt;"' in render_markdown(plan)


def test_a_huge_plan_is_summarised_under_the_limit() -> None:
    wanted = [
        desired(f"web-{n:05}", name=f"a-long-name-for-web-{n:05}") for n in range(5000)
    ]
    plan = make_plan(wanted, {}, [], 0, "")

    text = render_markdown(plan)

    assert len(text) <= 60_000
    assert "more changes not shown in full" in text
    assert "5000 to add" in text
    assert "<details><summary><code>+ instance.web-00000</code>" in text


def test_dot_lists_every_operation_and_edge() -> None:
    dot = render_dot(every_change().graph)

    assert dot.startswith("digraph plan {")
    edge = (
        '"instance.moved:RunInstancesHour" -> "instance.moved:ModifyInstanceAttributes"'
    )
    assert f"  {edge};" in dot
