"""Apply N instances against the local cloud: batched vs one per call.

Run: ``python benchmarks/apply_scale.py [--instances 1000] [--time-scale 1]
[--real-limits] [--distinct-names]``

Creates N instances (half running, half stopped), then stops the running
half and starts the stopped half, then destroys everything; once with
reconciler's batching and once with one resource per call and 10 calls in
parallel (the way per-resource tools work). Prints, measured in this run:

- API calls per phase against the lower bound
  ``sum over actions of ceil(n_action / id_limit)`` (polling excluded, shown
  apart);
- wall time against the critical path (the emulator's task durations along
  the longest dependency chain) and against the baseline.
"""

from __future__ import annotations

import argparse
import math
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import networkx as nx

from reconciler.apply.executor import ApplyResult, Executor, ExecutorSettings
from reconciler.apply.steps import CloudSteps, StepContext
from reconciler.cloud.apis import CloudApis
from reconciler.cloud.client import LegacyClient
from reconciler.cloud.credentials import Credentials
from reconciler.cloud.ratelimit import RateLimiter
from reconciler.emulator import (
    DEFAULT_DURATIONS,
    DEFAULT_SECRET_ID,
    DEFAULT_SECRET_KEY,
)
from reconciler.model.address import Address
from reconciler.model.resource import DesiredResource
from reconciler.plan.batching import batch_limit
from reconciler.plan.planner import plan_changes
from reconciler.state.store import StateStore

BASE = {
    "zone": "ap-guangzhou-3",
    "image": "img-ubuntu22",
    "cpu": 1,
    "memory": 2,
    "disk": 50,
    "bandwidth": 0,
}


def fleet(count: int, flip: bool, distinct_names: bool) -> list[DesiredResource]:
    """``count`` instances, half running and half stopped (swapped by ``flip``).

    With ``distinct_names`` each is named after its key, which costs one
    rename call per instance after the batch create; else all share a name.
    """
    resources = []
    for index in range(count):
        running = (index % 2 == 0) != flip
        attributes = {
            **BASE,
            "name": f"node-{index:05}" if distinct_names else "node",
            "state": "running" if running else "stopped",
        }
        resources.append(
            DesiredResource(Address("instance", f"node-{index:05}"), attributes)
        )
    return resources


def lower_bound(calls_needed: Counter[str]) -> int:
    return sum(math.ceil(n / batch_limit(a)) for a, n in calls_needed.items())


def critical_path(graph: nx.DiGraph, time_scale: float) -> float:
    """Seconds of task time along the longest dependency chain."""

    def weight(key: str) -> float:
        action = graph.nodes[key]["operation"].api_action
        return DEFAULT_DURATIONS.get(action, 0.0) * time_scale

    longest: dict[str, float] = {}
    for key in nx.topological_sort(graph):
        before = [longest[p] for p in graph.predecessors(key)]
        longest[key] = max(before, default=0.0) + weight(key)
    return max(longest.values(), default=0.0)


def run_phase(
    apis: CloudApis,
    store: StateStore,
    desired: list[DesiredResource],
    settings: ExecutorSettings,
    time_scale: float,
) -> tuple[ApplyResult, int, float]:
    plan = plan_changes(desired, store, apis)
    needed = Counter(op.api_action for op in plan.operations())
    # A rename after a batch create that already gave the right name needs
    # no call; the plan's prediction knows which.
    needed["ModifyInstanceAttributes"] = plan.predicted_calls().get(
        "ModifyInstanceAttributes", 0
    )
    steps = CloudSteps(StepContext(apis, store))

    result = Executor(plan.graph, steps, settings=settings).run()
    assert result.succeeded, (result.failed, result.skipped)
    return result, lower_bound(needed), critical_path(plan.graph, time_scale)


