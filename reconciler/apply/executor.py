"""The executor: walks the plan graph, batching whatever is ready.

In: a plan's operation graph and the steps that carry operations out. Out:
an ``ApplyResult`` saying per operation whether it is done, failed (with
code and message) or skipped (because something it depends on failed).

One scheduler thread owns all bookkeeping. At every turn it groups the
ready operations (dependencies done, back-off over) into batch calls, sends
them to a pool of workers, polls the instances that are still on their way
(one Describe per 100), and feeds every result back. A transient failure of
one item of a batch re-queues only that operation; a permanent one fails it
and skips its dependents, while everything else carries on.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Protocol

import networkx as nx

from reconciler.apply.outcome import Outcome, StepResult
from reconciler.apply.reporter import Reporter
from reconciler.cloud.errors import ApiError
from reconciler.model.change import Operation
from reconciler.plan.batching import BatchKey, batch_limit, form_batches

logger = logging.getLogger(__name__)


class Steps(Protocol):
    """What the executor needs of a cloud: send a batch, poll, record a goal."""

    def run(self, batch: list[Operation]) -> list[StepResult]: ...

    def poll(
        self, waiting: Mapping[str, Operation]
    ) -> tuple[list[StepResult], Counter[str]]: ...

    def record_goal(self, operation: Operation) -> None: ...

    def settled(self, operation: Operation) -> bool: ...


@dataclass(frozen=True)
class ExecutorSettings:
    parallelism: int = 10
    max_attempts: int = 5
    retry_base: float = 0.5
    retry_cap: float = 10.0
    poll_initial: float = 1.0
    poll_max: float = 5.0
    poll_factor: float = 1.5
    # Seconds an action's work usually takes to settle, per API action, and
    # the share of it to wait before the first status read.
    settle_seconds: Mapping[str, float] = field(default_factory=dict)
    first_poll_fraction: float = 0.5
    # Seconds a status read may wait for more work to fall due.
    poll_gather: float = 1.0
    # Seconds an operation may wait for its goal status before it fails: at
    # least ``deadline``, and ten times its action's usual settle time.
    deadline: float = 300.0
    deadline_factor: float = 10.0
    # Seconds a partial batch may wait for more operations of its kind, and
    # how long at most while all the others are already on their way.
    batch_linger: float = 2.0
    batch_linger_max: float = 10.0
    # Lowers every action's id limit; 1 sends one resource per call.
    max_batch_size: int | None = None


@dataclass
class ApplyResult:
    done: list[str] = field(default_factory=list)
    failed: dict[str, StepResult] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    # Operations not finished because the apply was interrupted.
    interrupted: list[str] = field(default_factory=list)
    # The cloud's task or request numbers each operation's calls answered.
    request_ids: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return not self.failed and not self.skipped and not self.interrupted


class Executor:
    def __init__(
        self,
        graph: nx.DiGraph,
        steps: Steps,
        reporter: Reporter | None = None,
        settings: ExecutorSettings | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.graph = graph
        self.steps = steps
        self.reporter = reporter or Reporter()
        self.settings = settings or ExecutorSettings()
        self.clock = clock

        # Bookkeeping, touched by the scheduler thread only.
        self.pending: set[str] = set(graph.nodes)  # not yet sent, or re-queued
        self.unmet: dict[str, int] = dict(graph.in_degree())
        self.ready: set[str] = {key for key, n in self.unmet.items() if n == 0}
        self.ready_since: dict[str, float] = {}
        self.not_before: dict[str, float] = {}
        self.attempts: Counter[str] = Counter()
        self.unsent: Counter[BatchKey] = Counter(
            self._batch_key(key) for key in graph.nodes
        )
        self.waiting: dict[str, float] = {}  # key -> deadline
        self.in_flight: dict[Future[list[StepResult]], list[str]] = {}
        self.poll_future: Future[tuple[list[StepResult], Counter[str]]] | None = None
        self.next_poll = 0.0
        self.due: dict[str, float] = {}  # key -> when its work should be done
        self.polled: list[str] = []
        self.stopping = False
        self.result = ApplyResult()

    def operation(self, key: str) -> Operation:
        return self.graph.nodes[key]["operation"]  # type: ignore[no-any-return]

    def _batch_key(self, key: str) -> BatchKey:
        operation = self.operation(key)
        return (operation.api_action, operation.batch_key)

    def run(self) -> ApplyResult:
        started = self.clock()
        workers = self.settings.parallelism + 1
        self.reporter.apply_started([self.operation(key) for key in sorted(self.graph)])
        try:
            with ThreadPoolExecutor(workers, thread_name_prefix="apply") as pool:
                while self._has_work():
                    if not self.stopping:
                        self._dispatch_ready(pool)
                        self._poll_if_due(pool)
                    self._collect(timeout=self._time_to_next_event())
        finally:
            self.reporter.apply_finished()

        if self.stopping:
            self.result.interrupted = sorted(self.pending | set(self.waiting))
        self.result.seconds = self.clock() - started
        return self.result

    def stop(self) -> None:
        """Send no new calls; ``run`` returns once the calls in flight answer.

        Safe to call from a signal handler. What was accepted but not yet
        finished is left to the next apply, which refreshes it.
        """
        self.stopping = True

    def _has_work(self) -> bool:
        if self.in_flight or self.poll_future:
            return True
        return not self.stopping and bool(self.pending or self.waiting)

    # Scheduling

    def _ready_now(self) -> list[Operation]:
        now = self.clock()
        ready = []
        for key in sorted(self.ready):
            if self.not_before.get(key, 0.0) <= now:
                self.ready_since.setdefault(key, now)
                ready.append(self.operation(key))
        return ready

    def _dispatch_ready(self, pool: ThreadPoolExecutor) -> None:
        ready = self._ready_now()
        for operation in [op for op in ready if self.steps.settled(op)]:
            # Its goal already holds (a batch create named it): no call needed.
            self._take_off_queue(operation.key)
            self._finish(operation, settled=True)
        ready = [op for op in ready if op.key in self.pending]

        for batch in form_batches(ready, self.settings.max_batch_size):
            if len(self.in_flight) >= self.settings.parallelism:
                return
            if self._worth_waiting_for_more(batch):
                continue
            self._send(pool, batch)

    def _worth_waiting_for_more(self, batch: list[Operation]) -> bool:
        """Hold a partial batch briefly while more of its kind are on their way.

        Operations of one kind rarely become ready at the same instant (a
        rename finishes a moment before its stop is due); waiting up to
        ``batch_linger`` lets them share one call instead of two. Past that,
        the batch waits on, up to ``batch_linger_max``, only while every
        other operation of its kind is already on its way: what it waits
        for is in flight or waiting for the cloud, not yet to be sent.
        """
        first = batch[0]
        key = (first.api_action, first.batch_key)
        limit = batch_limit(first.api_action)
        if len(batch) >= min(limit, self.settings.max_batch_size or limit):
            return False
        if self.unsent[key] <= len(batch):
            return False

        waited = self.clock() - min(self.ready_since[op.key] for op in batch)
        if waited < self.settings.batch_linger:
            return True
        if waited >= self.settings.batch_linger_max:
            return False
        members = {op.key for op in batch}
        moving = set(self.result.done) | set(self.waiting)
        moving |= {k for keys in self.in_flight.values() for k in keys}
        seen: dict[str, bool] = {}
        return all(
            self._on_its_way(other, moving, seen)
            for other in self.pending
            if other not in members and self._batch_key(other) == key
        )

    def _on_its_way(self, key: str, moving: set[str], seen: dict[str, bool]) -> bool:
        """True when nothing ``key`` waits for is still to be sent by choice.

        An operation is on its way when everything before it is done, in
        flight or waiting for the cloud (``moving``), or itself on its way;
        one held back by a retry's back-off or by a failure is not.
        """
        if key in seen:
            return seen[key]
        seen[key] = False
        if self.not_before.get(key, 0.0) > self.clock():
            return False
        answer = all(
            before in moving
            or (before in self.pending and self._on_its_way(before, moving, seen))
            for before in self.graph.predecessors(key)
        )
        seen[key] = answer
        return answer

    def _send(self, pool: ThreadPoolExecutor, batch: list[Operation]) -> None:
        keys = [op.key for op in batch]
        for key in keys:
            self._take_off_queue(key)
        self.attempts.update(keys)
        self.reporter.call_started(batch[0].api_action, batch)
        self.result.calls[batch[0].api_action] += 1
        self.in_flight[pool.submit(self.steps.run, batch)] = keys

    def _take_off_queue(self, key: str) -> None:
        self.pending.discard(key)
        self.ready.discard(key)
        self.ready_since.pop(key, None)
        self.unsent[self._batch_key(key)] -= 1

    def _put_on_queue(self, key: str, not_before: float) -> None:
        self.pending.add(key)
        self.ready.add(key)
        self.not_before[key] = not_before
        self.unsent[self._batch_key(key)] += 1

    def _poll_if_due(self, pool: ThreadPoolExecutor) -> None:
        """Read the status of the waiting operations whose work should be done.

        An operation is first read when its action usually settles
        (``settle_seconds``, scaled by ``first_poll_fraction``), so nobody
        asks after work that cannot be finished yet; then again at
        intervals that grow with how late it is, between ``poll_initial``
        and ``poll_max``. Work that falls due one resource at a time (each
        return answered a moment after the last) is gathered for up to
        ``poll_gather`` seconds, so one read covers many.
        """
        now = self.clock()
        if not self.waiting or self.poll_future or now < self.next_poll:
            return
        due = [key for key in self.waiting if self.due.get(key, 0.0) <= now]
        if not due:
            self.next_poll = min(self.due[key] for key in self.waiting)
            return
        coming = [self.due[key] for key in self.waiting if self.due[key] > now]
        gathered_until = min(self.due[key] for key in due) + self.settings.poll_gather
        if coming and now < gathered_until:
            self.next_poll = min(gathered_until, max(coming))
            return
        waiting = {key: self.operation(key) for key in due}
        self.poll_future = pool.submit(self.steps.poll, waiting)
        self.polled = due

    def _time_to_next_event(self) -> float:
        now = self.clock()
        moments = [self.next_poll] if self.waiting and not self.poll_future else []
        for key in self.ready:
            moments.append(self.not_before.get(key, now))
            if key in self.ready_since:
                moments.append(self.ready_since[key] + self.settings.batch_linger)
        future = [moment for moment in moments if moment > now]
        if not future:
            return 1.0 if not moments else 0.01
        return min(future) - now

    # Results

    def _collect(self, timeout: float) -> None:
        futures: list[Future] = list(self.in_flight)  # type: ignore[type-arg]
        if self.poll_future:
            futures.append(self.poll_future)
        if not futures:
            time.sleep(min(timeout, 0.05))
            return

        finished, _ = wait(futures, timeout=timeout, return_when=FIRST_COMPLETED)
        for future in finished:
            if future is self.poll_future:
                self._take_poll(future)
            else:
                keys = self.in_flight.pop(future)
                results = _results_of(future, keys)
                if results and not any(result.sent for result in results):
                    # The step found the goal held and sent nothing.
                    self.result.calls[self.operation(keys[0]).api_action] -= 1
                self._take_results(keys, results)

    def _take_poll(self, future: Future[tuple[list[StepResult], Counter[str]]]) -> None:
        self.poll_future = None
        try:
            results, calls = future.result()
        except ApiError as error:
            # A failed poll only delays the goal; the next turn reads again.
            logger.warning("Reading the status of waiting work failed: %s", error)
            results, calls = [], Counter({error.action: 1})
        self.result.calls.update(calls)

        now = self.clock()
        answered = {result.operation_key for result in results}
        for key, deadline in list(self.waiting.items()):
            if now > deadline and key not in answered:
                results.append(
                    StepResult(key, Outcome.FAILED, message="timed out waiting")
                )
        self._take_results(list(self.waiting), results)
        self._schedule_next_poll(now)

    def _schedule_next_poll(self, now: float) -> None:
        late = [now - self.due[key] for key in self.polled if key in self.waiting]
        lateness = max(late, default=0.0)
        interval = lateness * (self.settings.poll_factor - 1.0)
        interval = min(
            max(interval, self.settings.poll_initial), self.settings.poll_max
        )
        self.next_poll = now + interval

    def _take_results(self, keys: list[str], results: list[StepResult]) -> None:
        by_key = {result.operation_key: result for result in results}
        for key in keys:
            result = by_key.get(key)
            if result is not None:
                self._apply_outcome(key, result)

    def _apply_outcome(self, key: str, result: StepResult) -> None:
        operation = self.operation(key)
        if result.request_ids:
            known = self.result.request_ids.get(key, ())
            self.result.request_ids[key] = known + result.request_ids
        self.waiting.pop(key, None)
        if result.outcome is Outcome.ACCEPTED and operation.wait_for:
            self._wait_for_goal(key)
        elif result.outcome in (Outcome.DONE, Outcome.ACCEPTED):
            self._finish(operation, settled=not result.sent)
        elif result.outcome is Outcome.RETRY and self._may_retry(key):
            self._requeue(operation, result)
        else:
            self._fail(operation, result)

    def _wait_for_goal(self, key: str) -> None:
        now = self.clock()
        settle = self.settings.settle_seconds.get(self.operation(key).api_action, 0.0)
        patience = max(self.settings.deadline, settle * self.settings.deadline_factor)
        self.waiting[key] = now + patience
        self.due[key] = now + settle * self.settings.first_poll_fraction
        # New work to watch: look when it is due, or soon.
        self.next_poll = min(self.next_poll, max(self.due[key], now))

    def _finish(self, operation: Operation, settled: bool = False) -> None:
        self.steps.record_goal(operation)
        self.result.done.append(operation.key)
        if settled:
            self.reporter.operation_settled(operation)
        else:
            self.reporter.operation_done(operation)

        for dependent in self.graph.successors(operation.key):
            self.unmet[dependent] -= 1
            if self.unmet[dependent] == 0 and dependent in self.pending:
                self.ready.add(dependent)

    def _may_retry(self, key: str) -> bool:
        return self.attempts[key] < self.settings.max_attempts

    def _requeue(self, operation: Operation, result: StepResult) -> None:
        attempt = self.attempts[operation.key]
        ceiling = min(self.settings.retry_cap, self.settings.retry_base * 2**attempt)
        delay = random.uniform(0, ceiling)  # full jitter
        self._put_on_queue(operation.key, self.clock() + delay)
        logger.warning(
            "%s failed transiently (%s %s); retrying in %.1fs.",
            operation.key,
            result.code,
            result.message,
            delay,
        )
        self.reporter.operation_retrying(operation, result.message, delay)

    def _fail(self, operation: Operation, result: StepResult) -> None:
        self.result.failed[operation.key] = result
        self.reporter.operation_failed(operation, result.message)
        reason = f"{operation.key} failed"
        for dependent in sorted(nx.descendants(self.graph, operation.key)):
            if dependent in self.pending:
                self._take_off_queue(dependent)
                self.result.skipped[dependent] = reason
                self.reporter.operation_skipped(self.operation(dependent), reason)


def _results_of(future: Future[list[StepResult]], keys: list[str]) -> list[StepResult]:
    try:
        return future.result()
    except Exception as error:  # noqa: BLE001 - a bug must not hang the apply
        logger.exception("A step raised unexpectedly; this is a bug in reconciler.")
        return [
            StepResult(key, Outcome.FAILED, message=f"internal error: {error}")
            for key in keys
        ]
