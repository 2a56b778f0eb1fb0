"""Diagnostics: how every user-facing problem is reported.

A diagnostic has a short fixed summary, a detail in full sentences (what is
wrong, what was expected, what to do) and, when known, where: a manifest
position (``file:line:col``) or a resource address. Commands print them and
exit 1; they never show a traceback for a user's mistake.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class SourcePosition:
    """A place in a manifest file; line and column start at 1."""

    path: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Diagnostic:
    summary: str
    detail: str = ""
    position: SourcePosition | None = None
    address: str | None = None
    severity: Severity = Severity.ERROR

    def sort_key(self) -> tuple[str, int, int, str]:
        if self.position is None:
            return ("\uffff", 0, 0, self.summary)
        where = self.position
        return (where.path, where.line, where.column, self.summary)

    def render(self) -> str:
        """``file:line:col: summary`` with the detail indented below it."""
        where = self.position or self.address
        prefix = f"{where}: " if where else ""
        label = "" if self.severity is Severity.ERROR else "warning: "
        text = f"{prefix}{label}{self.summary}"
        if self.detail:
            text += "\n  " + self.detail.replace("\n", "\n  ")
        return text

    def to_json(self) -> dict[str, object]:
        where = self.position
        return {
            "severity": self.severity.value,
            "summary": self.summary,
            "detail": self.detail,
            "file": where.path if where else None,
            "line": where.line if where else None,
            "column": where.column if where else None,
            "address": self.address,
        }


class DiagnosticError(Exception):
    """Raised to stop a command with one or more diagnostics for the user."""

    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic) -> None:
        if isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics = sorted(diagnostics, key=Diagnostic.sort_key)
        super().__init__("\n".join(d.render() for d in self.diagnostics))