def run(
    count: int,
    time_scale: float,
    settings: ExecutorSettings,
    distinct_names: bool,
    real_limits: bool,
) -> list[tuple[str, ApplyResult, int, float]]:
    with (
        tempfile.TemporaryDirectory() as workdir,
        local_cloud(Path(workdir) / "cloud.db", time_scale) as url,
    ):
        # Without --real-limits no client-side rate limit, as for every
        # loopback endpoint; with it, the limits reconciler keeps toward the
        # real cloud (10 changes/s and 40 reads/s per action).
        client = LegacyClient(
            Credentials(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY),
            "ap-guangzhou",
            url,
            rate_limiter=RateLimiter(enabled=real_limits),
        )
        apis = CloudApis.over(client)
        store = StateStore(Path(workdir) / "state.db")
        phases: list[tuple[str, Callable[[], list[DesiredResource]]]] = [
            ("create", lambda: fleet(count, False, distinct_names)),
            ("flip power", lambda: fleet(count, True, distinct_names)),
            ("destroy", lambda: []),
        ]
        results = []
        for name, desired in phases:
            result, bound, path = run_phase(
                apis, store, desired(), settings, time_scale
            )
            results.append((name, result, bound, path))
        store.close()
    return results


@contextmanager
def local_cloud(db: Path, time_scale: float) -> Iterator[str]:
    """``reconciler emulator serve`` in its own process, as users run it.

    In this process it would share the interpreter lock with the client and
    slow both; the cloud a user talks to is never in the same process.
    """
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "reconciler",
            "emulator",
            "serve",
            "--port",
            str(port),
            "--db",
            str(db),
            "--time-scale",
            str(time_scale),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_listening(port)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_listening(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"the local cloud did not start on port {port}")


def report(
    label: str, results: list[tuple[str, ApplyResult, int, float]]
) -> dict[str, float]:
    print(f"\n{label}")
    seconds = {}
    for name, result, bound, path in results:
        calls = sum(n for a, n in result.calls.items() if a != "DescribeInstances")
        polls = result.calls["DescribeInstances"]
        seconds[name] = result.seconds
        print(
            f"  {name:<11} calls {calls:>5} (lower bound {bound:>4}, "
            f"ratio {calls / max(bound, 1):.2f})  polls {polls:>4}  "
            f"time {result.seconds:6.2f}s (critical path {path:.2f}s, "
            f"ratio {result.seconds / max(path, 1e-9):.2f})"
        )
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=1000)
    parser.add_argument("--time-scale", type=float, default=1.0)
    parser.add_argument(
        "--real-limits",
        action="store_true",
        help="keep the real cloud's per-action request rates in both runs",
    )
    parser.add_argument(
        "--distinct-names",
        action="store_true",
        help="name every instance apart (one rename call each)",
    )
    args = parser.parse_args()

    # Both runs read status when the local cloud's work should be done, as
    # reconciler does against an embedded local cloud.
    settle = {a: d * args.time_scale for a, d in DEFAULT_DURATIONS.items()}
    local = ExecutorSettings(
        poll_initial=0.05,
        poll_max=0.5,
        retry_base=0.1,
        batch_linger=0.3,
        batch_linger_max=2.0,
        settle_seconds=settle,
        first_poll_fraction=0.9,
        poll_gather=0.2,
    )
    batched = run(
        args.instances, args.time_scale, local, args.distinct_names, args.real_limits
    )
    baseline = run(
        args.instances,
        args.time_scale,
        replace(local, parallelism=10, batch_linger=0.0, max_batch_size=1),
        args.distinct_names,
        args.real_limits,
    )

    naming = "distinct names" if args.distinct_names else "one shared name"
    if args.real_limits:
        naming += ", real-cloud rate limits"
    ours = report(
        f"reconciler, {args.instances} instances ({naming}), batched", batched
    )
    theirs = report("baseline: one resource per call, 10 in parallel", baseline)
    print("\nspeed-up over the baseline:")
    for phase in ours:
        print(f"  {phase:<11} {theirs[phase] / max(ours[phase], 1e-9):6.1f}x")


if __name__ == "__main__":
    main()
