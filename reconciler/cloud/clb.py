"""Load balancers, listeners and backends over the legacy API (section 9).

In: load balancer ids, listener specs, (instance id, weight) pairs. Out:
``LoadBalancerView``, ``ListenerView`` and ``BackendView`` snapshots, and
task numbers. Every changing CLB action is *single async*: it answers one
``requestId``, and the change is done when ``task_status`` says 0 (1 means
it failed, 2 that it still runs). The executor polls that; refresh code
reads with the Describe methods.

The wire speaks numbers where users speak names: protocols (http 1, tcp 2,
udp 3, https 4) and types (public 2, private 3). Views carry the names;
``protocol_number``/``protocol_name`` convert. CreateLoadBalancer has no
``clientToken``: a lost answer raises ``UnknownOutcomeError`` and the caller
must look for the new load balancers (by name) before creating again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.cloud import paging
from reconciler.cloud.client import LegacyClient
from reconciler.cloud.fields import (
    as_int,
    first_str,
    flatten_ids,
    optional_str,
    require_task_id,
    str_tuple,
    task_status_of,
)

logger = logging.getLogger(__name__)

SERVICE = "lb"

PROTOCOLS = {"http": 1, "tcp": 2, "udp": 3, "https": 4}
PROTOCOL_NAMES = {number: name for name, number in PROTOCOLS.items()}

# loadBalancerType: 1 is the old public type without daily rent.
LB_TYPES = {"public": 2, "private": 3}
LB_TYPE_NAMES = {1: "public", 2: "public", 3: "private"}

# Load balancer status (section 9).
CREATING, RUNNING = 0, 1

# Ids (and backends) per call; each call is one task (section 13).
MAX_PER_CALL = 100
MAX_LBS_PER_CREATE = 20


def protocol_number(protocol: str | int) -> int:
    """``"tcp"`` -> 2; numbers pass through; ValueError for anything else."""
    if isinstance(protocol, int) and protocol in PROTOCOL_NAMES:
        return protocol
    number = PROTOCOLS.get(str(protocol).lower())
    if number is None:
        raise ValueError(f"unknown listener protocol {protocol!r}")
    return number


def protocol_name(number: int | str) -> str:
    """2 -> ``"tcp"``; an unknown number comes back as its text."""
    value = as_int(number)
    return PROTOCOL_NAMES.get(value, str(number)) if value is not None else ""


def lb_type_number(lb_type: str | int) -> int:
    """``"public"`` -> 2, ``"private"`` -> 3; numbers pass through."""
    if isinstance(lb_type, int):
        return lb_type
    number = LB_TYPES.get(lb_type.lower())
    if number is None:
        raise ValueError(f"unknown load balancer type {lb_type!r}")
    return number


@dataclass(frozen=True)
class ListenerSpec:
    """One listener to create; unset options keep the server's defaults."""

    port: int
    backend_port: int
    protocol: str | int
    name: str | None = None
    session_expire: int | None = None
    health_check: bool | None = None
    scheduler: str | None = None
    check_path: str | None = None
    ssl_mode: str | None = None
    cert_id: str | None = None

    def to_params(self) -> dict[str, Any]:
        """The ``listeners.n`` object; None values are not sent."""
        return {
            "loadBalancerPort": self.port,
            "instancePort": self.backend_port,
            "protocol": protocol_number(self.protocol),
            "listenerName": self.name,
            "sessionExpire": self.session_expire,
            "healthSwitch": self.health_check,
            "httpHash": self.scheduler,
            "httpCheckPath": self.check_path,
            "SSLMode": self.ssl_mode,
            "certId": self.cert_id,
        }


@dataclass(frozen=True)
class CreatedLoadBalancers:
    """The answer to CreateLoadBalancer: one task for all the new ids."""

    task_id: int
    ids: list[str]


@dataclass(frozen=True)
class LoadBalancerView:
    """One load balancer as DescribeLoadBalancers shows it.

    ``vpc_ref``/``subnet_ref`` are the network as the LB API names it: the
    bare serial (``"17"``) or a unified id; ``VpcView.matches`` compares
    either form. None means the classic network.
    """

    lb_id: str
    name: str
    type: str
    status: int
    vips: tuple[str, ...]
    raw: dict[str, Any] = field(repr=False, compare=False)
    domain: str = ""
    vpc_ref: str | None = None
    subnet_ref: str | None = None
    project_id: int = 0
    legacy_id: str | None = None

    @classmethod
    def from_api(cls, item: Mapping[str, Any]) -> LoadBalancerView:
        """Build a view from one ``loadBalancerSet`` entry."""
        type_number = as_int(item.get("loadBalancerType")) or 0
        return cls(
            lb_id=first_str(item, "unLoadBalancerId", "loadBalancerId"),
            name=str(item.get("loadBalancerName", "")),
            type=LB_TYPE_NAMES.get(type_number, str(type_number)),
            status=as_int(item.get("status")) or 0,
            vips=str_tuple(item.get("loadBalancerVips")),
            raw=dict(item),
            domain=str(item.get("domain") or ""),
            vpc_ref=optional_str(item.get("vpcId")),
            subnet_ref=optional_str(item.get("subnetId")),
            project_id=as_int(item.get("projectId")) or 0,
            legacy_id=optional_str(item.get("loadBalancerId")),
        )

    @property
    def running(self) -> bool:
        return self.status == RUNNING


