"""From paths to a ``Manifest``: read, load, merge, validate, build.

Called by the CLI (``validate``) and the planner (``plan``, ``apply``) through
``load_manifest`` and ``validate_paths``. Each step adds its diagnostics and
the next runs only on what is sound, so one run reports every problem it can
find, sorted by position, without reporting one mistake many times.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Only the region table: the zone numbering is data shared with the client.
from reconciler.cloud.zones import REGION_ZONE_BASE
from reconciler.diagnostics import (
    Diagnostic,
    DiagnosticError,
    Severity,
    SourcePosition,
)
from reconciler.manifest.checks import Checked, check_entries, warn_unknown_region
from reconciler.manifest.desired import BuildContext, build_entries
from reconciler.manifest.load import Document, SourceMap, load_document
from reconciler.manifest.result import Manifest
from reconciler.manifest.sources import Sources, read_sources
from reconciler.manifest.validate import validate_document

logger = logging.getLogger(__name__)

INTERNAL_ERROR = "Internal error"


@dataclass
class _Run:
    sources: Sources
    diagnostics: list[Diagnostic]
    manifest: Manifest | None = None


def load_manifest(paths: Sequence[Path]) -> Manifest:
    """Load and check the manifest at ``paths`` (files or directories).

    Raises ``DiagnosticError`` carrying every error found, sorted by position.
    """
    run = _run(paths)
    errors = [d for d in run.diagnostics if d.severity is Severity.ERROR]
    if errors or run.manifest is None:
        raise DiagnosticError(errors)
    return run.manifest


def validate_paths(paths: Sequence[Path]) -> list[Diagnostic]:
    """Every error and warning of the manifest at ``paths``, sorted."""
    return _run(paths).diagnostics


def _run(paths: Sequence[Path]) -> _Run:
    sources, diagnostics = read_sources([Path(p) for p in paths])
    run = _Run(sources, diagnostics)

    documents = []
    for file in sources.files:
        document, problems = load_document(file.name, file.data)
        diagnostics.extend(problems)
        if document is not None:
            documents.append(document)
    if _has_errors(diagnostics):
        return _finish(run)

    merged, source = _merge(documents, diagnostics)
    if _has_errors(diagnostics):
        return _finish(run)

    problems, failed = validate_document(merged, source)
    diagnostics.extend(problems)

    provider = merged.get("provider")
    provider = provider if isinstance(provider, Mapping) else {}
    region = _text(provider.get("region"))
    context = BuildContext(merged, source, failed, region)
    checked = _build_and_check(context)
    diagnostics.extend(context.diagnostics)

    run = _finish(run)
    run.manifest = Manifest(
        provider_region=region,
        provider_endpoint=_text(provider.get("endpoint")),
        resources=checked.resources,
        base_dir=sources.base_dir,
        digest=sources.digest,
        warnings=[d for d in run.diagnostics if d.severity is Severity.WARNING],
        lifecycle=checked.lifecycle,
        dependencies=checked.dependencies,
    )
    return run


def _build_and_check(context: BuildContext) -> Checked:
    """The desired model and its semantic checks; a crash here is our bug."""
    try:
        warn_unknown_region(context, REGION_ZONE_BASE)
        return check_entries(context, build_entries(context))
    except Exception as error:  # noqa: BLE001 - reported as a bug, never a traceback
        logger.exception("Semantic checks failed unexpectedly.")
        context.diagnostics.append(
            Diagnostic(
                INTERNAL_ERROR,
                "reconciler failed while checking this manifest; this is a bug "
                f"in reconciler, please report it ({type(error).__name__}: "
                f"{error}). The schema checks above are still valid.",
            )
        )
        return Checked()


def _finish(run: _Run) -> _Run:
    # A mistake in shared places (defaults) is found once per resource that
    # uses it; the user needs to read it once.
    unique = {(d.position, d.summary, d.detail): d for d in run.diagnostics}
    run.diagnostics[:] = sorted(unique.values(), key=Diagnostic.sort_key)
    errors = sum(d.severity is Severity.ERROR for d in run.diagnostics)
    logger.debug(
        "Manifest of %d files: %d errors, %d warnings.",
        len(run.sources.files),
        errors,
        len(run.diagnostics) - errors,
    )
    return run


def _has_errors(diagnostics: Sequence[Diagnostic]) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _merge(
    documents: Sequence[Document], diagnostics: list[Diagnostic]
) -> tuple[dict[str, Any], SourceMap]:
    """One document from many files: sections are merged key by key.

    A resource (or any other entry) written in two files is an error at the
    second; ``version: 1`` may be repeated in every file.
    """
    merged: dict[str, Any] = {}
    source = SourceMap()
    for document in documents:
        if document.value is None:
            continue
        if not isinstance(document.value, Mapping):
            diagnostics.append(_not_a_mapping(document))
            continue
        _merge_one(merged, source, document, diagnostics)
        _add_positions(source, document.source)
    if documents:
        source.values.setdefault((), _file_start(documents[0]))
    return merged, source


def _merge_one(
    merged: dict[str, Any],
    source: SourceMap,
    document: Document,
    diagnostics: list[Diagnostic],
) -> None:
    for key, value in document.value.items():
        if key not in merged:
            merged[key] = value
            continue
        both_mappings = isinstance(merged[key], Mapping) and isinstance(value, Mapping)
        if not both_mappings:
            if merged[key] != value:
                diagnostics.append(_conflict(source, document, (key,)))
            continue
        combined = dict(merged[key])
        for name, entry in value.items():
            if name in combined:
                diagnostics.append(_conflict(source, document, (key, name)))
                continue
            combined[name] = entry
        merged[key] = combined


def _add_positions(source: SourceMap, new: SourceMap) -> None:
    # The first file to write a path keeps it: that is the value that counts.
    for mine, theirs in (
        (source.values, new.values),
        (source.keys, new.keys),
        (source.plain, new.plain),
    ):
        for path, where in theirs.items():
            mine.setdefault(path, where)  # type: ignore[arg-type]


def _conflict(
    source: SourceMap, document: Document, path: tuple[str, ...]
) -> Diagnostic:
    first = source.key_or_value(path)
    dotted = ".".join(path)
    return Diagnostic(
        "Defined in two files",
        f"{dotted!r} is already defined at {first}; each entry of a manifest "
        "directory belongs in one file.",
        document.source.key_or_value(path),
    )


def _not_a_mapping(document: Document) -> Diagnostic:
    return Diagnostic(
        "Manifest is not a mapping",
        "A manifest file is a mapping of sections (version, provider, "
        "defaults, instances, ...); this file holds something else.",
        document.source.value(()) or _file_start(document),
    )


def _file_start(document: Document) -> SourcePosition:
    return SourcePosition(document.path, 1, 1)
