"""The 2020-12 schema, its generated draft-07 copy, and their agreement."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator, Draft202012Validator

from reconciler.manifest.schema_export import (
    DRAFT_07_FILE,
    ConversionError,
    render,
    to_draft07,
)
from reconciler.manifest.validate import manifest_schema

DATA = Path(__file__).parent / "data"

# Documents that exercise every kind of rule, valid and invalid alike.
SAMPLES: list[Any] = [
    {"version": 1},
    {"version": 2},
    {},
    {"version": 1, "instances": {"a": None, "b": {"count": 3, "cpu": 65}}},
    {"version": 1, "instances": {"bad_": {}}},
    {"version": 1, "instances": {"a": {"password": "plain"}}},
    {"version": 1, "instances": {"a": {"password": {"fromEnv": "X", "fromFile": "y"}}}},
    {"version": 1, "instances": {"a": {"lifecycle": {"ignoreChanges": ["nope"]}}}},
    {"version": 1, "keyPairs": {"k": {"publicKey": {"fromFile": "id.pub"}}}},
    {"version": 1, "keyPairs": {"k": {"publicKey": 7}}},
    {"version": 1, "loadBalancers": {"lb": {"backends": [{"instances": ["a", 1]}]}}},
    {"version": 1, "loadBalancers": {"lb": {"listeners": [{"port": 0}]}}},
    {"version": 1, "provider": {"region": "ap-guangzhou", "endpoint": "ftp://x"}},
    {"version": 1, "x-anchor": {"anything": [1, 2]}, "extra": True},
]


def sample_documents() -> list[Any]:
    files = sorted(DATA.glob("*.yaml"))
    return SAMPLES + [yaml.safe_load(path.read_text()) for path in files]


def judgement(validator: Any, document: Any) -> set[tuple[tuple[Any, ...], str]]:
    return {
        (tuple(error.absolute_path), str(error.validator))
        for error in validator.iter_errors(document)
    }


def test_the_schema_is_valid_2020_12():
    Draft202012Validator.check_schema(manifest_schema())


def test_the_committed_draft_07_copy_is_up_to_date():
    committed = resources.files("reconciler.schemas").joinpath(DRAFT_07_FILE)

    fresh = render(to_draft07(manifest_schema()))

    assert committed.read_text(encoding="utf-8") == fresh, (
        "Regenerate it: python -m reconciler.manifest.schema_export"
    )


def test_the_draft_07_copy_is_valid_draft_07():
    Draft7Validator.check_schema(to_draft07(manifest_schema()))


@pytest.mark.parametrize("document", sample_documents())
def test_both_schemas_judge_a_manifest_alike(document):
    modern = Draft202012Validator(manifest_schema())
    draft07 = Draft7Validator(to_draft07(manifest_schema()))

    assert judgement(modern, document) == judgement(draft07, document)


def test_keywords_without_a_draft_07_meaning_are_refused():
    with pytest.raises(ConversionError):
        to_draft07({"type": "array", "prefixItems": [{"type": "string"}]})


def test_a_ref_with_siblings_is_refused():
    with pytest.raises(ConversionError):
        to_draft07({"$ref": "#/$defs/x", "description": "ignored by draft-07"})


def test_the_schema_file_is_plain_json_with_a_final_newline():
    text = resources.files("reconciler.schemas").joinpath("manifest.schema.json")

    raw = text.read_text(encoding="utf-8")

    assert json.loads(raw) == manifest_schema()
    assert raw.endswith("}\n")
