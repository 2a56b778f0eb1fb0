"""Diff: desired resources against current ones, one change per resource.

Pure and deterministic: no I/O, and the same inputs give the same changes
in the same order (sorted by address).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.model.address import Address
from reconciler.model.change import Action, AttributeChange, Change
from reconciler.model.resource import RUNNING, CurrentResource, DesiredResource
from reconciler.plan.rules import RULES_BY_KIND, AttributeRule, Mode


def diff(
    desired: Sequence[DesiredResource],
    current: Mapping[Address, CurrentResource],
) -> list[Change]:
    """Every change that brings ``current`` to ``desired``, sorted by address."""
    wanted = {resource.address: resource for resource in desired}
    changes: list[Change] = []

    for address in sorted(set(wanted) | set(current)):
        change = _diff_one(wanted.get(address), current.get(address))
        if change is not None:
            changes.append(change)
    return changes


def _diff_one(
    desired: DesiredResource | None, current: CurrentResource | None
) -> Change | None:
    if desired is None and current is not None:
        return _deletion(current)
    if desired is not None and current is None:
        return _creation(desired)
    assert desired is not None and current is not None
    return _update_or_replace(desired, current)


def _creation(desired: DesiredResource) -> Change:
    rows = tuple(
        AttributeChange(name, None, value, "set", name in desired.sensitive)
        for name, value in sorted(desired.attributes.items())
    )
    return Change(desired.address, Action.CREATE, rows)


def _deletion(current: CurrentResource) -> Change:
    rows = tuple(
        AttributeChange(name, value, None, "removed")
        for name, value in sorted(current.attributes.items())
    )
    return Change(
        current.address,
        Action.DELETE,
        rows,
        reason="not in the manifest",
        resource_id=current.resource_id,
    )


def _update_or_replace(
    desired: DesiredResource, current: CurrentResource
) -> Change | None:
    rules = RULES_BY_KIND[desired.address.kind]
    rows = tuple(
        AttributeChange(
            name,
            current.attributes.get(name),
            value,
            _how(rules[name], name, value),
            name in desired.sensitive,
        )
        for name, value in sorted(desired.attributes.items())
        if name in rules and current.attributes.get(name) != value
    )
    if not rows:
        return None

    forcing = [row.name for row in rows if rules[row.name].mode is Mode.REPLACE]
    if forcing:
        reason = f"changing {', '.join(forcing)} forces replacement"
        return Change(
            desired.address, Action.REPLACE, rows, reason, current.resource_id
        )
    return Change(desired.address, Action.UPDATE, rows, "", current.resource_id)


def _how(rule: AttributeRule, name: str, value: Any) -> str:
    if rule.mode is Mode.REPLACE:
        return "forces replacement"
    if rule.mode is Mode.POWER:
        return "StartInstances" if value == RUNNING else "StopInstances"
    return rule.api_action or "in place"