@dataclass(frozen=True)
class ListenerView:
    """One listener as DescribeLoadBalancerListeners shows it."""

    listener_id: str
    port: int
    backend_port: int
    protocol: str
    raw: dict[str, Any] = field(repr=False, compare=False)
    name: str = ""
    status: int = 0
    health_check: bool = True
    session_expire: int = 0
    scheduler: str | None = None

    @classmethod
    def from_api(cls, item: Mapping[str, Any]) -> ListenerView:
        """Build a view from one ``listenerSet`` entry."""
        health = as_int(item.get("healthSwitch"))
        return cls(
            listener_id=first_str(item, "unListenerId", "listenerId"),
            port=as_int(item.get("loadBalancerPort")) or 0,
            backend_port=as_int(item.get("instancePort")) or 0,
            protocol=protocol_name(item.get("protocol", "")),
            raw=dict(item),
            name=str(item.get("listenerName") or ""),
            status=as_int(item.get("status")) or 0,
            health_check=health is None or bool(health),
            session_expire=as_int(item.get("sessionExpire")) or 0,
            scheduler=optional_str(item.get("httpHash")),
        )


@dataclass(frozen=True)
class BackendView:
    """One backend as DescribeLoadBalancerBackends shows it."""

    instance_id: str
    weight: int
    raw: dict[str, Any] = field(repr=False, compare=False)
    name: str = ""
    lan_ip: str | None = None
    wan_ips: tuple[str, ...] = ()
    instance_status: int | None = None

    @classmethod
    def from_api(cls, item: Mapping[str, Any]) -> BackendView:
        """Build a view from one ``backendSet`` entry."""
        return cls(
            instance_id=first_str(item, "unInstanceId", "instanceId"),
            weight=as_int(item.get("weight")) or 0,
            raw=dict(item),
            name=str(item.get("instanceName") or ""),
            lan_ip=optional_str(item.get("lanIp")),
            wan_ips=str_tuple(item.get("wanIpSet")),
            instance_status=as_int(item.get("instanceStatus")),
        )


