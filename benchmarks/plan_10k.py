"""Plan 10,000 instances against the local cloud and print what it cost.

Not part of the test suite (pytest collects only ``tests/``). Run:

    python benchmarks/plan_10k.py [--instances N] [--changed 0.1]

It fills a fresh local cloud with N instances (100 per RunInstancesHour),
records them in a fresh state, then plans twice: with no changes, and with
a fraction of them changed (half renamed, half stopped). For each it prints
the refresh time (Describe calls over loopback HTTP), the planning work
after it (diff, graph, prediction, text and JSON rendering), the peak
memory traced over refresh and planning together, and the DescribeInstances
calls made, with their ratio to the lower bound ceil(N/100).

The local cloud runs in this process, so the refresh time includes the
emulator's own work on the same interpreter.
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
import tracemalloc
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reconciler.cloud.apis import CloudApis
from reconciler.cloud.client import Credentials, LegacyClient
from reconciler.cloud.cvm import CvmApi
from reconciler.cloud.ratelimit import RateLimiter
from reconciler.emulator import (
    DEFAULT_SECRET_ID,
    DEFAULT_SECRET_KEY,
    EmulatorConfig,
    start_in_thread,
)
from reconciler.model.address import Address
from reconciler.model.resource import DesiredResource
from reconciler.plan.plan import Plan, make_plan
from reconciler.plan.refresh import RefreshResult, refresh
from reconciler.plan.render import render_json, render_text
from reconciler.state.store import StateStore

CONFIG = {
    "zone": "ap-guangzhou-3",
    "image": "img-ubuntu22",
    "cpu": 1,
    "memory": 2,
    "disk": 50,
    "bandwidth": 0,
}


def main() -> None:
    args = _arguments()
    with tempfile.TemporaryDirectory(prefix="plan-bench-") as workdir:
        server = start_in_thread(
            Path(workdir) / "cloud.db", EmulatorConfig(time_scale=0)
        )
        store = StateStore(Path(workdir) / "state.db")
        try:
            apis = _apis(server.url)
            names = _fill(apis.cvm, store, args.instances)
            print(f"{args.instances} instances in the local cloud and in state.\n")
            _run("no changes", names, store, apis, server.url, 0.0)
            _run(
                f"{args.changed:.0%} changed",
                names,
                store,
                apis,
                server.url,
                args.changed,
            )
        finally:
            store.close()
            server.stop()


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=10_000)
    parser.add_argument("--changed", type=float, default=0.1)
    return parser.parse_args()


def _apis(url: str) -> CloudApis:
    credentials = Credentials(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY)
    client = LegacyClient(
        credentials,
        region="ap-guangzhou",
        endpoint=url,
        rate_limiter=RateLimiter(enabled=False),
    )
    return CloudApis.over(client)


def _fill(cvm: CvmApi, store: StateStore, count: int) -> dict[str, str]:
    """Create ``count`` instances, 100 per call, and record each in state."""
    names: dict[str, str] = {}
    for start in range(0, count, 100):
        goods = min(100, count - start)
        ids = cvm.run_instances_hour(CONFIG, goods, "bench", f"bench-{start}")
        for offset, resource_id in enumerate(ids):
            names[f"i{start + offset:05}"] = resource_id

    # The cloud names every instance of a call alike; state records that
    # name, and the desired names below match it, so nothing differs.
    for name, resource_id in names.items():
        attributes = {**CONFIG, "name": "bench", "state": "running"}
        store.put_resource(Address("instance", name), resource_id, attributes)
    return names


def _desired(names: dict[str, str], changed: float) -> list[DesiredResource]:
    every = max(1, round(1 / changed)) if changed else 0
    resources = []
    for index, name in enumerate(sorted(names)):
        attributes: dict[str, Any] = {**CONFIG, "name": "bench", "state": "running"}
        if every and index % every == 0:
            # Half renamed, half stopped: one call each, and batched stops.
            key = "name" if (index // every) % 2 == 0 else "state"
            attributes[key] = f"{name}-new" if key == "name" else "stopped"
        resources.append(DesiredResource(Address("instance", name), attributes))
    return resources


def _run(
    label: str,
    names: dict[str, str],
    store: StateStore,
    apis: CloudApis,
    url: str,
    changed: float,
) -> None:
    desired = _desired(names, changed)
    before = _describe_calls(url)

    started = time.perf_counter()
    refreshed = refresh(store.resources(), apis)
    refresh_seconds = time.perf_counter() - started
    describes = _describe_calls(url) - before

    plan, work_seconds = _timed(lambda: _plan_and_render(desired, refreshed))
    peak = _peak_bytes(
        lambda: _plan_and_render(desired, refresh(store.resources(), apis))
    )
    _report(label, len(names), plan, refresh_seconds, work_seconds, peak, describes)


def _plan_and_render(desired: list[DesiredResource], refreshed: RefreshResult) -> Plan:
    plan = make_plan(desired, refreshed.current, refreshed.drift, 0, "")
    render_text(plan)
    render_json(plan)
    return plan


def _timed(work: Callable[[], Plan]) -> tuple[Plan, float]:
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started


def _peak_bytes(work: Callable[[], Plan]) -> int:
    # A second run under tracemalloc: tracing slows the work, so the time
    # above comes from the untraced run.
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _describe_calls(url: str) -> int:
    with urllib.request.urlopen(f"{url}/_emulator/stats") as answer:
        stats = json.load(answer)
    return int(stats["calls"].get("DescribeInstances", 0))


def _report(
    label: str,
    count: int,
    plan: Plan,
    refresh_seconds: float,
    work_seconds: float,
    peak: int,
    describes: int,
) -> None:
    bound = math.ceil(count / 100)
    calls = dict(sorted(plan.predicted_calls().items()))
    print(f"== {label}: {len(plan.changes)} changes, predicted calls {calls}")
    print(f"  refresh (Describe over HTTP): {refresh_seconds:6.2f} s")
    print(f"  planning work after refresh:  {work_seconds:6.2f} s")
    print(f"  total:                        {refresh_seconds + work_seconds:6.2f} s")
    print(f"  peak memory, refresh + plan:  {peak / 2**20:6.1f} MiB")
    print(
        f"  DescribeInstances calls: {describes} "
        f"(lower bound {bound}, ratio {describes / bound:.2f})\n"
    )


if __name__ == "__main__":
    main()
