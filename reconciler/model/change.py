"""Changes (what the plan proposes per resource) and operations (API steps).

A change is what a user approves: ``create``, ``update``, ``replace`` or
``delete`` of one resource, with one row per changed attribute. Each change
becomes one or more operations, the nodes of the plan's graph; the executor
groups ready operations that share an API action and its shared parameters
into batch calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from reconciler.model.address import Address


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"


@dataclass(frozen=True)
class AttributeChange:
    """One attribute row: old and new value and how it is carried out."""

    name: str
    old: Any
    new: Any
    how: str
    sensitive: bool = False


@dataclass(frozen=True)
class Change:
    address: Address
    action: Action
    attributes: tuple[AttributeChange, ...] = ()
    reason: str = ""
    resource_id: str | None = None


@dataclass(frozen=True)
class Operation:
    """One API step for one resource; a node of the plan graph.

    ``batch_key`` holds the parameters an operation must share with others to
    travel in one call (for ``RunInstancesHour``, the whole configuration);
    ``params`` are this resource's own parameters. ``wait_for`` names the
    live status the resource must reach before the operation counts as done.
    """

    address: Address
    api_action: str
    batch_key: tuple[tuple[str, Any], ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    resource_id: str | None = None
    wait_for: str | None = None

    @property
    def key(self) -> str:
        return f"{self.address}:{self.api_action}"
