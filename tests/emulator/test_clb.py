"""CLB actions (legacy-api.md section 9): tasks, listeners, backends."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from .conftest import Client


def lb(client: Client, action: str, **params: Any) -> dict[str, Any]:
    return client.call(action, params, service="lb")


def wait_task(client: Client, task_id: int, timeout: float = 5.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = lb(client, "DescribeLoadBalancersTaskResult", requestId=task_id)
        if status["data"]["status"] != 2:
            return status["data"]["status"]
        client.pause()
    raise AssertionError(f"task {task_id} is still running")


def balancer(client: Client, **params: Any) -> str:
    body = lb(client, "CreateLoadBalancer", **{"loadBalancerType": 2, **params})
    assert body["code"] == 0, body
    [balancer_id] = body["unLoadBalancerIds"][str(body["requestId"])]
    assert wait_task(client, body["requestId"]) == 0
    return balancer_id


def test_create_answers_a_task_and_ids_by_deal(slow_client: Client) -> None:
    client = slow_client
    body = lb(client, "CreateLoadBalancer", loadBalancerType=2, number=2)

    deal = str(body["requestId"])
    assert body["dealIds"] == [deal]
    ids = body["unLoadBalancerIds"][deal]
    assert len(ids) == 2 and all(re.match(r"^lb-[a-z0-9]{8}$", i) for i in ids)
    status = lb(client, "DescribeLoadBalancersTaskResult", requestId=body["requestId"])
    assert status["data"] == {"status": 2}
    listed = lb(client, "DescribeLoadBalancers", loadBalancerIds=ids)
    assert {item["status"] for item in listed["loadBalancerSet"]} == {0}

    assert wait_task(client, body["requestId"]) == 0
    listed = lb(client, "DescribeLoadBalancers", loadBalancerIds=ids)
    assert {item["status"] for item in listed["loadBalancerSet"]} == {1}


def test_describe_load_balancers_fields(client: Client) -> None:
    balancer_id = balancer(client, loadBalancerName="front", domainPrefix="shop")

    body = lb(client, "DescribeLoadBalancers", loadBalancerIds=[balancer_id])

    [item] = body["loadBalancerSet"]
    assert item["unLoadBalancerId"] == balancer_id
    assert item["loadBalancerName"] == "front"
    assert item["domain"] == "shop.clb.myqcloud.com"
    assert (item["vpcId"], item["subnetId"]) == (0, 0)
    assert len(item["loadBalancerVips"]) == 1
    by_old = lb(
        client, "DescribeLoadBalancers", loadBalancerIds=[item["loadBalancerId"]]
    )
    assert by_old["loadBalancerSet"] == body["loadBalancerSet"]


def test_duplicate_names_are_renamed(client: Client) -> None:
    balancer(client, loadBalancerName="web")
    second = balancer(client, loadBalancerName="web")

    body = lb(client, "DescribeLoadBalancers", loadBalancerIds=[second])

    assert body["loadBalancerSet"][0]["loadBalancerName"] == "web_1"


def test_private_lb_in_a_vpc_reports_numeric_network_ids(client: Client) -> None:
    created = client.call(
        "CreateVpc",
        {
            "vpcName": "v",
            "cidrBlock": "10.0.0.0/16",
            "subnetSet": [
                {"subnetName": "s", "cidrBlock": "10.0.1.0/24", "zoneId": 100003}
            ],
        },
        service="vpc",
    )
    subnet = created["subnetSet"][0]
    balancer_id = balancer(
        client,
        loadBalancerType=3,
        vpcId=created["unVpcId"],
        subnetId=subnet["unSubnetId"],
    )

    [item] = lb(client, "DescribeLoadBalancers", loadBalancerIds=[balancer_id])[
        "loadBalancerSet"
    ]

    assert item["vpcId"] == int(created["vpcId"].rsplit("_", 1)[1])
    assert item["subnetId"] == int(subnet["subnetId"].rsplit("_", 1)[1])
    assert item["loadBalancerVips"] == ["10.0.1.2"]
    busy = client.call(
        "DeleteSubnet",
        {"vpcId": created["unVpcId"], "subnetId": subnet["unSubnetId"]},
        service="vpc",
    )
    assert busy["codeDesc"] == "InvalidSubnet.CannotDelete"


def test_register_modify_and_deregister_backends(client: Client) -> None:
    balancer_id = balancer(client)
    ids = client.run(2, instanceName="web")
    client.wait_status(ids, 2)

    registered = lb(
        client,
        "RegisterInstancesWithLoadBalancer",
        loadBalancerId=balancer_id,
        backends=[{"instanceId": ids[0], "weight": 20}, {"instanceId": ids[1]}],
    )
    assert wait_task(client, registered["requestId"]) == 0
    modified = lb(
        client,
        "ModifyLoadBalancerBackends",
        loadBalancerId=balancer_id,
        backends=[{"instanceId": ids[1], "weight": 50}],
    )
    assert wait_task(client, modified["requestId"]) == 0
    listed = lb(client, "DescribeLoadBalancerBackends", loadBalancerId=balancer_id)

    assert modified["code"] == 0
    assert listed["totalCount"] == 2
    assert [(b["unInstanceId"], b["weight"]) for b in listed["backendSet"]] == [
        (ids[0], 20),
        (ids[1], 50),
    ]
    assert set(listed["backendSet"][0]) == {
        "instanceId", "unInstanceId", "weight", "instanceName", "lanIp",
        "wanIpSet", "instanceStatus",
    }  # fmt: skip

    removed = lb(
        client,
        "DeregisterInstancesFromLoadBalancer",
        loadBalancerId=balancer_id,
        backends=[{"instanceId": ids[0]}],
    )
    assert wait_task(client, removed["requestId"]) == 0
    again = lb(
        client,
        "DeregisterInstancesFromLoadBalancer",
        loadBalancerId=balancer_id,
        backends=[{"instanceId": ids[0]}],
    )
    assert removed["code"] == 0 and again["code"] == 5000
    listed = lb(client, "DescribeLoadBalancerBackends", loadBalancerId=balancer_id)
    assert [b["unInstanceId"] for b in listed["backendSet"]] == [ids[1]]


def test_backend_weights_and_unknown_instances_are_checked(client: Client) -> None:
    balancer_id = balancer(client)
    [instance_id] = client.run(1)

    heavy = lb(
        client,
        "RegisterInstancesWithLoadBalancer",
        loadBalancerId=balancer_id,
        backends=[{"instanceId": instance_id, "weight": 101}],
    )
    unknown = lb(
        client,
        "RegisterInstancesWithLoadBalancer",
        loadBalancerId=balancer_id,
        backends=[{"instanceId": "ins-00000000"}],
    )

    assert heavy["code"] == 4000
    assert unknown["code"] == 5000


def test_returning_an_instance_deregisters_it(client: Client) -> None:
    balancer_id = balancer(client)
    [instance_id] = client.run(1)
    client.wait_status([instance_id], 2)
    lb(
        client,
        "RegisterInstancesWithLoadBalancer",
        loadBalancerId=balancer_id,
        backends=[{"instanceId": instance_id}],
    )

    client.call("ReturnInstance", {"instanceId": instance_id})

    listed = lb(client, "DescribeLoadBalancerBackends", loadBalancerId=balancer_id)
    assert listed["totalCount"] == 0


def listener(port: int, protocol: int = 2, **fields: Any) -> dict[str, Any]:
    return {
        "loadBalancerPort": port,
        "instancePort": 8080,
        "protocol": protocol,
        **fields,
    }


def test_listeners_lifecycle(client: Client) -> None:
    balancer_id = balancer(client)

    created = lb(
        client,
        "CreateLoadBalancerListeners",
        loadBalancerId=balancer_id,
        listeners=[listener(80, 1, listenerName="http"), listener(22)],
    )
    assert wait_task(client, created["requestId"]) == 0
    listed = lb(client, "DescribeLoadBalancerListeners", loadBalancerId=balancer_id)

    assert all(re.match(r"^lbl-[a-z0-9]{8}$", i) for i in created["listenerIds"])
    assert listed["totalCount"] == 2
    http = listed["listenerSet"][0]
    assert (http["loadBalancerPort"], http["protocol"], http["listenerName"]) == (
        80,
        1,
        "http",
    )
    assert (http["intervalTime"], http["healthNum"], http["httpHash"]) == (30, 3, "wrr")

    deleted = lb(
        client,
        "DeleteLoadBalancerListeners",
        loadBalancerId=balancer_id,
        listenerIds=created["listenerIds"][:1],
    )
    assert wait_task(client, deleted["requestId"]) == 0
    listed = lb(client, "DescribeLoadBalancerListeners", loadBalancerId=balancer_id)
    assert [item["loadBalancerPort"] for item in listed["listenerSet"]] == [22]


@pytest.mark.parametrize(
    ("listeners", "lb_type"),
    [
        ([listener(80), listener(80, 3)], 2),
        ([listener(0)], 2),
        ([listener(80, 1)], 3),
        ([listener(443, 4, SSLMode="unidirectional", certId="c"), listener(80)], 2),
        ([listener(443, 4)], 2),
        ([listener(80, timeOut=61)], 2),
    ],
)
def test_listener_rules(client: Client, listeners: list, lb_type: int) -> None:
    balancer_id = balancer(client, loadBalancerType=lb_type)

    body = lb(
        client,
        "CreateLoadBalancerListeners",
        loadBalancerId=balancer_id,
        listeners=listeners,
    )

    assert body["code"] == 4000
    listed = lb(client, "DescribeLoadBalancerListeners", loadBalancerId=balancer_id)
    assert listed["totalCount"] == 0


def test_delete_removes_listeners_and_backends(client: Client) -> None:
    balancer_id = balancer(client)
    created = lb(
        client,
        "CreateLoadBalancerListeners",
        loadBalancerId=balancer_id,
        listeners=[listener(80)],
    )
    assert wait_task(client, created["requestId"]) == 0

    deleted = lb(client, "DeleteLoadBalancers", loadBalancerIds=[balancer_id])
    assert wait_task(client, deleted["requestId"]) == 0

    assert lb(client, "DescribeLoadBalancers")["totalCount"] == 0
    stats = client.admin("GET", "stats").json()["resources"]
    assert "listener" not in stats and "loadbalancer" not in stats
    again = lb(client, "DeleteLoadBalancers", loadBalancerIds=[balancer_id])
    assert again["code"] == 5000


def test_failed_task_reports_1_and_changes_nothing(client: Client) -> None:
    balancer_id = balancer(client)
    client.admin(
        "PUT",
        "faults",
        data="rules: [{action: CreateLoadBalancerListeners, outcome: {task: failed}}]",
    )

    body = lb(
        client,
        "CreateLoadBalancerListeners",
        loadBalancerId=balancer_id,
        listeners=[listener(80)],
    )

    assert body["code"] == 0
    assert wait_task(client, body["requestId"]) == 1
    listed = lb(client, "DescribeLoadBalancerListeners", loadBalancerId=balancer_id)
    assert listed["totalCount"] == 0


def test_unknown_task_is_not_found(client: Client) -> None:
    body = lb(client, "DescribeLoadBalancersTaskResult", requestId=12345)

    assert body["code"] == 5000


def test_a_running_task_locks_its_load_balancer(slow_client: Client) -> None:
    client = slow_client
    balancer_id = balancer(client)
    first = lb(
        client,
        "CreateLoadBalancerListeners",
        loadBalancerId=balancer_id,
        listeners=[listener(80)],
    )

    renamed = lb(
        client,
        "ModifyLoadBalancerAttributes",
        loadBalancerId=balancer_id,
        loadBalancerName="other",
    )
    deleted = lb(client, "DeleteLoadBalancers", loadBalancerIds=[balancer_id])

    for refused in (renamed, deleted):
        assert refused["code"] == 5100
        assert refused["codeDesc"] == "FailedOperation.ResourceInOperation"
        assert str(first["requestId"]) in refused["message"]
    listed = lb(client, "DescribeLoadBalancers", loadBalancerIds=[balancer_id])
    assert listed["loadBalancerSet"][0]["loadBalancerName"] != "other"

    assert wait_task(client, first["requestId"]) == 0
    renamed = lb(
        client,
        "ModifyLoadBalancerAttributes",
        loadBalancerId=balancer_id,
        loadBalancerName="other",
    )
    assert renamed["code"] == 0
