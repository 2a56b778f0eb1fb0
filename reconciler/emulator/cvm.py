"""CVM actions of the emulator (legacy-api.md section 8).

Instances are stored as kind ``instance``. Asynchronous work is a stored
transition (status now, status later, at time T); see ``store.Resource``.
Returned instances show status 6 while returning and then disappear: they
are no longer listed by ``DescribeInstances`` and every action on their id
answers 5000, as the real cloud does for returned (gone) instances.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any

from reconciler.cloud.zones import zone_name, zone_region

from . import vpc
from .cascades import release_instance
from .context import Call, Handler
from .faults import HIDDEN, SLOW_DELETE, TASK_FAILURE
from .kinds import INSTANCE, KEY_PAIR, SUBNET
from .protocol import ApiError, Params, batch_body, format_time, invalid, success
from .store import Resource

logger = logging.getLogger(__name__)


# Instance status codes (section 8.2).
FAULT = 1
RUNNING = 2
CREATING = 3
STOPPED = 4
RETURNED = 5
RETURNING = 6
RESTARTING = 7
STARTING = 8
STOPPING = 9
RESETTING_PASSWORD = 10
REINSTALLING = 14

# The public images the examples use. Ids have the unified ``img-`` + 8 form.
IMAGES: dict[str, dict[str, Any]] = {
    "img-ubuntu22": {"os": "Ubuntu Server 22.04 LTS 64bit", "legacyId": 101},
    "img-debian12": {"os": "Debian 12.0 64bit", "legacyId": 102},
    "img-centos79": {"os": "CentOS 7.9 64bit", "legacyId": 103},
    "img-tlinux31": {"os": "TencentOS Server 3.1 (TK4)", "legacyId": 104},
}

NAME_MAX = 60
BANDWIDTH_TYPES = ("PayByHour", "PayByTraffic")
STATUS_ERROR = "(EC_CVM_STATUS_ERROR)"


_zone_name = functools.lru_cache(maxsize=256)(zone_name)


# -- lookups and rendering ------------------------------------------------


def find_instance(call: Call, instance_id: str) -> Resource | None:
    """An existing instance of the call's region, settled to now."""
    resource = call.store.get(INSTANCE, instance_id)
    if resource is None or resource.region != call.region:
        return None
    resource.settled(call.now)
    return resource if resource.exists(call.now) else None


def require_instance(call: Call, instance_id: str) -> Resource:
    resource = find_instance(call, instance_id)
    if resource is None:
        raise ApiError(5000, f"(EC_CVM_INSTANCE_NOT_FOUND) {instance_id} not found")
    return resource


class _RenderMemo:
    """Rendered ``instanceSet`` items by stored row, for DescribeInstances.

    Describe is the call a reconciler polls, and between two polls most of
    its 100 rows have not changed; rendering them again was a fifth of the
    call. A rendering depends only on the stored row and on whether a due
    transition was applied when it was read, so that pair is the key. The
    items are shared between answers, which only serialise them.
    """

    LIMIT = 20000

    def __init__(self) -> None:
        self._items: dict[tuple[Any, ...], dict[str, Any]] = {}

    def render(self, resource: Resource) -> dict[str, Any]:
        if resource.loaded is None:
            return render_instance(resource)
        key = (resource.loaded, resource.pending_at is None)
        item = self._items.get(key)
        if item is None:
            if len(self._items) >= self.LIMIT:
                # Old rows are not worth an LRU's bookkeeping: start over.
                self._items.clear()
            item = self._items[key] = render_instance(resource)
        return item


_rendered = _RenderMemo()


