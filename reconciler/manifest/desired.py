"""The desired model: schema-valid manifest values to resource entries.

Called by ``reconciler.manifest.pipeline`` once the merged document has been
checked against the schema. Here defaults are applied, ``count`` groups are
expanded into one resource per copy, secrets are read, and each resource
gets its address, its position (where its key is written) and a flat mapping
of attributes that the planner compares with the state. References between
resources are collected, not yet resolved: ``checks`` does that across all
kinds. Entries that failed the schema are skipped; their problems are
already reported.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.diagnostics import Diagnostic, Severity
from reconciler.manifest import secrets
from reconciler.manifest.load import JsonPath, SourceMap
from reconciler.manifest.result import Lifecycle
from reconciler.model.address import Address
from reconciler.model.resource import RUNNING, DesiredResource

logger = logging.getLogger(__name__)

INSTANCE_BUILTINS: Mapping[str, Any] = {"disk": 50, "bandwidth": 0, "state": RUNNING}
INSTANCE_REQUIRED = ("zone", "image", "cpu", "memory")
INSTANCE_ATTRIBUTES = ("zone", "image", "cpu", "memory", "disk", "bandwidth", "state")
INSTANCE_OPTIONAL = ("subnet", "keyPair")
INSTANCE_NAME_LIMIT = 60
LISTENER_OPTIONAL = ("name", "certificate")
DEFAULT_WEIGHT = 10


@dataclass(frozen=True)
class Reference:
    """A name written in one resource that must be the key of another."""

    kind: str
    name: str
    path: JsonPath
    # LB backends may name a whole count group; everything else one resource.
    group_allowed: bool = False


@dataclass
class Entry:
    """One resource before the cross-resource checks."""

    resource: DesiredResource
    key_path: JsonPath
    references: list[Reference] = field(default_factory=list)
    depends_on: list[tuple[Address, JsonPath]] = field(default_factory=list)
    lifecycle: Lifecycle | None = None
    # The count group key for a copy of a counted instance.
    group: str | None = None

    @property
    def address(self) -> Address:
        return self.resource.address


@dataclass
class BuildContext:
    """What the builders share: the merged document and where things are."""

    document: Mapping[str, Any]
    source: SourceMap
    failed: set[JsonPath]
    region: str | None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._failed_prefixes = {path[:end] for path in self.failed for end in (1, 2)}

    def has_failed(self, prefix: JsonPath) -> bool:
        return prefix in self._failed_prefixes

    def error(
        self, summary: str, detail: str, path: JsonPath, at_value: bool = False
    ) -> None:
        """An error at ``path``'s key, or at its value for a bad value."""
        source = self.source
        where = source.value(path) if at_value else source.key_or_value(path)
        self.diagnostics.append(Diagnostic(summary, detail, where))

    def warn(self, summary: str, detail: str, path: JsonPath) -> None:
        where = self.source.key_or_value(path)
        self.diagnostics.append(
            Diagnostic(summary, detail, where, severity=Severity.WARNING)
        )

    def secret(self, spec: Mapping[str, str], path: JsonPath) -> str | None:
        """A secret's value, or None after reporting why it is missing."""
        where = self.source.value(path)
        try:
            return secrets.resolve(spec, where.path if where else ".")
        except secrets.SecretError as error:
            self.error("Secret source missing", str(error), path, at_value=True)
            return None


Builder = Callable[[BuildContext, str, Mapping[str, Any]], Iterator[Entry]]


def build_entries(context: BuildContext) -> list[Entry]:
    """Every resource of the manifest, in the order they are written."""
    if context.has_failed(("defaults",)) or context.has_failed(("provider",)):
        # Defaults feed every resource; building on broken ones would only
        # repeat their errors once per resource.
        return []

    entries: list[Entry] = []
    for section, builder in _BUILDERS.items():
        for key, body in section_entries(context.document, section).items():
            if not context.has_failed((section, key)):
                entries.extend(builder(context, key, body or {}))
    logger.debug("Built %d resource entries.", len(entries))
    return entries


def section_entries(document: Mapping[str, Any], section: str) -> Mapping[str, Any]:
    """A section's entries, or none when the section is not a mapping."""
    entries = document.get(section)
    return entries if isinstance(entries, Mapping) else {}


# --- per kind ----------------------------------------------------------------


def _vpc(context: BuildContext, key: str, body: Mapping[str, Any]) -> Iterator[Entry]:
    attributes = {"name": body.get("name", key), "cidr": body["cidr"]}
    yield _entry(context, "vpc", key, "vpcs", attributes, body)


