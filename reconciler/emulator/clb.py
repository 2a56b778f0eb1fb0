"""CLB / LB actions (legacy-api.md section 9).

Load balancers are kind ``loadbalancer`` (status 0 creating, 1 running) with
their backends inside their row; listeners are kind ``listener``. Every
changing action is *single async*: it answers a ``requestId`` whose
``DescribeLoadBalancersTaskResult`` is 2 (running) for the action's
duration, then 0, or 1 when a ``task: failed`` fault hit it. The change
itself is visible at once when the task will succeed and never happens when
it will fail, so a client that waits for the task sees a consistent cloud.
"""

from __future__ import annotations

import logging
from typing import Any

from . import vpc
from .context import Call, Handler
from .cvm import find_instance
from .faults import SLOW_DELETE, TASK_FAILURE
from .kinds import INSTANCE, LISTENER, LOAD_BALANCER, SUBNET
from .protocol import SHORT_REGION, ApiError, format_time, success
from .store import Resource

logger = logging.getLogger(__name__)

CREATING, RUNNING = 0, 1
PUBLIC, PRIVATE = 2, 3
HTTP, TCP, UDP, HTTPS = 1, 2, 3, 4
NAME_MAX = 50
LBS_PER_CALL = 20


def _error(code: int, name: str, text: str) -> ApiError:
    return ApiError(code, f"({name}) {text}", name)


def _invalid(text: str) -> ApiError:
    return _error(4000, "InvalidParameter", text)


# -- lookups and tasks ----------------------------------------------------


def find_balancer(call: Call, ref: str) -> Resource | None:
    """By unified ``lb-`` id or by the old ``loadBalancerId``."""
    if ref.startswith("lb-"):
        balancer = call.store.get(LOAD_BALANCER, ref)
        if balancer is None or balancer.region != call.region:
            return None
        balancer.settled(call.now)
        return balancer if balancer.exists(call.now) else None
    for balancer in call.store.list(LOAD_BALANCER, call.now, call.region):
        if balancer.data["legacyId"] == ref:
            return balancer
    return None


def require_balancer(call: Call, ref: str, *, running: bool = True) -> Resource:
    balancer = find_balancer(call, ref)
    if balancer is None:
        raise _error(
            5000, "InvalidLoadBalancer.NotFound", f"load balancer {ref} not found"
        )
    if running and balancer.status != RUNNING:
        raise _error(
            5100,
            "InvalidLoadBalancer.StatusError",
            f"load balancer {balancer.id} is not running (status {balancer.status})",
        )
    return balancer


def _task(call: Call, *balancers: Resource) -> tuple[int, bool]:
    """A task number for this call and whether its task is made to fail.

    The task locks its load balancers until it ends, as the real CLB does: a
    change to a locked one is refused (``_refuse_if_locked``), failed tasks
    included, since they too run to their end.
    """
    for balancer in balancers:
        _refuse_if_locked(call, balancer)
    first = balancers[0] if balancers else None
    failed = first is not None and (
        call.effect(TASK_FAILURE, first.id, first.name) is not None
    )
    if first is not None:
        call.raise_item_fault(first)

    task_id = call.store.new_task("lb", call.done_at(), 1 if failed else 0)
    for balancer in balancers:
        balancer.data["lockedUntil"] = call.done_at()
        balancer.data["lockedBy"] = task_id
    call.store.put_many(balancers)
    return task_id, failed


def _refuse_if_locked(call: Call, balancer: Resource) -> None:
    # The reference is silent on the answer; 5100 is its code for an
    # operation the resource refuses now, which clients retry later, and the
    # name is the newer CLB API's for a resource with a task in progress.
    if balancer.data.get("lockedUntil", 0.0) > call.now:
        raise _error(
            5100,
            "FailedOperation.ResourceInOperation",
            f"load balancer {balancer.id} is locked by task "
            f"{balancer.data['lockedBy']} still in progress",
        )


# -- load balancers -------------------------------------------------------


