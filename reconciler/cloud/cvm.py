"""CVM instances and key pairs over the legacy API (legacy-api.md, section 8).

In: instance ids, key pair ids and manifest-style configuration. Out:
``InstanceView`` and ``KeyPairView`` snapshots, new ids, ``BatchResult``s
for the batch actions, task numbers for ResetInstances. Refresh code reads
with ``describe_instances``/``list_instances``/``describe_key_pairs``; the
executor creates, starts, stops, renames, reinstalls and returns instances
and manages key pairs and their bindings. The documented shape disagreements
(``unInstanceIds`` list or map, ``diskInfo`` object or list, ``requestId``
int or string, ``detail`` present or not) are absorbed here and in
``results``.

Passwords are registered with ``redact.register_secret`` before they are
sent, so they never reach a log line or an error message.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from reconciler.cloud import paging, zones
from reconciler.cloud.client import LegacyClient
from reconciler.cloud.fields import (
    as_int,
    data_of,
    first_str,
    flatten_ids,
    optional_str,
    str_tuple,
)
from reconciler.cloud.redact import register_secret
from reconciler.cloud.results import BatchResult, merge_batches, parse_task_id

logger = logging.getLogger(__name__)

SERVICE = "cvm"

# Batch actions take at most 100 ids (legacy-api.md, section 13).
MAX_BATCH_IDS = 100
MAX_GOODS = 100

# Where DescribeKeyPairs puts its items.
KEYS = "data.sshSet"

# imageType of ResetInstances: 1 private, 2 public, 3 marketplace, 4 shared.
PUBLIC_IMAGE = 2

# Manifest attribute -> RunInstancesHour parameter, for renamed keys.
RUN_PARAM_NAMES = {
    "image": "imageId",
    "memory": "mem",
    "disk": "storageSize",
    "vpc": "vpcId",
    "subnet": "subnetId",
    "key_pair": "keyId",
    "keyPair": "keyId",
    "project": "projectId",
    "instance_type": "instanceType",
    "instanceType": "instanceType",
    "root_disk": "rootSize",
    "rootSize": "rootSize",
}

# Parameters that pass through under their own name.
RUN_PARAM_PASSTHROUGH = frozenset(
    {
        "cpu",
        "bandwidth",
        "bandwidthType",
        "imageType",
        "wanIp",
        "isVpcGateway",
        "storageType",
        "password",
        "needSecurityAgent",
        "needMonitorAgent",
        "privateIpAddresses",
        "zoneId",
        "imageId",
        "mem",
        "storageSize",
        "vpcId",
        "subnetId",
        "keyId",
        "projectId",
    }
)


@dataclass(frozen=True)
class InstanceView:
    """One instance as DescribeInstances shows it, in manifest terms."""

    instance_id: str
    name: str
    status: int
    zone: str
    image: str
    cpu: int
    memory: int
    disk: int | None
    bandwidth: int
    raw: dict[str, Any] = field(repr=False, compare=False)
    lan_ip: str | None = None
    wan_ips: tuple[str, ...] = ()
    vpc_id: str | None = None
    subnet_id: str | None = None
    project_id: int = 0
    # Bound key pair ids; None when the answer did not say (DescribeInstances
    # does not document them: ``CvmApi.with_key_ids`` reads the key pairs).
    key_ids: tuple[str, ...] | None = None

    @classmethod
    def from_api(cls, item: Mapping[str, Any]) -> InstanceView:
        """Build a view from one ``instanceSet`` entry."""
        return cls(
            instance_id=first_str(item, "unInstanceId", "instanceId"),
            name=str(item.get("instanceName", "")),
            status=as_int(item.get("status")) or 0,
            zone=_zone_of(item),
            image=first_str(item, "unImgId", "imageId"),
            cpu=as_int(item.get("cpu")) or 0,
            memory=as_int(item.get("mem")) or 0,
            disk=_disk_size(item.get("diskInfo")),
            bandwidth=as_int(item.get("bandwidth")) or 0,
            raw=dict(item),
            lan_ip=optional_str(item.get("lanIp")),
            wan_ips=str_tuple(item.get("wanIpSet")),
            vpc_id=optional_str(item.get("vpcId")),
            subnet_id=optional_str(item.get("subnetId")),
            project_id=as_int(item.get("projectId")) or 0,
            key_ids=_key_ids(item),
        )


@dataclass(frozen=True)
class KeyPairView:
    """One key pair as DescribeKeyPairs shows it (section 8.4)."""

    key_id: str
    name: str
    public_key: str
    instance_ids: tuple[str, ...]
    raw: dict[str, Any] = field(repr=False, compare=False)
    status: int = 0

    @classmethod
    def from_api(cls, item: Mapping[str, Any]) -> KeyPairView:
        """Build a view from one ``sshSet`` entry."""
        return cls(
            key_id=first_str(item, "keyId"),
            name=str(item.get("keyName", "")),
            public_key=str(item.get("pubkey") or item.get("pubKey") or ""),
            instance_ids=str_tuple(item.get("bindUnInstanceIds")),
            raw=dict(item),
            status=as_int(item.get("status")) or 0,
        )


@dataclass(frozen=True)
class CreatedKeyPair:
    """A key pair made by CreateKeyPair; the private key is shown only once."""

    key_id: str
    name: str
    public_key: str
    private_key: str = field(repr=False)


class CvmApi:
    """The CVM actions the reconciler uses, on top of a ``LegacyClient``."""

    def __init__(self, client: LegacyClient) -> None:
        self.client = client

    def describe_instances(self, ids: Sequence[str]) -> list[InstanceView]:
        """Views of the given instances; absent ids are simply not returned.

        Costs ceil(len(ids) / 100) calls.
        """
        items = paging.describe_ids(
            self.client, SERVICE, "DescribeInstances", "instanceSet", "instanceIds", ids
        )
        return [InstanceView.from_api(item) for item in items]

    def list_instances(self, search_word: str | None = None) -> list[InstanceView]:
        """Every instance of the region (optionally whose name matches)."""
        items = paging.describe_all(
            self.client,
            SERVICE,
            "DescribeInstances",
            "instanceSet",
            {"searchWord": search_word},
        )
        return [InstanceView.from_api(item) for item in items]

    def run_instances_hour(
        self,
        config: Mapping[str, Any],
        count: int,
        name: str,
        client_token: str,
    ) -> list[str]:
        """Create ``count`` pay-per-hour instances; return their ids.

        ``client_token`` makes a repeated call (after a timeout, or after a
        crash) return the same instances instead of creating more.
        """
        if not 1 <= count <= MAX_GOODS:
            raise ValueError(f"count must be between 1 and {MAX_GOODS}, not {count}")

        params = run_params(config)
        params.update(goodsNum=count, instanceName=name, clientToken=client_token)
        body = self.client.call(SERVICE, "RunInstancesHour", params)
        return flatten_instance_ids(body.get("unInstanceIds"))

    def start_instances(self, ids: Sequence[str]) -> BatchResult:
        """Start stopped instances; per-id outcome."""
        return self._batch("StartInstances", ids, {})

    def stop_instances(self, ids: Sequence[str], force: bool = False) -> BatchResult:
        """Stop running instances; ``force`` is a hard power-off."""
        return self._batch("StopInstances", ids, {"forceStop": force})

    def modify_instance_name(self, instance_id: str, name: str) -> None:
        params = {"instanceId": instance_id, "instanceName": name}
        self.client.call(
            SERVICE, "ModifyInstanceAttributes", params, resource_ids=[instance_id]
        )

    def update_bandwidth(self, instance_id: str, bandwidth: int) -> None:
        params = {"instanceId": instance_id, "bandwidth": bandwidth}
        self.client.call(
            SERVICE, "UpdateInstanceBandwidthHour", params, resource_ids=[instance_id]
        )

    def return_instance(self, instance_id: str) -> None:
        """Return (delete) a pay-per-hour instance."""
        self.client.call(
            SERVICE,
            "ReturnInstance",
            {"instanceId": instance_id},
            resource_ids=[instance_id],
        )

    def modify_instance_project(self, instance_id: str, project_id: int) -> None:
        params = {"instanceId": instance_id, "projectId": project_id}
        self.client.call(
            SERVICE, "ModifyInstanceProject", params, resource_ids=[instance_id]
        )

    def reset_instance_password(
        self, ids: Sequence[str], password: str, force: bool = False
    ) -> BatchResult:
        """Give every instance the same password; per-id outcome.

        Only stopped instances unless ``force`` allows a hard power-off.
        """
        register_secret(password)
        params = {"password": password, "hardPowerOffFlag": force}
        return self._batch("ResetInstancePassword", ids, params)

    def reset_instance(
        self,
        instance_id: str,
        image_id: str | None,
        password: str | None = None,
        *,
        image_type: int = PUBLIC_IMAGE,
        force: bool = False,
    ) -> int | None:
        """Reinstall the OS (from ``image_id`` when given); the task number.

        The instance shows status 14 until the reinstall ends; there is no
        legacy task query for CVM, so callers poll ``describe_instances``.
        """
        register_secret(password)
        params: dict[str, Any] = {"instanceId": instance_id, "password": password}
        if image_id is not None:
            # imageId and imageType only go together (section 8.1).
            params.update(imageId=image_id, imageType=image_type)
        if force:
            params["hardPowerOffFlag"] = 1

        body = self.client.call(
            SERVICE, "ResetInstances", params, resource_ids=[instance_id]
        )
        return parse_task_id(body.get("requestId"))

    def bind_instance_key(self, ids: Sequence[str], key_id: str) -> BatchResult:
        """Bind a key pair to stopped instances (replacing their old key).

        Documented as a plain code/message answer: without ``detail`` every
        id counts as succeeded; with one, per id. A whole-call refusal (one
        instance not stopped) is raised.
        """
        return self._batch("BindInstanceKey", ids, {"keyId": key_id})

    def unbind_instance_key(self, ids: Sequence[str], key_id: str) -> BatchResult:
        """Unbind a key pair from stopped instances; as ``bind_instance_key``."""
        return self._batch("UnBindInstanceKey", ids, {"keyId": key_id})

    # Key pairs

    def create_key_pair(self, name: str) -> CreatedKeyPair:
        """Create a key pair; its private key is in the answer, and only there."""
        body = self.client.call(SERVICE, "CreateKeyPair", {"keyName": name})

        data = data_of(body)
        private_key = str(data.get("secretkey") or data.get("secretKey") or "")
        register_secret(private_key)
        return CreatedKeyPair(
            key_id=first_str(data, "keyId"),
            name=str(data.get("keyName") or name),
            public_key=str(data.get("pubkey") or ""),
            private_key=private_key,
        )

    def import_key_pair(self, name: str, public_key: str) -> str:
        """Import an OpenSSH public key under ``name``; the new key id."""
        params = {"keyName": name, "pubKey": public_key}
        body = self.client.call(SERVICE, "ImportKeyPair", params)
        return first_str(data_of(body), "keyId") or first_str(body, "keyId")

    def describe_key_pairs(
        self, ids: Sequence[str] | None = None, name: str | None = None
    ) -> list[KeyPairView]:
        """Key pairs by id, by exact name, or all of them; page by page.

        The server matches ``keyName`` loosely; only exact matches are kept.
        Absent ids are simply not returned.
        """
        params = {"keyName": name}
        if ids is not None:
            items = paging.describe_ids(
                self.client, SERVICE, "DescribeKeyPairs", KEYS, "keyIds", ids, params
            )
        else:
            items = paging.describe_all(
                self.client, SERVICE, "DescribeKeyPairs", KEYS, params
            )

        views = [KeyPairView.from_api(item) for item in items]
        return [view for view in views if name is None or view.name == name]

    def modify_key_pair(self, key_id: str, name: str) -> None:
        params = {"keyId": key_id, "keyName": name}
        self.client.call(SERVICE, "ModifyKeyPair", params, resource_ids=[key_id])

    def delete_key_pairs(self, ids: Sequence[str]) -> BatchResult:
        """Delete key pairs; per-id outcome (a bound key cannot go)."""
        return self._batch("DeleteKeyPair", ids, {}, ids_param="keyIds")

    def key_bindings(self) -> dict[str, tuple[str, ...]]:
        """Instance id -> bound key pair ids, from every key pair's bindings."""
        bound: dict[str, list[str]] = {}
        for key in self.describe_key_pairs():
            for instance_id in key.instance_ids:
                bound.setdefault(instance_id, []).append(key.key_id)
        return {instance_id: tuple(keys) for instance_id, keys in bound.items()}

    def with_key_ids(self, views: Sequence[InstanceView]) -> list[InstanceView]:
        """The views with ``key_ids`` filled in where DescribeInstances was silent.

        Costs ceil(key pairs / 100) DescribeKeyPairs calls, and none when every
        view already knows its keys.
        """
        if all(view.key_ids is not None for view in views):
            return list(views)

        bindings = self.key_bindings()
        return [
            view
            if view.key_ids is not None
            else replace(view, key_ids=bindings.get(view.instance_id, ()))
            for view in views
        ]

    def _batch(
        self,
        action: str,
        ids: Sequence[str],
        params: Mapping[str, Any],
        ids_param: str = "instanceIds",
    ) -> BatchResult:
        # Callers are expected to batch at most 100 ids; more would be a
        # whole-call 4000, so split and merge instead of failing everything.
        ids = list(ids)
        if len(ids) <= MAX_BATCH_IDS:
            return self.client.call_batch(SERVICE, action, ids_param, ids, params)

        parts = [
            self.client.call_batch(SERVICE, action, ids_param, chunk, params)
            for chunk in paging.chunked(ids, MAX_BATCH_IDS)
        ]
        return merge_batches(parts)


