"""How each attribute of each kind changes: in place (and by which action),
by powering the resource, or by replacing it.

The diff reads these tables; ``docs/changes.md`` is the user's copy of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Mode(str, Enum):
    IN_PLACE = "in-place"
    POWER = "power"
    REPLACE = "replace"


@dataclass(frozen=True)
class AttributeRule:
    mode: Mode
    api_action: str | None = None


INSTANCE_RULES: dict[str, AttributeRule] = {
    "name": AttributeRule(Mode.IN_PLACE, "ModifyInstanceAttributes"),
    "bandwidth": AttributeRule(Mode.IN_PLACE, "UpdateInstanceBandwidthHour"),
    "state": AttributeRule(Mode.POWER),
    # TODO(#6): an image change can be a ResetInstances reinstall and cpu or
    # memory a resize; until the planner knows them they replace.
    "zone": AttributeRule(Mode.REPLACE),
    "image": AttributeRule(Mode.REPLACE),
    "cpu": AttributeRule(Mode.REPLACE),
    "memory": AttributeRule(Mode.REPLACE),
    "disk": AttributeRule(Mode.REPLACE),
}

RULES_BY_KIND: dict[str, dict[str, AttributeRule]] = {"instance": INSTANCE_RULES}

# The configuration a batch create must share: RunInstancesHour creates
# ``goodsNum`` identical instances, so only these may differ between calls.
INSTANCE_CREATE_KEYS = ("zone", "image", "cpu", "memory", "disk", "bandwidth")
