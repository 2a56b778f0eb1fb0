"""Plans rendered for people (text with rich markup) and scripts (JSON)."""

from __future__ import annotations

import json
from typing import Any

from rich.markup import escape

from reconciler.model.change import Action, AttributeChange, Change
from reconciler.plan.plan import Plan

PLAN_FORMAT_VERSION = 1

_SYMBOL = {
    Action.CREATE: ("+", "green"),
    Action.UPDATE: ("~", "yellow"),
    Action.DELETE: ("-", "red"),
    Action.REPLACE: ("-/+", "magenta"),
}
NO_CHANGES = "No changes. The cloud matches the manifest."


def render_text(plan: Plan) -> str:
    """The plan as a person reads it; rich markup, values escaped."""
    lines: list[str] = []
    if plan.drift:
        lines += _drift_lines(plan)
    if plan.is_empty:
        lines.append(f"[bold]{NO_CHANGES}[/bold]")
        return "\n".join(lines)

    lines.append("reconciler will make these changes:")
    lines.append("")
    for change in plan.changes:
        lines += _change_lines(change)
        lines.append("")
    lines.append(summary_line(plan))
    lines.append(_calls_line(plan))
    return "\n".join(lines)


def summary_line(plan: Plan) -> str:
    counts = plan.counts()
    add = counts[Action.CREATE] + counts[Action.REPLACE]
    change = counts[Action.UPDATE]
    destroy = counts[Action.DELETE] + counts[Action.REPLACE]
    return f"[bold]Plan:[/bold] {add} to add, {change} to change, {destroy} to destroy."


def _calls_line(plan: Plan) -> str:
    calls = plan.predicted_calls()
    total = sum(calls.values())
    parts = ", ".join(f"{action} {count}" for action, count in sorted(calls.items()))
    return f"API calls expected: {total} ({parts})."


def _change_lines(change: Change) -> list[str]:
    symbol, colour = _SYMBOL[change.action]
    header = f"  [{colour}]{symbol} {escape(str(change.address))}[/{colour}]"
    if change.resource_id:
        header += f" ({escape(change.resource_id)})"
    if change.reason:
        header += f"  [dim]# {escape(change.reason)}[/dim]"

    width = max((len(row.name) for row in change.attributes), default=0)
    rows = [_attribute_line(change.action, row, width) for row in change.attributes]
    return [header, *rows]


def _attribute_line(action: Action, row: AttributeChange, width: int) -> str:
    name = row.name.ljust(width)
    old, new = _shown(row.old, row.sensitive), _shown(row.new, row.sensitive)
    if action is Action.CREATE:
        return f"      {name} = {new}"
    if action is Action.DELETE:
        return f"      [dim]{name} = {old}[/dim]"
    return f"      {name} = {old} -> {new}  [dim]({escape(row.how)})[/dim]"


def _shown(value: Any, sensitive: bool) -> str:
    if sensitive:
        return "(sensitive)"
    return escape(json.dumps(value, ensure_ascii=False))


def _drift_lines(plan: Plan) -> list[str]:
    lines = ["Changed outside reconciler since the last apply:"]
    for drift in plan.drift:
        if drift.deleted:
            lines.append(f"  [red]{escape(str(drift.address))}[/red] no longer exists")
            continue
        for name, (old, new) in sorted(drift.attributes.items()):
            lines.append(
                f"  {escape(str(drift.address))}: {name} {_shown(old, False)}"
                f" -> {_shown(new, False)}"
            )
    lines.append("")
    return lines


def render_json(plan: Plan) -> str:
    """A versioned document scripts can rely on (docs/plan-format.md)."""
    # TODO(#6): document this format in docs/plan-format.md and pin it by tests.
    document = {
        "format_version": PLAN_FORMAT_VERSION,
        "state_serial": plan.state_serial,
        "manifest_digest": plan.manifest_digest,
        "summary": {action.value: plan.counts()[action] for action in Action},
        "predicted_calls": dict(sorted(plan.predicted_calls().items())),
        "changes": [_change_json(change) for change in plan.changes],
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


def _change_json(change: Change) -> dict[str, Any]:
    return {
        "address": str(change.address),
        "action": change.action.value,
        "resource_id": change.resource_id,
        "reason": change.reason,
        "attributes": [
            {
                "name": row.name,
                "old": "(sensitive)" if row.sensitive else row.old,
                "new": "(sensitive)" if row.sensitive else row.new,
                "how": row.how,
            }
            for row in change.attributes
        ],
    }
