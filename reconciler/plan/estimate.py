"""What applying a plan will cost: API calls per action and expected time.

Called by ``Plan.predicted_calls`` and ``Plan.expected_seconds``; shown in
every rendered plan, and the apply prints its actual figures beside them.
Pure: the estimate walks the graph level by level (``topological
generations``), forming batches with the executor's own rules
(``reconciler.plan.batching``). Time adds up level by level; calls are
counted over the whole plan, since the executor lets a partial batch wait
briefly for the rest of its kind.

The time model, per level: the slowest asynchronous settle time of the
level's API actions, plus the level's calls sent ``parallelism`` at a time,
each taking one round trip, plus half a poll interval to notice the settle.
The levels add up. Settle times are assumptions, documented in
``docs/plan-format.md``; the real cloud's vary with region and load.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import networkx as nx

from reconciler.model.address import Address
from reconciler.model.change import Operation
from reconciler.plan.batching import batch_instance_name, form_batches


@dataclass(frozen=True)
class DurationProfile:
    """How long things take on one cloud, for the expected duration."""

    name: str
    # Seconds from an accepted call until the resource settles, per action;
    # actions missing here finish with their answer.
    settle_seconds: Mapping[str, float] = field(default_factory=dict)
    # One call's round trip, answer included.
    call_seconds: float = 0.3
    # Delay between two status polls once settled (half of it on average).
    poll_seconds: float = 5.0
    # Calls in flight at once (apply --parallelism).
    parallelism: int = 10


# Assumed for the real cloud: the order of magnitude seen for hourly CVM
# instances, not a measured or published figure.
TENCENT_CLOUD = DurationProfile(
    name="Tencent Cloud",
    settle_seconds={
        "RunInstancesHour": 90.0,
        "StartInstances": 30.0,
        "StopInstances": 30.0,
        "ReturnInstance": 30.0,
        "ResetInstances": 180.0,
        "ResetInstancePassword": 30.0,
        "BindInstanceKey": 20.0,
        "UnBindInstanceKey": 20.0,
    },
)


@dataclass(frozen=True)
class Estimate:
    calls: Counter[str]
    seconds: float
    # Number of dependency levels: the longest chain of operations.
    depth: int


def estimate(graph: nx.DiGraph, profile: DurationProfile = TENCENT_CLOUD) -> Estimate:
    """API calls per action and expected seconds, if nothing fails."""
    calls: Counter[str] = Counter()
    seconds = 0.0
    renamed_free: set[Address] = set()
    levels = _levels(graph)

    needing_calls: list[Operation] = []
    for level in levels:
        sent = _calls_of_level(level, renamed_free)
        needing_calls += [operation for batch in sent for operation in batch]
        seconds += _level_seconds(sent, profile)

    # Calls are counted over the whole plan: operations of one kind that
    # become ready at different levels still share calls, because the
    # executor holds a partial batch briefly for the rest of its kind.
    calls.update(batch[0].api_action for batch in form_batches(needing_calls))
    return Estimate(calls, round(seconds, 1), len(levels))


def _calls_of_level(
    level: list[Operation], renamed_free: set[Address]
) -> list[list[Operation]]:
    """The batches one level sends; a create's rename is free when the
    batch already gave the instance its name."""
    sent = []
    for batch in form_batches(level):
        if batch[0].api_action == "RunInstancesHour":
            name = batch_instance_name(batch)
            renamed_free |= {op.address for op in batch if op.params["name"] == name}
        if _needs_call(batch, renamed_free):
            sent.append(batch)
    return sent


def _level_seconds(sent: list[list[Operation]], profile: DurationProfile) -> float:
    if not sent:
        return 0.0
    rounds = math.ceil(len(sent) / profile.parallelism)
    settles = [profile.settle_seconds.get(batch[0].api_action, 0.0) for batch in sent]
    settle = max(settles)
    noticed = profile.poll_seconds / 2 if settle else 0.0
    return rounds * profile.call_seconds + settle + noticed


def _needs_call(batch: list[Operation], renamed_free: set[Address]) -> bool:
    first = batch[0]
    is_create_rename = first.api_action == "ModifyInstanceAttributes" and (
        first.resource_id is None
    )
    return not (is_create_rename and first.address in renamed_free)


def _levels(graph: nx.DiGraph) -> list[list[Operation]]:
    return [
        [graph.nodes[key]["operation"] for key in sorted(generation)]
        for generation in nx.topological_generations(graph)
    ]


def describe_depth(depth: int) -> str:
    """``1 dependency level``, ``3 dependency levels``."""
    return f"{depth} dependency level" + ("" if depth == 1 else "s")


def describe_seconds(seconds: float) -> str:
    """``0.4s``, ``45s``, ``3m 20s``, ``1h 05m``: the precision a person needs."""
    if seconds < 10:
        return f"{seconds:.1f}s"
    whole = int(round(seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m {whole % 60:02d}s"
    return f"{whole // 3600}h {whole % 3600 // 60:02d}m"
