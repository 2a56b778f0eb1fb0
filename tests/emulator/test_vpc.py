"""VPC and subnet actions (legacy-api.md section 10)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from .conftest import INSTANCE_SPEC, Client


def vpc(client: Client, **params: Any) -> dict[str, Any]:
    params = {"vpcName": "main", "cidrBlock": "10.0.0.0/16", **params}
    body = client.call("CreateVpc", params, service="vpc")
    assert body["code"] == 0, body
    return body


def subnet(client: Client, vpc_id: str, **spec: Any) -> dict[str, Any]:
    spec = {"subnetName": "app", "cidrBlock": "10.0.1.0/24", "zoneId": 100003, **spec}
    body = client.call(
        "CreateSubnet", {"vpcId": vpc_id, "subnetSet": [spec]}, service="vpc"
    )
    assert body["code"] == 0, body
    return body["subnetSet"][0]


def test_create_vpc_answers_both_id_forms_and_its_subnets(client: Client) -> None:
    body = vpc(
        client,
        subnetSet=[{"subnetName": "a", "cidrBlock": "10.0.1.0/24", "zoneId": 100003}],
    )

    assert re.match(r"^vpc-[a-z0-9]{8}$", body["unVpcId"])
    assert body["uniqVpcId"] == body["unVpcId"]
    assert re.match(r"^gz_vpc_\d+$", body["vpcId"])
    [item] = body["subnetSet"]
    assert re.match(r"^subnet-[a-z0-9]{8}$", item["unSubnetId"])
    assert item["zoneId"] == 100003 and item["cidrBlock"] == "10.0.1.0/24"
    assert body["routeTableSet"][0]["routeTableId"].startswith("gz_rtb_")


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"cidrBlock": "10.1.0.0/16"}, "InvalidVpcCidr"),
        ({"cidrBlock": "10.0.0.0/29"}, "InvalidVpcCidr"),
        ({"cidrBlock": "10.0.0.1/16"}, "InvalidVpcCidr"),
        ({"cidrBlock": "not-a-cidr"}, "InvalidVpcCidr"),
        ({"vpcName": "x" * 61}, "InvalidVpcName"),
    ],
)
def test_bad_vpcs_are_refused(client: Client, params: dict, name: str) -> None:
    body = client.call(
        "CreateVpc",
        {"vpcName": "v", "cidrBlock": "10.0.0.0/16", **params},
        service="vpc",
    )

    assert (body["code"], body["codeDesc"]) == (4000, name)


def test_vpc_names_are_unique_per_region(client: Client) -> None:
    vpc(client)

    body = client.call(
        "CreateVpc", {"vpcName": "main", "cidrBlock": "192.168.0.0/16"}, service="vpc"
    )

    assert body["codeDesc"] == "InvalidVpcName.InUse"


@pytest.mark.parametrize(
    ("spec", "name"),
    [
        ({"cidrBlock": "10.1.0.0/24"}, "InvalidSubnetCidr"),
        ({"cidrBlock": "10.0.1.128/25"}, "InvalidSubnet.Conflict"),
        ({"subnetName": "app", "cidrBlock": "10.0.2.0/24"}, "InvalidSubnetName.InUse"),
        ({"cidrBlock": "10.0.2.0/24", "zoneId": 200001}, "InvalidZone.NotFound"),
    ],
)
def test_bad_subnets_are_refused(client: Client, spec: dict, name: str) -> None:
    vpc_id = vpc(client)["unVpcId"]
    subnet(client, vpc_id)
    spec = {"subnetName": "other", "zoneId": 100003, **spec}

    body = client.call(
        "CreateSubnet", {"vpcId": vpc_id, "subnetSet": [spec]}, service="vpc"
    )

    assert (body["code"], body["codeDesc"]) == (4000, name)


def test_describe_vpc_ex_fields_and_lookup_by_either_id(client: Client) -> None:
    created = vpc(client)
    vpc(client, vpcName="other", cidrBlock="172.16.0.0/16")

    by_new = client.call("DescribeVpcEx", {"vpcId": created["unVpcId"]}, service="vpc")
    by_old = client.call("DescribeVpcEx", {"vpcId": created["vpcId"]}, service="vpc")
    everything = client.call("DescribeVpcEx", {"orderDirection": "desc"}, service="vpc")

    assert by_new["totalCount"] == 1 and by_new["data"] == by_old["data"]
    item = by_new["data"][0]
    assert item["unVpcId"] == created["unVpcId"]
    assert item["cidrBlock"] == "10.0.0.0/16"
    assert item["subnetNum"] == 0 and item["vpcDeviceNum"] == 0
    assert [v["vpcName"] for v in everything["data"]] == ["other", "main"]


def test_describe_subnet_ex_counts_addresses(client: Client) -> None:
    vpc_id = vpc(client)["unVpcId"]
    created = subnet(client, vpc_id)
    ids = client.run(2, vpcId=vpc_id, subnetId=created["unSubnetId"])

    body = client.call("DescribeSubnetEx", {"vpcId": vpc_id}, service="vpc")

    [item] = body["data"]
    assert item["unSubnetId"] == created["unSubnetId"]
    assert item["zone"] == "ap-guangzhou-3"
    assert (item["totalIPNum"], item["availableIPNum"]) == (253, 251)
    assert item["vpcDevices"] == 2
    lan_ips = [i["lanIp"] for i in client.describe(ids)["instanceSet"]]
    assert lan_ips == ["10.0.1.2", "10.0.1.3"]
    assert {i["vpcId"] for i in client.describe(ids)["instanceSet"]} == {vpc_id}


def test_instances_must_match_the_subnet_zone(client: Client) -> None:
    vpc_id = vpc(client)["unVpcId"]
    subnet_id = subnet(client, vpc_id, zoneId=100004)["unSubnetId"]

    body = client.call(
        "RunInstancesHour", {**INSTANCE_SPEC, "vpcId": vpc_id, "subnetId": subnet_id}
    )

    assert body["code"] == 4000


def test_delete_needs_an_empty_subnet_and_vpc(client: Client) -> None:
    vpc_id = vpc(client)["unVpcId"]
    subnet_id = subnet(client, vpc_id)["unSubnetId"]
    [instance_id] = client.run(1, vpcId=vpc_id, subnetId=subnet_id)
    client.wait_status([instance_id], 2)
    ids = {"vpcId": vpc_id, "subnetId": subnet_id}

    busy_subnet = client.call("DeleteSubnet", ids, service="vpc")
    busy_vpc = client.call("DeleteVpc", {"vpcId": vpc_id}, service="vpc")
    client.call("ReturnInstance", {"instanceId": instance_id})
    client.wait_gone([instance_id])
    deleted_subnet = client.call("DeleteSubnet", ids, service="vpc")
    deleted_vpc = client.call("DeleteVpc", {"vpcId": vpc_id}, service="vpc")
    gone = client.call("DeleteVpc", {"vpcId": vpc_id}, service="vpc")

    assert (busy_subnet["code"], busy_subnet["codeDesc"]) == (
        5100,
        "InvalidSubnet.CannotDelete",
    )
    assert (busy_vpc["code"], busy_vpc["codeDesc"]) == (5100, "InvalidVpc.CannotDelete")
    assert deleted_subnet["code"] == 0 and deleted_vpc["code"] == 0
    assert (gone["code"], gone["codeDesc"]) == (5000, "InvalidVpc.NotFound")


def test_modify_vpc_and_subnet_attributes(client: Client) -> None:
    vpc_id = vpc(client)["unVpcId"]
    subnet_id = subnet(client, vpc_id)["unSubnetId"]

    renamed_vpc = client.call(
        "ModifyVpcAttribute", {"vpcId": vpc_id, "vpcName": "prod"}, service="vpc"
    )
    renamed_subnet = client.call(
        "ModifySubnetAttribute",
        {"vpcId": vpc_id, "subnetId": subnet_id, "subnetName": "web", "broadcast": 1},
        service="vpc",
    )

    assert renamed_vpc["code"] == 0 and renamed_subnet["code"] == 0
    vpcs = client.call("DescribeVpcEx", {}, service="vpc")["data"]
    subnets = client.call("DescribeSubnetEx", {}, service="vpc")["data"]
    assert vpcs[0]["vpcName"] == "prod"
    assert (subnets[0]["subnetName"], subnets[0]["broadcast"]) == ("web", True)


def test_unknown_vpc_task_is_not_found(client: Client) -> None:
    body = client.call("DescribeVpcTaskResult", {"taskId": 1}, service="vpc")

    assert body["code"] == 5000
