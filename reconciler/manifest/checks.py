"""Semantic checks across resources, before any API call is made.

Called by ``reconciler.manifest.pipeline`` with the entries ``desired`` built.
The schema sees one value at a time; these checks see the whole manifest:
duplicate addresses, references to resources that do not exist (with a
did-you-mean), an EIP bound to a whole count group, dependency cycles,
CIDRs outside their VPC or overlapping, zones that disagree, load balancer
backends outside the balancer's VPC, names the API would refuse as
duplicates, and listener conflicts. The result is the final resource list,
with load balancer backends expanded to one row per instance.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from reconciler.diagnostics import Diagnostic, Severity, SourcePosition
from reconciler.manifest.desired import (
    BuildContext,
    Entry,
    Reference,
    section_entries,
)
from reconciler.manifest.load import JsonPath
from reconciler.manifest.result import Lifecycle
from reconciler.manifest.validate import SECTIONS, did_you_mean
from reconciler.model.address import Address
from reconciler.model.resource import DesiredResource

logger = logging.getLogger(__name__)

# CreateVpc accepts networks inside these, with a mask of 16 to 28 bits
# (legacy-api.md, section 10).
VPC_RANGES = tuple(
    ipaddress.ip_network(text)
    for text in ("10.0.0.0/16", "172.16.0.0/16", "192.168.0.0/16")
)
MASK_RANGE = (16, 28)
SECTION_OF = {kind: section for section, kind in SECTIONS.items()}


@dataclass
class Checked:
    """The outcome: final resources and what the planner needs beside them."""

    resources: list[DesiredResource] = field(default_factory=list)
    lifecycle: dict[Address, Lifecycle] = field(default_factory=dict)
    dependencies: dict[Address, frozenset[Address]] = field(default_factory=dict)


def check_entries(context: BuildContext, entries: list[Entry]) -> Checked:
    """Run every cross-resource check; return what survives them."""
    entries = _without_duplicates(context, entries)
    index = _Index(context, entries)

    dependencies = {entry.address: index.resolve(entry) for entry in entries}
    _check_cycles(context, entries, dependencies)
    _check_networks(context, index)
    _check_placement(context, index)
    _check_unique_names(context, entries)
    _check_listeners(context, index)

    checked = Checked(dependencies=dependencies)
    for entry in entries:
        checked.resources.append(index.final_resource(entry))
        if entry.lifecycle is not None:
            checked.lifecycle[entry.address] = entry.lifecycle
    checked.resources.sort(key=lambda resource: resource.address)
    return checked


def _without_duplicates(context: BuildContext, entries: list[Entry]) -> list[Entry]:
    """Keep the first resource of each address; report the others."""
    first: dict[Address, Entry] = {}
    kept = []
    for entry in sorted(entries, key=lambda e: _position_key(e.resource.position)):
        earlier = first.get(entry.address)
        if earlier is None:
            first[entry.address] = entry
            kept.append(entry)
            continue
        context.diagnostics.append(
            Diagnostic(
                "Duplicate resource",
                f"{entry.address} is already defined at "
                f"{earlier.resource.position}; a count group KEY with count N "
                "defines KEY-0 .. KEY-(N-1).",
                entry.resource.position,
                address=str(entry.address),
            )
        )
    return kept


def _position_key(position: SourcePosition | None) -> tuple[str, int, int]:
    if position is None:
        return ("", 0, 0)
    return (position.path, position.line, position.column)


class _Index:
    """Entries by address and count groups by key; resolves references."""

    def __init__(self, context: BuildContext, entries: list[Entry]) -> None:
        self.context = context
        self.entries = {entry.address: entry for entry in entries}
        self.groups: dict[str, list[Address]] = {}
        for entry in entries:
            if entry.group is not None:
                self.groups.setdefault(entry.group, []).append(entry.address)
        # Keys written in the manifest, including entries that failed the
        # schema: a reference to those is not "unknown", only unchecked.
        self.written = {
            kind: set(section_entries(context.document, section))
            for section, kind in SECTIONS.items()
        }

    def get(self, kind: str, name: str) -> Entry | None:
        return self.entries.get(Address(kind, name))

    def resolve(self, entry: Entry) -> frozenset[Address]:
        """The addresses ``entry`` needs, reporting references that fail."""
        needed: set[Address] = set()
        for reference in entry.references:
            needed.update(self._targets(entry, reference))
        for address, path in entry.depends_on:
            if address in self.entries:
                needed.add(address)
            elif not self._written_but_failed(address.kind, address.name):
                self._unknown(address.kind, address.name, path, str(address))
        return frozenset(needed)

    def _targets(self, entry: Entry, reference: Reference) -> list[Address]:
        address = Address(reference.kind, reference.name)
        if address in self.entries:
            return [address]
        group = (
            self.groups.get(reference.name) if reference.kind == "instance" else None
        )
        if group is not None and reference.group_allowed:
            return list(group)
        if group is not None:
            self._group_not_allowed(entry, reference, group)
        elif not self._written_but_failed(reference.kind, reference.name):
            self._unknown(reference.kind, reference.name, reference.path, None)
        return []

    def _written_but_failed(self, kind: str, name: str) -> bool:
        written = self.written.get(kind, set())
        return name in written or name.rpartition("-")[0] in written

    def _unknown(self, kind: str, name: str, path: JsonPath, shown: str | None) -> None:
        candidates = [a.name for a in self.entries if a.kind == kind]
        if kind == "instance":
            candidates += list(self.groups)
        hint = did_you_mean(name, candidates)
        if shown is not None:
            hint = f"{kind}.{hint}" if hint else None
        suffix = f" Did you mean {hint!r}?" if hint else ""
        self.context.error(
            "Unknown reference",
            f"There is no {kind} {shown or repr(name)} in this manifest."
            f"{suffix} References use the resource's key under "
            f"{SECTION_OF.get(kind, kind)}.",
            path,
            at_value=True,
        )

    def _group_not_allowed(
        self, entry: Entry, reference: Reference, group: list[Address]
    ) -> None:
        self.context.error(
            "Reference to a count group",
            f"{entry.address} must name one instance, but {reference.name!r} "
            f"is a count group of {len(group)}. Name one copy, e.g. "
            f"{group[0].name!r}.",
            reference.path,
            at_value=True,
        )

    def final_resource(self, entry: Entry) -> DesiredResource:
        """The resource with load balancer backends expanded and sorted."""
        resource = entry.resource
        if resource.address.kind != "loadBalancer":
            return resource
        rows: dict[str, int] = {}
        for backend in resource.attributes.get("backends", []):
            for address in self.backend_targets(backend["instance"]):
                rows.setdefault(address.name, backend["weight"])
        backends = [{"instance": name, "weight": rows[name]} for name in sorted(rows)]
        return replace(
            resource, attributes={**resource.attributes, "backends": backends}
        )

    def backend_targets(self, name: str) -> list[Address]:
        if Address("instance", name) in self.entries:
            return [Address("instance", name)]
        return list(self.groups.get(name, []))

    def of_kind(self, kind: str) -> Iterator[Entry]:
        return (entry for entry in self.entries.values() if entry.address.kind == kind)


# --- cycles ------------------------------------------------------------------


def _check_cycles(
    context: BuildContext,
    entries: list[Entry],
    dependencies: Mapping[Address, frozenset[Address]],
) -> None:
    """Report each dependency cycle once, as its path of addresses."""
    by_address = {entry.address: entry for entry in entries}
    state: dict[Address, int] = {}  # 1 on the current path, 2 finished
    for start in sorted(dependencies):
        if state.get(start):
            continue
        for cycle in _cycles_from(start, dependencies, state):
            first = by_address[cycle[0]]
            shown = " -> ".join(str(address) for address in cycle)
            context.diagnostics.append(
                Diagnostic(
                    "Dependency cycle",
                    f"These resources depend on each other in a circle: {shown}. "
                    "Remove one of the references or dependsOn entries.",
                    first.resource.position,
                    address=str(first.address),
                )
            )


def _cycles_from(
    start: Address,
    dependencies: Mapping[Address, frozenset[Address]],
    state: dict[Address, int],
) -> Iterator[list[Address]]:
    """Depth-first without recursion, so that long chains cannot overflow."""
    path: list[Address] = [start]
    stack = [iter(sorted(dependencies.get(start, ())))]
    state[start] = 1
    while stack:
        following = next(stack[-1], None)
        if following is None:
            state[path.pop()] = 2
            stack.pop()
            continue
        if state.get(following) == 1:
            yield path[path.index(following) :] + [following]
        elif not state.get(following):
            state[following] = 1
            path.append(following)
            stack.append(iter(sorted(dependencies.get(following, ()))))


# --- networks ----------------------------------------------------------------


def _check_networks(context: BuildContext, index: _Index) -> None:
    """VPC ranges and masks; subnets inside their VPC and apart from each other."""
    networks: dict[Address, ipaddress.IPv4Network] = {}
    for entry in index.of_kind("vpc"):
        network = _network(context, entry)
        if network is not None and _vpc_range_ok(context, entry, network):
            networks[entry.address] = network

    taken: dict[Address, list[tuple[ipaddress.IPv4Network, Entry]]] = {}
    for entry in sorted(index.of_kind("subnet"), key=_entry_position):
        network = _network(context, entry)
        vpc = Address("vpc", entry.resource.attributes["vpc"])
        if network is None or vpc not in networks:
            continue
        if not network.subnet_of(networks[vpc]):
            _cidr_error(
                context,
                entry,
                f"The subnet {network} is not inside its VPC's {networks[vpc]}.",
            )
            continue
        for other, owner in taken.get(vpc, []):
            if network.overlaps(other):
                _cidr_error(
                    context,
                    entry,
                    f"The subnet {network} overlaps {owner.address} ({other}) "
                    "in the same VPC.",
                )
                break
        else:
            taken.setdefault(vpc, []).append((network, entry))


def _network(context: BuildContext, entry: Entry) -> ipaddress.IPv4Network | None:
    text = entry.resource.attributes["cidr"]
    try:
        network = ipaddress.IPv4Network(text, strict=True)
    except ValueError as error:
        fix = _host_bits_fix(text)
        _cidr_error(context, entry, f"{text!r} is not a valid network: {error}.{fix}")
        return None
    low, high = MASK_RANGE
    if not low <= network.prefixlen <= high:
        _cidr_error(
            context,
            entry,
            f"The network {network} has a /{network.prefixlen} mask; the cloud "
            f"accepts /{low} to /{high}.",
        )
        return None
    return network


def _host_bits_fix(text: str) -> str:
    try:
        network = ipaddress.IPv4Network(text, strict=False)
    except ValueError:
        return ""
    return f" Did you mean {str(network)!r}?"


def _vpc_range_ok(
    context: BuildContext, entry: Entry, network: ipaddress.IPv4Network
) -> bool:
    if any(network.subnet_of(allowed) for allowed in VPC_RANGES):
        return True
    ranges = ", ".join(str(allowed) for allowed in VPC_RANGES)
    _cidr_error(
        context,
        entry,
        f"The VPC network {network} is outside the private ranges the cloud "
        f"accepts for VPCs: {ranges}.",
    )
    return False


def _cidr_error(context: BuildContext, entry: Entry, detail: str) -> None:
    context.error("Invalid network", detail, (*entry.key_path, "cidr"), at_value=True)


def _entry_position(entry: Entry) -> tuple[str, int, int]:
    return _position_key(entry.resource.position)


# --- placement: zones and VPCs ------------------------------------------------


def _check_placement(context: BuildContext, index: _Index) -> None:
    for entry in index.of_kind("instance"):
        _check_instance_zone(context, index, entry)
    for entry in index.of_kind("loadBalancer"):
        _check_balancer_network(context, index, entry)


def _check_instance_zone(context: BuildContext, index: _Index, entry: Entry) -> None:
    attributes = entry.resource.attributes
    subnet = index.get("subnet", attributes.get("subnet", ""))
    if subnet is None or subnet.resource.attributes["zone"] == attributes["zone"]:
        return
    context.error(
        "Zone differs from the subnet's",
        f"{entry.address} is in {attributes['zone']} but its subnet "
        f"{subnet.address.name!r} is in {subnet.resource.attributes['zone']}; an "
        "instance must be in its subnet's zone.",
        (*entry.key_path, "subnet"),
        at_value=True,
    )


def _check_balancer_network(context: BuildContext, index: _Index, entry: Entry) -> None:
    """A private balancer needs a VPC; its subnet and backends must be in it."""
    attributes = entry.resource.attributes
    vpc = _balancer_vpc(index, attributes)
    _check_balancer_subnet(context, index, entry)
    if attributes["type"] == "private" and vpc is None:
        context.error(
            "Private load balancer without a VPC",
            f"{entry.address} is private, so it lives in a VPC: set vpc (and subnet).",
            entry.key_path,
        )
    for position, backend in enumerate(attributes.get("backends", [])):
        for address in index.backend_targets(backend["instance"]):
            instance_vpc = _instance_vpc(index, address)
            if instance_vpc == vpc:
                continue
            where = f"VPC {instance_vpc!r}" if instance_vpc else "the classic network"
            context.error(
                "Backend outside the load balancer's network",
                f"{address} is in {where}, but {entry.address} is in "
                f"{f'VPC {vpc!r}' if vpc else 'the classic network'}; a load "
                "balancer reaches only instances of its own network.",
                _backend_path(entry, position),
                at_value=True,
            )
            break


def _check_balancer_subnet(context: BuildContext, index: _Index, entry: Entry) -> None:
    attributes = entry.resource.attributes
    subnet = index.get("subnet", attributes.get("subnet") or "")
    if subnet is None or not attributes.get("vpc"):
        return
    subnet_vpc = subnet.resource.attributes.get("vpc")
    if subnet_vpc == attributes["vpc"]:
        return
    context.error(
        "Subnet outside the load balancer's VPC",
        f"{entry.address} is in VPC {attributes['vpc']!r}, but its subnet "
        f"{subnet.address.name!r} belongs to VPC {subnet_vpc!r}. Name a subnet "
        f"of VPC {attributes['vpc']!r}, or leave vpc out to take the subnet's.",
        (*entry.key_path, "subnet"),
        at_value=True,
    )


def _balancer_vpc(index: _Index, attributes: Mapping[str, Any]) -> str | None:
    if "vpc" in attributes:
        return str(attributes["vpc"])
    subnet = index.get("subnet", attributes.get("subnet", ""))
    return subnet.resource.attributes["vpc"] if subnet is not None else None


def _instance_vpc(index: _Index, address: Address) -> str | None:
    instance = index.entries.get(address)
    subnet_name = instance.resource.attributes.get("subnet") if instance else None
    subnet = index.get("subnet", subnet_name) if subnet_name else None
    return subnet.resource.attributes["vpc"] if subnet is not None else None


def _backend_path(entry: Entry, row: int) -> JsonPath:
    # Rows are written one per name; find the reference written for this row.
    backend_refs = [r for r in entry.references if r.group_allowed]
    return backend_refs[row].path if row < len(backend_refs) else entry.key_path


# --- names and listeners -------------------------------------------------------


def _check_unique_names(context: BuildContext, entries: Iterable[Entry]) -> None:
    """Names the API requires to be unique: key pairs, VPCs, subnets per VPC."""
    seen: dict[tuple[str, ...], Entry] = {}
    for entry in sorted(entries, key=_entry_position):
        attributes = entry.resource.attributes
        kind = entry.address.kind
        if kind in ("keyPair", "vpc"):
            scope: tuple[str, ...] = (kind, attributes["name"])
        elif kind == "subnet":
            scope = (kind, attributes["vpc"], attributes["name"])
        else:
            continue
        earlier = seen.setdefault(scope, entry)
        if earlier is entry:
            continue
        context.error(
            "Name already used",
            f"{entry.address} has the name {attributes['name']!r}, which "
            f"{earlier.address} already uses; the cloud requires {kind} names "
            f"to be unique{' within a VPC' if kind == 'subnet' else ''}.",
            _name_path(entry),
        )


def _name_path(entry: Entry) -> JsonPath:
    return (*entry.key_path, "name")


def _check_listeners(context: BuildContext, index: _Index) -> None:
    """One listener per port and transport; https needs a certificate."""
    for entry in index.of_kind("loadBalancer"):
        used: dict[tuple[str, int], int] = {}
        for position, listener in enumerate(entry.resource.attributes["listeners"]):
            path = (*entry.key_path, "listeners", position)
            transport = "udp" if listener["protocol"] == "udp" else "tcp"
            earlier = used.setdefault((transport, listener["port"]), position)
            if earlier != position:
                context.error(
                    "Listener port used twice",
                    f"Listeners {earlier} and {position} of {entry.address} both "
                    f"take {transport} port {listener['port']}.",
                    (*path, "port"),
                    at_value=True,
                )
            if listener["protocol"] == "https" and "certificate" not in listener:
                context.error(
                    "HTTPS listener without a certificate",
                    f"Listener {position} of {entry.address} is https; set "
                    "certificate to the id of the server certificate.",
                    path,
                )


def warn_unknown_region(context: BuildContext, known: Iterable[str]) -> None:
    """A region the tool has no zone table for is probably misspelt."""
    region = context.region
    known = list(known)
    if region is None or region in known:
        return
    hint = did_you_mean(region, known)
    context.diagnostics.append(
        Diagnostic(
            "Unknown region",
            f"{region!r} is not a region reconciler knows."
            + (f" Did you mean {hint!r}?" if hint else ""),
            context.source.value(("provider", "region")),
            severity=Severity.WARNING,
        )
    )
