"""The executor's scheduling against scripted steps (no cloud, no sleeps)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

import networkx as nx

from reconciler.apply.executor import Executor, ExecutorSettings
from reconciler.apply.outcome import Outcome, StepResult
from reconciler.model.address import Address
from reconciler.model.change import Operation

FAST = ExecutorSettings(
    retry_base=0.0, poll_initial=0.0, poll_max=0.0, batch_linger=0.0, poll_gather=0.0
)


def chain(graph: nx.DiGraph, *operations: Operation) -> None:
    for operation in operations:
        graph.add_node(operation.key, operation=operation)
    for before, after in zip(operations, operations[1:], strict=False):
        graph.add_edge(before.key, after.key)


def start(name: str) -> Operation:
    return Operation(Address("instance", name), "StartInstances", wait_for="running")


def rename(name: str) -> Operation:
    return Operation(Address("instance", name), "ModifyInstanceAttributes")


class ScriptedSteps:
    """Fails the listed keys once (transiently) or always (permanently)."""

    def __init__(self, flaky: set[str] = frozenset(), broken: set[str] = frozenset()):
        self.flaky = set(flaky)
        self.broken = set(broken)
        self.calls: list[list[str]] = []
        self.goals: list[str] = []

    def run(self, batch: list[Operation]) -> list[StepResult]:
        self.calls.append([op.key for op in batch])
        results = []
        for op in batch:
            if op.key in self.broken:
                results.append(StepResult(op.key, Outcome.FAILED, code=5100))
            elif op.key in self.flaky:
                self.flaky.discard(op.key)
                results.append(StepResult(op.key, Outcome.RETRY, code=5100))
            else:
                results.append(StepResult(op.key, Outcome.ACCEPTED))
        return results

    def poll(
        self, waiting: Mapping[str, Operation]
    ) -> tuple[list[StepResult], Counter[str]]:
        return [StepResult(key, Outcome.DONE) for key in waiting], Counter(x=1)

    def record_goal(self, operation: Operation) -> None:
        self.goals.append(operation.key)

    def settled(self, operation: Operation) -> bool:
        return False


def test_ready_operations_of_one_action_share_a_call() -> None:
    graph = nx.DiGraph()
    for name in ("a", "b", "c"):
        chain(graph, start(name))
    steps = ScriptedSteps()

    result = Executor(graph, steps, settings=FAST).run()

    assert result.succeeded
    assert steps.calls == [[f"instance.{n}:StartInstances" for n in "abc"]]
    assert sorted(steps.goals) == sorted(graph.nodes)


def test_a_transient_item_is_requeued_alone() -> None:
    graph = nx.DiGraph()
    for name in ("a", "b", "c"):
        chain(graph, start(name))
    steps = ScriptedSteps(flaky={"instance.b:StartInstances"})

    result = Executor(graph, steps, settings=FAST).run()

    assert result.succeeded
    assert steps.calls[1:] == [["instance.b:StartInstances"]]


def test_a_permanent_failure_skips_only_its_own_dependents() -> None:
    graph = nx.DiGraph()
    chain(graph, start("a"), rename("a"))
    chain(graph, start("b"), rename("b"))
    steps = ScriptedSteps(broken={"instance.a:StartInstances"})

    result = Executor(graph, steps, settings=FAST).run()

    assert list(result.failed) == ["instance.a:StartInstances"]
    assert list(result.skipped) == ["instance.a:ModifyInstanceAttributes"]
    assert "instance.b:ModifyInstanceAttributes" in result.done


def test_attempts_are_bounded() -> None:
    graph = nx.DiGraph()
    chain(graph, start("a"))

    class AlwaysFlaky(ScriptedSteps):
        def run(self, batch: list[Operation]) -> list[StepResult]:
            self.calls.append([op.key for op in batch])
            return [StepResult(op.key, Outcome.RETRY, code=5100) for op in batch]

    steps = AlwaysFlaky()
    settings = ExecutorSettings(
        max_attempts=3, retry_base=0.0, poll_initial=0.0, batch_linger=0.0
    )
    result = Executor(graph, steps, settings=settings).run()

    assert len(steps.calls) == 3
    assert list(result.failed) == ["instance.a:StartInstances"]


def test_a_partial_batch_waits_briefly_for_its_kind_to_join() -> None:
    graph = nx.DiGraph()
    chain(graph, rename("a"), start("a"))
    chain(graph, start("b"))
    steps = ScriptedSteps()
    settings = ExecutorSettings(poll_initial=0.0, poll_max=0.0, batch_linger=5.0)

    result = Executor(graph, steps, settings=settings).run()

    assert result.succeeded
    assert steps.calls == [
        ["instance.a:ModifyInstanceAttributes"],
        ["instance.a:StartInstances", "instance.b:StartInstances"],
    ]


def test_an_operation_that_never_settles_fails_at_its_deadline() -> None:
    graph = nx.DiGraph()
    chain(graph, start("a"), rename("a"))

    class NeverSettles(ScriptedSteps):
        def poll(
            self, waiting: Mapping[str, Operation]
        ) -> tuple[list[StepResult], Counter[str]]:
            return [], Counter(DescribeInstances=1)

    settings = ExecutorSettings(
        poll_initial=0.01, poll_max=0.01, deadline=0.1, deadline_factor=0.0
    )
    result = Executor(graph, NeverSettles(), settings=settings).run()

    assert result.failed["instance.a:StartInstances"].message == "timed out waiting"
    assert list(result.skipped) == ["instance.a:ModifyInstanceAttributes"]
    assert result.calls["DescribeInstances"] >= 2


def stop(name: str) -> Operation:
    return Operation(Address("instance", name), "StopInstances", wait_for="stopped")


class SlowStops(ScriptedSteps):
    """Stops take a few status reads to settle; everything else at once."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def poll(
        self, waiting: Mapping[str, Operation]
    ) -> tuple[list[StepResult], Counter[str]]:
        self.reads += 1
        settled = [
            StepResult(key, Outcome.DONE)
            for key, op in waiting.items()
            if op.api_action != "StopInstances" or self.reads >= 4
        ]
        return settled, Counter(DescribeInstances=1)


def test_a_batch_waits_for_its_kind_while_the_rest_is_on_its_way() -> None:
    graph = nx.DiGraph()
    chain(graph, start("a"))
    chain(graph, stop("b"), start("b"))
    steps = SlowStops()
    settings = ExecutorSettings(
        poll_initial=0.01,
        poll_max=0.01,
        poll_gather=0.0,
        batch_linger=0.0,
        batch_linger_max=5.0,
    )

    result = Executor(graph, steps, settings=settings).run()

    assert result.succeeded
    starts = [call for call in steps.calls if "StartInstances" in call[0]]
    assert starts == [["instance.a:StartInstances", "instance.b:StartInstances"]]
