"""The console reporter: live progress of an apply on stderr, and its summary."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from reconciler.apply.executor import ApplyResult
from reconciler.apply.reporter import Reporter
from reconciler.model.change import Operation
from reconciler.state.store import ApplyRecord, OperationRecord


class ConsoleReporter(Reporter):
    def __init__(self, console: Console) -> None:
        self.console = console

    def call_started(self, api_action: str, operations: Sequence[Operation]) -> None:
        names = ", ".join(str(op.address) for op in operations[:5])
        more = f" and {len(operations) - 5} more" if len(operations) > 5 else ""
        self.console.print(
            f"  [cyan]->[/cyan] {api_action} x{len(operations)}: {escape(names)}{more}"
        )

    def operation_done(self, operation: Operation) -> None:
        self.console.print(
            f"  [green]ok[/green] {escape(str(operation.address))}"
            f" [dim]{operation.api_action}[/dim]"
        )

    def operation_settled(self, operation: Operation) -> None:
        self.console.print(
            f"  [green]ok[/green] {escape(str(operation.address))}"
            f" [dim]{operation.api_action} (already so, no call)[/dim]"
        )

    def operation_retrying(
        self, operation: Operation, message: str, delay: float
    ) -> None:
        self.console.print(
            f"  [yellow]retry[/yellow] {escape(str(operation.address))}"
            f" {operation.api_action} in {delay:.1f}s: {escape(message)}"
        )

    def operation_failed(self, operation: Operation, message: str) -> None:
        self.console.print(
            f"  [red]failed[/red] {escape(str(operation.address))}"
            f" {operation.api_action}: {escape(message)}"
        )

    def operation_skipped(self, operation: Operation, reason: str) -> None:
        self.console.print(
            f"  [dim]skipped {escape(str(operation.address))}"
            f" {operation.api_action}: {escape(reason)}[/dim]"
        )


class LiveReporter(ConsoleReporter):
    """A progress bar per API action and the resources in flight (terminals).

    Retries, failures and skips are printed above the bars; the per-call and
    per-resource lines of ``ConsoleReporter`` would scroll thousands of rows.
    """

    def __init__(self, console: Console) -> None:
        super().__init__(console)
        self.progress = Progress(
            TextColumn("  {task.description:<34}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("[dim]{task.fields[in_flight]}[/dim]"),
            console=console,
            transient=False,
        )
        self.tasks: dict[str, TaskID] = {}
        self.in_flight: dict[str, set[str]] = {}

    def apply_started(self, operations: Sequence[Operation]) -> None:
        totals = Counter(op.api_action for op in operations)
        for action in sorted(totals):
            self.tasks[action] = self.progress.add_task(
                action, total=totals[action], in_flight=""
            )
        self.progress.start()

    def apply_finished(self) -> None:
        self.progress.stop()

    def call_started(self, api_action: str, operations: Sequence[Operation]) -> None:
        self.in_flight.setdefault(api_action, set()).update(op.key for op in operations)
        self._refresh(api_action)

    def operation_done(self, operation: Operation) -> None:
        self._advance(operation)

    def operation_retrying(
        self, operation: Operation, message: str, delay: float
    ) -> None:
        self.in_flight.get(operation.api_action, set()).discard(operation.key)
        self._refresh(operation.api_action)
        super().operation_retrying(operation, message, delay)

    def operation_settled(self, operation: Operation) -> None:
        self._advance(operation)

    def operation_failed(self, operation: Operation, message: str) -> None:
        self._advance(operation)
        super().operation_failed(operation, message)

    def operation_skipped(self, operation: Operation, reason: str) -> None:
        self.progress.advance(self.tasks[operation.api_action])
        super().operation_skipped(operation, reason)

    def _advance(self, operation: Operation) -> None:
        action = operation.api_action
        self.in_flight.get(action, set()).discard(operation.key)
        self.progress.advance(self.tasks[action])
        self._refresh(action)

    def _refresh(self, action: str) -> None:
        count = len(self.in_flight.get(action, ()))
        self.progress.update(
            self.tasks[action], in_flight=f"{count} in flight" if count else ""
        )


def make_reporter(console: Console) -> ConsoleReporter:
    """Live bars on a terminal; one line per event in logs and pipes."""
    if console.is_terminal and not console.is_dumb_terminal:
        return LiveReporter(console)
    return ConsoleReporter(console)


def print_summary(
    console: Console, result: ApplyResult, predicted: dict[str, int], verb: str
) -> None:
    """Done, failed, skipped, API calls against the prediction, and time."""
    colour = "green" if result.succeeded else "red"
    outcome = "complete" if result.succeeded else "incomplete"
    console.print(
        f"[{colour}][bold]{verb.capitalize()} {outcome}:"
        f"[/bold] {_count(len(result.done), 'operation')} done, "
        f"{len(result.failed)} failed,"
        f" {len(result.skipped)} skipped in {result.seconds:.1f}s.[/{colour}]"
    )
    actions = sorted(set(result.calls) | set(predicted))
    made = ", ".join(
        f"{action} {result.calls[action]}"
        + (f"/{predicted[action]}" if action in predicted else "")
        for action in actions
    )
    console.print(f"API calls made (made/expected): {made}.")
    for key, failure in sorted(result.failed.items()):
        request_ids = ", ".join(failure.request_ids) or "none"
        console.print(
            f"  [red]{escape(key)}[/red]: code {failure.code}: "
            f"{escape(failure.message)} (request ids: {request_ids})"
        )
    for key, reason in sorted(result.skipped.items()):
        console.print(f"  [dim]{escape(key)} skipped: {escape(reason)}[/dim]")
    if result.interrupted:
        console.print(
            f"[yellow]Interrupted with {len(result.interrupted)} operation(s) "
            f"unfinished. Run 'reconciler {verb}' again to finish: what was "
            "sent is recorded, and nothing will be made twice.[/yellow]"
        )


def print_history_entry(console: Console, record: ApplyRecord) -> None:
    """One past apply: when, what, how it ended, calls, and each operation."""
    started = datetime.fromtimestamp(record.started_at, tz=UTC)
    colour = {"succeeded": "green", "failed": "red"}.get(record.outcome, "yellow")
    calls = ", ".join(f"{a} {n}" for a, n in sorted(record.calls.items()))
    console.print(
        f"[bold]#{record.apply_id}[/bold] {started:%Y-%m-%d %H:%M:%S} UTC "
        f"{record.command} [{colour}]{record.outcome}[/{colour}]"
        + (f"  calls: {calls}" if calls else "")
    )
    for operation in sorted(record.operations, key=_natural):
        detail = (
            f" code {operation.code}: {operation.message}" if operation.code else ""
        )
        if operation.message and not operation.code:
            detail = f" {operation.message}"
        ids = f" (request ids {', '.join(operation.request_ids)})"
        console.print(
            f"    {escape(operation.operation)} {operation.outcome}"
            f"{escape(detail)}{ids if operation.request_ids else ''}"
        )


def _natural(record: OperationRecord) -> list[object]:
    """``web-2`` before ``web-10``: numbers in names compare as numbers."""
    parts = re.split(r"(\d+)", record.operation)
    return [int(part) if part.isdigit() else part for part in parts]


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")
