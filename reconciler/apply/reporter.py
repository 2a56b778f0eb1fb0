"""Reporter: progress hooks the executor calls; the default does nothing.

The CLI plugs in a console reporter; tests can record the events. Keeping
progress out of logging lets ``-v`` logs and the user's view differ.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.model.change import Operation


class Reporter:
    def apply_started(self, operations: Sequence[Operation]) -> None:
        """The executor is about to carry out these operations."""

    def apply_finished(self) -> None:
        """The executor has returned."""

    def call_started(self, api_action: str, operations: Sequence[Operation]) -> None:
        """A batch call is about to be sent."""

    def operation_done(self, operation: Operation) -> None:
        """An operation reached its goal and is recorded in state."""

    def operation_settled(self, operation: Operation) -> None:
        """An operation's goal already held, so it needed no call."""

    def operation_retrying(
        self, operation: Operation, message: str, delay: float
    ) -> None:
        """An operation failed transiently and waits for a later batch."""

    def operation_failed(self, operation: Operation, message: str) -> None:
        """An operation failed for good."""

    def operation_skipped(self, operation: Operation, reason: str) -> None:
        """An operation was not attempted because one it depends on failed."""
