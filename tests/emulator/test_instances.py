"""CVM instance actions: shapes, rules and transitions (legacy-api.md section 8)."""

from __future__ import annotations

import re
import time

import pytest

from .conftest import INSTANCE_SPEC, Client

ID = re.compile(r"^ins-[a-z0-9]{8}$")
INSTANCE_FIELDS = {
    "instanceName", "unInstanceId", "instanceId", "uuid", "lanIp", "wanIpSet",
    "cpu", "mem", "bandwidth", "deviceClass", "unImgId", "imageId", "status",
    "Region", "createTime", "statusTime", "deadlineTime", "autoRenew",
    "projectId", "os", "cvmPayMode", "networkPayMode", "zoneId", "zoneName",
    "vpcId", "subnetId", "isVpcGateway", "diskInfo",
}  # fmt: skip


def test_run_instances_answers_unified_ids(client: Client) -> None:
    body = client.call("RunInstancesHour", {**INSTANCE_SPEC, "goodsNum": 3})

    assert body["code"] == 0
    assert len(body["unInstanceIds"]) == 3
    assert all(ID.match(instance_id) for instance_id in body["unInstanceIds"])


def test_new_instances_are_creating_then_running(slow_client: Client) -> None:
    ids = slow_client.run(2, instanceName="web")

    assert set(slow_client.statuses(ids).values()) == {3}
    slow_client.wait_status(ids, 2)


def test_describe_item_has_the_documented_fields(client: Client) -> None:
    [instance_id] = client.run(1, instanceName="web-0", cpu=2, mem=4)

    [item] = client.describe([instance_id])["instanceSet"]

    assert set(item) == INSTANCE_FIELDS
    assert item["unInstanceId"] == instance_id
    assert item["instanceName"] == "web-0"
    assert (item["cpu"], item["mem"], item["bandwidth"]) == (2, 4, 1)
    assert item["zoneId"] == 100003 and item["zoneName"] == "ap-guangzhou-3"
    assert item["Region"] == "ap-guangzhou"
    assert item["unImgId"] == "img-ubuntu22"
    assert item["cvmPayMode"] == 2
    assert item["deadlineTime"] == "0000-00-00 00:00:00"
    assert re.match(r"^qcvm[0-9a-f]{32}$", item["instanceId"])
    assert item["diskInfo"]["storageSize"] == 50
    assert len(item["wanIpSet"]) == 1


def test_describe_filters_and_pages(client: Client) -> None:
    web = client.run(3, instanceName="web")
    db = client.run(2, instanceName="db")

    everything = client.describe(limit=100)
    page = client.describe(offset=1, limit=2)
    named = client.describe(searchWord="we")
    client.wait_status(web + db, 2)
    running = client.describe(status=2, limit=100)
    stopped = client.describe(status=4, limit=100)

    assert everything["totalCount"] == 5
    assert [i["unInstanceId"] for i in everything["instanceSet"]] == web + db
    assert page["totalCount"] == 5
    assert [i["unInstanceId"] for i in page["instanceSet"]] == (web + db)[1:3]
    assert {i["unInstanceId"] for i in named["instanceSet"]} == set(web)
    assert (running["totalCount"], stopped["totalCount"]) == (5, 0)


def test_describe_defaults_to_20_and_refuses_more_than_100(client: Client) -> None:
    client.run(25)

    assert len(client.describe()["instanceSet"]) == 20
    assert client.call("DescribeInstances", {"limit": 101})["code"] == 4000


def test_describe_omits_unknown_ids(client: Client) -> None:
    ids = client.run(1)

    body = client.describe(ids + ["ins-00000000"])

    assert body["totalCount"] == 1


def test_describe_sees_only_the_requested_region(client: Client) -> None:
    client.run(1)

    assert client.call("DescribeInstances", region="ap-shanghai")["totalCount"] == 0


def test_more_than_100_ids_are_refused(client: Client) -> None:
    ids = [f"ins-{n:08d}" for n in range(101)]

    assert client.call("DescribeInstances", {"instanceIds": ids})["code"] == 4000
    assert client.call("StartInstances", {"instanceIds": ids})["code"] == 4000


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"imageId": "img-nothere"}, "InvalidImageId"),
        ({"zoneId": 200001}, "InvalidZone"),
        ({"goodsNum": 101}, "goodsNum"),
        ({"cpu": "two"}, "cpu"),
        ({"instanceName": "x" * 61}, "instanceName"),
        ({"clientToken": "t" * 65}, "clientToken"),
    ],
)
def test_bad_run_parameters_answer_4000(
    client: Client, change: dict, fragment: str
) -> None:
    body = client.call("RunInstancesHour", {**INSTANCE_SPEC, **change})

    assert body["code"] == 4000
    assert fragment in body["message"]
    assert client.describe()["totalCount"] == 0


def test_missing_required_parameter_answers_4000(client: Client) -> None:
    spec = {k: v for k, v in INSTANCE_SPEC.items() if k != "imageId"}

    assert client.call("RunInstancesHour", spec)["code"] == 4000


