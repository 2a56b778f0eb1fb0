"""Applies that survive a faulty cloud, crashes and each other.

The local cloud runs in this test process on a loopback port, with fault
rules; the ``reconciler`` command runs as a subprocess against it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import requests

from reconciler.cloud.client import Credentials, LegacyClient
from reconciler.cloud.cvm import CvmApi
from reconciler.emulator import (
    DEFAULT_SECRET_ID,
    DEFAULT_SECRET_KEY,
    EmulatorConfig,
    start_in_thread,
)

Run = Any  # the ``reconciler`` fixture of conftest.py

FLEET = """\
version: 1
provider: {{region: ap-guangzhou, endpoint: "{url}"}}
defaults:
  instance: {{zone: ap-guangzhou-3, image: img-ubuntu22, cpu: 1, memory: 2}}
instances:
  web: {{count: {running}}}
  batch: {{count: {stopped}, state: stopped}}
"""


@pytest.fixture
def cloud(tmp_path: Path) -> Any:
    server = start_in_thread(
        tmp_path / "cloud" / "cloud.db", EmulatorConfig(time_scale=0.05)
    )
    yield server
    server.stop()


def write_fleet(workdir: Path, cloud: Any, running: int, stopped: int) -> None:
    (workdir / "fleet.yaml").write_text(
        FLEET.format(url=cloud.url, running=running, stopped=stopped)
    )


def set_faults(cloud: Any, rules: list[dict[str, Any]], seed: int = 7) -> None:
    answer = requests.put(
        f"{cloud.url}/_emulator/faults", json={"seed": seed, "rules": rules}
    )
    assert answer.ok, answer.text


def live(cloud: Any) -> list[tuple[str, str, int]]:
    """(id, name, status) of every instance not returned, as the cloud says."""
    client = LegacyClient(
        Credentials(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY), "ap-guangzhou", cloud.url
    )
    views = CvmApi(client).list_instances()
    return sorted(
        (v.instance_id, v.name, v.status) for v in views if v.status not in (5, 6)
    )


def recorded(reconciler: Run) -> dict[str, str]:
    listing = reconciler("state", "list", "fleet.yaml").stdout.splitlines()
    return dict(line.split("\t") for line in listing)


def assert_converged_without_duplicates(
    cloud: Any, reconciler: Run, running: int, stopped: int
) -> None:
    instances = live(cloud)
    names = Counter(name for _, name, _ in instances)
    assert len(instances) == running + stopped, instances
    assert max(names.values()) == 1, f"duplicate instances: {names}"
    assert sorted(recorded(reconciler).values()) == sorted(i for i, _, _ in instances)
    statuses = Counter(status for _, _, status in instances)
    assert statuses == Counter({2: running, 4: stopped} if stopped else {2: running})


# At 30% per try, five tries leave about 1 operation in 400 failed; ten
# leave about 1 in 170,000, so the test does not fail by chance.
PATIENT = ("--max-attempts", "10")


def test_thirty_percent_transient_item_failures_still_converge(
    tmp_path: Path, reconciler: Run, cloud: Any
) -> None:
    transient = {"code": 5100, "message": "(EC_CVM_BUSY) try again", "transient": True}
    set_faults(
        cloud,
        [
            {"action": action, "probability": 0.3, "outcome": transient}
            for action in ("StartInstances", "StopInstances", "RunInstancesHour")
        ],
    )
    write_fleet(tmp_path, cloud, running=12, stopped=12)

    created = reconciler("apply", "fleet.yaml", "--auto-approve", *PATIENT)
    assert created.returncode == 0, created.stderr
    assert "retry" in created.stderr

    write_fleet(tmp_path, cloud, running=6, stopped=18)
    changed = reconciler("apply", "fleet.yaml", "--auto-approve", *PATIENT)
    assert changed.returncode == 0, changed.stderr
    assert_converged_without_duplicates(cloud, reconciler, running=6, stopped=18)


def test_a_permanent_item_failure_skips_exactly_its_dependents(
    tmp_path: Path, reconciler: Run, cloud: Any
) -> None:
    write_fleet(tmp_path, cloud, running=3, stopped=0)
    assert reconciler("apply", "fleet.yaml", "--auto-approve").returncode == 0
    set_faults(
        cloud,
        [
            {
                "action": "StopInstances",
                "resources": ["web-1"],
                "outcome": {
                    "type": "resource_error",
                    "code": 4000,
                    "message": "(InvalidInstance.NotSupported) cannot stop",
                },
            }
        ],
    )
    (tmp_path / "fleet.yaml").write_text(
        (tmp_path / "fleet.yaml")
        .read_text()
        .replace("web: {count: 3}", "web: {count: 3, state: stopped}")
    )

    result = reconciler("apply", "fleet.yaml", "--auto-approve")

    assert result.returncode == 1
    assert "instance.web-1:StopInstances: code 4000" in result.stderr
    assert "1 failed, 0 skipped" in result.stderr
    states = {name: status for _, name, status in live(cloud)}
    assert states == {"web-0": 4, "web-1": 2, "web-2": 4}
    history = reconciler("history", "fleet.yaml").stdout
    assert "apply failed" in history
    assert "instance.web-1:StopInstances failed code 4000" in history


def test_a_lost_create_answer_creates_no_duplicate(
    tmp_path: Path, reconciler: Run, cloud: Any
) -> None:
    set_faults(
        cloud,
        [
            {
                "action": "RunInstancesHour",
                "times": 1,
                "outcome": {"lose_response": True},
            }
        ],
    )
    write_fleet(tmp_path, cloud, running=3, stopped=0)

    result = reconciler("apply", "fleet.yaml", "--auto-approve")

    assert result.returncode == 0, result.stderr
    creates = requests.get(
        f"{cloud.url}/_emulator/calls", params={"action": "RunInstancesHour"}
    ).json()["calls"]
    assert len(creates) == 2
    assert_converged_without_duplicates(cloud, reconciler, running=3, stopped=0)


@pytest.mark.parametrize("kill_after_calls", [1, 2, 4, 7])
def test_an_apply_killed_mid_way_is_resumed_by_the_next(
    tmp_path: Path, reconciler: Run, cloud: Any, kill_after_calls: int
) -> None:
    write_fleet(tmp_path, cloud, running=4, stopped=4)
    apply = start_apply(tmp_path)
    wait_for_calls(cloud, kill_after_calls, apply)
    apply.send_signal(signal.SIGKILL)
    apply.wait(timeout=30)

    resumed = reconciler("apply", "fleet.yaml", "--auto-approve")

    assert resumed.returncode == 0, resumed.stderr
    assert_converged_without_duplicates(cloud, reconciler, running=4, stopped=4)


def start_apply(workdir: Path, watch: bool = False) -> subprocess.Popen[str]:
    """``reconciler apply fleet.yaml`` in the background; stderr readable if
    ``watch``."""
    return subprocess.Popen(
        [sys.executable, "-m", "reconciler", "apply", "fleet.yaml", "--auto-approve"],
        cwd=workdir,
        env={**os.environ, "NO_COLOR": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE if watch else subprocess.DEVNULL,
        text=True,
    )


def wait_for_calls(cloud: Any, count: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        calls = requests.get(f"{cloud.url}/_emulator/calls").json()["calls"]
        if len(calls) >= count:
            return
        time.sleep(0.002)


def wait_for_line(process: subprocess.Popen[str], text: str) -> None:
    """Read the process's stderr until a line contains ``text``."""
    assert process.stderr is not None
    for line in process.stderr:
        if text in line:
            return
    pytest.fail(f"the process ended without printing {text!r}")


