"""One apply from start to end: run the executor, record it in history.

Called by the CLI once the plan is approved and the state lock is held.
Ctrl-C once asks the executor to stop sending calls and to wait for the
ones in flight (their results are recorded); a second Ctrl-C exits at once.
Either way the state journal lets the next apply resume without duplicates.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

from reconciler.apply.executor import ApplyResult, Executor, ExecutorSettings, Steps
from reconciler.apply.reporter import Reporter
from reconciler.plan.plan import Plan
from reconciler.state.store import OperationRecord, StateStore

logger = logging.getLogger(__name__)

INTERRUPTED_EXIT = 1


def execute_plan(
    plan: Plan,
    steps: Steps,
    store: StateStore,
    command: str,
    reporter: Reporter | None = None,
    settings: ExecutorSettings | None = None,
    on_interrupt: Callable[[], None] | None = None,
) -> ApplyResult:
    """Carry out ``plan`` and record the run and every outcome in history."""
    apply_id = store.begin_apply(command)
    executor = Executor(plan.graph, steps, reporter, settings)

    with _interruptible(executor, on_interrupt):
        result = executor.run()

    store.finish_apply(
        apply_id,
        _outcome(result),
        result.calls,
        plan.predicted_calls(),
        _records(result),
    )
    return result


@contextmanager
def _interruptible(
    executor: Executor, on_interrupt: Callable[[], None] | None
) -> Iterator[None]:
    """First SIGINT stops the executor gently; the second ends the process."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum: int, frame: FrameType | None) -> None:
        if executor.stopping:
            os._exit(INTERRUPTED_EXIT)
        executor.stop()
        if on_interrupt:
            on_interrupt()

    previous = signal.signal(signal.SIGINT, handle)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _outcome(result: ApplyResult) -> str:
    if result.interrupted:
        return "interrupted"
    return "succeeded" if result.succeeded else "failed"


def _records(result: ApplyResult) -> list[OperationRecord]:
    records = [
        OperationRecord(key, "done", None, "", result.request_ids.get(key, ()))
        for key in result.done
    ]
    records += [
        OperationRecord(key, "failed", r.code, r.message, r.request_ids)
        for key, r in result.failed.items()
    ]
    records += [
        OperationRecord(key, "skipped", None, reason, ())
        for key, reason in result.skipped.items()
    ]
    records += [
        OperationRecord(key, "interrupted", None, "", ()) for key in result.interrupted
    ]
    return records
