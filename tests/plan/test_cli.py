"""The planner's commands through the CLI against the local cloud.

One applied manifest is shared by the steps of each test, since every
command starts a process and an embedded cloud.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from reconciler.cloud.client import Credentials, LegacyClient
from reconciler.cloud.cvm import CvmApi
from reconciler.emulator import (
    DEFAULT_SECRET_ID,
    DEFAULT_SECRET_KEY,
    EmulatorConfig,
    start_in_thread,
)

from .conftest import Run

MANIFEST = """\
version: 1
provider: {region: ap-guangzhou, endpoint: local}
defaults:
  instance: {zone: ap-guangzhou-3, image: img-ubuntu22, cpu: 1, memory: 2}
instances:
  web-0: {}
  web-1: {}
  db: {state: stopped}
"""


def applied(tmp_path: Path, reconciler: Run) -> Path:
    manifest = tmp_path / "main.yaml"
    manifest.write_text(MANIFEST)
    result = reconciler("apply", "main.yaml", "--auto-approve")
    assert result.returncode == 0, result.stderr
    return manifest


def ok(result: subprocess.CompletedProcess[str], code: int = 0) -> str:
    assert result.returncode == code, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def rename_outside(workdir: Path, resource_id: str, name: str) -> None:
    """Change an instance behind reconciler's back, as a console user would."""
    server = start_in_thread(workdir / ".reconciler" / "cloud.db", EmulatorConfig())
    try:
        client = LegacyClient(
            Credentials(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY),
            region="ap-guangzhou",
            endpoint=server.url,
        )
        CvmApi(client).modify_instance_name(resource_id, name)
    finally:
        server.stop()


def test_plan_formats_exit_codes_and_saved_plans(
    tmp_path: Path, reconciler: Run
) -> None:
    manifest = applied(tmp_path, reconciler)

    # No changes: exit 0 with --detailed-exitcode, zero summary in JSON.
    assert "No changes" in ok(reconciler("plan", "main.yaml", "--detailed-exitcode"))
    document = json.loads(ok(reconciler("plan", "main.yaml", "--format", "json")))
    assert document["format_version"] == 1
    assert document["summary"]["add"] == 0 and document["changes"] == []

    # One rename: exit 2, predicted calls, Markdown, and a saved plan.
    manifest.write_text(MANIFEST.replace("web-0: {}", "web-0: {name: front}"))
    text = ok(reconciler("plan", "main.yaml", "--detailed-exitcode"), code=2)
    assert '"web-0" -> "front"' in text
    assert "API calls expected: 1 (ModifyInstanceAttributes 1)." in text
    assert "assumed local cloud timings" in text
    markdown = ok(
        reconciler("plan", "main.yaml", "--format", "markdown", "--out", "p.json")
    )
    assert "<details><summary><code>~ instance.web-0</code>" in markdown
    saved = json.loads((tmp_path / "p.json").read_text())
    assert saved["kind"] == "reconciler-plan"
    assert [c["address"] for c in saved["changes"]] == ["instance.web-0"]

    # --target narrows, --replace forces; a bad address is a diagnostic.
    targeted = ok(reconciler("plan", "main.yaml", "--target", "instance.web-1"))
    assert "No changes" in targeted
    replaced = ok(reconciler("plan", "main.yaml", "--replace", "instance.web-1"))
    assert "-/+ instance.web-1" in replaced
    assert "replacement requested with --replace" in replaced
    bad = reconciler("plan", "main.yaml", "--target", "web-1", "--detailed-exitcode")
    assert bad.returncode == 1 and "Invalid address for --target" in bad.stderr

    # Not a terminal (and NO_COLOR): no escape codes anywhere.
    assert "\x1b[" not in text + markdown + targeted + replaced


def test_prevent_destroy_fails_the_plan_naming_the_resource(
    tmp_path: Path, reconciler: Run
) -> None:
    manifest = applied(tmp_path, reconciler)
    manifest.write_text(
        MANIFEST.replace(
            "db: {state: stopped}",
            "db: {state: stopped, cpu: 2, lifecycle: {preventDestroy: true}}",
        )
    )

    result = reconciler("plan", "main.yaml")

    assert result.returncode == 1
    assert "Plan would destroy a protected resource" in result.stderr
    assert "instance.db" in result.stderr
    assert "Traceback" not in result.stderr