def run_params(config: Mapping[str, Any]) -> dict[str, Any]:
    """Translate manifest configuration into RunInstancesHour parameters."""
    params: dict[str, Any] = {}
    for key, value in config.items():
        if value is None:
            continue
        if key == "zone":
            params["zoneId"] = value if isinstance(value, int) else zones.zone_id(value)
        elif key in RUN_PARAM_NAMES:
            params[RUN_PARAM_NAMES[key]] = value
        elif key in RUN_PARAM_PASSTHROUGH:
            params[key] = value
        else:
            logger.debug("RunInstancesHour ignores configuration key %r.", key)
    return params


def flatten_instance_ids(value: Any) -> list[str]:
    """``unInstanceIds`` as a list, or a map of deal id -> list (section 8.1)."""
    return flatten_ids(value)


def _zone_of(item: Mapping[str, Any]) -> str:
    if item.get("zoneName"):
        return str(item["zoneName"])
    return zones.zone_label(item.get("zoneId"))


def _disk_size(disk_info: Any) -> int | None:
    # diskInfo is documented as an array but shown as one object (8.3).
    if isinstance(disk_info, list):
        disk_info = disk_info[0] if disk_info else None
    if not isinstance(disk_info, Mapping):
        return None
    return as_int(disk_info.get("storageSize"))


def _key_ids(item: Mapping[str, Any]) -> tuple[str, ...] | None:
    # Not documented for DescribeInstances; read it when a server sends it.
    for key in ("keyIds", "unKeyIds"):
        if key in item:
            return str_tuple(item[key])
    return None