def render_instance(resource: Resource) -> dict[str, Any]:
    """An ``instanceSet[]`` item with the fields of section 8.3."""
    data = resource.data
    return {
        "instanceName": resource.name,
        "unInstanceId": resource.id,
        "instanceId": data["instanceId"],
        "uuid": data["uuid"],
        "lanIp": data["lanIp"],
        "wanIpSet": list(data["wanIpSet"]),
        "cpu": data["cpu"],
        "mem": data["mem"],
        "bandwidth": data["bandwidth"],
        "deviceClass": data["instanceType"],
        "unImgId": data["imageId"],
        "imageId": IMAGES.get(data["imageId"], {}).get("legacyId", 0),
        "status": resource.status,
        "Region": resource.region,
        "createTime": format_time(data["createTime"]),
        "statusTime": format_time(data["statusTime"]),
        "deadlineTime": format_time(None),
        "autoRenew": 0,
        "projectId": data["projectId"],
        "os": IMAGES.get(data["imageId"], {}).get("os", ""),
        "cvmPayMode": 2,
        "networkPayMode": 2 if data["bandwidthType"] == "PayByTraffic" else 3,
        "zoneId": data["zoneId"],
        "zoneName": _zone_name(data["zoneId"]),
        "vpcId": data.get("vpcId", ""),
        "subnetId": data.get("subnetId", ""),
        "isVpcGateway": 0,
        "diskInfo": {
            "storageId": data["storageId"],
            "storageType": 2,
            "storageSize": data["storageSize"],
            "rootId": data["rootId"],
            "rootSize": data["rootSize"],
            "rootType": 2,
        },
    }


# -- DescribeInstances ----------------------------------------------------


def describe_instances(call: Call) -> dict[str, Any]:
    params = call.params
    ids = params.list("instanceIds")
    lan_ips = set(params.list("lanIps"))
    search = params.str("searchWord")
    status = params.int("status")
    project_id = params.int("projectId")
    zone = params.int("zoneId")
    offset = params.int("offset", 0, low=0) or 0
    limit = params.int("limit", 20, low=1, high=100) or 20

    where: dict[str, Any] = {}
    if search:
        where["name"] = search
    if status is not None:
        where["status"] = status
    if ids:
        found = call.store.get_many(INSTANCE, ids)
        rows = [_visible(call, found.get(i), where) for i in dict.fromkeys(ids)]
        instances = [row for row in rows if row is not None]
    else:
        instances = call.store.list(INSTANCE, call.now, call.region, where)

    instances = [
        row
        for row in instances
        if (not lan_ips or row.data["lanIp"] in lan_ips)
        and (project_id is None or row.data["projectId"] == project_id)
        and (zone is None or row.data["zoneId"] == zone)
    ]
    page = instances[offset : offset + limit]
    return success(
        totalCount=len(instances),
        instanceSet=[_rendered.render(row) for row in page],
    )


def _visible(
    call: Call, resource: Resource | None, where: dict[str, Any]
) -> Resource | None:
    if resource is None or resource.region != call.region:
        return None
    resource.settled(call.now)
    if not resource.exists(call.now):
        return None
    if resource.visible_at is not None and resource.visible_at > call.now:
        return None
    if "name" in where and where["name"] not in resource.name:
        return None
    if "status" in where and resource.status != where["status"]:
        return None
    return resource


# -- RunInstancesHour -----------------------------------------------------


def run_instances_hour(call: Call) -> dict[str, Any]:
    params = call.params
    token = params.str("clientToken", max_len=64)
    if token:
        stored = call.store.token_response(call.secret_id, call.action, token)
        if stored is not None:
            # Same token, same request: the original answer, nothing created.
            original: dict[str, Any] = json.loads(stored)
            return original

    spec = _instance_spec(call, params)
    count = params.int("goodsNum", 1, low=1, high=100) or 1
    ids = [_create_instance(call, spec) for _ in range(count)]

    body = success(unInstanceIds=ids)
    if token:
        call.store.save_token(call.secret_id, call.action, token, json.dumps(body))
    return body


