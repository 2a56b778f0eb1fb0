"""Resources as the manifest wants them and as they exist.

Attributes are plain mappings keyed by the manifest's attribute names, so
the diff, the state store and the renderers treat every kind alike; the
per-kind rules live in ``reconciler.plan.rules``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.diagnostics import SourcePosition
from reconciler.model.address import Address

RUNNING = "running"
STOPPED = "stopped"


@dataclass(frozen=True)
class DesiredResource:
    """One resource of the manifest, with ``count`` expanded and defaults applied."""

    address: Address
    attributes: Mapping[str, Any]
    position: SourcePosition | None = None
    sensitive: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class CurrentResource:
    """One resource as the state store records it, refreshed from the cloud."""

    address: Address
    resource_id: str
    attributes: Mapping[str, Any]
