"""Plans rendered for people (text with rich markup) and scripts (JSON).

Called by the CLI (plan, apply, destroy). Pure functions of a ``Plan``:
the same plan renders to the same bytes. The JSON document is versioned and
documented in ``docs/plan-format.md``; Markdown for pull requests lives in
``reconciler.plan.markdown``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import networkx as nx
from rich.markup import escape

from reconciler.model.change import Action, AttributeChange, Change
from reconciler.model.resource import CurrentResource
from reconciler.plan.estimate import describe_depth, describe_seconds
from reconciler.plan.plan import Plan
from reconciler.plan.refresh import Drift
from reconciler.plan.rules import rules_for
from reconciler.plan.sensitive import SHOWN

PLAN_FORMAT_VERSION = 1

SYMBOLS = {
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.DELETE: "-",
    Action.REPLACE: "-/+",
}
_COLOURS = {
    Action.CREATE: "green",
    Action.UPDATE: "yellow",
    Action.DELETE: "red",
    Action.REPLACE: "magenta",
}
NO_CHANGES = "No changes. The cloud matches the manifest."
NO_DRIFT = "No drift. State matches the cloud."


# --- text --------------------------------------------------------------------


def render_text(plan: Plan) -> str:
    """The plan as a person reads it; rich markup, values escaped."""
    lines = _drift_lines(plan.drift) if plan.drift else []
    if plan.options.refresh_only:
        return "\n".join(lines + [_refresh_only_line(plan)])
    if plan.is_empty:
        lines.append(f"[bold]{NO_CHANGES}[/bold]")
        return "\n".join(lines)

    lines += ["reconciler will make these changes:", ""]
    for change in plan.changes:
        lines += _change_lines(change)
        lines.append("")
    lines += [summary_line(plan), calls_line(plan), duration_line(plan)]
    if plan.options.targets:
        lines.append(_target_warning(plan))
    return "\n".join(lines)


def summary_line(plan: Plan) -> str:
    add, change, destroy = _totals(plan)
    return f"[bold]Plan:[/bold] {add} to add, {change} to change, {destroy} to destroy."


def calls_line(plan: Plan) -> str:
    calls = plan.predicted_calls()
    parts = ", ".join(f"{action} {count}" for action, count in sorted(calls.items()))
    return f"API calls expected: {sum(calls.values())} ({parts})."


def duration_line(plan: Plan) -> str:
    estimate = plan.estimate()
    return (
        f"Expected duration: about {describe_seconds(estimate.seconds)} over "
        f"{describe_depth(estimate.depth)} (assumed {plan.profile.name} "
        "timings; see docs/plan-format.md)."
    )


def _totals(plan: Plan) -> tuple[int, int, int]:
    counts = plan.counts()
    add = counts[Action.CREATE] + counts[Action.REPLACE]
    destroy = counts[Action.DELETE] + counts[Action.REPLACE]
    return add, counts[Action.UPDATE], destroy


def _change_lines(change: Change) -> list[str]:
    colour = _COLOURS[change.action]
    header = f"  [{colour}]{SYMBOLS[change.action]} {escape(str(change.address))}"
    header += f"[/{colour}]"
    if change.resource_id:
        header += f" ({escape(change.resource_id)})"
    if change.reason:
        header += f"  [dim]# {escape(change.reason)}[/dim]"

    width = max((len(row.name) for row in change.attributes), default=0)
    rows = [_attribute_line(change.action, row, width) for row in change.attributes]
    return [header, *rows]


def _attribute_line(action: Action, row: AttributeChange, width: int) -> str:
    name = row.name.ljust(width)
    old, new = shown(row.old, row.sensitive), shown(row.new, row.sensitive)
    if action is Action.CREATE:
        return f"      {name} = {escape(new)}"
    if action is Action.DELETE:
        return f"      [dim]{name} = {escape(old)}[/dim]"
    how = f"[dim]({escape(row.how)})[/dim]"
    return f"      {name} = {escape(old)} -> {escape(new)}  {how}"


def shown(value: Any, sensitive: bool) -> str:
    """A value as the plan prints it: JSON, or ``(sensitive)`` for secrets."""
    if sensitive:
        return SHOWN
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _drift_lines(drift: list[Drift]) -> list[str]:
    lines = ["Changed outside reconciler since the last apply:"]
    for item in drift:
        where = escape(str(item.address))
        if item.deleted:
            lines.append(f"  [red]- {where}[/red] no longer exists")
            continue
        lines.append(f"  [yellow]~ {where}[/yellow]")
        for name, (old, new) in sorted(item.attributes.items()):
            lines.append(
                f"      {name} = {escape(shown(old, False))}"
                f" -> {escape(shown(new, False))}"
            )
    lines.append("")
    return lines


def _refresh_only_line(plan: Plan) -> str:
    if not plan.drift:
        return f"[bold]{NO_DRIFT}[/bold]"
    return (
        f"[bold]Refresh only:[/bold] applying this plan records {len(plan.drift)} "
        "resource(s) in state as the cloud shows them; it changes nothing in "
        "the cloud."
    )


def _target_warning(plan: Plan) -> str:
    targets = ", ".join(sorted(str(address) for address in plan.options.targets))
    return (
        f"[yellow]Note:[/yellow] limited to {escape(targets)} and what it "
        "depends on; other changes wait for a full plan."
    )


# --- JSON --------------------------------------------------------------------


def render_json(plan: Plan) -> str:
    """A versioned document scripts can rely on (docs/plan-format.md)."""
    return json.dumps(plan_document(plan), indent=2, ensure_ascii=False)


def plan_document(plan: Plan) -> dict[str, Any]:
    estimate = plan.estimate()
    add, change, destroy = _totals(plan)
    counts = plan.counts()
    return {
        "format_version": PLAN_FORMAT_VERSION,
        "state": {"serial": plan.state_serial, "lineage": plan.state_lineage},
        "manifest_digest": plan.manifest_digest,
        "options": {
            "targets": sorted(str(a) for a in plan.options.targets),
            "replace": sorted(str(a) for a in plan.options.replace),
            "refresh_only": plan.options.refresh_only,
        },
        "summary": {
            **{action.value: counts[action] for action in Action},
            "add": add,
            "change": change,
            "destroy": destroy,
            "drifted": len(plan.drift),
        },
        "changes": [change_json(item) for item in plan.changes],
        "drift": [_drift_json(item, plan) for item in plan.drift],
        "operations": graph_operations_json(plan.graph),
        "prediction": {
            "calls": dict(sorted(estimate.calls.items())),
            "total_calls": sum(estimate.calls.values()),
            "depth": estimate.depth,
            "expected_seconds": estimate.seconds,
            "profile": plan.profile.name,
        },
    }


def change_json(change: Change) -> dict[str, Any]:
    return {
        "address": str(change.address),
        "kind": change.address.kind,
        "name": change.address.name,
        "action": change.action.value,
        "resource_id": change.resource_id,
        "reason": change.reason,
        "attributes": [
            {
                "name": row.name,
                "old": SHOWN if row.sensitive else row.old,
                "new": SHOWN if row.sensitive else row.new,
                "how": row.how,
                "sensitive": row.sensitive,
            }
            for row in change.attributes
        ],
    }


def _drift_json(drift: Drift, plan: Plan) -> dict[str, Any]:
    live = plan.current.get(drift.address)
    return {
        "address": str(drift.address),
        "resource_id": live.resource_id if live else None,
        "deleted": drift.deleted,
        "attributes": [
            {"name": name, "recorded": old, "live": new}
            for name, (old, new) in sorted(drift.attributes.items())
        ],
    }


def graph_operations_json(graph: nx.DiGraph) -> list[dict[str, Any]]:
    """Operations in a stable topological order, each with what it waits for."""
    operations = []
    for key in nx.lexicographical_topological_sort(graph):
        operation = graph.nodes[key]["operation"]
        operations.append(
            {
                "key": key,
                "address": str(operation.address),
                "api_action": operation.api_action,
                "resource_id": operation.resource_id,
                "wait_for": operation.wait_for,
                "after": sorted(graph.predecessors(key)),
            }
        )
    return operations


# --- state show --------------------------------------------------------------


def render_record_text(record: CurrentResource) -> str:
    """One recorded resource for ``state show``; secrets as ``(sensitive)``."""
    attributes = _record_attributes(record)
    width = max((len(name) for name in attributes), default=0)
    lines = [
        f"[bold]{escape(str(record.address))}[/bold]",
        f"  id = {escape(record.resource_id)}",
    ]
    lines += [
        f"  {name.ljust(width)} = {escape(value)}" for name, value in attributes.items()
    ]
    return "\n".join(lines)


def render_record_json(record: CurrentResource) -> str:
    secret = _secret_names(record)
    document = {
        "address": str(record.address),
        "resource_id": record.resource_id,
        "attributes": {
            name: SHOWN if name in secret else value
            for name, value in sorted(record.attributes.items())
        },
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


def _record_attributes(record: CurrentResource) -> dict[str, str]:
    secret = _secret_names(record)
    return {
        name: shown(value, name in secret)
        for name, value in sorted(record.attributes.items())
    }


def _secret_names(record: CurrentResource) -> set[str]:
    rules = rules_for(record.address.kind)
    return {name for name, rule in rules.items() if rule.sensitive}


# --- the graph command -------------------------------------------------------


def render_dot(graph: nx.DiGraph) -> str:
    """The graph in Graphviz DOT, nodes labelled by resource and API action."""
    lines = ["digraph plan {", "  rankdir=LR;", "  node [shape=box];"]
    for key in nx.lexicographical_topological_sort(graph):
        lines.append(f"  {_quoted(key)};")
    for before, after in sorted(graph.edges):
        lines.append(f"  {_quoted(before)} -> {_quoted(after)};")
    lines.append("}")
    return "\n".join(lines)


def render_graph_json(graph: nx.DiGraph) -> str:
    nodes = graph_operations_json(graph)
    edges = [{"from": a, "to": b} for a, b in sorted(graph.edges)]
    document: Mapping[str, Any] = {
        "format_version": PLAN_FORMAT_VERSION,
        "nodes": nodes,
        "edges": edges,
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
