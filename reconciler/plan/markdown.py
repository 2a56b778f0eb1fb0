"""Plans rendered as Markdown for pull-request comments.

Called by the CLI for ``plan --format markdown``. One collapsible
``<details>`` block per resource, so a reviewer sees the summary first and
opens what interests them. Comment hosts cap a comment's size (GitHub at
65,536 characters), so the document is kept under ``LIMIT``: once the
blocks would pass it, the remaining changes are summarised by action with
their addresses, and the address list itself is cut if it must be.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Sequence

from reconciler.model.change import Action, AttributeChange, Change
from reconciler.plan.estimate import describe_depth, describe_seconds
from reconciler.plan.plan import Plan
from reconciler.plan.refresh import Drift
from reconciler.plan.render import SYMBOLS, shown

LIMIT = 60_000
# Room kept for the closing summary of what did not fit.
_TAIL_RESERVE = 6_000


def render_markdown(plan: Plan, limit: int = LIMIT) -> str:
    """The plan as a pull-request comment of at most ``limit`` characters."""
    head = _head(plan)
    budget = limit - len(head) - _TAIL_RESERVE
    blocks, left = _blocks_within(plan.changes, budget)
    tail = _left_out(left, _TAIL_RESERVE)
    text = "\n\n".join(part for part in [head, *blocks, tail] if part) + "\n"
    # The reserve is generous; this only guards a broken invariant.
    return text if len(text) <= limit else text[: limit - 2] + "\n"


def _head(plan: Plan) -> str:
    counts = plan.counts()
    add = counts[Action.CREATE] + counts[Action.REPLACE]
    destroy = counts[Action.DELETE] + counts[Action.REPLACE]
    lines = [
        f"### reconciler plan: {add} to add, {counts[Action.UPDATE]} to change, "
        f"{destroy} to destroy",
        "",
    ]
    if plan.drift:
        lines += [*_drift_lines(plan.drift), ""]
    if plan.is_empty or plan.options.refresh_only:
        lines.append("No changes. The cloud matches the manifest.")
        return "\n".join(lines)

    estimate = plan.estimate()
    calls = ", ".join(f"`{a}` {n}" for a, n in sorted(estimate.calls.items()))
    lines += [
        f"**API calls expected:** {sum(estimate.calls.values())} ({calls})  ",
        f"**Expected duration:** about {describe_seconds(estimate.seconds)} over "
        f"{describe_depth(estimate.depth)} (assumed {plan.profile.name} timings)",
    ]
    return "\n".join(lines)


def _drift_lines(drift: Sequence[Drift]) -> list[str]:
    lines = ["<details><summary>Changed outside reconciler: "]
    lines[0] += f"{len(drift)} resource(s)</summary>\n"
    for item in drift[:200]:
        if item.deleted:
            lines.append(f"- `{item.address}` no longer exists")
            continue
        names = ", ".join(sorted(item.attributes))
        lines.append(f"- `{item.address}`: {_cell(names)}")
    if len(drift) > 200:
        lines.append(f"- ... and {len(drift) - 200} more")
    lines += ["", "</details>"]
    return lines


def _blocks_within(
    changes: Sequence[Change], budget: int
) -> tuple[list[str], list[Change]]:
    """As many per-resource blocks as fit, and the changes left over."""
    blocks: list[str] = []
    used = 0
    for index, change in enumerate(changes):
        block = _block(change)
        if used + len(block) + 2 > budget:
            return blocks, list(changes[index:])
        blocks.append(block)
        used += len(block) + 2
    return blocks, []


def _block(change: Change) -> str:
    title = f"<code>{SYMBOLS[change.action]} {html.escape(str(change.address))}</code>"
    if change.resource_id:
        title += f" ({html.escape(change.resource_id)})"
    if change.reason:
        title += f" — {html.escape(change.reason)}"
    lines = [f"<details><summary>{title}</summary>", ""]
    if change.attributes:
        lines += ["| attribute | old | new | how |", "| --- | --- | --- | --- |"]
        lines += [_row(change.action, row) for row in change.attributes]
    else:
        lines.append("No attribute differs.")
    lines += ["", "</details>"]
    return "\n".join(lines)


def _row(action: Action, row: AttributeChange) -> str:
    old = "" if action is Action.CREATE else _cell(shown(row.old, row.sensitive))
    new = "" if action is Action.DELETE else _cell(shown(row.new, row.sensitive))
    return f"| {row.name} | {old} | {new} | {_cell(row.how)} |"


def _cell(text: str) -> str:
    """Safe inside a table cell: no HTML, no pipes, no line breaks."""
    escaped = html.escape(text, quote=False).replace("|", "\\|").replace("\n", " ")
    return escaped if len(escaped) <= 200 else escaped[:197] + "..."


def _left_out(changes: Sequence[Change], budget: int) -> str:
    if not changes:
        return ""
    counts = Counter(change.action.value for change in changes)
    by_action = ", ".join(f"{n} {action}" for action, n in sorted(counts.items()))
    lines = [
        f"**{len(changes)} more changes not shown in full** ({by_action}); "
        "run `reconciler plan` for every attribute.",
        "",
    ]
    used = sum(len(line) + 1 for line in lines)
    for index, change in enumerate(changes):
        line = f"- `{SYMBOLS[change.action]} {change.address}`"
        if used + len(line) + 60 > budget:
            # Room for the closing line is kept by the 60 characters.
            lines.append(f"- ... and {len(changes) - index} more")
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines)
