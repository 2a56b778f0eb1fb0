"""CLI helpers for planner tests: the real command in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def reconciler(tmp_path: Path) -> Run:
    """Run ``python -m reconciler ARGS`` in ``tmp_path`` with a fast local cloud."""
    env = {**os.environ, "RECONCILER_EMULATOR_TIME_SCALE": "0.02", "NO_COLOR": "1"}
    for name in ("TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY"):
        env.pop(name, None)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "reconciler", *args],
            cwd=tmp_path,
            env=env,
            input="",
            capture_output=True,
            text=True,
            timeout=120,
        )

    return run
