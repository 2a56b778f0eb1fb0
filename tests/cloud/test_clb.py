"""``ClbApi``: parameters sent, answers read, tasks, and the emulator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from reconciler.cloud.clb import (
    BackendView,
    ClbApi,
    CreatedLoadBalancers,
    ListenerSpec,
    ListenerView,
    LoadBalancerView,
    protocol_name,
    protocol_number,
)
from reconciler.cloud.client import LegacyClient
from reconciler.cloud.cvm import CvmApi
from reconciler.cloud.errors import UnknownOutcomeError
from reconciler.cloud.testing import ScriptedServer, Seen
from reconciler.cloud.vpc import VpcApi

Eventually = Callable[..., Any]


@pytest.fixture
def clb(client: LegacyClient) -> ClbApi:
    return ClbApi(client)


def balancer(lb_id: str, **extra: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "loadBalancerId": "gz_lb_3",
        "unLoadBalancerId": lb_id,
        "loadBalancerName": f"name-{lb_id}",
        "loadBalancerType": 3,
        "domain": "",
        "loadBalancerVips": ["10.0.1.9"],
        "status": 1,
        "projectId": 0,
        "vpcId": 17,
        "subnetId": 41,
    }
    item.update(extra)
    return item


# -- conversions and views ---------------------------------------------------


def test_protocols_convert_both_ways() -> None:
    assert [protocol_number(p) for p in ("http", "TCP", "udp", "https", 2)] == [
        1,
        2,
        3,
        4,
        2,
    ]
    assert [protocol_name(n) for n in (1, "2", 3, 4)] == ["http", "tcp", "udp", "https"]
    with pytest.raises(ValueError):
        protocol_number("sctp")


def test_load_balancer_view_names_type_and_keeps_network_refs() -> None:
    view = LoadBalancerView.from_api(balancer("lb-1"))
    classic = LoadBalancerView.from_api(
        balancer("lb-2", loadBalancerType=2, vpcId=0, subnetId=0, status=0)
    )

    assert view == LoadBalancerView(
        "lb-1",
        "name-lb-1",
        "private",
        1,
        ("10.0.1.9",),
        {},
        vpc_ref="17",
        subnet_ref="41",
        legacy_id="gz_lb_3",
    )
    assert view.running
    assert (classic.type, classic.vpc_ref, classic.running) == ("public", None, False)


def test_listener_and_backend_views() -> None:
    listener = ListenerView.from_api(
        {
            "unListenerId": "lbl-1",
            "loadBalancerPort": 80,
            "instancePort": 8080,
            "protocol": 1,
            "healthSwitch": 0,
            "httpHash": "wrr",
        }
    )
    backend = BackendView.from_api(
        {
            "instanceId": "qcvm1",
            "unInstanceId": "ins-1",
            "weight": 30,
            "lanIp": "10.0.0.2",
        }
    )

    assert (listener.listener_id, listener.port, listener.backend_port) == (
        "lbl-1",
        80,
        8080,
    )
    assert (listener.protocol, listener.health_check, listener.scheduler) == (
        "http",
        False,
        "wrr",
    )
    assert (backend.instance_id, backend.weight, backend.lan_ip) == (
        "ins-1",
        30,
        "10.0.0.2",
    )


# -- calls -------------------------------------------------------------------


def test_create_load_balancer_returns_task_and_flattened_ids(
    server: ScriptedServer, clb: ClbApi
) -> None:
    server.answer(
        {
            "code": 0,
            "requestId": "6120001",
            "dealIds": ["6120001"],
            "unLoadBalancerIds": {"6120001": ["lb-a", "lb-b"]},
        }
    )

    created = clb.create_load_balancer("private", "web", "vpc-1", "subnet-1", 2)

    assert created == CreatedLoadBalancers(6120001, ["lb-a", "lb-b"])
    form = server.requests[0].form
    assert form["Action"] == "CreateLoadBalancer"
    assert (form["loadBalancerType"], form["loadBalancerName"]) == ("3", "web")
    assert (form["vpcId"], form["subnetId"], form["number"]) == (
        "vpc-1",
        "subnet-1",
        "2",
    )
    assert "projectId" not in form


def test_public_load_balancer_sends_no_network(
    server: ScriptedServer, clb: ClbApi
) -> None:
    server.answer({"code": 0, "requestId": 1, "unLoadBalancerIds": {"1": ["lb-a"]}})

    clb.create_load_balancer("public", "edge")

    form = server.requests[0].form
    assert form["loadBalancerType"] == "2"
    assert not {"vpcId", "subnetId"} & set(form)


def test_an_accepted_change_without_task_number_is_an_unknown_outcome(
    server: ScriptedServer, clb: ClbApi
) -> None:
    server.answer({"code": 0, "message": ""})

    with pytest.raises(UnknownOutcomeError) as caught:
        clb.modify_load_balancer("lb-1", "new")

    assert caught.value.resource_ids == ("lb-1",)


def test_describe_by_ids_costs_one_call_per_100(
    server: ScriptedServer, clb: ClbApi
) -> None:
    def echo(seen: Seen) -> dict[str, Any]:
        ids = [v for k, v in seen.form.items() if k.startswith("loadBalancerIds.")]
        return {
            "code": 0,
            "totalCount": len(ids),
            "loadBalancerSet": [balancer(i) for i in ids],
        }

    server.answer(echo, echo)
    ids = [f"lb-{n:08d}" for n in range(150)]

    views = clb.describe_load_balancers(ids)

    assert [view.lb_id for view in views] == ids
    assert len(server.requests) == 2


def test_delete_is_one_task_for_up_to_100_ids(
    server: ScriptedServer, clb: ClbApi
) -> None:
    server.answer({"code": 0, "requestId": 9})

    assert clb.delete_load_balancers(["lb-1", "lb-2"]) == 9

    form = server.requests[0].form
    assert [form["loadBalancerIds.0"], form["loadBalancerIds.1"]] == ["lb-1", "lb-2"]
    with pytest.raises(ValueError):
        clb.delete_load_balancers([f"lb-{n}" for n in range(101)])
    with pytest.raises(ValueError):
        clb.delete_load_balancers([])


def test_listeners_go_out_as_numbered_objects(
    server: ScriptedServer, clb: ClbApi
) -> None:
    server.answer({"code": 0, "requestId": 4})
    specs = [
        ListenerSpec(80, 8080, "http", name="web", health_check=True, check_path="/hz"),
        ListenerSpec(53, 53, "udp"),
    ]

    assert clb.create_listeners("lb-1", specs) == 4

    form = server.requests[0].form
    assert form["Action"] == "CreateLoadBalancerListeners"
    assert form["loadBalancerId"] == "lb-1"
    assert form["listeners.0.loadBalancerPort"] == "80"
    assert form["listeners.0.instancePort"] == "8080"
    assert form["listeners.0.protocol"] == "1"
    assert form["listeners.0.listenerName"] == "web"
    assert form["listeners.0.healthSwitch"] == "1"
    assert form["listeners.0.httpCheckPath"] == "/hz"
    assert form["listeners.1.protocol"] == "3"
    assert not [k for k in form if k.startswith("listeners.1.") and "Name" in k]


def test_describe_and_delete_listeners(server: ScriptedServer, clb: ClbApi) -> None:
    listener = {"listenerId": "lbl-1", "loadBalancerPort": 443, "protocol": 2}
    server.answer({"code": 0, "listenerSet": [listener]}, {"code": 0, "requestId": 5})

    [view] = clb.describe_listeners("lb-1")
    task = clb.delete_listeners("lb-1", ["lbl-1"])

    assert (view.listener_id, view.port, view.protocol) == ("lbl-1", 443, "tcp")
    assert task == 5
    assert server.requests[1].form["listenerIds.0"] == "lbl-1"


def test_backends_are_sent_with_and_without_weights(
    server: ScriptedServer, clb: ClbApi
) -> None:
    server.answer(*({"code": 0, "requestId": n} for n in (1, 2, 3)))

    clb.register_backends("lb-1", [("ins-1", 10), ("ins-2", 20)])
    clb.modify_backends("lb-1", [("ins-2", 0)])
    clb.deregister_backends("lb-1", ["ins-1"])

    register, modify, deregister = (seen.form for seen in server.requests)
    assert register["Action"] == "RegisterInstancesWithLoadBalancer"
    assert (register["backends.1.instanceId"], register["backends.1.weight"]) == (
        "ins-2",
        "20",
    )
    assert modify["Action"] == "ModifyLoadBalancerBackends"
    assert modify["backends.0.weight"] == "0"
    assert deregister["Action"] == "DeregisterInstancesFromLoadBalancer"
    assert deregister["backends.0.instanceId"] == "ins-1"
    assert "backends.0.weight" not in deregister


def test_describe_backends_pages(server: ScriptedServer, clb: ClbApi) -> None:
    page = [{"unInstanceId": f"ins-{n}", "weight": 10} for n in range(100)]
    server.answer(
        {"code": 0, "totalCount": 101, "backendSet": page},
        {"code": 0, "totalCount": 101, "backendSet": page[:1]},
    )

    assert len(clb.describe_backends("lb-1")) == 101
    assert [seen.form["offset"] for seen in server.requests] == ["0", "100"]


def test_task_status_reads_data_status(server: ScriptedServer, clb: ClbApi) -> None:
    server.answer({"code": 0, "data": {"status": 1}})

    assert clb.task_status(6120001) == 1
    form = server.requests[0].form
    assert (form["Action"], form["requestId"]) == (
        "DescribeLoadBalancersTaskResult",
        "6120001",
    )


# -- against the emulator ------------------------------------------------------


def done(clb: ClbApi, eventually: Eventually, task_id: int) -> int:
    status: int = eventually(lambda: clb.task_status(task_id), lambda s: s != 2)
    return status


def test_private_load_balancer_lifecycle(
    emulated: LegacyClient, eventually: Eventually
) -> None:
    clb, cvm, vpcs = ClbApi(emulated), CvmApi(emulated), VpcApi(emulated)
    vpc = vpcs.create_vpc("prod", "10.0.0.0/16")
    [subnet] = vpcs.create_subnets(
        vpc.vpc_id, [("app", "10.0.1.0/24", "ap-guangzhou-3")]
    )
    config = {
        "zone": "ap-guangzhou-3",
        "image": "img-ubuntu22",
        "cpu": 1,
        "memory": 1,
        "disk": 50,
        "vpc": vpc.vpc_id,
        "subnet": subnet.subnet_id,
    }
    instances = cvm.run_instances_hour(config, 2, "app", "lb-test")

    # Create: one task; the load balancer runs once the task is done.
    created = clb.create_load_balancer(
        "private", "internal", vpc.vpc_id, subnet.subnet_id
    )
    assert done(clb, eventually, created.task_id) == 0
    [lb] = clb.describe_load_balancers(created.ids)
    assert (lb.name, lb.type, lb.running) == ("internal", "private", True)
    assert vpc.matches(lb.vpc_ref or "") and subnet.matches(lb.subnet_ref or "")

    # Listeners.
    specs = [ListenerSpec(80, 8080, "tcp"), ListenerSpec(53, 53, "udp")]
    assert done(clb, eventually, clb.create_listeners(lb.lb_id, specs)) == 0
    listeners = {view.port: view for view in clb.describe_listeners(lb.lb_id)}
    assert {p: v.protocol for p, v in listeners.items()} == {80: "tcp", 53: "udp"}

    # Backends: register, re-weight, deregister.
    weighted = [(instances[0], 10), (instances[1], 20)]
    assert done(clb, eventually, clb.register_backends(lb.lb_id, weighted)) == 0
    assert (
        done(clb, eventually, clb.modify_backends(lb.lb_id, [(instances[1], 50)])) == 0
    )
    weights = {b.instance_id: b.weight for b in clb.describe_backends(lb.lb_id)}
    assert weights == {instances[0]: 10, instances[1]: 50}
    assert done(clb, eventually, clb.deregister_backends(lb.lb_id, instances[:1])) == 0
    assert [b.instance_id for b in clb.describe_backends(lb.lb_id)] == instances[1:]

    # Rename, drop a listener, delete.
    assert done(clb, eventually, clb.modify_load_balancer(lb.lb_id, "renamed")) == 0
    task = clb.delete_listeners(lb.lb_id, [listeners[53].listener_id])
    assert done(clb, eventually, task) == 0
    assert [v.port for v in clb.describe_listeners(lb.lb_id)] == [80]
    assert [v.name for v in clb.describe_load_balancers(name="renamed")] == ["renamed"]
    assert done(clb, eventually, clb.delete_load_balancers([lb.lb_id])) == 0
    eventually(lambda: clb.describe_load_balancers([lb.lb_id]), lambda views: not views)


def test_a_failed_task_reports_1_and_changes_nothing(
    emulated: LegacyClient,
    eventually: Eventually,
    set_faults: Callable[[list[dict[str, Any]]], None],
) -> None:
    clb = ClbApi(emulated)
    created = clb.create_load_balancer("public", "edge")
    assert done(clb, eventually, created.task_id) == 0
    set_faults(
        [{"action": "ModifyLoadBalancerAttributes", "outcome": {"task": "failed"}}]
    )

    task = clb.modify_load_balancer(created.ids[0], "never")

    assert done(clb, eventually, task) == 1
    [view] = clb.describe_load_balancers(created.ids)
    assert view.name == "edge"