def test_client_token_makes_a_repeat_a_no_op(client: Client) -> None:
    spec = {**INSTANCE_SPEC, "goodsNum": 2, "clientToken": "apply-1-web"}

    first = client.call("RunInstancesHour", spec)
    second = client.call("RunInstancesHour", {**spec, "goodsNum": 5})

    assert second == first
    assert client.describe()["totalCount"] == 2


def test_stop_then_start_pass_through_transitional_statuses(
    slow_client: Client,
) -> None:
    client = slow_client
    ids = client.run(2)
    client.wait_status(ids, 2)

    stopped = client.call("StopInstances", {"instanceIds": ids, "forceStop": 1})
    assert set(client.statuses(ids).values()) == {9}
    client.wait_status(ids, 4)
    started = client.call("StartInstances", {"instanceIds": ids})
    assert set(client.statuses(ids).values()) == {8}
    client.wait_status(ids, 2)

    for body in (stopped, started):
        assert body["code"] == 0
        assert set(body["detail"]) == set(ids)
        for item in body["detail"].values():
            assert item["code"] == 0 and isinstance(item["requestId"], int)


def test_partly_failed_batch_answers_5400_with_detail(client: Client) -> None:
    running = client.run(1)
    client.wait_status(running, 2)
    stopped = client.run(1)
    client.wait_status(stopped, 2)
    client.call("StopInstances", {"instanceIds": stopped})
    client.wait_status(stopped, 4)
    unknown = "ins-zzzzzzzz"

    body = client.call("StartInstances", {"instanceIds": stopped + running + [unknown]})

    assert body["code"] == 5400
    assert body["codeDesc"] == "PartialSuccess"
    detail = body["detail"]
    assert list(detail) == [stopped[0], running[0], unknown]
    assert detail[stopped[0]]["code"] == 0
    assert detail[running[0]]["code"] == 5100
    assert detail[running[0]]["message"].startswith("(EC_CVM_STATUS_ERROR)")
    assert detail[running[0]]["requestId"] == 0
    assert detail[unknown]["code"] == 5000


def test_batch_where_every_item_fails_answers_5100(client: Client) -> None:
    ids = client.run(2)

    body = client.call("StartInstances", {"instanceIds": ids})

    assert body["code"] == 5100
    assert {item["code"] for item in body["detail"].values()} == {5100}


def test_batch_accepts_one_based_and_sparse_indexes(client: Client) -> None:
    ids = client.run(2)
    client.wait_status(ids, 2)

    body = client.call("StopInstances", {"instanceIds": {"1": ids[0], "7": ids[1]}})

    assert body["code"] == 0
    assert list(body["detail"]) == ids


def test_modify_instance_attributes_renames(client: Client) -> None:
    [instance_id] = client.run(1)

    body = client.call(
        "ModifyInstanceAttributes",
        {"instanceId": instance_id, "instanceName": "web 01/测试+a&b=c"},
    )

    assert body == {"code": 0, "message": "", "codeDesc": "Success"}
    [item] = client.describe([instance_id])["instanceSet"]
    assert item["instanceName"] == "web 01/测试+a&b=c"


def test_modify_refuses_long_names_and_unknown_ids(client: Client) -> None:
    [instance_id] = client.run(1)

    too_long = client.call(
        "ModifyInstanceAttributes",
        {"instanceId": instance_id, "instanceName": "x" * 61},
    )
    unknown = client.call(
        "ModifyInstanceAttributes", {"instanceId": "ins-zzzzzzzz", "instanceName": "a"}
    )

    assert too_long["code"] == 4000
    assert unknown["code"] == 5000


def test_update_bandwidth_is_synchronous(client: Client) -> None:
    [instance_id] = client.run(1, bandwidth=0)
    client.wait_status([instance_id], 2)

    body = client.call(
        "UpdateInstanceBandwidthHour", {"instanceId": instance_id, "bandwidth": 10}
    )

    assert body["code"] == 0
    [item] = client.describe([instance_id])["instanceSet"]
    assert item["bandwidth"] == 10 and len(item["wanIpSet"]) == 1


def test_returned_instance_is_returning_then_gone(slow_client: Client) -> None:
    client = slow_client
    [instance_id] = client.run(1)
    client.wait_status([instance_id], 2)

    body = client.call("ReturnInstance", {"instanceId": instance_id})

    assert body["code"] == 0
    assert client.statuses([instance_id]) == {instance_id: 6}
    deadline = time.monotonic() + 5
    while client.describe([instance_id])["totalCount"] and time.monotonic() < deadline:
        client.pause()
    assert client.describe()["totalCount"] == 0
    again = client.call("ReturnInstance", {"instanceId": instance_id})
    assert again["code"] == 5000


def test_return_of_a_creating_instance_is_refused(slow_client: Client) -> None:
    client = slow_client
    [instance_id] = client.run(1)

    body = client.call("ReturnInstance", {"instanceId": instance_id})

    assert body["code"] == 5100
    assert "EC_CVM_STATUS_ERROR" in body["message"]
