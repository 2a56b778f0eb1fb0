"""Reading recorded resources back from the cloud, one reader per kind.

Called by ``reconciler.plan.refresh``. Each reader takes the records of its
kind and answers the live attributes of those that still exist, in the
manifest's shapes: references as manifest keys (an id the state does not
know stays an id, so the diff shows it), lists sorted as the manifest
sorts them. Reads are batched: N resources of a kind cost ceil(N/100)
Describe calls, except a load balancer's listeners and backends, which the
legacy API reads one load balancer at a time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from reconciler.cloud.apis import CloudApis
from reconciler.cloud.clb import BackendView, ListenerView
from reconciler.cloud.cvm import InstanceView
from reconciler.model.address import Address
from reconciler.model.resource import RUNNING, STOPPED, CurrentResource

logger = logging.getLogger(__name__)

Records = Mapping[Address, CurrentResource]
V = TypeVar("V")
Attributes = dict[str, Any]
Reader = Callable[[CloudApis, Records, "Names"], dict[Address, Attributes]]

# Transitional statuses count as where they are heading (legacy-api.md 8.2).
_INSTANCE_STATE = {1: "fault", 2: RUNNING, 3: RUNNING, 4: STOPPED}
_INSTANCE_STATE |= {7: RUNNING, 8: RUNNING, 9: STOPPED}
_INSTANCE_GONE = {5, 6}
# EIP statuses: 9 create failed counts as absent.
_EIP_GONE = {9}


class Names:
    """Cloud ids back to manifest keys, from what state recorded."""

    def __init__(self, records: Records) -> None:
        self._by_id = {r.resource_id: a for a, r in records.items()}

    def key_of(self, resource_id: str | None, kind: str) -> str | None:
        """The manifest key of ``resource_id`` (of ``kind``), else the id itself."""
        if not resource_id:
            return None
        address = self._by_id.get(resource_id)
        if address is None or address.kind != kind:
            return resource_id
        return address.name


def read_live(apis: CloudApis, records: Records) -> dict[Address, Attributes]:
    """Live attributes of every recorded resource that still exists."""
    names = Names(records)
    live: dict[Address, Attributes] = {}
    for kind, reader in READERS.items():
        mine = {a: r for a, r in records.items() if a.kind == kind}
        if mine:
            live |= reader(apis, mine, names)
    return live


def _ids(records: Records) -> list[str]:
    return sorted(record.resource_id for record in records.values())


def _matched(
    records: Records, views: Mapping[str, V], attributes: Callable[[V], Attributes]
) -> dict[Address, Attributes]:
    """The attributes of each record whose id the cloud still shows."""
    return {
        address: attributes(view)
        for address, record in records.items()
        if (view := views.get(record.resource_id)) is not None
    }


def read_vpcs(
    apis: CloudApis, records: Records, names: Names
) -> dict[Address, Attributes]:
    views = {view.vpc_id: view for view in apis.vpc.describe_vpcs(_ids(records))}
    return _matched(records, views, lambda v: {"name": v.name, "cidr": v.cidr})


def read_subnets(
    apis: CloudApis, records: Records, names: Names
) -> dict[Address, Attributes]:
    views = {view.subnet_id: view for view in apis.vpc.describe_subnets()}
    return _matched(
        records,
        views,
        lambda v: {
            "name": v.name,
            "vpc": names.key_of(v.vpc_id, "vpc"),
            "cidr": v.cidr,
            "zone": v.zone,
        },
    )


def read_key_pairs(
    apis: CloudApis, records: Records, names: Names
) -> dict[Address, Attributes]:
    views = {view.key_id: view for view in apis.cvm.describe_key_pairs(_ids(records))}
    return _matched(
        records, views, lambda v: {"name": v.name, "publicKey": v.public_key}
    )


def read_instances(
    apis: CloudApis, records: Records, names: Names
) -> dict[Address, Attributes]:
    views = apis.cvm.describe_instances(_ids(records))
    if any(r.attributes.get("keyPair") for r in records.values()):
        views = apis.cvm.with_key_ids(views)
    by_id = {view.instance_id: view for view in views}

    live = {}
    for address, record in records.items():
        view = by_id.get(record.resource_id)
        if view is not None and view.status not in _INSTANCE_GONE:
            live[address] = instance_attributes(view, record, names)
    return live


def instance_attributes(
    view: InstanceView, record: CurrentResource | None, names: Names
) -> Attributes:
    """An instance's attributes as the cloud shows them.

    The password cannot be read back: its recorded hash stands. Subnet and
    key pair are shown only when the instance has them.
    """
    recorded = dict(record.attributes) if record else {}
    attributes = {key: recorded[key] for key in ("password",) if key in recorded} | {
        "name": view.name,
        "zone": view.zone,
        "image": view.image,
        "cpu": view.cpu,
        "memory": view.memory,
        "disk": view.disk,
        "bandwidth": view.bandwidth,
        "state": _INSTANCE_STATE.get(view.status, recorded.get("state", RUNNING)),
    }
    if view.subnet_id:
        attributes["subnet"] = names.key_of(view.subnet_id, "subnet")
    if view.key_ids:
        attributes["keyPair"] = names.key_of(view.key_ids[0], "keyPair")
    return attributes


def read_eips(
    apis: CloudApis, records: Records, names: Names
) -> dict[Address, Attributes]:
    views = {view.eip_id: view for view in apis.eip.describe_eips(_ids(records))}
    live = {}
    for address, record in records.items():
        view = views.get(record.resource_id)
        if view is None or view.status in _EIP_GONE:
            continue
        attributes: Attributes = {"name": view.name}
        if view.instance_id:
            attributes["instance"] = names.key_of(view.instance_id, "instance")
        live[address] = attributes
    return live


def read_load_balancers(
    apis: CloudApis, records: Records, names: Names
) -> dict[Address, Attributes]:
    views = {v.lb_id: v for v in apis.clb.describe_load_balancers(_ids(records))}
    live = {}
    for address, record in records.items():
        view = views.get(record.resource_id)
        if view is None:
            continue
        recorded = record.attributes
        attributes: Attributes = {
            "name": view.name,
            "type": view.type,
            "listeners": _listeners(
                apis.clb.describe_listeners(view.lb_id), recorded.get("listeners")
            ),
            "backends": _backends(apis.clb.describe_backends(view.lb_id), names),
        }
        for reference in ("vpc", "subnet"):
            if recorded.get(reference):
                attributes[reference] = recorded[reference]
        live[address] = attributes
    return live


def _listeners(views: list[ListenerView], recorded: Any) -> list[Attributes]:
    """Listeners in the manifest's shape; names and certificates as recorded.

    The cloud names a listener when the manifest did not, so a live name
    counts only where the manifest gave one.
    """
    extras = {
        (row["port"], row["protocol"]): row
        for row in recorded or ()
        if isinstance(row, Mapping)
    }
    listeners = []
    for view in sorted(views, key=lambda v: (v.port, v.protocol)):
        row: Attributes = {
            "port": view.port,
            "protocol": view.protocol,
            "instancePort": view.backend_port,
        }
        known = extras.get((view.port, view.protocol), {})
        if known.get("name"):
            row["name"] = view.name
        if known.get("certificate"):
            row["certificate"] = known["certificate"]
        listeners.append(row)
    return listeners


def _backends(views: list[BackendView], names: Names) -> list[Attributes]:
    rows = [
        {"instance": names.key_of(view.instance_id, "instance"), "weight": view.weight}
        for view in views
    ]
    return sorted(rows, key=lambda row: str(row["instance"]))


READERS: dict[str, Reader] = {
    "vpc": read_vpcs,
    "subnet": read_subnets,
    "keyPair": read_key_pairs,
    "instance": read_instances,
    "eip": read_eips,
    "loadBalancer": read_load_balancers,
}
