"""What one operation's API step came to, as the executor sees it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Outcome(StrEnum):
    ACCEPTED = "accepted"  # the cloud took it; poll until the status is reached
    DONE = "done"
    RETRY = "retry"  # failed transiently; goes into a later batch
    FAILED = "failed"  # failed for good; dependents are skipped


@dataclass(frozen=True)
class StepResult:
    operation_key: str
    outcome: Outcome
    resource_id: str | None = None
    code: int | None = None
    message: str = ""
    request_ids: tuple[str, ...] = field(default_factory=tuple)
    # False when the step found its goal already held and sent no call.
    sent: bool = True
