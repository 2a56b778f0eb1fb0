"""The manifest package's public surface, pinned: the CLI and planner use it."""

from __future__ import annotations

import dataclasses

import reconciler.manifest as manifest_package
from reconciler.manifest import Manifest


def test_the_exported_names_are_pinned():
    assert sorted(manifest_package.__all__) == [
        "Lifecycle",
        "Manifest",
        "load_manifest",
        "validate_paths",
    ]


def test_manifest_fields_are_pinned():
    assert [field.name for field in dataclasses.fields(Manifest)] == [
        "provider_region",
        "provider_endpoint",
        "resources",
        "base_dir",
        "digest",
        "warnings",
        "lifecycle",
        "dependencies",
    ]
