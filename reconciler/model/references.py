"""Which attributes of a resource name other resources.

A reference holds the other resource's manifest key; the field says its
kind. The planner orders operations by references (create what is
referenced first, delete it last) and the executor resolves them to cloud
ids when it sends a call. Recorded resources keep their references, so a
resource deleted from the manifest is still deleted in the right order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.model.address import Address

# kind -> attribute -> kind of the resource it names
REFERENCE_FIELDS: dict[str, dict[str, str]] = {
    "subnet": {"vpc": "vpc"},
    "instance": {"subnet": "subnet", "keyPair": "keyPair"},
    "eip": {"instance": "instance"},
    "loadBalancer": {"vpc": "vpc", "subnet": "subnet"},
}


def references_of(kind: str, attributes: Mapping[str, Any]) -> frozenset[Address]:
    """Every resource that ``attributes`` (of a resource of ``kind``) names."""
    found = {
        Address(target, str(attributes[name]))
        for name, target in REFERENCE_FIELDS.get(kind, {}).items()
        if attributes.get(name)
    }
    if kind == "loadBalancer":
        found |= {
            Address("instance", str(row["instance"]))
            for row in attributes.get("backends") or ()
        }
    return frozenset(found)


def reference(attributes: Mapping[str, Any], name: str, kind: str) -> Address | None:
    """The address ``attributes[name]`` names, or None when it is unset."""
    value = attributes.get(name)
    return Address(kind, str(value)) if value else None
