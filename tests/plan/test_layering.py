"""The pure planner modules import no I/O layer (style-anchors.md, contracts)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PLAN = Path(__file__).resolve().parents[2] / "reconciler" / "plan"
PURE = [
    "diff",
    "graph",
    "instance_operations",
    "network_operations",
    "eip_operations",
    "loadbalancer_operations",
    "rebind",
    "chains",
    "rules",
    "sensitive",
    "estimate",
]
FORBIDDEN = (
    "reconciler.cloud",
    "reconciler.state",
    "reconciler.apply",
    "reconciler.emulator",
)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", PURE)
def test_pure_planner_modules_do_no_io(module: str) -> None:
    imports = imported_modules(PLAN / f"{module}.py")

    assert not [name for name in imports if name.startswith(FORBIDDEN)]
