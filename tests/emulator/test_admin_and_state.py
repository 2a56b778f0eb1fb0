"""Admin surface, persistence across restarts, and concurrent callers."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from werkzeug.test import Client as WsgiClient

from reconciler.emulator import EmulatorConfig, create_app, start_in_thread

from .conftest import FAST_SCALE, INSTANCE_SPEC, Client


def test_stats_count_calls_failures_and_resources(client: Client) -> None:
    ids = client.run(3)
    client.call("StartInstances", {"instanceIds": ids})
    client.call("DescribeInstances", secret_key="wrong")

    stats = client.admin("GET", "stats").json()

    assert stats["calls"] == {
        "DescribeInstances": 1,
        "RunInstancesHour": 1,
        "StartInstances": 1,
    }
    assert stats["failed"] == {"4100": 1, "5100": 1}
    assert stats["resources"] == {"instance": 3}


def test_reset_empties_the_cloud_and_the_counters(client: Client) -> None:
    client.run(2)

    assert client.admin("POST", "reset").status_code == 200

    stats = client.admin("GET", "stats").json()
    assert stats["calls"] == {} and stats["resources"] == {}
    assert client.describe()["totalCount"] == 0


def test_calls_lists_recent_calls_in_order(client: Client) -> None:
    ids = client.run(2)
    client.call("StopInstances", {"instanceIds": ids})

    calls = client.admin("GET", "calls").json()["calls"]
    later = client.admin("GET", f"calls?since={calls[0]['seq']}").json()["calls"]

    assert [call["action"] for call in calls] == ["RunInstancesHour", "StopInstances"]
    assert calls[0]["created_ids"] == ids
    assert calls[1]["resource_ids"] == ids
    assert calls[1]["code"] == 5100
    assert later == calls[1:]


def test_get_faults_returns_the_loaded_document(client: Client) -> None:
    document = '{"seed": 3, "rules": []}'
    client.admin("PUT", "faults", data=document)

    assert client.admin("GET", "faults").json() == {"seed": 3, "rules": []}


def test_admin_surface_refuses_non_loopback_clients(tmp_path: Path) -> None:
    app = create_app(tmp_path / "a.db", EmulatorConfig())
    remote = WsgiClient(app)
    local = WsgiClient(app)

    refused = remote.get("/_emulator/stats", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    allowed = local.get("/_emulator/stats", environ_base={"REMOTE_ADDR": "127.0.0.1"})
    app.close()

    assert refused.status_code == 403
    assert allowed.status_code == 200


def test_state_and_transitions_survive_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "cloud.db"
    config = EmulatorConfig(time_scale=FAST_SCALE)
    with start_in_thread(db, config) as server:
        client = Client(server)
        ids = client.run(2, instanceName="kept", clientToken="tok")
        client.call(
            "ModifyInstanceAttributes", {"instanceId": ids[0], "instanceName": "a"}
        )

    # Stopped while the instances were still creating: they finish while down.
    time.sleep(2.0 * FAST_SCALE)
    with start_in_thread(db, config) as server:
        client = Client(server)
        items = client.describe(ids)["instanceSet"]
        repeat = client.run(2, instanceName="kept", clientToken="tok")

    assert {item["unInstanceId"]: item["status"] for item in items} == {
        ids[0]: 2,
        ids[1]: 2,
    }
    assert [item["instanceName"] for item in items] == ["a", "kept"]
    assert repeat == ids


def test_nonces_are_remembered_across_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "cloud.db"
    with start_in_thread(db, EmulatorConfig()) as server:
        client = Client(server)
        wire = client.signed("DescribeInstances")
        assert client.send(wire)["code"] == 0

    with start_in_thread(db, EmulatorConfig()) as server:
        assert Client(server).send(wire)["code"] == 4500


def test_concurrent_callers_see_a_consistent_cloud(client: Client) -> None:
    ids = client.run(40)
    client.wait_status(ids, 2)

    def stop(instance_id: str) -> int:
        own = Client(client.server)
        return own.call("StopInstances", {"instanceIds": [instance_id]})["code"]

    def rename(index: int) -> int:
        own = Client(client.server)
        params = {"instanceId": ids[index], "instanceName": f"n{index}"}
        return own.call("ModifyInstanceAttributes", params)["code"]

    with ThreadPoolExecutor(max_workers=16) as pool:
        stops = list(pool.map(stop, ids + ids))
        renames = list(pool.map(rename, range(40)))

    # Each instance is stopped exactly once; the duplicate attempt finds it
    # stopping (5100), never a lost update.
    assert sorted(stops) == [0] * 40 + [5100] * 40
    assert renames == [0] * 40
    client.wait_status(ids, 4)
    names = {
        i["unInstanceId"]: i["instanceName"]
        for i in client.describe(ids, limit=100)["instanceSet"]
    }
    assert names == {instance_id: f"n{n}" for n, instance_id in enumerate(ids)}


def test_rate_limit_per_key_and_action_answers_4400_without_effect(
    tmp_path: Path,
) -> None:
    config = EmulatorConfig(time_scale=FAST_SCALE, rate_limit=2)
    with start_in_thread(tmp_path / "r.db", config) as server:
        client = Client(server)
        created = [
            client.call("RunInstancesHour", {**INSTANCE_SPEC})["code"] for _ in range(3)
        ]
        other_action = client.call("DescribeInstances", {"limit": 100})

    assert created == [0, 0, 4400]
    assert other_action["code"] == 0
    assert other_action["totalCount"] == 2


def test_rate_limit_is_off_by_default(client: Client) -> None:
    codes = {client.call("DescribeInstances")["code"] for _ in range(30)}

    assert codes == {0}
