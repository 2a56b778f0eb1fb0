"""The manifest: YAML files in, a validated desired model out.

Steps, in order: ``sources`` (which files, their bytes and digest), ``load``
(strict YAML with every node's position), ``pipeline`` (merge the files),
``validate`` (JSON Schema from ``schemas/`` as readable diagnostics),
``desired`` (defaults, ``count``, secrets, one entry per address) and
``checks`` (references, cycles, networks, names). The CLI and the planner
call ``load_manifest`` and ``validate_paths``; nothing here talks to a cloud.
"""

from reconciler.manifest.pipeline import load_manifest, validate_paths
from reconciler.manifest.result import Lifecycle, Manifest

__all__ = ["Lifecycle", "Manifest", "load_manifest", "validate_paths"]
