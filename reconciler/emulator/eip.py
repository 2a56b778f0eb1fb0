"""EIP actions (legacy-api.md section 11).

EIPs are kind ``eip``. Status: 0 creating, 1 binding, 2 bound, 3 unbinding,
4 unbound, 6 going offline, 9 create failed. Creating, binding and unbinding
take the action's duration; only an unbound EIP may be bound or deleted
(5100 otherwise). Binding replaces the instance's ordinary public IP with
the EIP's address; unbinding leaves the instance without a public IP unless
``allocWanIp=1``.
"""

from __future__ import annotations

import logging
from typing import Any

from .context import Call, Handler
from .cvm import RUNNING, STOPPED, require_instance
from .faults import SLOW_DELETE, TASK_FAILURE
from .kinds import EIP, INSTANCE
from .protocol import ApiError, batch_body, format_time, invalid, success
from .store import Resource

logger = logging.getLogger(__name__)

CREATING, BINDING, BOUND, UNBINDING, UNBOUND, OFFLINE, CREATE_FAILED = (
    0, 1, 2, 3, 4, 6, 9,
)  # fmt: skip
EIPS_PER_CALL = 5
EIPS_PER_REGION = 100
NAME_MAX = 60


def _error(code: int, name: str, text: str) -> ApiError:
    return ApiError(code, f"({name}) {text}", name)


def find_eip(call: Call, eip_id: str) -> Resource | None:
    eip = call.store.get(EIP, eip_id)
    if eip is None or eip.region != call.region:
        return None
    eip.settled(call.now)
    return eip if eip.exists(call.now) else None


def require_eip(call: Call, eip_id: str) -> Resource:
    eip = find_eip(call, eip_id)
    if eip is None:
        raise _error(5000, "InvalidEip.NotFound", f"EIP {eip_id} does not exist")
    return eip


def _needs_status(eip: Resource, status: int, label: str) -> None:
    if eip.busy() or eip.status != status:
        raise _error(
            5100,
            "InvalidEip.StatusError",
            f"EIP {eip.id} is not {label} (status {eip.status})",
        )


def _address(call: Call) -> str:
    serial = call.store.next_value("eip_address")
    return f"129.{204 + ((serial >> 16) & 31)}.{(serial >> 8) & 255}.{serial & 255}"


# -- actions ---------------------------------------------------------------


def create_eip(call: Call) -> dict[str, Any]:
    count = call.params.int("goodsNum", 1, low=1, high=EIPS_PER_CALL) or 1
    isp = call.params.int("ispId", 5, low=0, high=6)
    existing = len(call.store.list(EIP, call.now, call.region))
    if existing + count > EIPS_PER_REGION:
        raise _error(4400, "EipLimitExceeded", f"at most {EIPS_PER_REGION} EIPs")

    ids = [_new_eip(call, isp or 0) for _ in range(count)]
    return success(data={"eipIds": ids})


def _new_eip(call: Call, isp: int) -> str:
    eip_id = call.ids.new(call.store, "eip")
    eip = Resource(
        EIP,
        eip_id,
        call.region,
        data={
            "eip": _address(call),
            "ispId": isp,
            "unInstanceId": "",
            "createdAt": call.now,
            "updatedAt": call.now,
        },
    )
    failed = call.effect(TASK_FAILURE, eip_id)
    eip.transition(CREATING, CREATE_FAILED if failed else UNBOUND, call.done_at())
    call.store.put(eip)
    call.created.append(eip_id)
    return eip_id


def describe_eip(call: Call) -> dict[str, Any]:
    params = call.params
    ids = set(params.list("eipIds"))
    addresses = set(params.list("eips"))
    instances = set(params.list("unInstanceIds"))
    statuses = {int(s) for s in params.list("status") if s.isdigit()}
    search = params.str("searchKey")
    eip_type = params.int("type", low=0, high=1)
    offset = params.int("offset", 0, low=0) or 0
    limit = params.int("limit", 20, low=1, high=100) or 20

    eips = [
        eip
        for eip in call.store.list(EIP, call.now, call.region)
        if (not ids or eip.id in ids)
        and (not addresses or eip.data["eip"] in addresses)
        and (not instances or eip.data["unInstanceId"] in instances)
        and (not statuses or eip.status in statuses)
        and (not search or search in eip.name or search in eip.data["eip"])
        and eip_type in (None, 0)
    ]
    if params.str("orderType") == "desc":
        eips.reverse()
    page = eips[offset : offset + limit]
    return success(
        data={"eipSet": [_render(eip) for eip in page]}, totalCount=len(eips)
    )