def _subnet(
    context: BuildContext, key: str, body: Mapping[str, Any]
) -> Iterator[Entry]:
    path: JsonPath = ("subnets", key)
    attributes, origins = _with_defaults(context, "subnet", path, body, {})
    if "zone" not in attributes:
        context.error(
            "Missing required attribute",
            f"Subnet {key!r} has no 'zone'; set it on the subnet or under "
            "defaults.subnet.",
            path,
        )
        return
    _check_zone(context, attributes["zone"], origins["zone"] or path)

    values = {"name": body.get("name", key), "vpc": body["vpc"]}
    values |= {"cidr": body["cidr"], "zone": attributes["zone"]}
    entry = _entry(context, "subnet", key, "subnets", values, body)
    entry.references.append(Reference("vpc", body["vpc"], (*path, "vpc")))
    yield entry


def _key_pair(
    context: BuildContext, key: str, body: Mapping[str, Any]
) -> Iterator[Entry]:
    path: JsonPath = ("keyPairs", key)
    name = body.get("name", key)
    if "name" not in body and not name.replace("_", "").isalnum():
        context.error(
            "Invalid name",
            f"Key pair names may hold only letters, digits and '_', so the key "
            f"{key!r} cannot be the name; set one, e.g. name: "
            f"{key.replace('-', '_')}.",
            path,
        )
        return

    public_key = body["publicKey"]
    if isinstance(public_key, Mapping):
        public_key = context.secret(public_key, (*path, "publicKey"))
        if public_key is None:
            return
    attributes = {"name": name, "publicKey": public_key.strip()}
    yield _entry(context, "keyPair", key, "keyPairs", attributes, body)


def _instances(
    context: BuildContext, key: str, body: Mapping[str, Any]
) -> Iterator[Entry]:
    """One instance, or one per copy when ``count`` is set."""
    path: JsonPath = ("instances", key)
    attributes, origins = _with_defaults(
        context, "instance", path, body, INSTANCE_BUILTINS
    )
    missing = [name for name in INSTANCE_REQUIRED if name not in attributes]
    if missing:
        context.error(
            "Missing required attribute",
            f"Instance {key!r} has no {_and(missing)}; set "
            f"{'it' if len(missing) == 1 else 'them'} on the instance or under "
            "defaults.instance.",
            path,
        )
        return
    _check_zone(context, attributes["zone"], origins["zone"] or path)

    shared = {name: attributes[name] for name in INSTANCE_ATTRIBUTES}
    shared |= {
        name: attributes[name] for name in INSTANCE_OPTIONAL if name in attributes
    }
    references = [
        Reference(name, attributes[name], origins[name] or path)
        for name in INSTANCE_OPTIONAL
        if name in attributes
    ]
    sensitive: frozenset[str] = frozenset()
    # TODO(#5): check the password against the CVM password policy (length and
    # character classes) once legacy-api.md states it.
    if "password" in attributes:
        password = context.secret(attributes["password"], origins["password"] or path)
        if password is None:
            return
        shared["password"], sensitive = password, frozenset({"password"})

    counted = body.get("count") is not None
    for address_name, cloud_name in _copies(context, key, body):
        entry = _entry(
            context, "instance", address_name, "instances", {}, body, key=key
        )
        values = {"name": cloud_name} | shared
        entry.resource = DesiredResource(
            entry.address, values, entry.resource.position, sensitive
        )
        entry.references.extend(references)
        entry.group = key if counted else None
        yield entry


def _eip(context: BuildContext, key: str, body: Mapping[str, Any]) -> Iterator[Entry]:
    attributes = {"name": body.get("name", key)}
    entry = _entry(context, "eip", key, "eips", attributes, body)
    if "instance" in body:
        attributes["instance"] = body["instance"]
        entry.references.append(
            Reference("instance", body["instance"], ("eips", key, "instance"))
        )
    yield entry


def _load_balancer(
    context: BuildContext, key: str, body: Mapping[str, Any]
) -> Iterator[Entry]:
    """Backends keep the names as written; ``checks`` expands count groups."""
    path: JsonPath = ("loadBalancers", key)
    attributes: dict[str, Any] = {
        "name": body.get("name", key),
        "type": body.get("type", "public"),
    }
    entry = _entry(context, "loadBalancer", key, "loadBalancers", attributes, body)
    for kind in ("vpc", "subnet"):
        if kind in body:
            attributes[kind] = body[kind]
            entry.references.append(Reference(kind, body[kind], (*path, kind)))

    attributes["listeners"] = [_listener(item) for item in body.get("listeners", [])]
    attributes["backends"] = []
    for index, backend in enumerate(body.get("backends", [])):
        names = backend["instances"]
        names = [names] if isinstance(names, str) else names
        weight = backend.get("weight", DEFAULT_WEIGHT)
        backend_path = (*path, "backends", index, "instances")
        for position, name in enumerate(names):
            where = (
                backend_path
                if isinstance(backend["instances"], str)
                else (
                    *backend_path,
                    position,
                )
            )
            attributes["backends"].append({"instance": name, "weight": weight})
            entry.references.append(Reference("instance", name, where, True))
    yield entry


