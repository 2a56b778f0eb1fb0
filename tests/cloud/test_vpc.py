"""``VpcApi``: parameters sent, answers read, id forms, and the emulator."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.cloud.client import LegacyClient
from reconciler.cloud.errors import ResourceNotFoundError, TransientApiError
from reconciler.cloud.testing import ScriptedServer
from reconciler.cloud.vpc import SubnetView, VpcApi, VpcView


@pytest.fixture
def vpcs(client: LegacyClient) -> VpcApi:
    return VpcApi(client)


def vpc_item(serial: int, name: str) -> dict[str, Any]:
    return {
        "vpcId": f"gz_vpc_{serial}",
        "unVpcId": f"vpc-{serial:08d}",
        "vpcName": name,
        "cidrBlock": "10.0.0.0/16",
        "subnetNum": 2,
    }


def subnet_item(serial: int, name: str) -> dict[str, Any]:
    return {
        "vpcId": "gz_vpc_1",
        "unVpcId": "vpc-00000001",
        "subnetId": f"gz_subnet_{serial}",
        "unSubnetId": f"subnet-{serial:08d}",
        "subnetName": name,
        "cidrBlock": f"10.0.{serial}.0/24",
        "zoneId": 100003,
        "availableIPNum": 250,
    }


def listing(*items: dict[str, Any]) -> dict[str, Any]:
    return {"code": 0, "totalCount": len(items), "data": list(items)}


# -- views -------------------------------------------------------------------


def test_vpc_view_reads_both_id_forms_and_matches_any() -> None:
    view = VpcView.from_api(vpc_item(17, "prod"))

    assert view == VpcView("vpc-00000017", "prod", "10.0.0.0/16", {}, "gz_vpc_17", 2)
    assert view.serial == 17
    assert all(view.matches(ref) for ref in ("vpc-00000017", "gz_vpc_17", "17", 17))
    assert not view.matches("18")


def test_vpc_view_tolerates_unified_ids_only() -> None:
    view = VpcView.from_api({"uniqVpcId": "vpc-a", "vpcId": "vpc-a", "vpcName": "x"})

    assert (view.vpc_id, view.legacy_id, view.serial) == ("vpc-a", None, None)


def test_subnet_view_names_the_zone() -> None:
    view = SubnetView.from_api(subnet_item(41, "app"))

    assert view == SubnetView(
        "subnet-00000041",
        "vpc-00000001",
        "app",
        "10.0.41.0/24",
        "ap-guangzhou-3",
        {},
        "gz_subnet_41",
        250,
    )
    assert view.matches(41) and view.matches("gz_subnet_41")


# -- calls -------------------------------------------------------------------


def test_create_vpc_reads_the_unified_id(server: ScriptedServer, vpcs: VpcApi) -> None:
    server.answer({"code": 0, "vpcId": "gz_vpc_3", "uniqVpcId": "vpc-abc"})

    view = vpcs.create_vpc("prod", "10.1.0.0/16")

    assert (view.vpc_id, view.name, view.cidr, view.serial) == (
        "vpc-abc",
        "prod",
        "10.1.0.0/16",
        3,
    )
    form = server.requests[0].form
    assert (form["Action"], form["vpcName"], form["cidrBlock"]) == (
        "CreateVpc",
        "prod",
        "10.1.0.0/16",
    )


def test_one_vpc_id_costs_one_call(server: ScriptedServer, vpcs: VpcApi) -> None:
    server.answer(listing(vpc_item(17, "prod")))

    [view] = vpcs.describe_vpcs(["gz_vpc_17"])

    assert view.vpc_id == "vpc-00000017"
    assert server.requests[0].form["vpcId"] == "gz_vpc_17"


def test_unknown_vpc_id_is_absent_even_when_answered_5000(
    server: ScriptedServer, vpcs: VpcApi
) -> None:
    server.answer({"code": 5000, "message": "(InvalidVpc.NotFound) vpc-x"})

    assert vpcs.describe_vpcs(["vpc-x"]) == []
    assert vpcs.describe_vpcs([]) == []
    assert len(server.requests) == 1


def test_several_vpc_ids_are_one_listing_filtered_here(
    server: ScriptedServer, vpcs: VpcApi
) -> None:
    page = [vpc_item(n, f"v{n}") for n in range(1, 101)]
    server.answer(
        {"code": 0, "totalCount": 102, "data": page},
        {
            "code": 0,
            "totalCount": 102,
            "data": [vpc_item(101, "a"), vpc_item(102, "b")],
        },
    )

    views = vpcs.describe_vpcs(["vpc-00000002", "gz_vpc_101", "gz_vpc_999"])

    assert [view.vpc_id for view in views] == ["vpc-00000002", "vpc-00000101"]
    assert [seen.form["offset"] for seen in server.requests] == ["0", "100"]
    assert "vpcId" not in server.requests[0].form


def test_vpc_name_filter_keeps_exact_matches(
    server: ScriptedServer, vpcs: VpcApi
) -> None:
    server.answer(listing(vpc_item(1, "prod"), vpc_item(2, "prod-old")))

    assert [view.name for view in vpcs.describe_vpcs(name="prod")] == ["prod"]
    assert server.requests[0].form["vpcName"] == "prod"


def test_create_subnets_sends_zone_ids_and_reads_the_set(
    server: ScriptedServer, vpcs: VpcApi
) -> None:
    answer = [
        {k: v for k, v in subnet_item(n, f"s{n}").items() if "Vpc" not in k}
        for n in (1, 2)
    ]
    server.answer({"code": 0, "subnetSet": answer})

    views = vpcs.create_subnets(
        "vpc-00000001",
        [("s1", "10.0.1.0/24", "ap-guangzhou-3"), ("s2", "10.0.2.0/24", 100004)],
    )

    assert [(v.subnet_id, v.vpc_id, v.zone) for v in views] == [
        ("subnet-00000001", "vpc-00000001", "ap-guangzhou-3"),
        ("subnet-00000002", "vpc-00000001", "ap-guangzhou-3"),
    ]
    form = server.requests[0].form
    assert form["subnetSet.0.zoneId"] == "100003"
    assert form["subnetSet.1.zoneId"] == "100004"
    assert form["subnetSet.1.subnetName"] == "s2"
    assert form["subnetSet.1.cidrBlock"] == "10.0.2.0/24"


def test_describe_subnets_by_one_id_or_by_vpc(
    server: ScriptedServer, vpcs: VpcApi
) -> None:
    server.answer(
        listing(subnet_item(4, "a")), listing(subnet_item(4, "a"), subnet_item(5, "b"))
    )

    [one] = vpcs.describe_subnets(subnet_ids=["subnet-00000004"])
    both = vpcs.describe_subnets("vpc-00000001")

    assert one.subnet_id == "subnet-00000004"
    assert server.requests[0].form["subnetId"] == "subnet-00000004"
    assert "vpcId" not in server.requests[0].form
    assert [view.name for view in both] == ["a", "b"]
    assert server.requests[1].form["vpcId"] == "vpc-00000001"


def test_writes_send_their_parameters(server: ScriptedServer, vpcs: VpcApi) -> None:
    vpcs.modify_vpc("vpc-1", "new")
    vpcs.modify_subnet("vpc-1", "subnet-1", "newer")
    vpcs.delete_subnet("vpc-1", "subnet-1")
    vpcs.delete_vpc("vpc-1")

    sent = [dict(seen.form) for seen in server.requests]
    assert [form["Action"] for form in sent] == [
        "ModifyVpcAttribute",
        "ModifySubnetAttribute",
        "DeleteSubnet",
        "DeleteVpc",
    ]
    assert sent[0]["vpcName"] == "new"
    assert (sent[1]["subnetId"], sent[1]["subnetName"]) == ("subnet-1", "newer")
    assert {form["vpcId"] for form in sent} == {"vpc-1"}


def test_task_status_reads_data_status(server: ScriptedServer, vpcs: VpcApi) -> None:
    server.answer({"code": 0, "data": {"status": "2"}})

    assert vpcs.task_status(88) == 2
    assert server.requests[0].form["taskId"] == "88"


# -- against the emulator ------------------------------------------------------


def test_vpc_and_subnet_lifecycle(emulated: LegacyClient) -> None:
    vpcs = VpcApi(emulated)

    vpc = vpcs.create_vpc("prod", "10.0.0.0/16")
    subnets = vpcs.create_subnets(
        vpc.vpc_id,
        [
            ("app", "10.0.1.0/24", "ap-guangzhou-3"),
            ("db", "10.0.2.0/24", "ap-guangzhou-4"),
        ],
    )
    vpcs.create_vpc("other", "172.16.0.0/16")

    # Every id form finds the same VPC and subnets.
    for ref in (vpc.vpc_id, vpc.legacy_id, str(vpc.serial)):
        assert ref is not None
        [found] = vpcs.describe_vpcs([ref])
        assert (found.vpc_id, found.subnet_count) == (vpc.vpc_id, 2)
    listed = vpcs.describe_subnets(vpc.vpc_id)
    assert sorted(s.subnet_id for s in listed) == sorted(s.subnet_id for s in subnets)
    [db] = vpcs.describe_subnets(subnet_ids=[subnets[1].legacy_id or ""])
    assert (db.name, db.zone, db.cidr, db.vpc_id) == (
        "db",
        "ap-guangzhou-4",
        "10.0.2.0/24",
        vpc.vpc_id,
    )

    vpcs.modify_vpc(vpc.vpc_id, "production")
    vpcs.modify_subnet(vpc.vpc_id, db.subnet_id, "database")
    assert [v.name for v in vpcs.describe_vpcs(name="production")] == ["production"]
    assert vpcs.describe_subnets(subnet_ids=[db.subnet_id])[0].name == "database"

    # A VPC with subnets cannot go; an emptied one can.
    with pytest.raises(TransientApiError) as caught:
        vpcs.delete_vpc(vpc.vpc_id)
    assert caught.value.code_desc == "InvalidVpc.CannotDelete"
    for subnet in subnets:
        vpcs.delete_subnet(vpc.vpc_id, subnet.subnet_id)
    vpcs.delete_vpc(vpc.vpc_id)
    assert vpcs.describe_vpcs([vpc.vpc_id]) == []
    assert [v.name for v in vpcs.describe_vpcs()] == ["other"]


def test_unknown_vpc_task_is_not_found(emulated: LegacyClient) -> None:
    with pytest.raises(ResourceNotFoundError):
        VpcApi(emulated).task_status(424242)
