"""CVM instances over the legacy API (legacy-api.md, section 8).

In: instance ids and manifest-style configuration. Out: ``InstanceView``
snapshots, new instance ids, ``BatchResult``s for Start/Stop. Refresh code
reads with ``describe_instances``/``list_instances``; the executor creates,
starts, stops, renames and returns instances. The documented shape
disagreements (``unInstanceIds`` list or map, ``diskInfo`` object or list,
``requestId`` int or string) are absorbed here and in ``results``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.cloud import paging, zones
from reconciler.cloud.client import LegacyClient
from reconciler.cloud.results import BatchResult

logger = logging.getLogger(__name__)

SERVICE = "cvm"

# Batch actions take at most 100 ids (legacy-api.md, section 13).
MAX_BATCH_IDS = 100
MAX_GOODS = 100

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

    @classmethod
    def from_api(cls, item: Mapping[str, Any]) -> InstanceView:
        """Build a view from one ``instanceSet`` entry."""
        return cls(
            instance_id=str(item.get("unInstanceId") or item.get("instanceId", "")),
            name=str(item.get("instanceName", "")),
            status=_int(item.get("status")) or 0,
            zone=_zone_of(item),
            image=str(item.get("unImgId") or item.get("imageId") or ""),
            cpu=_int(item.get("cpu")) or 0,
            memory=_int(item.get("mem")) or 0,
            disk=_disk_size(item.get("diskInfo")),
            bandwidth=_int(item.get("bandwidth")) or 0,
            raw=dict(item),
            lan_ip=item.get("lanIp") or None,
            wan_ips=tuple(item.get("wanIpSet") or ()),
            vpc_id=_optional_str(item.get("vpcId")),
            subnet_id=_optional_str(item.get("subnetId")),
        )


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

    def _batch(
        self, action: str, ids: Sequence[str], params: Mapping[str, Any]
    ) -> BatchResult:
        # Callers are expected to batch at most 100 ids; more would be a
        # whole-call 4000, so split and merge instead of failing everything.
        ids = list(ids)
        if len(ids) <= MAX_BATCH_IDS:
            return self.client.call_batch(SERVICE, action, "instanceIds", ids, params)

        parts = [
            self.client.call_batch(SERVICE, action, "instanceIds", chunk, params)
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
    if isinstance(value, Mapping):
        return [str(i) for ids in value.values() for i in _as_list(ids)]
    return [str(i) for i in _as_list(value)]


def merge_batches(parts: Sequence[BatchResult]) -> BatchResult:
    """One result for a batch sent as several calls."""
    items = {key: item for part in parts for key, item in part.items.items()}
    failed = any(not item.ok for item in items.values())
    succeeded = any(item.ok for item in items.values())
    outer = 0 if not failed else 5400 if succeeded else 5100
    message = "; ".join(part.message for part in parts if part.message)
    return BatchResult(parts[0].action, outer, message, items)


def _zone_of(item: Mapping[str, Any]) -> str:
    if item.get("zoneName"):
        return str(item["zoneName"])
    numeric = _int(item.get("zoneId"))
    if numeric is None:
        return ""
    try:
        return zones.zone_name(numeric)
    except KeyError:
        return str(numeric)


def _disk_size(disk_info: Any) -> int | None:
    # diskInfo is documented as an array but shown as one object (8.3).
    if isinstance(disk_info, list):
        disk_info = disk_info[0] if disk_info else None
    if not isinstance(disk_info, Mapping):
        return None
    return _int(disk_info.get("storageSize"))


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _optional_str(value: Any) -> str | None:
    return None if value in (None, "", 0) else str(value)
