"""force-unlock and history through the command line."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

from reconciler.state.store import LockInfo, StateStore

Run = Any  # the ``reconciler`` fixture of conftest.py


def locked_state(workdir: Path, pid: int) -> Path:
    path = workdir / ".reconciler" / "state.db"
    store = StateStore(path)
    store.try_lock(LockInfo("reconciler apply", pid, socket.gethostname(), 0.0))
    store.close()
    return path


def test_force_unlock_leaves_a_live_holder_alone_unless_forced(
    tmp_path: Path, reconciler: Run
) -> None:
    state = locked_state(tmp_path, os.getpid())

    refused = reconciler("force-unlock", "--state", str(state))
    forced = reconciler("force-unlock", "--state", str(state), "--force")

    assert refused.returncode == 1
    assert "The lock's holder is still running" in refused.stderr
    assert forced.returncode == 0, forced.stderr
    assert f"pid {os.getpid()}" in forced.stdout


def test_force_unlock_clears_the_lock_of_a_process_that_is_gone(
    tmp_path: Path, reconciler: Run
) -> None:
    dead_pid = 2**22 - 7  # above the default pid_max: no process has it
    state = locked_state(tmp_path, dead_pid)

    cleared = reconciler("force-unlock", "--state", str(state))
    again = reconciler("force-unlock", "--state", str(state))

    assert cleared.returncode == 0, cleared.stderr
    assert "Removed the lock" in cleared.stdout
    assert "The state was not locked." in again.stdout


def test_history_without_a_state_says_so(tmp_path: Path, reconciler: Run) -> None:
    result = reconciler("history", "--state", str(tmp_path / "none.db"))

    assert result.returncode == 1
    assert "No state" in result.stderr
    assert "Traceback" not in result.stderr