def _render(eip: Resource) -> dict[str, Any]:
    return {
        "eipId": eip.id,
        "eipName": eip.name,
        "eip": eip.data["eip"],
        "ispId": eip.data["ispId"],
        "status": eip.status,
        "type": 0,
        "arrears": 0,
        "unInstanceId": eip.data["unInstanceId"],
        "networkInterfaceId": "",
        "privateIpAddress": "",
        "createdAt": format_time(eip.data["createdAt"]),
        "updatedAt": format_time(eip.data["updatedAt"]),
        "freeSecond": 0,
    }


def eip_bind_instance(call: Call) -> dict[str, Any]:
    params = call.params
    eip = require_eip(call, params.req("eipId"))
    if params.str("networkInterfaceId") or params.str("privateIpAddress"):
        # TODO(#4): model ENIs so that EIPs can bind to a private address.
        raise invalid("(InvalidParameter) binding to an ENI is not supported here")
    instance = require_instance(call, params.req("unInstanceId"))
    _needs_status(eip, UNBOUND, "unbound")
    _check_instance_free(call, instance)
    call.raise_item_fault(eip)

    eip.data["unInstanceId"] = instance.id
    eip.data["updatedAt"] = call.now
    eip.transition(BINDING, BOUND, call.done_at())
    # Binding releases the instance's ordinary public IP (section 11).
    instance.data["wanIpSet"] = [eip.data["eip"]]
    call.store.put_many([eip, instance])
    return success()


def _check_instance_free(call: Call, instance: Resource) -> None:
    if instance.status not in (RUNNING, STOPPED):
        raise _error(
            5100,
            "InvalidInstance.StatusError",
            f"instance {instance.id} cannot take an EIP (status {instance.status})",
        )
    for other in call.store.list(EIP, call.now, call.region):
        if other.data["unInstanceId"] == instance.id:
            raise _error(
                5100,
                "InvalidInstance.EipBound",
                f"instance {instance.id} already has EIP {other.id}",
            )


def eip_unbind_instance(call: Call) -> dict[str, Any]:
    params = call.params
    eip = require_eip(call, params.req("eipId"))
    alloc_wan_ip = params.int("allocWanIp", 0, low=0, high=1)
    params.int("unBindPrivateIpWithEip", 0, low=0, high=1)
    _needs_status(eip, BOUND, "bound")
    call.raise_item_fault(eip)

    instance = call.store.get(INSTANCE, eip.data["unInstanceId"])
    if instance is not None:
        serial = call.store.next_value("wan_ip")
        fresh = f"119.{28 + ((serial >> 16) & 63)}.{(serial >> 8) & 255}.{serial & 255}"
        instance.data["wanIpSet"] = [fresh] if alloc_wan_ip else []
        call.store.put(instance)
    eip.data["unInstanceId"] = ""
    eip.data["updatedAt"] = call.now
    eip.transition(UNBINDING, UNBOUND, call.done_at())
    call.store.put(eip)
    return success()


def modify_eip_attributes(call: Call) -> dict[str, Any]:
    eip = require_eip(call, call.params.req("eipId"))
    eip.name = call.params.req("eipName", max_len=NAME_MAX)
    eip.data["updatedAt"] = call.now
    call.store.put(eip)
    return success()


def delete_eip(call: Call) -> dict[str, Any]:
    """Release unbound EIPs; per-id results in ``detail`` when some fail."""
    ids = call.params.ids("eipIds")
    detail = {eip_id: _delete_one(call, eip_id) for eip_id in ids}
    body = batch_body(detail)
    if body["code"] == 0:
        body.pop("detail")
    return body


def _delete_one(call: Call, eip_id: str) -> dict[str, Any]:
    eip = find_eip(call, eip_id)
    if eip is None:
        return {"code": 5000, "message": f"(InvalidEip.NotFound) {eip_id}"}
    if eip.busy() or eip.status not in (UNBOUND, CREATE_FAILED):
        return {
            "code": 5100,
            "message": f"(InvalidEip.StatusError) EIP {eip_id} is not unbound "
            f"(status {eip.status})",
        }
    fault = call.item_fault(eip)
    if fault is not None:
        return {"code": fault.code, "message": fault.message}

    slow = call.effect(SLOW_DELETE, eip.id, eip.name)
    if slow is None:
        call.store.delete(EIP, eip.id)
        return {"code": 0, "message": ""}
    gone_at = call.now + slow.seconds * call.config.time_scale
    eip.transition(OFFLINE, OFFLINE, gone_at)
    eip.gone_at = gone_at
    call.store.put(eip)
    return {"code": 0, "message": ""}


ACTIONS: dict[str, Handler] = {
    "CreateEip": create_eip,
    "DescribeEip": describe_eip,
    "EipBindInstance": eip_bind_instance,
    "EipUnBindInstance": eip_unbind_instance,
    "ModifyEipAttributes": modify_eip_attributes,
    "DeleteEip": delete_eip,
}
