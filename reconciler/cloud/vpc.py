"""VPCs and subnets over the legacy API (legacy-api.md, section 10).

In: names, CIDR blocks, zone names and ids in any of their forms. Out:
``VpcView`` and ``SubnetView`` snapshots with unified ids (``vpc-...``,
``subnet-...``) and zone names. Refresh code reads with ``describe_vpcs`` and
``describe_subnets``; the executor creates, renames and deletes. Every action
of this subset is synchronous; ``task_status`` exists for the few VPC
actions that answer a task number.

VPCs and subnets have three id forms: the unified id, the old regional id
(``gz_vpc_17``) and the bare serial (``17``) that the LB API shows. Every
method accepts all three, and ``VpcView.matches``/``SubnetView.matches``
compare a reference in any form with a view.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.cloud import paging, zones
from reconciler.cloud.client import LegacyClient
from reconciler.cloud.errors import ResourceNotFoundError
from reconciler.cloud.fields import as_int, first_str, optional_str, task_status_of

logger = logging.getLogger(__name__)

SERVICE = "vpc"

# The old id forms end in the regional serial: ``gz_vpc_17``, ``gz_subnet_41``.
_SERIAL = re.compile(r"(\d+)$")

# A subnet to create: (name, cidr, zone name or numeric zone id).
SubnetSpec = tuple[str, str, str | int]


@dataclass(frozen=True)
class VpcView:
    """One VPC as DescribeVpcEx (or CreateVpc) shows it."""

    vpc_id: str
    name: str
    cidr: str
    raw: dict[str, Any] = field(repr=False, compare=False)
    legacy_id: str | None = None
    subnet_count: int = 0

    @classmethod
    def from_api(cls, item: Mapping[str, Any]) -> VpcView:
        """Build a view from one ``data[]`` entry of DescribeVpcEx."""
        return cls(
            vpc_id=first_str(item, "unVpcId", "uniqVpcId", "vpcId"),
            name=str(item.get("vpcName", "")),
            cidr=str(item.get("cidrBlock", "")),
            raw=dict(item),
            legacy_id=_legacy(item.get("vpcId")),
            subnet_count=as_int(item.get("subnetNum")) or 0,
        )

    @property
    def serial(self) -> int | None:
        """The bare number the LB API uses for this VPC, when known."""
        return _serial(self.legacy_id)

    def matches(self, ref: str | int) -> bool:
        """True when ``ref`` names this VPC in any of its id forms."""
        return _matches(str(ref), self.vpc_id, self.legacy_id)


@dataclass(frozen=True)
class SubnetView:
    """One subnet as DescribeSubnetEx (or CreateSubnet) shows it."""

    subnet_id: str
    vpc_id: str
    name: str
    cidr: str
    zone: str
    raw: dict[str, Any] = field(repr=False, compare=False)
    legacy_id: str | None = None
    available_ips: int | None = None

    @classmethod
    def from_api(cls, item: Mapping[str, Any], vpc_id: str = "") -> SubnetView:
        """Build a view from a ``data[]`` or ``subnetSet[]`` entry.

        CreateSubnet does not name the VPC in its items; ``vpc_id`` fills in.
        """
        return cls(
            subnet_id=first_str(item, "unSubnetId", "subnetId"),
            vpc_id=first_str(item, "unVpcId") or vpc_id or first_str(item, "vpcId"),
            name=str(item.get("subnetName", "")),
            cidr=str(item.get("cidrBlock", "")),
            zone=str(item.get("zone") or zones.zone_label(item.get("zoneId"))),
            raw=dict(item),
            legacy_id=_legacy(item.get("subnetId")),
            available_ips=as_int(item.get("availableIPNum")),
        )

    @property
    def serial(self) -> int | None:
        """The bare number the LB API uses for this subnet, when known."""
        return _serial(self.legacy_id)

    def matches(self, ref: str | int) -> bool:
        """True when ``ref`` names this subnet in any of its id forms."""
        return _matches(str(ref), self.subnet_id, self.legacy_id)


class VpcApi:
    """The VPC actions the reconciler uses, on top of a ``LegacyClient``."""

    def __init__(self, client: LegacyClient) -> None:
        self.client = client

    # VPCs

    def create_vpc(self, name: str, cidr: str) -> VpcView:
        """Create an empty VPC; its view, built from the answer."""
        params = {"vpcName": name, "cidrBlock": cidr}
        body = self.client.call(SERVICE, "CreateVpc", params)

        # The answer has the ids only; the rest is what was asked for.
        item = {**body, "vpcName": name, "cidrBlock": cidr}
        return VpcView.from_api(item)

    def describe_vpcs(
        self, ids: Sequence[str] | None = None, name: str | None = None
    ) -> list[VpcView]:
        """VPCs by id (any form), by exact name, or all of them.

        DescribeVpcEx takes one ``vpcId`` at a time, so a single id costs one
        call and several ids cost one listing (ceil(VPCs / 100) calls).
        """
        if ids is not None and not ids:
            return []

        if ids is not None and len(ids) == 1:
            items = self._describe({"vpcId": ids[0]}, "DescribeVpcEx")
        else:
            items = self._describe({"vpcName": name}, "DescribeVpcEx")

        views = [VpcView.from_api(item) for item in items]
        if ids is not None:
            views = [view for view in views if any(view.matches(i) for i in ids)]
        # The server matches names loosely; only exact matches are kept.
        return [view for view in views if name is None or view.name == name]

    def modify_vpc(self, vpc_id: str, name: str) -> None:
        params = {"vpcId": vpc_id, "vpcName": name}
        self.client.call(SERVICE, "ModifyVpcAttribute", params, resource_ids=[vpc_id])

    def delete_vpc(self, vpc_id: str) -> None:
        """Delete an empty VPC (5100 ``InvalidVpc.CannotDelete`` otherwise)."""
        params = {"vpcId": vpc_id}
        self.client.call(SERVICE, "DeleteVpc", params, resource_ids=[vpc_id])

    # Subnets

    def create_subnets(
        self, vpc_id: str, subnets: Sequence[SubnetSpec]
    ) -> list[SubnetView]:
        """Create subnets ``(name, cidr, zone)`` in one call; their views.

        ``zone`` is a zone name (``ap-guangzhou-3``) or its numeric id. The
        views carry ``vpc_id`` as given, since the answer does not repeat it.
        """
        subnet_set = [
            {"subnetName": name, "cidrBlock": cidr, "zoneId": _zone_id(zone)}
            for name, cidr, zone in subnets
        ]
        params = {"vpcId": vpc_id, "subnetSet": subnet_set}
        body = self.client.call(SERVICE, "CreateSubnet", params, resource_ids=[vpc_id])

        items = paging.items_at(body, "subnetSet")
        return [SubnetView.from_api(item, vpc_id) for item in items]

    def describe_subnets(
        self, vpc_id: str | None = None, subnet_ids: Sequence[str] | None = None
    ) -> list[SubnetView]:
        """Subnets of one VPC, by id (any form), or all of them.

        One id costs one call; otherwise the (VPC's) subnets are listed,
        ceil(subnets / 100) calls, and filtered here.
        """
        if subnet_ids is not None and not subnet_ids:
            return []

        params: dict[str, Any] = {"vpcId": vpc_id}
        if subnet_ids is not None and len(subnet_ids) == 1:
            params["subnetId"] = subnet_ids[0]
        items = self._describe(params, "DescribeSubnetEx")

        views = [SubnetView.from_api(item) for item in items]
        if subnet_ids is None:
            return views
        return [view for view in views if any(view.matches(i) for i in subnet_ids)]

    def modify_subnet(self, vpc_id: str, subnet_id: str, name: str) -> None:
        params = {"vpcId": vpc_id, "subnetId": subnet_id, "subnetName": name}
        self.client.call(
            SERVICE, "ModifySubnetAttribute", params, resource_ids=[subnet_id]
        )

    def delete_subnet(self, vpc_id: str, subnet_id: str) -> None:
        """Delete an empty subnet (5100 ``InvalidSubnet.CannotDelete`` otherwise)."""
        params = {"vpcId": vpc_id, "subnetId": subnet_id}
        self.client.call(SERVICE, "DeleteSubnet", params, resource_ids=[subnet_id])

    # Tasks

    def task_status(self, task_id: int) -> int:
        """DescribeVpcTaskResult: 0 succeeded, 1 failed, 2 still running."""
        action = "DescribeVpcTaskResult"
        body = self.client.call(SERVICE, action, {"taskId": task_id})
        return task_status_of(body, action, service=SERVICE)

    def _describe(self, params: Mapping[str, Any], action: str) -> list[dict[str, Any]]:
        # An id the server does not know may come back as 5000 rather than as
        # an empty page; either way it is simply absent.
        try:
            return paging.describe_all(self.client, SERVICE, action, "data", params)
        except ResourceNotFoundError:
            logger.debug("%s found nothing for %s.", action, dict(params))
            return []


def _zone_id(zone: str | int) -> int:
    return zone if isinstance(zone, int) else zones.zone_id(zone)


def _legacy(value: Any) -> str | None:
    # ``vpcId``/``subnetId`` hold the old form, unless a server already
    # answers with unified ids there.
    text = optional_str(value)
    if text is None or text.startswith(("vpc-", "subnet-")):
        return None
    return text


def _serial(legacy_id: str | None) -> int | None:
    match = _SERIAL.search(legacy_id or "")
    return int(match.group(1)) if match else None


def _matches(ref: str, unified: str, legacy_id: str | None) -> bool:
    if ref in (unified, legacy_id):
        return True
    serial = _serial(legacy_id)
    return ref.isdigit() and serial is not None and int(ref) == serial
