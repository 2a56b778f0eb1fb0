"""CVM key pair actions (legacy-api.md sections 8.1 and 8.4).

Key pairs are kind ``keypair`` with ``skey-`` ids and names unique per
region. An instance lists its bound keys in ``keyIds``; the key pair's
``bindUnInstanceIds`` is derived from that, so the two cannot disagree.
Binding and unbinding need stopped instances and show status 20 (key being
delivered) for the action's duration; the answer is plain code/message, so
one bad instance fails the whole call.
"""

from __future__ import annotations

import base64
import logging
import re
from typing import Any

from .context import Call, Handler
from .cvm import STATUS_ERROR, STOPPED, find_key
from .kinds import INSTANCE, KEY_PAIR
from .protocol import ApiError, batch_body, format_time, invalid, not_found, success
from .store import Resource

logger = logging.getLogger(__name__)

DELIVERING_KEY = 20
KEY_NAME = re.compile(r"^[A-Za-z0-9_]{1,25}$")
PUBLIC_KEY = re.compile(r"^(ssh-rsa|ssh-ed25519|ecdsa-sha2-nistp256) [A-Za-z0-9+/=]+")


def _key_name(call: Call, name: str, keep: str = "") -> str:
    if not KEY_NAME.match(name):
        raise invalid(
            "(InvalidKeyPairName) keyName must be 1-25 letters, digits or '_'",
            "InvalidKeyPairName",
        )
    for other in call.store.list(KEY_PAIR, call.now, call.region, {"name": name}):
        if other.name == name and other.id != keep:
            raise invalid(
                f"(InvalidKeyPairName.Duplicate) key pair name {name} is in use",
                "InvalidKeyPairName.Duplicate",
            )
    return name


def _new_key(call: Call, name: str, public_key: str) -> Resource:
    key_id = call.ids.new(call.store, "skey")
    resource = Resource(
        KEY_PAIR,
        key_id,
        call.region,
        name=name,
        status=0,
        data={"pubkey": public_key, "createTime": call.now},
    )
    call.store.put(resource)
    call.created.append(key_id)
    return resource


def create_key_pair(call: Call) -> dict[str, Any]:
    name = _key_name(call, call.params.req("keyName"))

    # Not a usable key: the emulator never runs an SSH server.
    blob = base64.b64encode(call.ids.hex(64).encode()).decode()
    public_key = f"ssh-rsa {blob} {name}"
    secret = f"-----BEGIN RSA PRIVATE KEY-----\n{blob}\n-----END RSA PRIVATE KEY-----"
    resource = _new_key(call, name, public_key)
    return success(
        data={
            "keyId": resource.id,
            "keyName": name,
            "pubkey": public_key,
            "secretkey": secret,
        }
    )


def import_key_pair(call: Call) -> dict[str, Any]:
    name = _key_name(call, call.params.req("keyName"))
    public_key = call.params.req("pubKey")
    if not PUBLIC_KEY.match(public_key):
        raise invalid("(InvalidPublicKey) pubKey is not an OpenSSH public key")

    resource = _new_key(call, name, public_key)
    return success(data={"keyId": resource.id})


def describe_key_pairs(call: Call) -> dict[str, Any]:
    params = call.params
    ids = params.list("keyIds")
    name = params.str("keyName")
    offset = params.int("offset", 0, low=0) or 0
    limit = params.int("limit", 20, low=1, high=100) or 20

    keys = call.store.list(
        KEY_PAIR, call.now, call.region, {"name": name} if name else {}
    )
    if ids:
        keys = [key for key in keys if key.id in set(ids)]
    bindings = _bindings(call)
    return success(
        data={
            "totalCount": len(keys),
            "sshSet": [
                _render_key(key, bindings.get(key.id, []))
                for key in keys[offset : offset + limit]
            ],
        }
    )


def _bindings(call: Call) -> dict[str, list[Resource]]:
    bound: dict[str, list[Resource]] = {}
    for instance in call.store.list(INSTANCE, call.now, call.region):
        for key_id in instance.data.get("keyIds", []):
            bound.setdefault(key_id, []).append(instance)
    return bound


