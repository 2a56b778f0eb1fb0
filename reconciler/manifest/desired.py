"""The desired model: schema-valid manifest values to ``DesiredResource``s.

Called by ``reconciler.manifest.pipeline`` once the merged document has been
checked against the schema. Here defaults are applied, ``count`` groups are
expanded into one resource per copy, and each resource gets its address, its
position (where its key is written) and a flat mapping of attributes that the
planner compares with the state. Entries that failed the schema are skipped:
their problems are already reported.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.diagnostics import Diagnostic, Severity, SourcePosition
from reconciler.manifest.load import JsonPath, SourceMap
from reconciler.model.address import Address
from reconciler.model.resource import RUNNING, DesiredResource

logger = logging.getLogger(__name__)

INSTANCE_BUILTINS: Mapping[str, Any] = {"disk": 50, "bandwidth": 0, "state": RUNNING}
INSTANCE_REQUIRED = ("zone", "image", "cpu", "memory")
INSTANCE_ATTRIBUTES = ("zone", "image", "cpu", "memory", "disk", "bandwidth", "state")
INSTANCE_NAME_LIMIT = 60


@dataclass
class BuildContext:
    """What the builders share: the merged document and where things are."""

    document: Mapping[str, Any]
    source: SourceMap
    failed: set[JsonPath]
    region: str | None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def has_failed(self, prefix: JsonPath) -> bool:
        return any(path[: len(prefix)] == prefix for path in self.failed)

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


def build_resources(context: BuildContext) -> list[DesiredResource]:
    """Every resource of the manifest, sorted by address."""
    if context.has_failed(("defaults",)) or context.has_failed(("provider",)):
        # Defaults feed every resource; building on broken ones would only
        # repeat their errors once per resource.
        return []

    resources: list[DesiredResource] = []
    entries = context.document.get("instances") or {}
    for key, body in entries.items():
        if not context.has_failed(("instances", key)):
            resources.extend(_instances(context, key, body or {}))

    resources = _without_duplicates(context, resources)
    return sorted(resources, key=lambda resource: resource.address)


def _instances(
    context: BuildContext, key: str, body: Mapping[str, Any]
) -> Iterator[DesiredResource]:
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

    position = context.source.key_or_value(path)
    for address_name, cloud_name in _copies(context, key, body):
        values = {"name": cloud_name}
        values.update({name: attributes[name] for name in INSTANCE_ATTRIBUTES})
        yield DesiredResource(Address("instance", address_name), values, position)


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


def _without_duplicates(
    context: BuildContext, resources: list[DesiredResource]
) -> list[DesiredResource]:
    """Keep the first resource of each address; report the others."""
    first: dict[Address, DesiredResource] = {}
    ordered = sorted(resources, key=lambda resource: _position_key(resource.position))
    for resource in ordered:
        earlier = first.get(resource.address)
        if earlier is None:
            first[resource.address] = resource
            continue
        context.diagnostics.append(
            Diagnostic(
                "Duplicate resource",
                f"{resource.address} is already defined at {earlier.position}; "
                "a count group KEY with count N defines KEY-0 .. KEY-(N-1).",
                resource.position,
                address=str(resource.address),
            )
        )
    return list(first.values())


def _position_key(position: SourcePosition | None) -> tuple[str, int, int]:
    if position is None:
        return ("", 0, 0)
    return (position.path, position.line, position.column)


def _and(names: list[str]) -> str:
    quoted = [repr(name) for name in names]
    if len(quoted) == 1:
        return quoted[0]
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]