def create_load_balancer(call: Call) -> dict[str, Any]:
    params = call.params
    kind = params.req_int("loadBalancerType", low=PUBLIC, high=PRIVATE)
    forward = params.int("forward", 0, low=0, high=1) or 0
    name = params.str("loadBalancerName", max_len=NAME_MAX)
    prefix = params.str("domainPrefix", max_len=20)
    project = params.int("projectId", 0, low=0) or 0
    number = params.int("number", 1, low=1, high=LBS_PER_CALL) or 1
    network = _network(call)

    failed = call.effect(TASK_FAILURE, "", name or "") is not None
    task_id = call.store.new_task("lb", call.done_at(), 1 if failed else 0)
    ids = [
        _new_balancer(call, kind, forward, name, prefix, project, network, failed)
        for _ in range(number)
    ]
    deal = str(task_id)
    return success(requestId=task_id, dealIds=[deal], unLoadBalancerIds={deal: ids})


def _network(call: Call) -> dict[str, Any]:
    """``vpcId``/``subnetId`` in any of their forms; empty for classic."""
    vpc_ref = call.params.str("vpcId")
    subnet_ref = call.params.str("subnetId")
    if not vpc_ref or vpc_ref == "0":
        if subnet_ref and subnet_ref != "0":
            raise _invalid("(100004) subnetId needs a vpcId")
        return {}
    found = vpc.require_vpc(call, vpc_ref)
    network: dict[str, Any] = {"vpcId": found.id, "vpcSerial": found.data["serial"]}
    if subnet_ref and subnet_ref != "0":
        subnet = vpc.require_subnet(call, found, subnet_ref)
        network.update(subnetId=subnet.id, subnetSerial=subnet.data["serial"])
    return network


def _new_balancer(
    call: Call,
    kind: int,
    forward: int,
    name: str | None,
    prefix: str | None,
    project: int,
    network: dict[str, Any],
    failed: bool,
) -> str:
    balancer_id = call.ids.new(call.store, "lb")
    serial = call.store.next_value("lb_serial", call.region)
    short = SHORT_REGION.get(call.region, call.region)
    balancer = Resource(
        LOAD_BALANCER,
        balancer_id,
        call.region,
        name=_unique_name(call, name or balancer_id),
        data={
            "legacyId": f"{short}_lb_{serial}",
            "loadBalancerType": kind,
            "forward": forward,
            "domain": f"{prefix or balancer_id}.clb.myqcloud.com"
            if kind == PUBLIC
            else "",
            "vips": [_vip(call, kind, network)],
            "projectId": project,
            "sessionExpire": 0,
            "backends": [],
            "createTime": call.now,
            "statusTime": call.now,
            **network,
        },
    )
    done_at = call.done_at()
    balancer.transition(CREATING, CREATING if failed else RUNNING, done_at)
    if failed:
        balancer.gone_at = done_at
    call.store.put(balancer)
    call.created.append(balancer_id)
    return balancer_id


def _unique_name(call: Call, name: str) -> str:
    """Duplicate names are renamed by the system (section 9)."""
    taken = {b.name for b in call.store.list(LOAD_BALANCER, call.now, call.region)}
    candidate, counter = name, 1
    while candidate in taken:
        suffix = f"_{counter}"
        candidate, counter = name[: NAME_MAX - len(suffix)] + suffix, counter + 1
    return candidate


def _vip(call: Call, kind: int, network: dict[str, Any]) -> str:
    if kind == PRIVATE and network.get("subnetId"):
        subnet = call.store.get(SUBNET, network["subnetId"])
        assert subnet is not None, "subnet vanished inside a transaction: bug"
        return vpc.allocate_ip(call, subnet)
    serial = call.store.next_value("lb_vip")
    if kind == PRIVATE:
        return f"10.254.{(serial >> 8) & 255}.{serial & 255}"
    return f"111.230.{(serial >> 8) & 255}.{serial & 255}"