def _render_key(key: Resource, instances: list[Resource]) -> dict[str, Any]:
    return {
        "keyId": key.id,
        "keyName": key.name,
        "pubkey": key.data["pubkey"],
        "status": 0,
        "bindUnInstanceIds": [instance.id for instance in instances],
        "bindIps": [instance.data["lanIp"] for instance in instances],
        "createTime": format_time(key.data["createTime"]),
    }


def modify_key_pair(call: Call) -> dict[str, Any]:
    key = _require_key(call, call.params.req("keyId"))
    key.name = _key_name(call, call.params.req("keyName"), keep=key.id)
    call.store.put(key)
    return success()


def delete_key_pair(call: Call) -> dict[str, Any]:
    """Delete keys one by one; a bound key cannot go (batch ``detail``)."""
    ids = call.params.ids("keyIds")
    bindings = _bindings(call)
    detail: dict[str, dict[str, Any]] = {}
    for key_id in ids:
        detail[key_id] = _delete_one(call, key_id, bindings)
    body = batch_body(detail)
    if body["code"] == 0:
        # Delete is documented as plain code/message.
        body.pop("detail")
    return body


def _delete_one(
    call: Call, key_id: str, bindings: dict[str, list[Resource]]
) -> dict[str, Any]:
    key = find_key(call, key_id)
    if key is None:
        return {"code": 5000, "message": f"(InvalidKeyPair.NotFound) {key_id}"}
    if bindings.get(key_id):
        return {
            "code": 5100,
            "message": f"(InvalidKeyPair.InUse) key pair {key_id} is bound",
        }
    call.store.delete(KEY_PAIR, key_id)
    return {"code": 0, "message": ""}


def _require_key(call: Call, key_id: str) -> Resource:
    key = find_key(call, key_id)
    if key is None:
        raise not_found(f"(InvalidKeyPair.NotFound) key pair {key_id} does not exist")
    return key


def bind_instance_key(call: Call) -> dict[str, Any]:
    return _change_binding(call, bind=True)


def unbind_instance_key(call: Call) -> dict[str, Any]:
    return _change_binding(call, bind=False)


def _change_binding(call: Call, bind: bool) -> dict[str, Any]:
    ids = call.params.ids("instanceIds")
    key = _require_key(call, call.params.req("keyId"))
    call.params.int("hardPowerOffFlag", 0, low=0, high=1)
    instances = _stopped_instances(call, ids)

    for instance in instances:
        call.raise_item_fault(instance)
        keys = [k for k in instance.data.get("keyIds", []) if k != key.id]
        # Binding replaces the old key and disables password login (8.1).
        instance.data["keyIds"] = [key.id] if bind else keys
        if bind:
            instance.data["passwordSet"] = False
        instance.transition(DELIVERING_KEY, STOPPED, call.done_at())
        call.store.put(instance)
    return success()


def _stopped_instances(call: Call, ids: list[str]) -> list[Resource]:
    found = call.store.get_many(INSTANCE, ids)
    instances = []
    for instance_id in ids:
        instance = found.get(instance_id)
        if instance is None or instance.region != call.region:
            raise not_found(f"(EC_CVM_INSTANCE_NOT_FOUND) {instance_id} not found")
        instance.settled(call.now)
        if not instance.exists(call.now):
            raise not_found(f"(EC_CVM_INSTANCE_NOT_FOUND) {instance_id} not found")
        if instance.status != STOPPED:
            raise ApiError(
                5100,
                f"{STATUS_ERROR} instance {instance_id} is not stopped "
                f"(status {instance.status})",
            )
        instances.append(instance)
    return instances


ACTIONS: dict[str, Handler] = {
    "CreateKeyPair": create_key_pair,
    "ImportKeyPair": import_key_pair,
    "DescribeKeyPairs": describe_key_pairs,
    "ModifyKeyPair": modify_key_pair,
    "DeleteKeyPair": delete_key_pair,
    "BindInstanceKey": bind_instance_key,
    "UnBindInstanceKey": unbind_instance_key,
}