def _instance_spec(call: Call, params: Params) -> dict[str, Any]:
    """Validate the RunInstances* parameters into the stored attributes."""
    zone = params.req_int("zoneId")
    try:
        in_region = zone_region(zone_name(zone)) == call.region
    except KeyError:
        in_region = False
    if not in_region:
        raise invalid(f"(InvalidZone.NotFound) zoneId {zone} is not in {call.region}")

    image = params.req("imageId")
    if image not in IMAGES:
        raise invalid(f"(InvalidImageId.NotFound) image {image} does not exist")
    bandwidth_type = params.str("bandwidthType", "PayByHour")
    if bandwidth_type not in BANDWIDTH_TYPES:
        raise invalid(f"(100004) bandwidthType must be one of {BANDWIDTH_TYPES}")
    _password(params)
    key_id = params.str("keyId")
    if key_id and find_key(call, key_id) is None:
        raise invalid(f"(InvalidKeyId.NotFound) key pair {key_id} does not exist")

    spec = {
        "zoneId": zone,
        "cpu": params.req_int("cpu", low=1, high=64),
        "mem": params.req_int("mem", low=1, high=512),
        "imageId": image,
        "storageSize": params.req_int("storageSize", low=0, high=16000),
        "rootSize": params.int("rootSize", 50, low=20, high=1024),
        "bandwidth": params.int("bandwidth", 0, low=0, high=1000),
        "bandwidthType": bandwidth_type,
        "wanIp": params.int("wanIp", 0, low=0, high=1),
        "projectId": params.int("projectId", 0, low=0),
        "instanceType": params.str("instanceType", "CVM.S1"),
        "instanceName": params.str("instanceName", "", max_len=NAME_MAX),
        "keyIds": [key_id] if key_id else [],
    }
    spec.update(_network_spec(call, params, zone))
    return spec


def _password(params: Params, *, required: bool = False) -> str | None:
    password = params.str("password", required=required)
    if password is not None and not 8 <= len(password) <= 30:
        raise invalid("(InvalidPassword) password must have 8 to 30 characters")
    return password


def find_key(call: Call, key_id: str) -> Resource | None:
    resource = call.store.get(KEY_PAIR, key_id)
    if resource is None or resource.region != call.region:
        return None
    return resource


def _network_spec(call: Call, params: Params, zone: int) -> dict[str, Any]:
    vpc_ref = params.str("vpcId")
    subnet_ref = params.str("subnetId")
    if not vpc_ref and not subnet_ref:
        return {}
    if not (vpc_ref and subnet_ref):
        raise invalid("(100004) vpcId and subnetId must be given together")

    found_vpc = vpc.require_vpc(call, vpc_ref)
    subnet = vpc.require_subnet(call, found_vpc, subnet_ref)
    if subnet.data["zoneId"] != zone:
        raise invalid(
            f"(InvalidSubnet.ZoneMismatch) subnet {subnet.id} is in zone "
            f"{subnet.data['zoneId']}, not {zone}"
        )
    return {"vpcId": found_vpc.id, "subnetId": subnet.id}


def _create_instance(call: Call, spec: dict[str, Any]) -> str:
    instance_id = call.ids.new(call.store, "ins")
    name = spec["instanceName"] or f"unnamed-{instance_id[4:]}"
    data = {key: value for key, value in spec.items() if key != "instanceName"}
    data.update(
        instanceId="qcvm" + call.ids.hex(32),
        uuid=_uuid(call),
        lanIp=_lan_ip(call, spec),
        wanIpSet=[_wan_ip(call)] if spec["bandwidth"] or spec["wanIp"] else [],
        storageId=call.ids.new(call.store, "disk"),
        rootId=call.ids.new(call.store, "disk"),
        createTime=call.now,
        statusTime=call.now,
    )

    resource = Resource(INSTANCE, instance_id, call.region, name=name, data=data)
    failed = call.effect(TASK_FAILURE, instance_id, name)
    resource.transition(CREATING, FAULT if failed else RUNNING, call.done_at())
    hidden = call.effect(HIDDEN, instance_id, name)
    if hidden:
        resource.visible_at = call.now + hidden.seconds * call.config.time_scale

    call.store.put(resource)
    call.created.append(instance_id)
    return instance_id


def _uuid(call: Call) -> str:
    raw = call.ids.hex(32)
    return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"


