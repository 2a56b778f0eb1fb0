"""The SQLite state store: records, serial, intents, lock and history."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.diagnostics import DiagnosticError
from reconciler.model.address import Address
from reconciler.state.lock import state_lock
from reconciler.state.store import Intent, LockInfo, OperationRecord, StateStore

WEB = Address("instance", "web-0")


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    opened = StateStore(tmp_path / "state.db")
    yield opened
    opened.close()


def test_every_write_moves_the_serial_on_and_survives_reopening(
    tmp_path: Path, store: StateStore
) -> None:
    store.put_resource(WEB, "ins-1", {"name": "web-0"})
    store.update_attributes(WEB, {"state": "stopped"})
    assert store.serial == 2
    store.close()

    reopened = StateStore(tmp_path / "state.db")
    assert reopened.serial == 2
    assert reopened.resource(WEB).attributes == {"name": "web-0", "state": "stopped"}
    reopened.remove_resource(WEB)
    assert reopened.resources() == {}
    reopened.close()


def test_an_intent_stays_open_until_its_ids_are_recorded(store: StateStore) -> None:
    intent = Intent("rc-token", "RunInstancesHour", (WEB,), {"name": "web-0"})
    store.open_intent(intent)
    assert store.open_intents() == [intent]

    store.complete_intent("rc-token", [(WEB, "ins-1", {"name": "web-0"})])

    assert store.open_intents() == []
    assert store.resource(WEB).resource_id == "ins-1"


def test_a_second_holder_waits_then_gets_a_diagnostic_naming_the_first(
    store: StateStore,
) -> None:
    with state_lock(store, "reconciler apply", timeout=0):
        with pytest.raises(DiagnosticError) as raised:
            with state_lock(store, "reconciler destroy", timeout=0.3):
                pass

    message = str(raised.value)
    assert "The state is locked" in message
    assert f"pid {os.getpid()}" in message
    assert "force-unlock" in message
    assert store.try_lock(LockInfo("x", 1, "h", 0.0)) is None


def test_a_lock_left_by_a_dead_process_on_this_host_is_taken_over(
    store: StateStore,
) -> None:
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(finished.stdout)
    store.try_lock(LockInfo("reconciler apply", dead_pid, socket.gethostname(), 0.0))

    with state_lock(store, "reconciler apply", timeout=0) as held:
        assert held.pid == os.getpid()


def test_a_lock_from_another_host_is_left_alone(store: StateStore) -> None:
    store.try_lock(LockInfo("reconciler apply", 1, "ci-runner-7", 0.0))

    with pytest.raises(DiagnosticError, match="ci-runner-7"):
        with state_lock(store, "reconciler apply", timeout=0):
            pass
    assert store.unlock().host == "ci-runner-7"


def test_history_keeps_each_apply_with_its_operations(store: StateStore) -> None:
    first = store.begin_apply("apply")
    store.finish_apply(
        first,
        "failed",
        {"StartInstances": 2},
        {"StartInstances": 1},
        [
            OperationRecord("instance.a:StartInstances", "done", None, "", ()),
            OperationRecord(
                "instance.b:StartInstances", "failed", 5100, "busy", ("7",)
            ),
        ],
    )
    store.begin_apply("destroy")

    latest, earlier = store.history()
    assert latest.command == "destroy" and latest.outcome == "running"
    assert earlier.outcome == "failed"
    assert earlier.calls == {"StartInstances": 2}
    assert earlier.operations[1].request_ids == ("7",)
