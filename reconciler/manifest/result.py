"""What the manifest package hands to the planner: ``Manifest`` and friends.

Built by ``reconciler.manifest.pipeline``; read by the CLI and the planner.
Plain frozen data, no behaviour beyond small lookups.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.diagnostics import Diagnostic
from reconciler.model.address import Address
from reconciler.model.resource import DesiredResource


@dataclass(frozen=True)
class Lifecycle:
    """How the planner may change one resource (``lifecycle`` in YAML)."""

    # Refuse a plan that deletes or replaces the resource.
    prevent_destroy: bool = False
    # On replacement, create the new resource before deleting the old one.
    create_before_destroy: bool = False
    # Attributes whose difference from the live value is never corrected.
    ignore_changes: frozenset[str] = frozenset()


NO_LIFECYCLE = Lifecycle()


@dataclass(frozen=True)
class Manifest:
    """A validated manifest, ready for planning."""

    # Region and endpoint from ``provider``; the CLI's flags take precedence.
    provider_region: str | None
    provider_endpoint: str | None
    # Every resource with count expanded and defaults applied, by address.
    resources: list[DesiredResource]
    # Directory of the manifest file (or the directory given); state and the
    # local cloud live in ``.reconciler/`` there.
    base_dir: Path
    # sha256 over the source files, so a saved plan can tell they changed.
    digest: str
    warnings: list[Diagnostic] = field(default_factory=list)
    # Per address: the lifecycle rules; resources without any are absent.
    lifecycle: Mapping[Address, Lifecycle] = field(default_factory=dict)
    # Per address: the resources it needs to exist first (references such as
    # an instance's subnet, plus ``dependsOn``). Every address is present.
    dependencies: Mapping[Address, frozenset[Address]] = field(default_factory=dict)

    def lifecycle_of(self, address: Address) -> Lifecycle:
        return self.lifecycle.get(address, NO_LIFECYCLE)
