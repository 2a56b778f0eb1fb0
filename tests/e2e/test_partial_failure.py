"""A half-failed batch: only the failed instance goes out again.

The local cloud runs standalone (as ``reconciler emulator serve`` would) with
a fault rule that fails one instance of the first ``StartInstances`` call;
the ``reconciler`` command applies against it over HTTP.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from reconciler.emulator import EmulatorConfig, start_in_thread

Run = Any  # the ``reconciler`` fixture of conftest.py

MANIFEST = """\
version: 1
provider: {{region: ap-guangzhou, endpoint: "{url}"}}
defaults:
  instance: {{zone: ap-guangzhou-3, image: img-ubuntu22, cpu: 1, memory: 2}}
instances:
  web:
    count: 3
    state: {state}
"""

FAIL_WEB_1_ONCE = {
    "seed": 1,
    "rules": [
        {
            "action": "StartInstances",
            "resources": ["web-1"],
            "times": 1,
            "outcome": {
                "code": 5100,
                "message": "(EC_CVM_STATUS_ERROR) instance is busy",
                "transient": True,
            },
        }
    ],
}


@pytest.fixture
def cloud(tmp_path: Path) -> Any:
    server = start_in_thread(
        tmp_path / "cloud" / "cloud.db", EmulatorConfig(time_scale=0.02)
    )
    yield server
    server.stop()


def test_a_failed_item_is_requeued_alone_and_the_apply_converges(
    tmp_path: Path, reconciler: Run, cloud: Any
) -> None:
    manifest = tmp_path / "fleet.yaml"
    manifest.write_text(MANIFEST.format(url=cloud.url, state="stopped"))
    created = reconciler("apply", "fleet.yaml", "--auto-approve")
    assert created.returncode == 0, created.stderr

    faults = requests.put(f"{cloud.url}/_emulator/faults", json=FAIL_WEB_1_ONCE)
    assert faults.ok, faults.text
    manifest.write_text(MANIFEST.format(url=cloud.url, state="running"))
    started = reconciler("apply", "fleet.yaml", "--auto-approve")

    assert started.returncode == 0, started.stderr
    assert "No changes" in started.stderr
    ids = {
        line.split("\t")[0]: line.split("\t")[1]
        for line in reconciler("state", "list", "fleet.yaml").stdout.splitlines()
    }
    calls = requests.get(
        f"{cloud.url}/_emulator/calls", params={"action": "StartInstances"}
    ).json()["calls"]
    assert [sorted(call["resource_ids"]) for call in calls] == [
        sorted(ids[f"instance.web-{n}"] for n in range(3)),
        [ids["instance.web-1"]],
    ]
    assert calls[0]["code"] == 5400
    assert calls[1]["code"] == 0
