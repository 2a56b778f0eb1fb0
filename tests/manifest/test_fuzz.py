"""Fuzzing: mutated manifests give a result or diagnostics, never a traceback.

Each input must also finish within a second (hypothesis's deadline). The
suite runs a few dozen examples per test to stay fast; set
RECONCILER_FUZZ_EXAMPLES (e.g. 5000) for a long run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.diagnostics import Diagnostic, DiagnosticError
from reconciler.manifest import Manifest, load_manifest, validate_paths
from reconciler.manifest.pipeline import INTERNAL_ERROR

DATA = Path(__file__).parent / "data"
BASE = (DATA / "web-tier.yaml").read_text(encoding="utf-8")
FUZZ = settings(
    max_examples=int(os.environ.get("RECONCILER_FUZZ_EXAMPLES", "40")),
    deadline=1000,
    suppress_health_check=[HealthCheck.too_slow],
)

# Characters that mean something to YAML, plus a few that break it.
YAML_CHARS = ":-{}[],&*!|>'\"#%@`?~\t\n 0123456789abcxyzAZ.\\\x00\u00e9\ufeff"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    os.environ.setdefault("WEB_PASSWORD", "fuzz-Password-1")
    return tmp_path_factory.mktemp("fuzz")


def run(folder: Path, data: bytes) -> None:
    """Both entry points on one input; only the two allowed outcomes pass."""
    path = folder / "manifest.yaml"
    path.write_bytes(data)

    diagnostics = validate_paths([path])
    assert all(isinstance(d, Diagnostic) for d in diagnostics)
    assert not [d.render() for d in diagnostics if d.summary == INTERNAL_ERROR]
    for diagnostic in diagnostics:
        diagnostic.render()

    try:
        assert isinstance(load_manifest([path]), Manifest)
    except DiagnosticError as error:
        assert error.diagnostics


@st.composite
def text_mutations(draw: st.DrawFn) -> str:
    text = BASE
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace", "line"]))
        chunk = draw(st.text(alphabet=YAML_CHARS, min_size=1, max_size=6))
        if action == "insert":
            text = text[:at] + chunk + text[at:]
        elif action == "delete":
            text = text[:at] + text[at + len(chunk) :]
        elif action == "replace":
            text = text[:at] + chunk + text[at + len(chunk) :]
        else:
            lines = text.split("\n")
            index = draw(st.integers(0, len(lines) - 1))
            lines.insert(index, lines[draw(st.integers(0, len(lines) - 1))])
            text = "\n".join(lines)
    return text


JSONISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=True)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def paths_of(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths_of(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += paths_of(value, (*prefix, index))
    return found


@st.composite
def value_mutations(draw: st.DrawFn) -> str:
    document = yaml.safe_load(BASE)
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(paths_of(document)[1:]))
        parent = document
        for part in where[:-1]:
            parent = parent[part]
        parent[where[-1]] = draw(JSONISH)
    return yaml.safe_dump(document, sort_keys=False)


@FUZZ
@given(text=text_mutations())
def test_mutated_text_gives_a_manifest_or_diagnostics(folder, text):
    run(folder, text.encode("utf-8", errors="surrogatepass"))


@FUZZ
@given(text=value_mutations())
def test_mutated_values_give_a_manifest_or_diagnostics(folder, text):
    run(folder, text.encode("utf-8"))


@FUZZ
@given(data=st.binary(max_size=200))
def test_random_bytes_give_diagnostics(folder, data):
    run(folder, data)
