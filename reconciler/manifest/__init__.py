"""The manifest: YAML files in, a validated desired model out.

Steps, in order: ``sources`` (which files, their bytes and digest), ``load``
(strict YAML with every node's position), ``pipeline`` (merge the files),
``validate`` (JSON Schema from ``schemas/`` as readable diagnostics),
``desired`` (defaults, ``count``, one ``DesiredResource`` per address).
The CLI and the planner call ``load_manifest`` and ``validate_paths``;
nothing here talks to a cloud.
"""

from reconciler.manifest.pipeline import Manifest, load_manifest, validate_paths

__all__ = ["Manifest", "load_manifest", "validate_paths"]