def describe_load_balancers(call: Call) -> dict[str, Any]:
    params = call.params
    offset = params.int("offset", 0, low=0) or 0
    limit = params.int("limit", 20, low=1, high=100) or 20
    balancers = [b for b in call.store.list(LOAD_BALANCER, call.now, call.region)]
    balancers = [b for b in balancers if _matches(call, b)]

    order_by = params.str("orderBy")
    if order_by in ("loadBalancerName", "domain", "loadBalancerType", "createTime"):
        balancers.sort(key=lambda b: _render_balancer(b)[order_by])
    if params.int("orderType", 0, low=0, high=1) == 1:
        balancers.reverse()
    page = balancers[offset : offset + limit]
    return success(
        totalCount=len(balancers),
        loadBalancerSet=[_render_balancer(b) for b in page],
    )


def _matches(call: Call, balancer: Resource) -> bool:
    params = call.params
    refs = set(params.list("loadBalancerIds"))
    vips = set(params.list("loadBalancerVips"))
    data = balancer.data
    checks = [
        not refs or bool(refs & {balancer.id, data["legacyId"]}),
        not vips or bool(vips & set(data["vips"])),
        params.int("loadBalancerType") in (None, data["loadBalancerType"]),
        params.int("forward") in (None, data["forward"]),
        params.int("projectId") in (None, data["projectId"]),
        params.str("loadBalancerName") in (None, balancer.name),
        params.str("domain") in (None, data["domain"]),
        _search(params.str("searchKey"), balancer),
        _in_vpc(call, params.str("vpcId"), balancer),
        _has_backend_ip(call, set(params.list("backendWanIps")), balancer),
    ]
    return all(checks)


def _search(key: str | None, balancer: Resource) -> bool:
    if not key:
        return True
    haystack = [balancer.id, balancer.name, balancer.data["domain"]]
    return any(key in text for text in haystack + balancer.data["vips"])


def _in_vpc(call: Call, ref: str | None, balancer: Resource) -> bool:
    if ref is None:
        return True
    wanted = vpc.find_vpc(call, ref)
    return wanted is not None and balancer.data.get("vpcId") == wanted.id


def _has_backend_ip(call: Call, ips: set[str], balancer: Resource) -> bool:
    if not ips:
        return True
    ids = [backend["instanceId"] for backend in balancer.data["backends"]]
    instances = call.store.get_many(INSTANCE, ids).values()
    return any(ips & set(instance.data["wanIpSet"]) for instance in instances)


def _render_balancer(balancer: Resource) -> dict[str, Any]:
    data = balancer.data
    return {
        "loadBalancerId": data["legacyId"],
        "unLoadBalancerId": balancer.id,
        "loadBalancerName": balancer.name,
        "loadBalancerType": data["loadBalancerType"],
        "forward": data["forward"],
        "domain": data["domain"],
        "loadBalancerVips": list(data["vips"]),
        "status": balancer.status,
        "createTime": format_time(data["createTime"]),
        "statusTime": format_time(data["statusTime"]),
        "sessionExpire": data["sessionExpire"],
        "projectId": data["projectId"],
        "vpcId": data.get("vpcSerial", 0),
        "subnetId": data.get("subnetSerial", 0),
    }


def delete_load_balancers(call: Call) -> dict[str, Any]:
    """One task for the whole list; listeners and backends go with the LBs."""
    refs = call.params.ids("loadBalancerIds")
    balancers = []
    for ref in refs:
        balancer = find_balancer(call, ref)
        if balancer is None:
            raise _error(5000, "InvalidLoadBalancer.NotFound", f"{ref} not found")
        balancers.append(balancer)

    task_id, failed = _task(call, *balancers)
    if failed:
        return success(requestId=task_id)
    for balancer in balancers:
        _delete_balancer(call, balancer)
    return success(requestId=task_id)


