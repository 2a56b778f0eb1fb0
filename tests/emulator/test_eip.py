"""EIP actions (legacy-api.md section 11) and the instance-return cascade."""

from __future__ import annotations

import re

from .conftest import Client


def eip_call(client: Client, action: str, **params: object) -> dict:
    return client.call(action, dict(params), service="eip")


def new_eips(client: Client, count: int = 1) -> list[str]:
    body = eip_call(client, "CreateEip", goodsNum=count)
    assert body["code"] == 0, body
    return body["data"]["eipIds"]


def eip_statuses(client: Client, ids: list[str]) -> dict[str, int]:
    body = eip_call(client, "DescribeEip", eipIds=ids)
    return {item["eipId"]: item["status"] for item in body["data"]["eipSet"]}


def wait_eip(client: Client, ids: list[str], status: int) -> None:
    for _ in range(500):
        if list(eip_statuses(client, ids).values()) == [status] * len(ids):
            return
        client.pause()
    raise AssertionError(eip_statuses(client, ids))


def test_create_eip_is_creating_then_unbound(slow_client: Client) -> None:
    ids = new_eips(slow_client, 2)

    assert all(re.match(r"^eip-[a-z0-9]{8}$", eip_id) for eip_id in ids)
    assert set(eip_statuses(slow_client, ids).values()) == {0}
    wait_eip(slow_client, ids, 4)


def test_create_eip_allows_at_most_five(client: Client) -> None:
    assert eip_call(client, "CreateEip", goodsNum=6)["code"] == 4000


def test_describe_eip_shape(client: Client) -> None:
    [eip_id] = new_eips(client)
    eip_call(client, "ModifyEipAttributes", eipId=eip_id, eipName="front")

    body = eip_call(client, "DescribeEip", eipIds=[eip_id])

    assert body["totalCount"] == 1
    [item] = body["data"]["eipSet"]
    assert item["eipName"] == "front"
    assert set(item) == {
        "eipId", "eipName", "eip", "ispId", "status", "type", "arrears",
        "unInstanceId", "networkInterfaceId", "privateIpAddress", "createdAt",
        "updatedAt", "freeSecond",
    }  # fmt: skip


def test_bind_and_unbind_move_the_public_address(client: Client) -> None:
    [eip_id] = new_eips(client)
    [instance_id] = client.run(1)
    client.wait_status([instance_id], 2)
    wait_eip(client, [eip_id], 4)

    bound = eip_call(client, "EipBindInstance", eipId=eip_id, unInstanceId=instance_id)
    wait_eip(client, [eip_id], 2)
    address = eip_call(client, "DescribeEip", eipIds=[eip_id])["data"]["eipSet"][0]
    wan_ips = client.describe([instance_id])["instanceSet"][0]["wanIpSet"]
    unbound = eip_call(client, "EipUnBindInstance", eipId=eip_id)
    wait_eip(client, [eip_id], 4)

    assert bound["code"] == 0 and unbound["code"] == 0
    assert address["unInstanceId"] == instance_id
    assert wan_ips == [address["eip"]]
    assert client.describe([instance_id])["instanceSet"][0]["wanIpSet"] == []


def test_only_unbound_eips_can_be_bound_or_deleted(client: Client) -> None:
    first, second = new_eips(client, 2)
    [instance_id] = client.run(1)
    client.wait_status([instance_id], 2)
    wait_eip(client, [first, second], 4)
    eip_call(client, "EipBindInstance", eipId=first, unInstanceId=instance_id)

    rebind = eip_call(client, "EipBindInstance", eipId=first, unInstanceId=instance_id)
    second_on_same = eip_call(
        client, "EipBindInstance", eipId=second, unInstanceId=instance_id
    )
    delete = eip_call(client, "DeleteEip", eipIds=[first, second])

    assert rebind["code"] == 5100
    assert second_on_same["code"] == 5100
    assert delete["code"] == 5400
    assert delete["detail"][first]["code"] == 5100
    assert delete["detail"][second]["code"] == 0
    remaining = eip_statuses(client, [first, second])
    assert list(remaining) == [first] and remaining[first] in (1, 2)


def test_returning_an_instance_frees_its_eip(client: Client) -> None:
    [eip_id] = new_eips(client)
    [instance_id] = client.run(1)
    client.wait_status([instance_id], 2)
    wait_eip(client, [eip_id], 4)
    eip_call(client, "EipBindInstance", eipId=eip_id, unInstanceId=instance_id)
    wait_eip(client, [eip_id], 2)

    client.call("ReturnInstance", {"instanceId": instance_id})

    [item] = eip_call(client, "DescribeEip", eipIds=[eip_id])["data"]["eipSet"]
    assert (item["status"], item["unInstanceId"]) == (4, "")
    assert eip_call(client, "DeleteEip", eipIds=[eip_id]) == {
        "code": 0,
        "message": "",
        "codeDesc": "Success",
    }


def test_unknown_eip_is_not_found(client: Client) -> None:
    body = eip_call(client, "EipUnBindInstance", eipId="eip-00000000")

    assert (body["code"], body["codeDesc"]) == (5000, "InvalidEip.NotFound")
