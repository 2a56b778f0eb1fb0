"""Fixtures for manifest tests: write a manifest, read its diagnostics.

Tests run with ``--import-mode=importlib``, so shared helpers are fixtures.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.diagnostics import Diagnostic, Severity
from reconciler.manifest import validate_paths

HEADER = """\
version: 1
provider: {region: ap-guangzhou, endpoint: local}
defaults:
  instance: {zone: ap-guangzhou-3, image: img-ubuntu22, cpu: 1, memory: 2}
"""

QUICKSTART = (
    HEADER
    + """\
instances:
  web-0: {}
  web-1: {}
  worker: {state: stopped}
"""
)


class Kit:
    """Manifest texts and ways to look at a manifest's diagnostics."""

    header = HEADER
    quickstart = QUICKSTART

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path

    def write(self, text: str, name: str = "manifest.yaml") -> Path:
        """Write dedented YAML text under tmp_path and return its path."""
        path = self.tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    @staticmethod
    def errors(path: Path) -> list[Diagnostic]:
        return [d for d in validate_paths([path]) if d.severity is Severity.ERROR]

    @staticmethod
    def warnings(path: Path) -> list[Diagnostic]:
        return [d for d in validate_paths([path]) if d.severity is Severity.WARNING]

    @staticmethod
    def where(diagnostic: Diagnostic) -> tuple[int, int]:
        assert diagnostic.position is not None, diagnostic.render()
        return diagnostic.position.line, diagnostic.position.column


@pytest.fixture
def kit(tmp_path: Path) -> Kit:
    return Kit(tmp_path)


@pytest.fixture
def write(kit: Kit) -> Callable[..., Path]:
    return kit.write