def _delete_balancer(call: Call, balancer: Resource) -> None:
    slow = call.effect(SLOW_DELETE, balancer.id, balancer.name)
    extra = slow.seconds * call.config.time_scale if slow else 0.0
    balancer.gone_at = call.done_at() + extra
    balancer.data["backends"] = []
    call.store.put(balancer)
    for listener in _listeners(call, balancer):
        call.store.delete(LISTENER, listener.id)


def modify_load_balancer_attributes(call: Call) -> dict[str, Any]:
    params = call.params
    balancer = require_balancer(call, params.req("loadBalancerId"))
    name = params.str("loadBalancerName", max_len=NAME_MAX)
    prefix = params.str("domainPrefix", max_len=20)
    expire = params.int("sessionExpire", low=0, high=3600)
    if expire is not None and expire != 0 and expire < 900:
        raise _invalid("(100004) sessionExpire must be 0 or 900-3600")

    task_id, failed = _task(call, balancer)
    if failed:
        return success(requestId=task_id)
    if name is not None:
        balancer.name = name
    if prefix is not None and balancer.data["loadBalancerType"] == PUBLIC:
        balancer.data["domain"] = f"{prefix}.clb.myqcloud.com"
    if expire is not None:
        balancer.data["sessionExpire"] = expire
    call.store.put(balancer)
    return success(requestId=task_id)


def describe_task_result(call: Call) -> dict[str, Any]:
    task_id = call.params.req_int("requestId", low=0)
    status = call.store.task_status(task_id, call.now)
    if status is None:
        raise _error(5000, "InvalidTask.NotFound", f"task {task_id} does not exist")
    return success(data={"status": status})


# -- backends ---------------------------------------------------------------


def _backends(call: Call) -> list[dict[str, str]]:
    backends = call.params.objects("backends")
    if not backends:
        raise _invalid("(100001) missing backends.n.instanceId")
    for backend in backends:
        if not backend.get("instanceId"):
            raise _invalid("(100001) every backend needs an instanceId")
    return backends


def _weight(backend: dict[str, str], default: int | None) -> int | None:
    text = backend.get("weight")
    if text is None:
        return default
    if not text.isdigit() or not 0 <= int(text) <= 100:
        raise _invalid(f"(100004) backend weight {text} must be 0-100")
    return int(text)


def register_instances(call: Call) -> dict[str, Any]:
    balancer = require_balancer(call, call.params.req("loadBalancerId"))
    backends = _backends(call)
    current = {b["instanceId"]: b for b in balancer.data["backends"]}
    for backend in backends:
        instance = find_instance(call, backend["instanceId"])
        if instance is None:
            raise _error(5000, "InvalidInstance.NotFound", backend["instanceId"])
        _same_network(balancer, instance)
        current[instance.id] = {
            "instanceId": instance.id,
            "weight": _weight(backend, 10),
        }

    return _apply_backends(call, balancer, list(current.values()))


def _same_network(balancer: Resource, instance: Resource) -> None:
    if balancer.data.get("vpcId", "") != instance.data.get("vpcId", ""):
        raise _error(
            4000,
            "InvalidBackend.NetworkMismatch",
            f"instance {instance.id} is not in the load balancer's network",
        )


def _apply_backends(
    call: Call, balancer: Resource, backends: list[dict[str, Any]]
) -> dict[str, Any]:
    task_id, failed = _task(call, balancer)
    if not failed:
        balancer.data["backends"] = backends
        call.store.put(balancer)
    return success(requestId=task_id)


def deregister_instances(call: Call) -> dict[str, Any]:
    balancer = require_balancer(call, call.params.req("loadBalancerId"))
    current = {b["instanceId"]: b for b in balancer.data["backends"]}
    for backend in _backends(call):
        if current.pop(backend["instanceId"], None) is None:
            raise _error(
                5000,
                "InvalidBackend.NotFound",
                f"{backend['instanceId']} is not a backend of {balancer.id}",
            )
    return _apply_backends(call, balancer, list(current.values()))


