"""``CvmApi``: parameters sent, answers read, calls counted."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.cloud.client import LegacyClient
from reconciler.cloud.cvm import CvmApi, InstanceView, flatten_instance_ids, run_params
from reconciler.cloud.testing import ScriptedServer, Seen


def instance(instance_id: str, **extra: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "unInstanceId": instance_id,
        "instanceId": "qcvm" + "0" * 32,
        "instanceName": f"name-{instance_id}",
        "status": 2,
        "zoneId": 100003,
        "zoneName": "ap-guangzhou-3",
        "unImgId": "img-abcdefgh",
        "cpu": 2,
        "mem": 4,
        "bandwidth": 5,
        "diskInfo": {"storageSize": 50, "storageType": 2},
        "lanIp": "10.0.0.2",
        "wanIpSet": ["1.2.3.4"],
        "vpcId": "vpc-12345678",
        "subnetId": "subnet-12345678",
    }
    item.update(extra)
    return item


def describe_echo(seen: Seen) -> dict[str, Any]:
    """Answer DescribeInstances with one instance per id asked for."""
    ids = [v for k, v in seen.form.items() if k.startswith("instanceIds.")]
    return {
        "code": 0,
        "totalCount": len(ids),
        "instanceSet": [instance(i) for i in ids],
    }


@pytest.fixture
def cvm(client: LegacyClient) -> CvmApi:
    return CvmApi(client)


def test_describe_250_ids_costs_three_calls(
    server: ScriptedServer, cvm: CvmApi
) -> None:
    ids = [f"ins-{n:08d}" for n in range(250)]
    server.answer(describe_echo, describe_echo, describe_echo)

    views = cvm.describe_instances(ids)

    assert len(server.requests) == 3
    assert [view.instance_id for view in views] == ids
    sizes = [
        sum(k.startswith("instanceIds.") for k in seen.form) for seen in server.requests
    ]
    assert sizes == [100, 100, 50]
    assert {seen.form["limit"] for seen in server.requests} == {"100"}


def test_describe_nothing_costs_no_call(server: ScriptedServer, cvm: CvmApi) -> None:
    assert cvm.describe_instances([]) == []
    assert server.requests == []


def test_instance_view_reads_the_documented_fields() -> None:
    view = InstanceView.from_api(instance("ins-1"))

    assert view == InstanceView(
        instance_id="ins-1",
        name="name-ins-1",
        status=2,
        zone="ap-guangzhou-3",
        image="img-abcdefgh",
        cpu=2,
        memory=4,
        disk=50,
        bandwidth=5,
        raw={},
        lan_ip="10.0.0.2",
        wan_ips=("1.2.3.4",),
        vpc_id="vpc-12345678",
        subnet_id="subnet-12345678",
    )


def test_instance_view_tolerates_disk_list_and_missing_zone_name() -> None:
    item = instance("ins-1", diskInfo=[{"storageSize": 80}], zoneName=None)

    view = InstanceView.from_api(item)

    assert view.disk == 80
    assert view.zone == "ap-guangzhou-3"
    assert view.raw["diskInfo"] == [{"storageSize": 80}]


def test_list_instances_pages_by_100(server: ScriptedServer, cvm: CvmApi) -> None:
    page = [instance(f"ins-{n:08d}") for n in range(100)]
    server.answer(
        {"code": 0, "totalCount": 130, "instanceSet": page},
        {"code": 0, "totalCount": 130, "instanceSet": page[:30]},
    )

    views = cvm.list_instances(search_word="web")

    assert len(views) == 130
    assert [seen.form["offset"] for seen in server.requests] == ["0", "100"]
    assert server.requests[0].form["searchWord"] == "web"


def test_list_instances_without_search_word_omits_it(
    server: ScriptedServer, cvm: CvmApi
) -> None:
    server.answer({"code": 0, "totalCount": 0, "instanceSet": []})

    assert cvm.list_instances() == []
    assert "searchWord" not in server.requests[0].form


def test_run_instances_hour_translates_manifest_config(
    server: ScriptedServer, cvm: CvmApi
) -> None:
    server.answer({"code": 0, "unInstanceIds": ["ins-1", "ins-2"]})
    config = {
        "zone": "ap-guangzhou-3",
        "image": "img-abcdefgh",
        "cpu": 2,
        "memory": 4,
        "disk": 50,
        "bandwidth": 1,
    }

    ids = cvm.run_instances_hour(config, 2, "web", "tok-1")

    assert ids == ["ins-1", "ins-2"]
    form = server.requests[0].form
    assert form["Action"] == "RunInstancesHour"
    assert form["zoneId"] == "100003"
    assert form["imageId"] == "img-abcdefgh"
    assert form["mem"] == "4"
    assert form["storageSize"] == "50"
    assert form["bandwidth"] == "1"
    assert form["goodsNum"] == "2"
    assert form["instanceName"] == "web"
    assert form["clientToken"] == "tok-1"


def test_run_instances_accepts_the_deal_map_form(
    server: ScriptedServer, cvm: CvmApi
) -> None:
    server.answer(
        {"code": 0, "dealIds": ["d1"], "unInstanceIds": {"d1": ["ins-1"], "d2": []}}
    )

    assert cvm.run_instances_hour({"zone": 100003}, 1, "x", "t") == ["ins-1"]


def test_run_instances_rejects_more_than_100(cvm: CvmApi) -> None:
    with pytest.raises(ValueError):
        cvm.run_instances_hour({}, 101, "x", "t")


def test_unknown_config_keys_are_not_sent() -> None:
    assert run_params({"zone": "ap-guangzhou-3", "tags": {"a": 1}}) == {
        "zoneId": 100003
    }


def test_flatten_instance_ids_shapes() -> None:
    assert flatten_instance_ids(None) == []
    assert flatten_instance_ids(["a"]) == ["a"]
    assert flatten_instance_ids({"d1": ["a", "b"], "d2": "c"}) == ["a", "b", "c"]


def test_stop_instances_sends_force_flag(server: ScriptedServer, cvm: CvmApi) -> None:
    server.answer(
        {"code": 0, "detail": {"ins-1": {"code": 0, "requestId": 9}}},
    )

    result = cvm.stop_instances(["ins-1"], force=True)

    assert result.task_ids == {"ins-1": 9}
    form = server.requests[0].form
    assert form["Action"] == "StopInstances"
    assert form["forceStop"] == "1"
    assert form["instanceIds.0"] == "ins-1"


def test_start_over_100_ids_is_split_and_merged(
    server: ScriptedServer, cvm: CvmApi
) -> None:
    ids = [f"ins-{n:08d}" for n in range(150)]

    def all_ok(seen: Seen) -> dict[str, Any]:
        sent = [v for k, v in seen.form.items() if k.startswith("instanceIds.")]
        return {"code": 0, "detail": {i: {"code": 0, "requestId": 1} for i in sent}}

    def first_fails(seen: Seen) -> dict[str, Any]:
        body = all_ok(seen)
        body["code"] = 5400
        body["detail"][ids[100]] = {"code": 5100, "message": "busy"}
        return body

    server.answer(all_ok, first_fails)

    result = cvm.start_instances(ids)

    assert len(server.requests) == 2
    assert result.outer_code == 5400
    assert len(result.succeeded) == 149
    assert [item.resource_id for item in result.failed] == [ids[100]]


def test_single_instance_actions(server: ScriptedServer, cvm: CvmApi) -> None:
    cvm.modify_instance_name("ins-1", "new")
    cvm.update_bandwidth("ins-1", 10)
    cvm.return_instance("ins-1")

    actions = [seen.form["Action"] for seen in server.requests]
    assert actions == [
        "ModifyInstanceAttributes",
        "UpdateInstanceBandwidthHour",
        "ReturnInstance",
    ]
    assert server.requests[0].form["instanceName"] == "new"
    assert server.requests[1].form["bandwidth"] == "10"
    assert {seen.form["instanceId"] for seen in server.requests} == {"ins-1"}
