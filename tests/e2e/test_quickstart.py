"""The main job end to end: the quickstart through create, no-op, change, destroy."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from reconciler.cloud.client import Credentials, LegacyClient
from reconciler.cloud.cvm import CvmApi
from reconciler.emulator import (
    DEFAULT_SECRET_ID,
    DEFAULT_SECRET_KEY,
    EmulatorConfig,
    start_in_thread,
)

Run = Any  # the ``reconciler`` fixture of conftest.py

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def live_instances(workdir: Path) -> dict[str, tuple[str, int]]:
    """Name and status of every instance the local cloud kept, by id.

    Restarts the local cloud on the database the command left behind and
    asks it over HTTP, as any client would.
    """
    server = start_in_thread(workdir / ".reconciler" / "cloud.db", EmulatorConfig())
    try:
        client = LegacyClient(
            Credentials(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY),
            region="ap-guangzhou",
            endpoint=server.url,
        )
        views = CvmApi(client).list_instances()
        return {view.instance_id: (view.name, view.status) for view in views}
    finally:
        server.stop()


def test_quickstart_create_noop_change_destroy(tmp_path: Path, reconciler: Run) -> None:
    manifest = tmp_path / "quickstart.yaml"
    shutil.copy(EXAMPLES / "quickstart.yaml", manifest)

    # Create: three instances, the plan, progress and a summary.
    created = reconciler("apply", "quickstart.yaml", "--auto-approve")
    assert created.returncode == 0, created.stderr
    assert "3 to add, 0 to change, 0 to destroy" in created.stdout
    assert "RunInstancesHour x3" in created.stderr
    assert "Apply complete" in created.stderr

    # No-op: the plan right after is empty and exits 0.
    noop = reconciler("plan", "quickstart.yaml", "--detailed-exitcode")
    assert noop.returncode == 0, noop.stdout + noop.stderr
    assert "No changes" in noop.stdout

    # Change: rename one and stop it, stop another, add one, delete one.
    manifest.write_text(
        manifest.read_text()
        .replace("web-0: {}", "web-0: {name: front-0, state: stopped}")
        .replace("web-1: {}", "web-1: {state: stopped}")
        .replace("worker: {state: stopped}", "cache: {}")
    )
    changed_plan = reconciler("plan", "quickstart.yaml", "--detailed-exitcode")
    assert changed_plan.returncode == 2, changed_plan.stderr
    assert "1 to add, 2 to change, 1 to destroy" in changed_plan.stdout
    assert '"web-0" -> "front-0"' in changed_plan.stdout
    assert "- instance.worker" in changed_plan.stdout

    changed = reconciler("apply", "quickstart.yaml", "--auto-approve")
    assert changed.returncode == 0, changed.stderr
    # web-0 and web-1 both stop: one StopInstances call carries them.
    assert changed.stderr.count("-> StopInstances") == 1
    assert "StopInstances x2: instance.web-0, instance.web-1" in changed.stderr

    live = sorted(s for s in live_instances(tmp_path).values() if s[1] in (2, 4))
    assert live == [("cache", 2), ("front-0", 4), ("web-1", 4)]

    # Destroy: everything returned, and a new plan shows three to add again.
    manifest.write_text((EXAMPLES / "quickstart.yaml").read_text())
    destroyed = reconciler("destroy", "quickstart.yaml", "--auto-approve")
    assert destroyed.returncode == 0, destroyed.stderr
    assert "ReturnInstance" in destroyed.stderr
    again = reconciler("plan", "quickstart.yaml", "--format", "json")
    assert json.loads(again.stdout)["summary"]["create"] == 3


def test_apply_without_a_terminal_refuses_to_ask(
    tmp_path: Path, reconciler: Run
) -> None:
    shutil.copy(EXAMPLES / "quickstart.yaml", tmp_path / "quickstart.yaml")

    result = reconciler("apply", "quickstart.yaml")

    assert result.returncode == 1
    assert "--auto-approve" in result.stderr
    assert "Traceback" not in result.stderr


def test_validate_points_at_the_mistake(tmp_path: Path, reconciler: Run) -> None:
    (tmp_path / "broken.yaml").write_text(
        "version: 1\n"
        "provider: {region: ap-guangzhou, endpoint: local}\n"
        "instances:\n"
        "  web:\n"
        "    zone: ap-guangzhou-3\n"
        "    image: img-ubuntu22\n"
        "    cpu: two\n"
        "    memory: 2\n"
    )

    result = reconciler("validate", "broken.yaml")

    assert result.returncode == 1
    assert "broken.yaml:7:10:" in result.stderr
    assert "Traceback" not in result.stderr