def modify_backends(call: Call) -> dict[str, Any]:
    balancer = require_balancer(call, call.params.req("loadBalancerId"))
    current = {b["instanceId"]: dict(b) for b in balancer.data["backends"]}
    for backend in _backends(call):
        if backend["instanceId"] not in current:
            raise _error(
                5000,
                "InvalidBackend.NotFound",
                f"{backend['instanceId']} is not a backend of {balancer.id}",
            )
        weight = _weight(backend, None)
        if weight is None:
            raise _invalid("(100001) backends.n.weight is required")
        current[backend["instanceId"]]["weight"] = weight
    return _apply_backends(call, balancer, list(current.values()))


def describe_backends(call: Call) -> dict[str, Any]:
    balancer = require_balancer(call, call.params.req("loadBalancerId"), running=False)
    offset = call.params.int("offset", 0, low=0) or 0
    limit = call.params.int("limit", 20, low=1, high=100) or 20
    backends = balancer.data["backends"]
    instances = call.store.get_many(INSTANCE, [b["instanceId"] for b in backends])

    rendered = []
    for backend in backends[offset : offset + limit]:
        instance = instances[backend["instanceId"]].settled(call.now)
        rendered.append(
            {
                "instanceId": instance.data["instanceId"],
                "unInstanceId": instance.id,
                "weight": backend["weight"],
                "instanceName": instance.name,
                "lanIp": instance.data["lanIp"],
                "wanIpSet": list(instance.data["wanIpSet"]),
                "instanceStatus": instance.status,
            }
        )
    return success(totalCount=len(backends), backendSet=rendered)


# -- listeners --------------------------------------------------------------


def _listeners(call: Call, balancer: Resource) -> list[Resource]:
    return [
        listener
        for listener in call.store.list(LISTENER, call.now, call.region)
        if listener.data["loadBalancerId"] == balancer.id
    ]


def create_listeners(call: Call) -> dict[str, Any]:
    balancer = require_balancer(call, call.params.req("loadBalancerId"))
    specs = call.params.objects("listeners")
    if not specs:
        raise _invalid("(100001) missing listeners.n")
    ports = {item.data["loadBalancerPort"] for item in _listeners(call, balancer)}

    listeners = [_listener(call, balancer, spec, ports) for spec in specs]
    https = [item for item in listeners if item.data["protocol"] == HTTPS]
    if https and len(specs) > 1:
        raise _invalid("(100004) HTTPS listeners cannot be created in batch")

    task_id, failed = _task(call, balancer)
    if not failed:
        call.store.put_many(listeners)
        call.created.extend(listener.id for listener in listeners)
    return success(requestId=task_id, listenerIds=[item.id for item in listeners])


def _listener(
    call: Call, balancer: Resource, spec: dict[str, str], ports: set[int]
) -> Resource:
    fields = _ListenerSpec(spec)
    port = fields.int("loadBalancerPort", None, 1, 65535)
    protocol = fields.int("protocol", None, HTTP, HTTPS)
    if port in ports:
        raise _error(
            4000,
            "InvalidListener.PortConflict",
            f"port {port} of {balancer.id} already has a listener",
        )
    ports.add(port)
    if balancer.data["loadBalancerType"] == PRIVATE and protocol not in (TCP, UDP):
        raise _invalid("(100004) a private load balancer supports TCP and UDP only")

    layer7 = protocol in (HTTP, HTTPS)
    data = {
        "loadBalancerId": balancer.id,
        "loadBalancerPort": port,
        "instancePort": fields.int("instancePort", None, 1, 65535),
        "protocol": protocol,
        "sessionExpire": fields.int("sessionExpire", 0, 0, 3600),
        "healthSwitch": fields.int("healthSwitch", 1, 0, 1),
        "timeOut": fields.int("timeOut", 2, 2, 60),
        "intervalTime": fields.int(
            "intervalTime", 30 if layer7 else 5, 30 if layer7 else 5, 300
        ),
        "healthNum": fields.int("healthNum", 3, 2, 10),
        "unhealthNum": fields.int("unhealthNum", 3, 2, 10),
        "httpHash": fields.choice("httpHash", "wrr", ("wrr", "ip_hash")),
        "httpCode": fields.int("httpCode", 31, 1, 31),
        "httpCheckPath": spec.get("httpCheckPath", "/"),
        "SSLMode": spec.get("SSLMode", ""),
        "certId": spec.get("certId", ""),
    }
    if protocol == HTTPS and not (data["SSLMode"] and data["certId"]):
        raise _invalid("(100001) an HTTPS listener needs SSLMode and certId")
    name = spec.get("listenerName", "")
    if len(name) > NAME_MAX:
        raise _invalid(f"(100004) listenerName is longer than {NAME_MAX}")

    listener_id = call.ids.new(call.store, "lbl")
    return Resource(LISTENER, listener_id, call.region, name=name, status=1, data=data)