class ClbApi:
    """The CLB actions the reconciler uses, on top of a ``LegacyClient``."""

    def __init__(self, client: LegacyClient) -> None:
        self.client = client

    # Load balancers

    def create_load_balancer(
        self,
        type: str | int,
        name: str,
        vpc_id: str | None = None,
        subnet_id: str | None = None,
        number: int = 1,
        *,
        project_id: int | None = None,
    ) -> CreatedLoadBalancers:
        """Create ``number`` load balancers named ``name``; one task for all.

        ``type`` is ``"public"`` or ``"private"`` (or 2/3). The cloud renames
        a duplicate name, so names identify load balancers only loosely.
        """
        if not 1 <= number <= MAX_LBS_PER_CREATE:
            raise ValueError(f"number must be 1 to {MAX_LBS_PER_CREATE}, not {number}")

        params = {
            "loadBalancerType": lb_type_number(type),
            "loadBalancerName": name,
            "vpcId": vpc_id,
            "subnetId": subnet_id,
            "number": number,
            "projectId": project_id,
        }
        action = "CreateLoadBalancer"
        body = self.client.call(SERVICE, action, params)

        task_id = require_task_id(body, action, service=SERVICE)
        return CreatedLoadBalancers(task_id, flatten_ids(body.get("unLoadBalancerIds")))

    def describe_load_balancers(
        self, ids: Sequence[str] | None = None, name: str | None = None
    ) -> list[LoadBalancerView]:
        """Load balancers by id (100 per call), by exact name, or all of them."""
        params = {"loadBalancerName": name}
        if ids is not None:
            items = paging.describe_ids(
                self.client,
                SERVICE,
                "DescribeLoadBalancers",
                "loadBalancerSet",
                "loadBalancerIds",
                ids,
                params,
            )
        else:
            items = paging.describe_all(
                self.client, SERVICE, "DescribeLoadBalancers", "loadBalancerSet", params
            )
        views = [LoadBalancerView.from_api(item) for item in items]
        return [view for view in views if name is None or view.name == name]

    def delete_load_balancers(self, ids: Sequence[str]) -> int:
        """Delete load balancers with their listeners and backends; one task."""
        ids = _bounded(ids, "load balancer ids")
        params = {"loadBalancerIds": ids}
        return self._task_call("DeleteLoadBalancers", params, ids)

    def modify_load_balancer(self, lb_id: str, name: str) -> int:
        params = {"loadBalancerId": lb_id, "loadBalancerName": name}
        return self._task_call("ModifyLoadBalancerAttributes", params, [lb_id])

    # Listeners

    def create_listeners(self, lb_id: str, listeners: Sequence[ListenerSpec]) -> int:
        """Create listeners in one task; HTTPS ones must come one per call."""
        specs = _bounded(listeners, "listeners")
        params = {
            "loadBalancerId": lb_id,
            "listeners": [spec.to_params() for spec in specs],
        }
        return self._task_call("CreateLoadBalancerListeners", params, [lb_id])

    def describe_listeners(
        self, lb_id: str, listener_ids: Sequence[str] | None = None
    ) -> list[ListenerView]:
        """The listeners of one load balancer (optionally only some)."""
        params = {"loadBalancerId": lb_id, "listenerIds": listener_ids}
        body = self.client.call(
            SERVICE, "DescribeLoadBalancerListeners", params, resource_ids=[lb_id]
        )
        items = paging.items_at(body, "listenerSet")
        return [ListenerView.from_api(item) for item in items]

    def delete_listeners(self, lb_id: str, listener_ids: Sequence[str]) -> int:
        params = {
            "loadBalancerId": lb_id,
            "listenerIds": _bounded(listener_ids, "listener ids"),
        }
        return self._task_call("DeleteLoadBalancerListeners", params, [lb_id])

    # Backends

    def register_backends(self, lb_id: str, backends: Sequence[tuple[str, int]]) -> int:
        """Add (or re-weight) backend instances: ``(instance_id, weight)``."""
        params = {"loadBalancerId": lb_id, "backends": _weighted(backends)}
        return self._task_call("RegisterInstancesWithLoadBalancer", params, [lb_id])

    def deregister_backends(self, lb_id: str, instance_ids: Sequence[str]) -> int:
        ids = _bounded(instance_ids, "backends")
        params = {
            "loadBalancerId": lb_id,
            "backends": [{"instanceId": instance_id} for instance_id in ids],
        }
        return self._task_call("DeregisterInstancesFromLoadBalancer", params, [lb_id])

    def modify_backends(self, lb_id: str, backends: Sequence[tuple[str, int]]) -> int:
        """Change the weights of registered backends."""
        params = {"loadBalancerId": lb_id, "backends": _weighted(backends)}
        return self._task_call("ModifyLoadBalancerBackends", params, [lb_id])

    def describe_backends(self, lb_id: str) -> list[BackendView]:
        """Every backend of one load balancer, page by page."""
        items = paging.describe_all(
            self.client,
            SERVICE,
            "DescribeLoadBalancerBackends",
            "backendSet",
            {"loadBalancerId": lb_id},
        )
        return [BackendView.from_api(item) for item in items]

    # Tasks

    def task_status(self, task_id: int) -> int:
        """DescribeLoadBalancersTaskResult: 0 succeeded, 1 failed, 2 running."""
        action = "DescribeLoadBalancersTaskResult"
        body = self.client.call(SERVICE, action, {"requestId": task_id})
        return task_status_of(body, action, service=SERVICE)

    def _task_call(
        self, action: str, params: Mapping[str, Any], resource_ids: Sequence[str]
    ) -> int:
        body = self.client.call(SERVICE, action, params, resource_ids=resource_ids)
        return require_task_id(body, action, service=SERVICE, resource_ids=resource_ids)


def _weighted(backends: Sequence[tuple[str, int]]) -> list[dict[str, Any]]:
    pairs = _bounded(backends, "backends")
    return [
        {"instanceId": instance_id, "weight": weight} for instance_id, weight in pairs
    ]


def _bounded(items: Sequence[Any], what: str) -> list[Any]:
    # One call is one task: splitting would leave the caller with several
    # tasks to follow, so the caller batches instead.
    items = list(items)
    if not 1 <= len(items) <= MAX_PER_CALL:
        raise ValueError(f"one call takes 1 to {MAX_PER_CALL} {what}, not {len(items)}")
    return items
