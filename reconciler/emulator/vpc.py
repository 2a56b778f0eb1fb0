"""VPC and subnet actions (legacy-api.md section 10); all synchronous.

VPCs and subnets carry both id forms: the unified ``vpc-``/``subnet-`` id
(the row id) and the old ``gz_vpc_17`` form built from a per-region serial,
whose number is also the bare numeric id the LB API shows. Every action
accepts any of the three forms.

Error names are the documented ones, in ``codeDesc`` and in the message;
numeric codes follow the section's recommendation (4000 validation and
conflicts, 5000 ``*.NotFound``, 5100 ``*.CannotDelete``, 4400 limits).
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

from reconciler.cloud.zones import zone_name, zone_region

from .context import Call, Handler
from .kinds import INSTANCE, LOAD_BALANCER, SUBNET, VPC
from .protocol import SHORT_REGION, ApiError, format_time, success
from .store import Resource

logger = logging.getLogger(__name__)

NAME_MAX = 60
VPCS_PER_REGION = 20
SUBNETS_PER_VPC = 100
PRIVATE_RANGES = tuple(
    ipaddress.ip_network(cidr)
    for cidr in ("10.0.0.0/16", "172.16.0.0/16", "192.168.0.0/16")
)
# Addresses a subnet keeps for itself: network, gateway, broadcast.
RESERVED_IPS = 3


def _error(code: int, name: str, text: str) -> ApiError:
    return ApiError(code, f"({name}) {text}", name)


# -- lookups ---------------------------------------------------------------


def _legacy_id(call: Call, kind: str, serial: int) -> str:
    short = SHORT_REGION.get(call.region, call.region)
    return f"{short}_{kind}_{serial}"


def _find(call: Call, kind: str, prefix: str, ref: str) -> Resource | None:
    """Look a VPC or subnet up by unified id, old id or bare serial."""
    if ref.startswith(prefix + "-"):
        resource = call.store.get(kind, ref)
        if resource is None or resource.region != call.region:
            return None
        return resource if resource.exists(call.now) else None
    for resource in call.store.list(kind, call.now, call.region):
        if ref in (resource.data["legacyId"], str(resource.data["serial"])):
            return resource
    return None


def find_vpc(call: Call, ref: str) -> Resource | None:
    return _find(call, VPC, "vpc", ref)


def find_subnet(call: Call, ref: str) -> Resource | None:
    return _find(call, SUBNET, "subnet", ref)


def require_vpc(call: Call, ref: str) -> Resource:
    vpc = find_vpc(call, ref)
    if vpc is None:
        raise _error(5000, "InvalidVpc.NotFound", f"VPC {ref} does not exist")
    return vpc


def require_subnet(call: Call, vpc: Resource, ref: str) -> Resource:
    subnet = find_subnet(call, ref)
    if subnet is None or subnet.data["vpcId"] != vpc.id:
        raise _error(
            5000, "InvalidSubnet.NotFound", f"subnet {ref} does not exist in {vpc.id}"
        )
    return subnet


def _members(call: Call, kind: str, field: str, value: str) -> list[Resource]:
    return [
        resource
        for resource in call.store.list(kind, call.now, call.region)
        if resource.data.get(field) == value
    ]


# -- addresses -------------------------------------------------------------


def allocate_ip(call: Call, subnet: Resource) -> str:
    """The lowest free address of a subnet for a new instance."""
    key = f"used:{subnet.id}"
    if key not in call.scratch:
        instances = _members(call, INSTANCE, "subnetId", subnet.id)
        balancers = _members(call, LOAD_BALANCER, "subnetId", subnet.id)
        call.scratch[key] = {i.data["lanIp"] for i in instances} | {
            vip for balancer in balancers for vip in balancer.data["vips"]
        }
    used: set[str] = call.scratch[key]

    network = ipaddress.ip_network(subnet.data["cidrBlock"])
    # .0 is the network and .1 the gateway; the last address is broadcast.
    for offset in range(2, network.num_addresses - 1):
        address = str(network.network_address + offset)
        if address not in used:
            used.add(address)
            return address
    raise _error(
        5100, "InvalidSubnet.IpExhausted", f"subnet {subnet.id} has no free address"
    )


def _vpc_cidr(text: str) -> ipaddress.IPv4Network:
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError:
        network = None
    if (
        not isinstance(network, ipaddress.IPv4Network)
        or not 16 <= network.prefixlen <= 28
        or not any(network.subnet_of(allowed) for allowed in PRIVATE_RANGES)
    ):
        raise _error(
            4000,
            "InvalidVpcCidr",
            f"cidrBlock {text} must lie in 10.0.0.0/16, 172.16.0.0/16 or "
            "192.168.0.0/16 with a mask of 16 to 28",
        )
    return network


def _subnet_cidr(
    text: str, vpc_cidr: ipaddress.IPv4Network, taken: list[ipaddress.IPv4Network]
) -> ipaddress.IPv4Network:
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError:
        network = None
    if (
        not isinstance(network, ipaddress.IPv4Network)
        or network.prefixlen > 28
        or not network.subnet_of(vpc_cidr)
    ):
        raise _error(
            4000,
            "InvalidSubnetCidr",
            f"cidrBlock {text} must lie inside the VPC's {vpc_cidr} with a mask "
            "of at most 28",
        )
    if any(network.overlaps(other) for other in taken):
        raise _error(
            4000, "InvalidSubnet.Conflict", f"cidrBlock {text} overlaps another subnet"
        )
    return network


def _name(text: str | None, error_name: str) -> str:
    if not text or len(text) > NAME_MAX:
        raise _error(4000, error_name, f"name must have 1 to {NAME_MAX} characters")
    return text


# -- VPCs ------------------------------------------------------------------


def create_vpc(call: Call) -> dict[str, Any]:
    params = call.params
    name = _name(params.str("vpcName"), "InvalidVpcName")
    cidr = _vpc_cidr(params.req("cidrBlock"))
    existing = call.store.list(VPC, call.now, call.region)
    if any(vpc.name == name for vpc in existing):
        raise _error(4000, "InvalidVpcName.InUse", f"VPC name {name} is in use")
    if len(existing) >= VPCS_PER_REGION:
        raise _error(4400, "VpcLimitExceeded", f"at most {VPCS_PER_REGION} VPCs")

    vpc = _new_vpc(call, name, cidr)
    subnets = _create_subnets(call, vpc, params.objects("subnetSet"))
    return success(
        vpcId=vpc.data["legacyId"],
        unVpcId=vpc.id,
        uniqVpcId=vpc.id,
        vpcCreateTime=format_time(vpc.data["createTime"]),
        subnetSet=[_subnet_answer(subnet) for subnet in subnets],
        routeTableSet=[
            {
                "routeTableId": vpc.data["routeTableId"],
                "unRouteTableId": vpc.data["unRouteTableId"],
                "routeTableType": 1,
                "routeTableName": "default",
            }
        ],
    )


def _new_vpc(call: Call, name: str, cidr: ipaddress.IPv4Network) -> Resource:
    serial = call.store.next_value("vpc_serial", call.region)
    vpc = Resource(
        VPC,
        call.ids.new(call.store, "vpc"),
        call.region,
        name=name,
        data={
            "serial": serial,
            "legacyId": _legacy_id(call, "vpc", serial),
            "cidrBlock": str(cidr),
            "createTime": call.now,
            "isMulticast": 0,
            "routeTableId": _legacy_id(
                call, "rtb", call.store.next_value("rtb_serial", call.region)
            ),
            "unRouteTableId": call.ids.new(call.store, "rtb"),
        },
    )
    call.store.put(vpc)
    call.created.append(vpc.id)
    return vpc


def describe_vpc_ex(call: Call) -> dict[str, Any]:
    params = call.params
    ref = params.str("vpcId")
    name = params.str("vpcName")
    vpcs = call.store.list(VPC, call.now, call.region, {"name": name} if name else {})
    if ref:
        wanted = find_vpc(call, ref)
        vpcs = [vpc for vpc in vpcs if wanted is not None and vpc.id == wanted.id]

    vpcs = _ordered(call, vpcs, default_direction="asc")
    page = _page(call, vpcs)
    return success(totalCount=len(vpcs), data=[_render_vpc(call, vpc) for vpc in page])


def _ordered(
    call: Call, resources: list[Resource], default_direction: str
) -> list[Resource]:
    field = call.params.str("orderField", "createTime")
    direction = call.params.str("orderDirection", default_direction)
    if field not in ("createTime", "vpcName", "subnetName"):
        raise _error(4000, "InvalidParameter", f"orderField {field} is not supported")
    if direction not in ("asc", "desc"):
        raise _error(4000, "InvalidParameter", "orderDirection must be asc or desc")
    if field == "createTime":
        ordered = sorted(resources, key=lambda r: r.seq)
    else:
        ordered = sorted(resources, key=lambda r: r.name)
    return ordered[::-1] if direction == "desc" else ordered


def _page(call: Call, resources: list[Resource]) -> list[Resource]:
    offset = call.params.int("offset", 0, low=0) or 0
    limit = call.params.int("limit", 20, low=1, high=100) or 20
    return resources[offset : offset + limit]


def _render_vpc(call: Call, vpc: Resource) -> dict[str, Any]:
    return {
        "vpcId": vpc.data["legacyId"],
        "unVpcId": vpc.id,
        "vpcName": vpc.name,
        "cidrBlock": vpc.data["cidrBlock"],
        "subnetNum": len(_members(call, SUBNET, "vpcId", vpc.id)),
        "routeTableNum": 1,
        "vpnGwNum": 0,
        "vpcPeerNum": 0,
        "vpcDeviceNum": len(_members(call, INSTANCE, "vpcId", vpc.id)),
        "classicLinkNum": 0,
        "vpgNum": 0,
        "natNum": 0,
        "createTime": format_time(vpc.data["createTime"]),
        "isDefault": False,
        "isMulticast": vpc.data["isMulticast"],
    }


def modify_vpc_attribute(call: Call) -> dict[str, Any]:
    params = call.params
    vpc = require_vpc(call, params.req("vpcId"))
    name = params.str("vpcName")
    if name is not None:
        _name(name, "InvalidVpcName")
        others = call.store.list(VPC, call.now, call.region)
        if any(other.name == name and other.id != vpc.id for other in others):
            raise _error(4000, "InvalidVpcName.InUse", f"VPC name {name} is in use")
        vpc.name = name
    multicast = params.int("isMulticast", low=0, high=1)
    if multicast is not None:
        vpc.data["isMulticast"] = multicast

    call.store.put(vpc)
    return success()


def delete_vpc(call: Call) -> dict[str, Any]:
    vpc = require_vpc(call, call.params.req("vpcId"))
    members = [
        *_members(call, SUBNET, "vpcId", vpc.id),
        *_members(call, INSTANCE, "vpcId", vpc.id),
        *_members(call, LOAD_BALANCER, "vpcId", vpc.id),
    ]
    if members:
        raise _error(
            5100,
            "InvalidVpc.CannotDelete",
            f"VPC {vpc.id} still holds {len(members)} resource(s), e.g. "
            f"{members[0].id}",
        )
    call.raise_item_fault(vpc)

    call.store.delete(VPC, vpc.id)
    return success()


# -- subnets ---------------------------------------------------------------


def create_subnet(call: Call) -> dict[str, Any]:
    vpc = require_vpc(call, call.params.req("vpcId"))
    specs = call.params.objects("subnetSet")
    if not specs:
        raise _error(4000, "InvalidParameter", "(100001) missing subnetSet.n")
    subnets = _create_subnets(call, vpc, specs)
    return success(subnetSet=[_subnet_answer(subnet) for subnet in subnets])


def _create_subnets(
    call: Call, vpc: Resource, specs: list[dict[str, str]]
) -> list[Resource]:
    existing = _members(call, SUBNET, "vpcId", vpc.id)
    if len(existing) + len(specs) > SUBNETS_PER_VPC:
        raise _error(
            4400, "SubnetLimitExceeded", f"at most {SUBNETS_PER_VPC} subnets per VPC"
        )
    names = {subnet.name for subnet in existing}
    taken = [ipaddress.ip_network(s.data["cidrBlock"]) for s in existing]
    vpc_cidr = ipaddress.ip_network(vpc.data["cidrBlock"])

    created = []
    for spec in specs:
        subnet = _new_subnet(call, vpc, spec, names, taken, vpc_cidr)
        names.add(subnet.name)
        taken.append(ipaddress.ip_network(subnet.data["cidrBlock"]))
        created.append(subnet)
    return created


def _new_subnet(
    call: Call,
    vpc: Resource,
    spec: dict[str, str],
    names: set[str],
    taken: list[ipaddress.IPv4Network],
    vpc_cidr: Any,
) -> Resource:
    name = _name(spec.get("subnetName"), "InvalidSubnetName")
    if name in names:
        raise _error(4000, "InvalidSubnetName.InUse", f"subnet name {name} is in use")
    cidr = _subnet_cidr(spec.get("cidrBlock", ""), vpc_cidr, taken)
    zone = _zone(call, spec.get("zoneId", ""))

    serial = call.store.next_value("subnet_serial", call.region)
    subnet = Resource(
        SUBNET,
        call.ids.new(call.store, "subnet"),
        call.region,
        name=name,
        data={
            "serial": serial,
            "legacyId": _legacy_id(call, "subnet", serial),
            "vpcId": vpc.id,
            "cidrBlock": str(cidr),
            "zoneId": zone,
            "createTime": call.now,
            "broadcast": False,
            "routeTableId": vpc.data["routeTableId"],
            "unRouteTableId": vpc.data["unRouteTableId"],
        },
    )
    call.store.put(subnet)
    call.created.append(subnet.id)
    return subnet


def _zone(call: Call, text: str) -> int:
    try:
        zone = int(text)
        in_region = zone_region(zone_name(zone)) == call.region
    except (ValueError, KeyError):
        in_region = False
    if not in_region:
        raise _error(
            4000, "InvalidZone.NotFound", f"zoneId {text} is not in {call.region}"
        )
    return zone


def _subnet_answer(subnet: Resource) -> dict[str, Any]:
    return {
        "subnetId": subnet.data["legacyId"],
        "unSubnetId": subnet.id,
        "subnetName": subnet.name,
        "cidrBlock": subnet.data["cidrBlock"],
        "zoneId": subnet.data["zoneId"],
        "routeTableId": subnet.data["routeTableId"],
    }


def describe_subnet_ex(call: Call) -> dict[str, Any]:
    params = call.params
    vpc_ref = params.str("vpcId")
    subnet_ref = params.str("subnetId")
    name = params.str("subnetName")
    zones = {int(z) for z in params.list("zoneIds") if z.isdigit()}
    params.int("getAclIdFlag", low=0, high=1)

    subnets = call.store.list(
        SUBNET, call.now, call.region, {"name": name} if name else {}
    )
    if vpc_ref:
        vpc = find_vpc(call, vpc_ref)
        subnets = [s for s in subnets if vpc is not None and s.data["vpcId"] == vpc.id]
    if subnet_ref:
        wanted = find_subnet(call, subnet_ref)
        subnets = [s for s in subnets if wanted is not None and s.id == wanted.id]
    if zones:
        subnets = [s for s in subnets if s.data["zoneId"] in zones]

    subnets = _ordered(call, subnets, default_direction="desc")
    page = _page(call, subnets)
    return success(
        totalCount=len(subnets), data=[_render_subnet(call, s) for s in page]
    )


def _render_subnet(call: Call, subnet: Resource) -> dict[str, Any]:
    vpc = call.store.get(VPC, subnet.data["vpcId"])
    assert vpc is not None, "a subnet outlived its VPC: emulator bug"
    devices = len(_members(call, INSTANCE, "subnetId", subnet.id))
    total = ipaddress.ip_network(subnet.data["cidrBlock"]).num_addresses - RESERVED_IPS
    return {
        "vpcId": vpc.data["legacyId"],
        "unVpcId": vpc.id,
        "vpcName": vpc.name,
        "vpcCidrBlock": vpc.data["cidrBlock"],
        "subnetId": subnet.data["legacyId"],
        "unSubnetId": subnet.id,
        "subnetName": subnet.name,
        "subnetCreateTime": format_time(subnet.data["createTime"]),
        "routeTableId": subnet.data["routeTableId"],
        "unRouteTableId": subnet.data["unRouteTableId"],
        "routeTableName": "default",
        "cidrBlock": subnet.data["cidrBlock"],
        "zoneId": subnet.data["zoneId"],
        "zone": zone_name(subnet.data["zoneId"]),
        "vpcDevices": devices,
        "networkAclId": "",
        "totalIPNum": total,
        "availableIPNum": total - devices,
        "broadcast": subnet.data["broadcast"],
        "isDefault": False,
    }


def modify_subnet_attribute(call: Call) -> dict[str, Any]:
    params = call.params
    vpc = require_vpc(call, params.req("vpcId"))
    subnet = require_subnet(call, vpc, params.req("subnetId"))
    name = params.str("subnetName")
    if name is not None:
        _name(name, "InvalidSubnetName")
        siblings = _members(call, SUBNET, "vpcId", vpc.id)
        if any(s.name == name and s.id != subnet.id for s in siblings):
            raise _error(
                4000, "InvalidSubnetName.InUse", f"subnet name {name} is in use"
            )
        subnet.name = name
    broadcast = params.int("broadcast", low=0, high=1)
    if broadcast is not None:
        subnet.data["broadcast"] = bool(broadcast)

    call.store.put(subnet)
    return success()


def delete_subnet(call: Call) -> dict[str, Any]:
    vpc = require_vpc(call, call.params.req("vpcId"))
    subnet = require_subnet(call, vpc, call.params.req("subnetId"))
    members = [
        *_members(call, INSTANCE, "subnetId", subnet.id),
        *_members(call, LOAD_BALANCER, "subnetId", subnet.id),
    ]
    if members:
        raise _error(
            5100,
            "InvalidSubnet.CannotDelete",
            f"subnet {subnet.id} still holds {len(members)} resource(s), e.g. "
            f"{members[0].id}",
        )
    call.raise_item_fault(subnet)

    call.store.delete(SUBNET, subnet.id)
    return success()


def describe_vpc_task_result(call: Call) -> dict[str, Any]:
    task_id = call.params.req_int("taskId", low=0)
    call.params.str("type")
    status = call.store.task_status(task_id, call.now)
    if status is None:
        raise _error(5000, "InvalidTask.NotFound", f"task {task_id} does not exist")
    return success(data={"status": status})


ACTIONS: dict[str, Handler] = {
    "CreateVpc": create_vpc,
    "DescribeVpcEx": describe_vpc_ex,
    "ModifyVpcAttribute": modify_vpc_attribute,
    "DeleteVpc": delete_vpc,
    "CreateSubnet": create_subnet,
    "DescribeSubnetEx": describe_subnet_ex,
    "ModifySubnetAttribute": modify_subnet_attribute,
    "DeleteSubnet": delete_subnet,
    "DescribeVpcTaskResult": describe_vpc_task_result,
}
