"""Fault rules (design.md, "Emulator contract"; faults.py docstring)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import requests

from reconciler.emulator import EmulatorConfig, FaultError, start_in_thread
from reconciler.emulator.faults import FaultEngine, Target

from .conftest import FAST_SCALE, Client


def running(client: Client, count: int, **params: Any) -> list[str]:
    ids = client.run(count, **params)
    client.wait_status(ids, 2)
    return ids


def stopped(client: Client, count: int, **params: Any) -> list[str]:
    ids = running(client, count, **params)
    assert client.call("StopInstances", {"instanceIds": ids})["code"] == 0
    client.wait_status(ids, 4)
    return ids


def put_faults(client: Client, document: str) -> None:
    response = client.admin("PUT", "faults", data=document)
    assert response.status_code == 200, response.text


def test_one_named_instance_fails_inside_a_batch_once(client: Client) -> None:
    ids = stopped(client, 3)
    put_faults(
        client,
        f"""
        seed: 1
        rules:
          - action: StartInstances
            resources: [{ids[1]}]
            times: 1
            outcome: {{code: 5100, message: "(EC_CVM_STATUS_ERROR) flaky",
                       transient: true}}
        """,
    )

    first = client.call("StartInstances", {"instanceIds": ids})
    retry = client.call("StartInstances", {"instanceIds": [ids[1]]})

    assert first["code"] == 5400
    assert first["detail"][ids[1]] == {
        "code": 5100,
        "message": "(EC_CVM_STATUS_ERROR) flaky",
        "requestId": 0,
    }
    assert retry["code"] == 0
    client.wait_status(ids, 2)
    starts = client.admin("GET", "calls?action=StartInstances").json()["calls"]
    assert [call["resource_ids"] for call in starts] == [ids, [ids[1]]]
    assert [call["code"] for call in starts] == [5400, 0]


def test_name_globs_select_resources(client: Client) -> None:
    web = stopped(client, 2, instanceName="web")
    db = stopped(client, 1, instanceName="db")
    put_faults(
        client,
        '{"rules": [{"action": "StartInstances", "resources": ["we*"],'
        ' "outcome": {"code": 5100, "transient": true}}]}',
    )

    body = client.call("StartInstances", {"instanceIds": web + db})

    assert body["code"] == 5400
    assert [body["detail"][i]["code"] for i in web + db] == [5100, 5100, 0]


def test_permanent_failure_sticks_to_the_resource(client: Client) -> None:
    ids = stopped(client, 2)
    put_faults(
        client,
        f"""
        rules:
          - action: StartInstances
            resources: [{ids[0]}]
            times: 1
            outcome: {{code: 5100, transient: false}}
        """,
    )

    for _ in range(3):
        body = client.call("StartInstances", {"instanceIds": [ids[0]]})
        assert body["code"] == 5100


def test_whole_call_failure_has_no_side_effect(client: Client) -> None:
    ids = stopped(client, 2)
    put_faults(client, "rules: [{action: StartInstances, outcome: {code: 6000}}]")

    body = client.call("StartInstances", {"instanceIds": ids})

    assert body["code"] == 6000
    assert "detail" not in body
    assert set(client.statuses(ids).values()) == {4}


def test_calls_selects_the_nth_matching_call(client: Client) -> None:
    put_faults(
        client,
        "rules: [{action: DescribeInstances, calls: [2], outcome: {code: 6000}}]",
    )

    codes = [client.call("DescribeInstances")["code"] for _ in range(3)]

    assert codes == [0, 6000, 0]


def test_every_selects_every_nth_call_and_times_limits(client: Client) -> None:
    put_faults(
        client,
        "rules: [{action: '*', calls: {every: 2}, times: 2, outcome: {code: 6000}}]",
    )

    codes = [client.call("DescribeInstances")["code"] for _ in range(7)]

    assert codes == [0, 6000, 0, 6000, 0, 0, 0]


def test_same_seed_and_rules_give_the_same_run() -> None:
    document = {
        "seed": 99,
        "rules": [
            {
                "action": "StartInstances",
                "probability": 0.5,
                "outcome": {"code": 5100, "transient": True},
            }
        ],
    }

    def run() -> list[bool]:
        engine = FaultEngine(document)
        hits = []
        for call in range(10):
            faults = engine.begin("StartInstances", [])
            for item in range(10):
                outcome = faults.resource_outcome(
                    frozenset({"resource_error"}), f"ins-{call:04d}{item:04d}"
                )
                hits.append(outcome is not None)
        return hits

    first, second = run(), run()

    assert first == second
    assert 20 < sum(first) < 80


def test_probability_is_reproducible_over_http(tmp_path: Path) -> None:
    faults = {
        "seed": 5,
        "rules": [
            {
                "action": "StopInstances",
                "probability": 0.3,
                "outcome": {"code": 5100, "transient": True},
            }
        ],
    }

    def run(name: str) -> list[int]:
        config = EmulatorConfig(time_scale=FAST_SCALE, faults=faults)
        with start_in_thread(tmp_path / name, config) as server:
            client = Client(server)
            ids = running(client, 20)
            body = client.call("StopInstances", {"instanceIds": ids})
            return [item["code"] for item in body["detail"].values()]

    first, second = run("a.db"), run("b.db")

    assert first == second
    assert 0 < first.count(5100) < 20


def test_delay_slows_the_answer(client: Client) -> None:
    put_faults(client, "rules: [{action: DescribeInstances, outcome: {delay: 10}}]")

    response = client.session.post(
        client.server.url + "/cvm/v2/index.php",
        data=client.signed("DescribeInstances"),
        timeout=10,
    )

    # 10 s scaled by the test time_scale.
    assert response.elapsed.total_seconds() >= 10 * FAST_SCALE
    assert response.json()["code"] == 0


def test_dropped_connection_applies_nothing(client: Client) -> None:
    put_faults(
        client, "rules: [{action: RunInstancesHour, times: 1, outcome: {drop: true}}]"
    )

    with pytest.raises(requests.ConnectionError):
        client.run(1)

    assert client.describe()["totalCount"] == 0


def test_lost_response_is_applied_on_the_server(client: Client) -> None:
    put_faults(
        client,
        "rules: [{action: RunInstancesHour, times: 1, outcome: {lose_response: true}}]",
    )

    with pytest.raises(requests.ConnectionError):
        client.run(1, clientToken="tok-1")
    [instance_id] = client.run(1, clientToken="tok-1")

    assert client.describe()["totalCount"] == 1
    assert client.describe()["instanceSet"][0]["unInstanceId"] == instance_id


def test_task_failure_leaves_the_instance_in_fault(client: Client) -> None:
    put_faults(
        client,
        "rules: [{action: RunInstancesHour, resources: [bad-*],"
        " outcome: {task: failed}}]",
    )

    good = client.run(1, instanceName="good-0")
    bad = client.run(1, instanceName="bad-0")

    client.wait_status(good, 2)
    client.wait_status(bad, 1)


def test_hidden_instance_appears_later(client: Client) -> None:
    put_faults(client, "rules: [{action: RunInstancesHour, outcome: {hidden_for: 5}}]")

    ids = client.run(1)

    assert client.describe(ids)["totalCount"] == 0
    client.wait_status(ids, 2)


def test_slow_delete_keeps_returning_longer(slow_client: Client) -> None:
    client = slow_client
    ids = running(client, 2)
    put_faults(
        client,
        f"rules: [{{action: ReturnInstance, resources: [{ids[0]}],"
        " outcome: {slow_delete: 10}}]",
    )

    for instance_id in ids:
        assert client.call("ReturnInstance", {"instanceId": instance_id})["code"] == 0

    assert client.describe(ids)["totalCount"] == 2
    deadline = time.monotonic() + 5
    while client.describe([ids[1]])["totalCount"] and time.monotonic() < deadline:
        client.pause()
    assert client.statuses(ids) == {ids[0]: 6}


def test_faults_from_the_config_and_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "faults.yaml"
    path.write_text("rules: [{action: DescribeInstances, outcome: {code: 6200}}]\n")

    with start_in_thread(tmp_path / "f.db", EmulatorConfig(faults=path)) as server:
        body = Client(server).call("DescribeInstances")

    assert body["code"] == 6200


@pytest.mark.parametrize(
    "document",
    [
        "rules: [{action: X, outcome: {}}]",
        "rules: [{action: X, oops: 1, outcome: {code: 1}}]",
        "rules: [{action: X, probability: 2, outcome: {code: 6000}}]",
        "rules: [{action: X, calls: {sometimes: 1}, outcome: {code: 6000}}]",
        "seed: x",
        "[1, 2]",
        "rules: {",
    ],
)
def test_bad_fault_documents_are_refused(client: Client, document: str) -> None:
    response = client.admin("PUT", "faults", data=document)

    assert response.status_code == 400
    assert response.json()["error"]
    with pytest.raises(FaultError):
        FaultEngine(document)


def test_rules_without_resources_match_calls_with_no_targets() -> None:
    engine = FaultEngine({"rules": [{"action": "*", "outcome": {"code": 6000}}]})

    outcomes = engine.begin("DescribeInstances", [Target("ins-1")]).call_outcome()

    assert [outcome.code for outcome in outcomes] == [6000]
