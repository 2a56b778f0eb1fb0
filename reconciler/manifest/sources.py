"""Which files make up a manifest, their bytes and their digest.

Called by ``reconciler.manifest.pipeline``. A manifest is given as one or
more paths; each is a YAML file or a directory whose ``*.yaml``/``*.yml``
files (not recursive, hidden files skipped) are merged into one manifest.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler.diagnostics import Diagnostic

logger = logging.getLogger(__name__)

SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class SourceFile:
    """One manifest file: ``name`` is how diagnostics refer to it."""

    path: Path
    name: str
    data: bytes


@dataclass(frozen=True)
class Sources:
    files: list[SourceFile]
    base_dir: Path
    digest: str


def read_sources(paths: Sequence[Path]) -> tuple[Sources, list[Diagnostic]]:
    """Read every manifest file under ``paths``, in a stable order."""
    diagnostics: list[Diagnostic] = []
    found: dict[Path, Path] = {}
    for given in paths:
        for file in _expand(Path(given), diagnostics):
            found.setdefault(file.resolve(), file)

    files = []
    for file in sorted(found.values(), key=str):
        data = _read(file, diagnostics)
        if data is not None:
            files.append(SourceFile(file, str(file), data))

    base_dir = _base_dir(Path(paths[0])) if paths else Path.cwd()
    return Sources(files, base_dir, digest(files)), diagnostics


def digest(files: Sequence[SourceFile]) -> str:
    """sha256 over the files' bytes in order, each prefixed by its length."""
    hasher = hashlib.sha256()
    for file in files:
        hasher.update(len(file.data).to_bytes(8, "big"))
        hasher.update(file.data)
    return hasher.hexdigest()


def _expand(given: Path, diagnostics: list[Diagnostic]) -> list[Path]:
    if given.is_dir():
        files = [
            child
            for child in sorted(given.iterdir())
            if child.suffix in SUFFIXES
            and child.is_file()
            and not child.name.startswith(".")
        ]
        if not files:
            diagnostics.append(
                Diagnostic(
                    "No manifest files",
                    f"The directory {given} holds no *.yaml or *.yml files.",
                )
            )
        return files
    if given.is_file():
        return [given]
    diagnostics.append(
        Diagnostic(
            "Manifest not found",
            f"{given} is neither a file nor a directory.",
        )
    )
    return []


def _read(file: Path, diagnostics: list[Diagnostic]) -> bytes | None:
    try:
        return file.read_bytes()
    except OSError as error:
        diagnostics.append(
            Diagnostic(
                "Cannot read manifest",
                f"Reading {file} failed: {error.strerror or error}.",
            )
        )
        return None


def _base_dir(given: Path) -> Path:
    """Where ``.reconciler/`` lives: the directory given, or the file's."""
    return given if given.is_dir() else given.parent