def _listener(item: Mapping[str, Any]) -> dict[str, Any]:
    listener = {
        "port": item["port"],
        "protocol": item["protocol"],
        "instancePort": item.get("instancePort", item["port"]),
    }
    listener |= {name: item[name] for name in LISTENER_OPTIONAL if name in item}
    return listener


_BUILDERS: dict[str, Builder] = {
    "vpcs": _vpc,
    "subnets": _subnet,
    "keyPairs": _key_pair,
    "instances": _instances,
    "eips": _eip,
    "loadBalancers": _load_balancer,
}


# --- shared steps ------------------------------------------------------------


def _entry(
    context: BuildContext,
    kind: str,
    name: str,
    section: str,
    attributes: dict[str, Any],
    body: Mapping[str, Any],
    key: str | None = None,
) -> Entry:
    """An entry with position, lifecycle and ``dependsOn`` filled in."""
    key_path: JsonPath = (section, key or name)
    position = context.source.key_or_value(key_path)
    address = Address(kind, name)
    entry = Entry(DesiredResource(address, attributes, position), key_path)
    entry.lifecycle = _lifecycle(body.get("lifecycle"))
    for index, text in enumerate(body.get("dependsOn", [])):
        entry.depends_on.append((Address.parse(text), (*key_path, "dependsOn", index)))
    return entry


def _lifecycle(body: Mapping[str, Any] | None) -> Lifecycle | None:
    if not body:
        return None
    return Lifecycle(
        prevent_destroy=bool(body.get("preventDestroy", False)),
        create_before_destroy=bool(body.get("createBeforeDestroy", False)),
        ignore_changes=frozenset(body.get("ignoreChanges", [])),
    )


def _with_defaults(
    context: BuildContext,
    kind: str,
    path: JsonPath,
    body: Mapping[str, Any],
    builtins: Mapping[str, Any],
) -> tuple[dict[str, Any], dict[str, JsonPath | None]]:
    """Attributes after defaults, and the path each one was written at."""
    defaults = (context.document.get("defaults") or {}).get(kind) or {}
    attributes: dict[str, Any] = dict(builtins)
    origins: dict[str, JsonPath | None] = dict.fromkeys(builtins)
    for name, value in defaults.items():
        attributes[name], origins[name] = value, ("defaults", kind, name)
    for name, value in body.items():
        attributes[name], origins[name] = value, (*path, name)
    return attributes, origins


def _copies(
    context: BuildContext, key: str, body: Mapping[str, Any]
) -> Iterator[tuple[str, str]]:
    """(address name, cloud name) per copy; ``{index}`` numbers the names."""
    count = body.get("count")
    name = body.get("name")
    if count is None:
        yield key, name if name is not None else key
        return

    if name is not None and "{index}" not in name and count > 1:
        context.warn(
            "Copies share one name",
            f"Instance {key!r} has count {count} and the fixed name {name!r}, "
            "so every copy gets that name in the cloud. Put {index} in the "
            "name to number them.",
            ("instances", key, "name"),
        )
    for index in range(count):
        copy = f"{key}-{index}"
        cloud = copy if name is None else name.replace("{index}", str(index))
        if len(cloud) > INSTANCE_NAME_LIMIT:
            context.error(
                "Name too long",
                f"The copy {copy!r} would be named {cloud!r} ({len(cloud)} "
                f"characters); instance names have at most "
                f"{INSTANCE_NAME_LIMIT}. Shorten the key or set a shorter name.",
                ("instances", key),
            )
            return
        yield copy, cloud


def _check_zone(context: BuildContext, zone: str, path: JsonPath) -> None:
    region = context.region
    if region is None or zone.startswith(region + "-"):
        return
    context.error(
        "Zone outside the region",
        f"The zone {zone!r} is not in the provider's region {region!r}; zones "
        f"of that region look like {region}-3.",
        path,
        at_value=True,
    )


def _and(names: list[str]) -> str:
    quoted = [repr(name) for name in names]
    if len(quoted) == 1:
        return quoted[0]
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]