def test_state_commands_import_drift_and_graph(tmp_path: Path, reconciler: Run) -> None:
    applied(tmp_path, reconciler)

    listed = ok(reconciler("state", "list", "main.yaml")).splitlines()
    assert [line.split("\t")[0] for line in listed] == [
        "instance.db",
        "instance.web-0",
        "instance.web-1",
    ]
    web0_id = dict(line.split("\t") for line in listed)["instance.web-0"]
    shown = json.loads(
        ok(
            reconciler(
                "state", "show", "instance.web-0", "main.yaml", "--format", "json"
            )
        )
    )
    assert shown["resource_id"] == web0_id and shown["attributes"]["name"] == "web-0"

    # Forget and adopt again: the plan is empty once more.
    ok(reconciler("state", "rm", "instance.web-0", "main.yaml"))
    assert "+ instance.web-0" in ok(reconciler("plan", "main.yaml"))
    ok(reconciler("import", "instance.web-0", web0_id, "main.yaml"))
    assert "No changes" in ok(reconciler("plan", "main.yaml"))
    again = reconciler("import", "instance.web-0", web0_id, "main.yaml")
    assert again.returncode == 1 and "already recorded" in again.stderr
    missing = reconciler("state", "show", "instance.nope", "main.yaml")
    assert missing.returncode == 1 and "Resource not in state" in missing.stderr

    # Drift: a rename in the console shows up, and --refresh-only shows only it.
    rename_outside(tmp_path, web0_id, "hand-made")
    drifted = ok(reconciler("plan", "main.yaml", "--detailed-exitcode"), code=2)
    assert "Changed outside reconciler" in drifted
    assert '"web-0" -> "hand-made"' in drifted
    refresh = ok(
        reconciler("plan", "main.yaml", "--refresh-only", "--detailed-exitcode"),
        code=2,
    )
    assert "records 1 resource(s) in state" in refresh
    assert "will make" not in refresh

    # The graph of the plan that undoes the drift.
    graph = json.loads(ok(reconciler("graph", "main.yaml", "--format", "json")))
    assert [node["key"] for node in graph["nodes"]] == [
        "instance.web-0:ModifyInstanceAttributes"
    ]
    assert "digraph plan {" in ok(reconciler("graph", "main.yaml"))


def test_state_list_without_state_is_a_diagnostic(
    tmp_path: Path, reconciler: Run
) -> None:
    result = reconciler("state", "list", "nowhere.yaml")

    assert result.returncode == 1
    assert "No state" in result.stderr
    assert not (tmp_path / ".reconciler").exists()


def test_apply_of_a_saved_plan_runs_exactly_it_and_refuses_a_stale_one(
    tmp_path: Path, reconciler: Run
) -> None:
    manifest = applied(tmp_path, reconciler)
    manifest.write_text(MANIFEST.replace("web-0: {}", "web-0: {name: front}"))
    ok(reconciler("plan", "main.yaml", "--out", "rename.json"), 0)

    # Another change after the plan: the saved plan no longer matches.
    manifest.write_text(MANIFEST.replace("web-0: {}", "web-0: {name: other}"))
    stale = reconciler("apply", "rename.json", "--auto-approve")
    assert stale.returncode == 1
    assert "The manifest changed since the plan was saved" in stale.stderr

    # Back to what was planned: the plan applies, and only it.
    manifest.write_text(MANIFEST.replace("web-0: {}", "web-0: {name: front}"))
    applied_plan = reconciler("apply", "rename.json", "--auto-approve")
    ok(applied_plan)
    assert "ModifyInstanceAttributes x1: instance.web-0" in applied_plan.stderr
    assert "No changes" in applied_plan.stderr

    # Applied once, the state moved on: the same file is refused.
    again = reconciler("apply", "rename.json", "--auto-approve")
    assert again.returncode == 1
    assert "State changed since the plan was saved" in again.stderr


def test_apply_refresh_only_records_drift_without_touching_the_cloud(
    tmp_path: Path, reconciler: Run
) -> None:
    applied(tmp_path, reconciler)
    listing = ok(reconciler("state", "list", "main.yaml"))
    web_0 = dict(line.split("\t") for line in listing.splitlines())["instance.web-0"]
    rename_outside(tmp_path, web_0, "renamed-by-hand")

    recorded = reconciler("apply", "main.yaml", "--refresh-only", "--auto-approve")

    ok(recorded)
    assert "Recorded the drift of 1 resource(s) in state." in recorded.stderr
    shown = ok(reconciler("state", "show", "instance.web-0", "main.yaml"))
    assert "renamed-by-hand" in shown
    # The manifest still wants web-0: a normal plan now proposes the rename back.
    plan = reconciler("plan", "main.yaml", "--detailed-exitcode")
    assert plan.returncode == 2
    assert '"renamed-by-hand" -> "web-0"' in plan.stdout
