"""Diff: desired resources against current ones, one change per resource.

Called by ``reconciler.plan.plan.make_plan``. Pure and deterministic: no
I/O, and the same inputs give the same changes in the same order (sorted by
address, rows sorted by attribute). Each row says how it is carried out,
from the per-kind tables of ``reconciler.plan.rules``. Lifecycle rules
(``ignoreChanges``, ``preventDestroy``) and ``--replace`` are honoured here;
``createBeforeDestroy`` only orders operations, so the graph reads it.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from reconciler.diagnostics import Diagnostic, DiagnosticError
from reconciler.manifest.result import NO_LIFECYCLE, Lifecycle
from reconciler.model.address import Address
from reconciler.model.change import Action, AttributeChange, Change
from reconciler.model.resource import RUNNING, CurrentResource, DesiredResource
from reconciler.plan.loadbalancer_operations import list_change_actions
from reconciler.plan.rules import AttributeRule, Mode, rules_for
from reconciler.plan.sensitive import secret_matches

logger = logging.getLogger(__name__)

REPLACE_REQUESTED = "replacement requested with --replace"


def diff(
    desired: Sequence[DesiredResource],
    current: Mapping[Address, CurrentResource],
    lifecycle: Mapping[Address, Lifecycle] | None = None,
    replace: Collection[Address] = (),
) -> list[Change]:
    """Every change that brings ``current`` to ``desired``, sorted by address.

    ``replace`` names resources to replace even when nothing differs.
    """
    wanted = {resource.address: resource for resource in desired}
    rules = lifecycle or {}
    changes: list[Change] = []

    for address in sorted(set(wanted) | set(current)):
        policy = rules.get(address, NO_LIFECYCLE)
        forced = address in replace
        change = _diff_one(wanted.get(address), current.get(address), policy, forced)
        if change is not None:
            changes.append(change)
    logger.debug("Diff of %d resources: %d changes.", len(wanted), len(changes))
    return changes


def check_prevent_destroy(
    changes: Sequence[Change],
    lifecycle: Mapping[Address, Lifecycle],
    desired: Mapping[Address, DesiredResource],
) -> None:
    """Refuse the plan when it deletes or replaces a protected resource."""
    problems = [
        _protected(change, desired.get(change.address))
        for change in changes
        if change.action in (Action.DELETE, Action.REPLACE)
        and lifecycle.get(change.address, NO_LIFECYCLE).prevent_destroy
    ]
    if problems:
        raise DiagnosticError(problems)


def _protected(change: Change, desired: DesiredResource | None) -> Diagnostic:
    verb = "replace" if change.action is Action.REPLACE else "delete"
    why = f" ({change.reason})" if change.reason else ""
    return Diagnostic(
        "Plan would destroy a protected resource",
        f"The plan would {verb} {change.address}{why}, but its lifecycle sets "
        "preventDestroy. Undo the change that forces this, or remove "
        "preventDestroy from the manifest if the resource may really go.",
        position=desired.position if desired else None,
        address=str(change.address),
    )


def _diff_one(
    desired: DesiredResource | None,
    current: CurrentResource | None,
    policy: Lifecycle,
    forced: bool,
) -> Change | None:
    if desired is None and current is not None:
        return _deletion(current)
    if desired is not None and current is None:
        return _creation(desired)
    assert desired is not None and current is not None
    return _update_or_replace(desired, current, policy, forced)


def _creation(desired: DesiredResource) -> Change:
    rows = tuple(
        AttributeChange(name, None, value, "set", name in desired.sensitive)
        for name, value in sorted(desired.attributes.items())
    )
    return Change(desired.address, Action.CREATE, rows)


def _deletion(current: CurrentResource) -> Change:
    rules = rules_for(current.address.kind)
    rows = tuple(
        AttributeChange(name, value, None, "removed", _is_secret(rules, name))
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
    desired: DesiredResource,
    current: CurrentResource,
    policy: Lifecycle,
    forced: bool,
) -> Change | None:
    rows = _attribute_rows(desired, current, policy.ignore_changes)
    if not rows and not forced:
        return None

    rules = rules_for(desired.address.kind)
    forcing = [row.name for row in rows if rules[row.name].mode is Mode.REPLACE]
    resource_id = current.resource_id
    if forced:
        return Change(
            desired.address, Action.REPLACE, rows, REPLACE_REQUESTED, resource_id
        )
    if forcing:
        reason = f"changing {', '.join(forcing)} forces replacement"
        return Change(desired.address, Action.REPLACE, rows, reason, resource_id)
    reason = _update_reason(rows, rules)
    return Change(desired.address, Action.UPDATE, rows, reason, resource_id)


def _attribute_rows(
    desired: DesiredResource,
    current: CurrentResource,
    ignored: Collection[str],
) -> tuple[AttributeChange, ...]:
    """One row per attribute the kind's table knows that differs."""
    rules = rules_for(desired.address.kind)
    wanted, live = desired.attributes, current.attributes
    rows = []
    for name in sorted(set(rules) & (set(wanted) | set(live))):
        if name in ignored:
            continue
        rule, old, new = rules[name], live.get(name), wanted.get(name)
        sensitive = name in desired.sensitive
        if _same(old, new, sensitive):
            continue
        how = _how(rule, new)
        if how is not None and name in _LIST_ATTRIBUTES.get(desired.address.kind, ()):
            how = list_change_actions(name, old or [], new or [])
        if how is not None:
            rows.append(AttributeChange(name, old, new, how, sensitive))
    return tuple(rows)


# Attributes whose change is a set of calls on the list's items.
_LIST_ATTRIBUTES = {"loadBalancer": ("listeners", "backends")}


def _same(old: Any, new: Any, sensitive: bool) -> bool:
    if sensitive:
        return secret_matches(new, old)
    return bool(old == new)


def _how(rule: AttributeRule, new: Any) -> str | None:
    """How the row is carried out; None when there is nothing to do."""
    if rule.mode is Mode.REPLACE:
        return f"forces replacement: {rule.note}"
    if rule.mode is Mode.POWER:
        return "StartInstances" if new == RUNNING else "StopInstances"
    if rule.mode is Mode.REINSTALL:
        return f"{rule.api_action}: {rule.note}"
    # Dropped from the manifest: only some attributes can be taken back (a
    # key unbound); a password, once set, simply stays.
    action = rule.unset_action if new is None else rule.api_action
    if action is None:
        return None
    return f"{action}, while stopped" if rule.needs_stop else action


def _update_reason(
    rows: Sequence[AttributeChange], rules: Mapping[str, AttributeRule]
) -> str:
    reinstalling = [row.name for row in rows if rules[row.name].mode is Mode.REINSTALL]
    if reinstalling:
        return f"changing {', '.join(reinstalling)} reinstalls the OS"
    return ""


def _is_secret(rules: Mapping[str, AttributeRule], name: str) -> bool:
    rule = rules.get(name)
    return rule is not None and rule.sensitive