def _lan_ip(call: Call, spec: dict[str, Any]) -> str:
    if spec.get("subnetId"):
        subnet = call.store.get(SUBNET, spec["subnetId"])
        assert subnet is not None, "subnet vanished inside a transaction: bug"
        return vpc.allocate_ip(call, subnet)

    # Classic network: a region-wide serial turned into a 10.x address.
    serial = call.store.next_value("lan_ip", call.region)
    return f"10.{(serial >> 16) & 255}.{(serial >> 8) & 255}.{serial & 255}"


def _wan_ip(call: Call) -> str:
    serial = call.store.next_value("wan_ip")
    return f"119.{28 + ((serial >> 16) & 63)}.{(serial >> 8) & 255}.{serial & 255}"


# -- batch power actions ---------------------------------------------------

Check = Callable[[Resource], str | None]
Apply = Callable[[Resource], None]


def run_batch(call: Call, ids: list[str], check: Check, apply: Apply) -> dict[str, Any]:
    """Validate and apply each id on its own; answer the ``detail`` map."""
    found = call.store.get_many(INSTANCE, ids)
    detail: dict[str, dict[str, Any]] = {}
    changed: list[Resource] = []
    for instance_id in ids:
        resource = found.get(instance_id)
        detail[instance_id] = _batch_item(call, instance_id, resource, check, apply)
        if detail[instance_id]["code"] == 0 and resource is not None:
            changed.append(resource)

    call.store.put_many(changed)
    return batch_body(detail)


def _batch_item(
    call: Call,
    instance_id: str,
    resource: Resource | None,
    check: Check,
    apply: Apply,
) -> dict[str, Any]:
    if resource is not None and resource.region == call.region:
        resource.settled(call.now)
    if (
        resource is None
        or resource.region != call.region
        or not resource.exists(call.now)
    ):
        message = f"(EC_CVM_INSTANCE_NOT_FOUND) instance {instance_id} does not exist"
        return {"code": 5000, "message": message, "requestId": 0}

    problem = check(resource)
    if problem is not None:
        return {"code": 5100, "message": f"{STATUS_ERROR} {problem}", "requestId": 0}
    fault = call.item_fault(resource)
    if fault is not None:
        return {"code": fault.code, "message": fault.message, "requestId": 0}

    apply(resource)
    return {"code": 0, "message": "", "requestId": call.task_number()}


def _needs(status: int, label: str) -> Check:
    def check(resource: Resource) -> str | None:
        if resource.status == status:
            return None
        return f"instance {resource.id} is not {label} (status {resource.status})"

    return check


def _start_transition(call: Call, shown: int, final: int) -> Apply:
    def apply(resource: Resource) -> None:
        failed = call.effect(TASK_FAILURE, resource.id, resource.name)
        resource.transition(shown, FAULT if failed else final, call.done_at())

    return apply


def start_instances(call: Call) -> dict[str, Any]:
    ids = call.params.ids("instanceIds")
    return run_batch(
        call,
        ids,
        _needs(STOPPED, "stopped"),
        _start_transition(call, STARTING, RUNNING),
    )


def stop_instances(call: Call) -> dict[str, Any]:
    ids = call.params.ids("instanceIds")
    call.params.int("forceStop", 0, low=0, high=1)
    return run_batch(
        call,
        ids,
        _needs(RUNNING, "running"),
        _start_transition(call, STOPPING, STOPPED),
    )


def restart_instances(call: Call) -> dict[str, Any]:
    ids = call.params.ids("instanceIds")
    call.params.int("forceStop", 0, low=0, high=1)
    return run_batch(
        call,
        ids,
        _needs(RUNNING, "running"),
        _start_transition(call, RESTARTING, RUNNING),
    )


def reset_instance_password(call: Call) -> dict[str, Any]:
    params = call.params
    ids = params.ids("instanceIds")
    password = _password(params, required=True)
    hard_power_off = params.int("hardPowerOffFlag", 0, low=0, high=1)

    # Section 8.1: only stopped instances, unless a hard power-off is allowed.
    allowed = (STOPPED, RUNNING) if hard_power_off else (STOPPED,)

    def check(resource: Resource) -> str | None:
        if resource.status in allowed:
            return None
        return f"instance {resource.id} is not stopped (status {resource.status})"

    def apply(resource: Resource) -> None:
        resource.data["passwordSet"] = bool(password)
        resource.transition(RESETTING_PASSWORD, resource.status, call.done_at())

    return run_batch(call, ids, check, apply)


