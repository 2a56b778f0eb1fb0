"""The installed package is complete: pyproject lists every package.

The suite runs from an editable install, which finds every module whatever
pyproject says; a plain ``pip install .`` (the README's quick start) ships
only the packages listed. This test keeps the list whole.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_pyproject_lists_every_package_of_reconciler() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "reconciler").rglob("__init__.py")
    }

    listed = set(config["packages"])

    assert on_disk - listed == set(), "add these to [tool.setuptools] packages"
    assert "reconciler.schemas" in listed
