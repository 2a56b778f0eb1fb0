"""The draft-07 copy of the manifest schema, for editors that need it.

``schemas/manifest.schema.json`` (JSON Schema 2020-12) is the source of
truth. Some editor plugins (older yaml-language-server releases among them)
only understand draft-07, so a copy is generated from it:

    python -m reconciler.manifest.schema_export [OUTPUT]

A test checks that the committed copy equals a fresh conversion and that both
schemas judge sample manifests alike. The 2020-12 schema sticks to keywords
that mean the same in draft-07 (no prefixItems, dependentRequired,
unevaluated*), apart from ``$defs``, which becomes ``definitions``.
"""

from __future__ import annotations

import copy
import json
import logging
import sys
from pathlib import Path
from typing import Any

from reconciler.manifest.validate import manifest_schema

logger = logging.getLogger(__name__)

DRAFT_07 = "http://json-schema.org/draft-07/schema#"
DRAFT_07_FILE = "manifest.draft-07.schema.json"
# Keywords of 2019-09/2020-12 that draft-07 would silently ignore.
_NOT_IN_DRAFT_07 = {
    "prefixItems",
    "dependentRequired",
    "dependentSchemas",
    "unevaluatedItems",
    "unevaluatedProperties",
    "$anchor",
    "$dynamicRef",
    "$dynamicAnchor",
    "minContains",
    "maxContains",
}


class ConversionError(ValueError):
    """The 2020-12 schema uses a keyword with no draft-07 meaning."""


def to_draft07(schema: dict[str, Any]) -> dict[str, Any]:
    """A draft-07 schema that accepts exactly what ``schema`` accepts."""
    converted = _convert(copy.deepcopy(schema), ())
    converted.pop("$schema", None)
    return {"$schema": DRAFT_07, **converted}


def _convert(node: Any, where: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [_convert(item, where) for item in node]
    if not isinstance(node, dict):
        return node

    result: dict[str, Any] = {}
    for key, value in node.items():
        if key in _NOT_IN_DRAFT_07:
            raise ConversionError(f"{'/'.join(where)}: {key} has no draft-07 form")
        if key == "$ref" and isinstance(value, str):
            value = value.replace("#/$defs/", "#/definitions/")
        if key == "$ref" and len(node) > 1:
            # draft-07 ignores every keyword beside $ref.
            raise ConversionError(f"{'/'.join(where)}: $ref with siblings")
        result["definitions" if key == "$defs" else key] = _convert(
            value, (*where, key)
        )
    return result


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    default = Path(__file__).resolve().parents[2] / "schemas" / DRAFT_07_FILE
    target = Path(argv[0]) if argv else default
    target.write_text(render(to_draft07(manifest_schema())), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