# -- single-instance actions ----------------------------------------------


def _not_busy(resource: Resource) -> None:
    if resource.busy() or resource.status in (CREATING, RETURNING):
        raise ApiError(
            5100,
            f"{STATUS_ERROR} instance {resource.id} is busy (status {resource.status})",
        )


def modify_instance_attributes(call: Call) -> dict[str, Any]:
    params = call.params
    resource = require_instance(call, params.req("instanceId"))
    name = params.req("instanceName", max_len=NAME_MAX)
    if resource.status == RETURNING:
        _not_busy(resource)
    call.raise_item_fault(resource)

    resource.name = name
    call.store.put(resource)
    return success()


def update_instance_bandwidth_hour(call: Call) -> dict[str, Any]:
    params = call.params
    resource = require_instance(call, params.req("instanceId"))
    bandwidth = params.req_int("bandwidth", low=0, high=1000)
    _not_busy(resource)
    call.raise_item_fault(resource)

    resource.data["bandwidth"] = bandwidth
    if bandwidth and not resource.data["wanIpSet"]:
        resource.data["wanIpSet"] = [_wan_ip(call)]
    call.store.put(resource)
    return success()


def modify_instance_project(call: Call) -> dict[str, Any]:
    params = call.params
    resource = require_instance(call, params.req("instanceId"))
    project_id = params.req_int("projectId", low=0)
    if resource.status == RETURNING:
        _not_busy(resource)
    call.raise_item_fault(resource)

    resource.data["projectId"] = project_id
    call.store.put(resource)
    return success()


def reset_instances(call: Call) -> dict[str, Any]:
    """Reinstall the OS: status 14, then back to the status it had."""
    params = call.params
    resource = require_instance(call, params.req("instanceId"))
    image = params.str("imageId")
    image_type = params.int("imageType", low=1, high=4)
    if (image is None) != (image_type is None):
        raise invalid("(100004) imageId and imageType must be given together")
    if image is not None and image not in IMAGES:
        raise invalid(f"(InvalidImageId.NotFound) image {image} does not exist")
    _password(params)
    params.int("rootSize", low=20, high=1024)
    params.int("hardPowerOffFlag", 0, low=0, high=1)

    _not_busy(resource)
    if resource.status not in (RUNNING, STOPPED):
        raise ApiError(
            5100,
            f"{STATUS_ERROR} instance {resource.id} cannot be "
            f"reinstalled (status {resource.status})",
        )
    call.raise_item_fault(resource)

    if image is not None:
        resource.data["imageId"] = image
    failed = call.effect(TASK_FAILURE, resource.id, resource.name)
    final = FAULT if failed else resource.status
    resource.transition(REINSTALLING, final, call.done_at())
    call.store.put(resource)
    return success(requestId=call.task_number())


def return_instance(call: Call) -> dict[str, Any]:
    resource = require_instance(call, call.params.req("instanceId"))
    _not_busy(resource)
    call.raise_item_fault(resource)

    slow = call.effect(SLOW_DELETE, resource.id, resource.name)
    extra = slow.seconds * call.config.time_scale if slow else 0.0
    gone_at = call.done_at() + extra
    resource.transition(RETURNING, RETURNED, gone_at)
    resource.gone_at = gone_at
    call.store.put(resource)
    release_instance(call, resource.id)
    return success()


ACTIONS: dict[str, Handler] = {
    "DescribeInstances": describe_instances,
    "RunInstancesHour": run_instances_hour,
    "StartInstances": start_instances,
    "StopInstances": stop_instances,
    "ModifyInstanceAttributes": modify_instance_attributes,
    "UpdateInstanceBandwidthHour": update_instance_bandwidth_hour,
    "ReturnInstance": return_instance,
    "RestartInstances": restart_instances,
    "ResetInstancePassword": reset_instance_password,
    "ResetInstances": reset_instances,
    "ModifyInstanceProject": modify_instance_project,
}
