"""Every example a new user may try, applied end to end against the local cloud.

Each one validates cleanly, applies, plans no changes right after, and is
destroyed down to an empty cloud.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import requests

from reconciler.emulator import EmulatorConfig, start_in_thread

Run = Any  # the ``reconciler`` fixture of conftest.py

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ALL = sorted(
    p.name
    for p in EXAMPLES.iterdir()
    if not p.name.startswith(".") and (p.suffix == ".yaml" or p.is_dir())
)
# A user's own runs of the examples leave state beside them; a test starts
# from the manifests alone.
LOCAL_STATE = shutil.ignore_patterns(".reconciler")


def live_resources(cloud_db: Path) -> dict[str, int]:
    """Resources per kind the local cloud kept, read through its admin surface."""
    server = start_in_thread(cloud_db, EmulatorConfig())
    try:
        stats = requests.get(f"{server.url}/_emulator/stats", timeout=10).json()
    finally:
        server.stop()
    return {kind: count for kind, count in stats["resources"].items() if count}


def test_every_example_is_covered() -> None:
    assert {"quickstart.yaml", "web-tier", "site", "fleet"} <= set(ALL)


@pytest.mark.parametrize("example", ALL)
def test_example_applies_converges_and_destroys(
    example: str, tmp_path: Path, reconciler: Run
) -> None:
    source = EXAMPLES / example
    target = tmp_path / example
    if source.is_dir():
        shutil.copytree(source, target, ignore=LOCAL_STATE)
    else:
        shutil.copy(source, target)
    state_dir = target if source.is_dir() else tmp_path

    validated = reconciler("validate", example)
    assert validated.returncode == 0, validated.stderr
    assert "warning" not in validated.stderr

    applied = reconciler("apply", example, "--auto-approve")
    assert applied.returncode == 0, applied.stderr[-3000:]
    assert "Apply complete" in applied.stderr

    again = reconciler("plan", example, "--detailed-exitcode")
    assert again.returncode == 0, again.stdout[-3000:]

    destroyed = reconciler("destroy", example, "--auto-approve")
    assert destroyed.returncode == 0, destroyed.stderr[-3000:]
    assert live_resources(state_dir / ".reconciler" / "cloud.db") == {}
