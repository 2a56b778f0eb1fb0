"""Elastic IPs over the legacy API (legacy-api.md, section 11).

In: EIP ids, instance ids, names. Out: ``EipView`` snapshots and new ids.
Binding, unbinding and creating answer only code/message and then take a
while: callers poll ``describe_eips`` until ``status`` settles (2 bound, 4
unbound). Deletes answer per id when some fail. None of these actions has a
``clientToken``: a lost answer raises ``UnknownOutcomeError``, and a lost
CreateEip answer in particular means EIPs may exist that nobody recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.cloud import paging
from reconciler.cloud.client import LegacyClient
from reconciler.cloud.fields import as_int, data_of, first_str, optional_str, str_tuple
from reconciler.cloud.results import BatchResult, merge_batches

logger = logging.getLogger(__name__)

SERVICE = "eip"

# EIP status (section 11).
CREATING = 0
BINDING = 1
BOUND = 2
UNBINDING = 3
UNBOUND = 4
OFFLINE = 6
CREATE_FAILED = 9

# Statuses that change by themselves; poll until the EIP leaves them.
TRANSITIONAL = frozenset({CREATING, BINDING, UNBINDING, OFFLINE})

MAX_EIPS_PER_CREATE = 5
MAX_IDS = 100
ITEMS = "data.eipSet"


@dataclass(frozen=True)
class EipView:
    """One EIP as DescribeEip shows it."""

    eip_id: str
    name: str
    address: str
    status: int
    instance_id: str | None
    raw: dict[str, Any] = field(repr=False, compare=False)
    isp_id: int | None = None

    @classmethod
    def from_api(cls, item: Mapping[str, Any]) -> EipView:
        """Build a view from one ``eipSet`` entry."""
        return cls(
            eip_id=first_str(item, "eipId"),
            name=str(item.get("eipName") or ""),
            address=str(item.get("eip") or ""),
            status=as_int(item.get("status")) or 0,
            instance_id=optional_str(item.get("unInstanceId")),
            raw=dict(item),
            isp_id=as_int(item.get("ispId")),
        )

    @property
    def transitional(self) -> bool:
        """True while the EIP is creating, binding, unbinding or going away."""
        return self.status in TRANSITIONAL


class EipApi:
    """The EIP actions the reconciler uses, on top of a ``LegacyClient``."""

    def __init__(self, client: LegacyClient) -> None:
        self.client = client

    def create_eips(self, count: int) -> list[str]:
        """Allocate ``count`` (1 to 5) EIPs; their ids. They start at status 0."""
        if not 1 <= count <= MAX_EIPS_PER_CREATE:
            raise ValueError(
                f"count must be 1 to {MAX_EIPS_PER_CREATE} per call, not {count}"
            )

        body = self.client.call(SERVICE, "CreateEip", {"goodsNum": count})
        return list(str_tuple(data_of(body).get("eipIds")))

    def describe_eips(self, ids: Sequence[str] | None = None) -> list[EipView]:
        """EIPs by id (100 per call) or all of them; absent ids are not returned."""
        if ids is not None:
            items = paging.describe_ids(
                self.client, SERVICE, "DescribeEip", ITEMS, "eipIds", ids
            )
        else:
            items = paging.describe_all(self.client, SERVICE, "DescribeEip", ITEMS)
        return [EipView.from_api(item) for item in items]

    def bind(self, eip_id: str, instance_id: str) -> None:
        """Bind an unbound EIP to an instance; it shows 1, then 2."""
        params = {"eipId": eip_id, "unInstanceId": instance_id}
        self.client.call(
            SERVICE, "EipBindInstance", params, resource_ids=[eip_id, instance_id]
        )

    def unbind(self, eip_id: str, alloc_wan_ip: bool = False) -> None:
        """Unbind a bound EIP; it shows 3, then 4.

        The instance is left without a public IP unless ``alloc_wan_ip``.
        """
        params = {"eipId": eip_id, "allocWanIp": alloc_wan_ip}
        self.client.call(SERVICE, "EipUnBindInstance", params, resource_ids=[eip_id])

    def modify_name(self, eip_id: str, name: str) -> None:
        params = {"eipId": eip_id, "eipName": name}
        self.client.call(SERVICE, "ModifyEipAttributes", params, resource_ids=[eip_id])

    def delete_eips(self, ids: Sequence[str]) -> BatchResult:
        """Release unbound EIPs; per-id outcome (a plain answer: all released)."""
        ids = list(ids)
        parts = [
            self.client.call_batch(SERVICE, "DeleteEip", "eipIds", chunk)
            for chunk in paging.chunked(ids, MAX_IDS)
        ]
        if not parts:
            return BatchResult("DeleteEip", 0, "")
        return merge_batches(parts)
