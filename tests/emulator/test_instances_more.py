"""The rest of CVM: restart, password and OS resets, projects, key pairs."""

from __future__ import annotations

import re
from typing import Any

from .conftest import Client


def running(client: Client, count: int = 1, **params: Any) -> list[str]:
    ids = client.run(count, **params)
    client.wait_status(ids, 2)
    return ids


def stopped(client: Client, count: int = 1, **params: Any) -> list[str]:
    ids = running(client, count, **params)
    client.call("StopInstances", {"instanceIds": ids})
    client.wait_status(ids, 4)
    return ids


def test_restart_needs_running_instances(slow_client: Client) -> None:
    client = slow_client
    up = running(client)
    down = stopped(client)

    body = client.call("RestartInstances", {"instanceIds": up + down})

    assert body["code"] == 5400
    assert body["detail"][up[0]]["code"] == 0
    assert body["detail"][down[0]]["code"] == 5100
    assert client.statuses(up) == {up[0]: 7}
    client.wait_status(up, 2)


def test_reset_password_needs_stopped_unless_hard_power_off(client: Client) -> None:
    up = running(client)
    down = stopped(client)

    soft = client.call(
        "ResetInstancePassword", {"instanceIds": up + down, "password": "Passw0rd!x"}
    )
    hard = client.call(
        "ResetInstancePassword",
        {"instanceIds": up, "password": "Passw0rd!x", "hardPowerOffFlag": 1},
    )
    short = client.call("ResetInstancePassword", {"instanceIds": up, "password": "x"})

    assert soft["code"] == 5400
    assert soft["detail"][down[0]]["code"] == 0
    assert soft["detail"][up[0]]["code"] == 5100
    assert hard["code"] == 0
    assert short["code"] == 4000
    client.wait_status(up, 2)
    client.wait_status(down, 4)


def test_reset_instances_reinstalls_and_returns_to_its_status(
    slow_client: Client,
) -> None:
    client = slow_client
    [instance_id] = stopped(client)

    body = client.call(
        "ResetInstances",
        {"instanceId": instance_id, "imageId": "img-debian12", "imageType": 2},
    )

    assert body["code"] == 0 and isinstance(body["requestId"], int)
    assert client.statuses([instance_id]) == {instance_id: 14}
    client.wait_status([instance_id], 4)
    [item] = client.describe([instance_id])["instanceSet"]
    assert item["unImgId"] == "img-debian12"


def test_reset_instances_needs_image_and_type_together(client: Client) -> None:
    [instance_id] = stopped(client)

    body = client.call(
        "ResetInstances", {"instanceId": instance_id, "imageId": "img-debian12"}
    )

    assert body["code"] == 4000


def test_modify_instance_project(client: Client) -> None:
    [instance_id] = client.run(1)

    body = client.call(
        "ModifyInstanceProject", {"instanceId": instance_id, "projectId": 1001}
    )

    assert body["code"] == 0
    assert client.describe(projectId=1001)["totalCount"] == 1
    assert client.describe(projectId=0)["totalCount"] == 0


def test_key_pair_lifecycle(client: Client) -> None:
    created = client.call("CreateKeyPair", {"keyName": "deploy_key"})
    key_id = created["data"]["keyId"]
    imported = client.call(
        "ImportKeyPair", {"keyName": "mine", "pubKey": "ssh-ed25519 AAAAC3Nza me@x"}
    )
    renamed = client.call("ModifyKeyPair", {"keyId": key_id, "keyName": "ops"})
    listed = client.call("DescribeKeyPairs", {"keyIds": [key_id]})

    assert re.match(r"^skey-[a-z0-9]{8}$", key_id)
    assert set(created["data"]) == {"keyId", "keyName", "pubkey", "secretkey"}
    assert imported["code"] == 0 and imported["data"]["keyId"].startswith("skey-")
    assert renamed["code"] == 0
    assert listed["data"]["totalCount"] == 1
    [item] = listed["data"]["sshSet"]
    assert item["keyName"] == "ops"
    assert set(item) == {
        "keyId", "keyName", "pubkey", "status", "bindUnInstanceIds", "bindIps",
        "createTime",
    }  # fmt: skip

    deleted = client.call("DeleteKeyPair", {"keyIds": [key_id]})
    assert deleted["code"] == 0
    assert client.call("DescribeKeyPairs")["data"]["totalCount"] == 1


def test_key_names_are_checked_and_unique(client: Client) -> None:
    client.call("CreateKeyPair", {"keyName": "one"})

    duplicate = client.call("CreateKeyPair", {"keyName": "one"})
    bad = client.call("CreateKeyPair", {"keyName": "has space"})

    assert duplicate["code"] == 4000
    assert duplicate["codeDesc"] == "InvalidKeyPairName.Duplicate"
    assert bad["code"] == 4000


def test_binding_needs_stopped_instances_and_blocks_delete(client: Client) -> None:
    key_id = client.call("CreateKeyPair", {"keyName": "k"})["data"]["keyId"]
    up = running(client)
    down = stopped(client)

    refused = client.call("BindInstanceKey", {"instanceIds": up, "keyId": key_id})
    bound = client.call("BindInstanceKey", {"instanceIds": down, "keyId": key_id})
    in_use = client.call("DeleteKeyPair", {"keyIds": [key_id]})
    [item] = client.call("DescribeKeyPairs")["data"]["sshSet"]

    assert refused["code"] == 5100
    assert bound["code"] == 0
    assert item["bindUnInstanceIds"] == down
    assert in_use["code"] == 5100

    client.wait_status(down, 4)
    assert (
        client.call("UnBindInstanceKey", {"instanceIds": down, "keyId": key_id})["code"]
        == 0
    )
    client.wait_status(down, 4)
    assert client.call("DeleteKeyPair", {"keyIds": [key_id]})["code"] == 0


def test_run_instances_with_an_unknown_key_is_refused(client: Client) -> None:
    body = client.call(
        "RunInstancesHour",
        {"zoneId": 100003, "cpu": 1, "mem": 1, "imageId": "img-ubuntu22",
         "storageSize": 0, "keyId": "skey-00000000"},
    )  # fmt: skip

    assert body["code"] == 4000