class _ListenerSpec:
    """Typed reads of one ``listeners.n`` item."""

    def __init__(self, spec: dict[str, str]) -> None:
        self.spec = spec

    def int(self, name: str, default: int | None, low: int, high: int) -> int:
        text = self.spec.get(name)
        if text is None:
            if default is None:
                raise _invalid(f"(100001) missing listeners.n.{name}")
            return default
        if not text.isdigit() or not low <= int(text) <= high:
            raise _invalid(f"(100004) listeners.n.{name}={text} must be {low}-{high}")
        return int(text)

    def choice(self, name: str, default: str, allowed: tuple[str, ...]) -> str:
        value = self.spec.get(name, default)
        if value not in allowed:
            raise _invalid(f"(100004) listeners.n.{name} must be one of {allowed}")
        return value


def describe_listeners(call: Call) -> dict[str, Any]:
    params = call.params
    balancer = require_balancer(call, params.req("loadBalancerId"), running=False)
    wanted = set(params.list("listenerIds"))
    protocol = params.int("protocol")
    port = params.int("loadBalancerPort")

    listeners = [
        listener
        for listener in _listeners(call, balancer)
        if (not wanted or listener.id in wanted)
        and protocol in (None, listener.data["protocol"])
        and port in (None, listener.data["loadBalancerPort"])
    ]
    return success(
        totalCount=len(listeners),
        listenerSet=[_render_listener(listener) for listener in listeners],
    )


def _render_listener(listener: Resource) -> dict[str, Any]:
    data = {k: v for k, v in listener.data.items() if k != "loadBalancerId"}
    return {
        "listenerId": listener.id,
        "unListenerId": listener.id,
        "listenerName": listener.name,
        "status": listener.status,
        **data,
    }


def delete_listeners(call: Call) -> dict[str, Any]:
    balancer = require_balancer(call, call.params.req("loadBalancerId"))
    wanted = call.params.ids("listenerIds")
    existing = {listener.id for listener in _listeners(call, balancer)}
    missing = [listener_id for listener_id in wanted if listener_id not in existing]
    if missing:
        raise _error(
            5000, "InvalidListener.NotFound", f"listeners not found: {missing}"
        )

    task_id, failed = _task(call, balancer)
    if not failed:
        for listener_id in wanted:
            call.store.delete(LISTENER, listener_id)
    return success(requestId=task_id)


ACTIONS: dict[str, Handler] = {
    "CreateLoadBalancer": create_load_balancer,
    "DescribeLoadBalancers": describe_load_balancers,
    "DeleteLoadBalancers": delete_load_balancers,
    "ModifyLoadBalancerAttributes": modify_load_balancer_attributes,
    "RegisterInstancesWithLoadBalancer": register_instances,
    "DeregisterInstancesFromLoadBalancer": deregister_instances,
    "ModifyLoadBalancerBackends": modify_backends,
    "DescribeLoadBalancerBackends": describe_backends,
    "CreateLoadBalancerListeners": create_listeners,
    "DescribeLoadBalancerListeners": describe_listeners,
    "DeleteLoadBalancerListeners": delete_listeners,
    "DescribeLoadBalancersTaskResult": describe_task_result,
}