def test_two_concurrent_applies_never_both_run(
    tmp_path: Path, reconciler: Run, cloud: Any
) -> None:
    write_fleet(tmp_path, cloud, running=2, stopped=0)
    set_faults(cloud, [{"action": "RunInstancesHour", "outcome": {"delay": 160}}])
    first = start_apply(tmp_path, watch=True)
    wait_for_line(first, "-> RunInstancesHour")

    second = reconciler("apply", "fleet.yaml", "--auto-approve", "--lock-timeout", "1s")

    assert second.returncode == 1
    assert "The state is locked" in second.stderr
    assert f"pid {first.pid}" in second.stderr
    first.wait(timeout=60)
    assert first.returncode == 0


def test_ctrl_c_waits_for_calls_in_flight_and_the_next_apply_finishes(
    tmp_path: Path, reconciler: Run, cloud: Any
) -> None:
    write_fleet(tmp_path, cloud, running=3, stopped=0)
    set_faults(cloud, [{"action": "RunInstancesHour", "outcome": {"delay": 60}}])
    apply = start_apply(tmp_path, watch=True)
    wait_for_line(apply, "-> RunInstancesHour")
    apply.send_signal(signal.SIGINT)
    _, errors = apply.communicate(timeout=60)

    assert apply.returncode == 1, errors
    assert "Interrupted" in errors
    assert "Traceback" not in errors
    set_faults(cloud, [])
    resumed = reconciler("apply", "fleet.yaml", "--auto-approve")
    assert resumed.returncode == 0, resumed.stderr
    assert_converged_without_duplicates(cloud, reconciler, running=3, stopped=0)


@pytest.mark.parametrize("kill_after_calls", [2, 5, 9, 14])
def test_a_killed_web_tier_apply_is_resumed_with_nothing_made_twice(
    tmp_path: Path, reconciler: Run, cloud: Any, kill_after_calls: int
) -> None:
    example = (
        Path(__file__).resolve().parents[2] / "examples" / "web-tier" / "web-tier.yaml"
    )
    (tmp_path / "fleet.yaml").write_text(
        example.read_text().replace("endpoint: local", f'endpoint: "{cloud.url}"')
    )
    apply = start_apply(tmp_path)
    wait_for_calls(cloud, kill_after_calls, apply)
    apply.send_signal(signal.SIGKILL)
    apply.wait(timeout=30)

    resumed = reconciler("apply", "fleet.yaml", "--auto-approve")

    assert resumed.returncode == 0, resumed.stderr
    stats = requests.get(f"{cloud.url}/_emulator/stats").json()["resources"]
    live_counts = {kind: count for kind, count in stats.items() if count}
    assert live_counts == {
        "vpc": 1,
        "subnet": 2,
        "keypair": 1,
        "instance": 4,
        "eip": 1,
        "loadbalancer": 1,
        "listener": 2,
    }, live_counts
    assert len(recorded(reconciler)) == 10


def test_a_create_refused_before_it_was_sent_leaves_nothing_to_settle(
    tmp_path: Path, reconciler: Run, cloud: Any
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    write_fleet(tmp_path, cloud, running=2, stopped=0)

    refused = reconciler("apply", "fleet.yaml", "--auto-approve", "--endpoint", closed)
    applied = reconciler("apply", "fleet.yaml", "--auto-approve")

    assert refused.returncode == 1
    assert applied.returncode == 0, applied.stderr
    assert "RunInstancesHour 1/1" in applied.stderr
    assert_converged_without_duplicates(cloud, reconciler, running=2, stopped=0)
