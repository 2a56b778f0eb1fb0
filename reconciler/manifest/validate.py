"""JSON Schema validation of a merged manifest, as readable diagnostics.

Called by ``reconciler.manifest.pipeline`` after the files are loaded and
merged. ``schemas/manifest.schema.json`` is the single source of truth for
the manifest's structure; this module only turns jsonschema's errors into
diagnostics a person can act on: placed at the key or value they concern,
with what was expected, what was found, a did-you-mean for misspelt names,
an explanation when YAML 1.1 changed an unquoted value's type, and
``oneOf``/``anyOf`` failures reduced to the branch the user meant.
"""

from __future__ import annotations

import difflib
import json
import logging
import re
from collections.abc import Generator, Iterable, Iterator, Sequence
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from reconciler.diagnostics import Diagnostic, Severity
from reconciler.manifest.load import JsonPath, SourceMap

logger = logging.getLogger(__name__)

# Manifest sections of resources, and the kind each holds.
SECTIONS = {
    "vpcs": "vpc",
    "subnets": "subnet",
    "keyPairs": "keyPair",
    "instances": "instance",
    "eips": "eip",
    "loadBalancers": "loadBalancer",
}

_TYPE_NAMES = {
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "nothing",
}
_YAML11_BOOLEANS = {"yes", "no", "on", "off", "y", "n"}
_LEADING_ZERO = re.compile(r"^[-+]?0[0-9_]+$")
_SEXAGESIMAL = re.compile(r"^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$")


@lru_cache(maxsize=1)
def manifest_schema() -> dict[str, Any]:
    """The manifest's JSON Schema (2020-12), as shipped in the package."""
    text = resources.files("reconciler.schemas").joinpath("manifest.schema.json")
    return json.loads(text.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    # References resolved up front: jsonschema's lookups per ``$ref`` made
    # validating 10,000 resources take over two seconds; inlined, under one.
    schema = manifest_schema()
    return Draft202012Validator(_inline(schema, schema.get("$defs", {})))


def _inline(node: Any, definitions: dict[str, Any]) -> Any:
    """``node`` with every local ``$ref`` replaced by its (non-recursive) target."""
    if isinstance(node, list):
        return [_inline(item, definitions) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _inline(definitions[node["$ref"].rpartition("/")[2]], definitions)
    return {
        key: _inline(value, definitions)
        for key, value in node.items()
        if key != "$defs"
    }


def validate_document(
    document: Any, source: SourceMap
) -> tuple[list[Diagnostic], set[JsonPath]]:
    """Every schema problem of ``document`` plus YAML 1.1 ambiguities, and
    the paths of the values that failed (so later steps can skip them)."""
    # TODO(#5): 10,000 resources written out one by one take about a second
    # here; validating each distinct resource body once would cut that.
    errors = _one_reason_per_value(list(_validator().iter_errors(document)))
    diagnostics: list[Diagnostic] = []
    for error in errors:
        diagnostics.extend(_explain(error, source))

    failed = {_path(error) for error in errors}
    diagnostics.extend(_ambiguous_scalars(source, failed))
    logger.debug("Schema validation found %d problems.", len(errors))
    return _unique(diagnostics), failed


def _path(error: ValidationError) -> JsonPath:
    """The path of the value in error; for a bad mapping key, of that key."""
    path = tuple(error.absolute_path)
    if _is_key_error(error) and isinstance(error.instance, str):
        return (*path, error.instance)
    return path


def _is_key_error(error: ValidationError) -> bool:
    return "propertyNames" in error.absolute_schema_path


def _one_reason_per_value(errors: list[ValidationError]) -> list[ValidationError]:
    """A value of the wrong type is not also "not one of": keep one reason.

    For a field with a fixed set of values the set says most; otherwise the
    type does.
    """
    by_path: dict[JsonPath, list[ValidationError]] = {}
    for error in errors:
        by_path.setdefault(_path(error), []).append(error)
    kept = []
    for group in by_path.values():
        fixed = [e for e in group if e.validator in ("enum", "const")]
        typed = [e for e in group if e.validator == "type"]
        kept.extend(fixed or typed or group)
    return kept


def _unique(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    seen: dict[tuple[object, ...], Diagnostic] = {}
    for diagnostic in diagnostics:
        key = (diagnostic.position, diagnostic.summary, diagnostic.detail)
        seen.setdefault(key, diagnostic)
    return list(seen.values())


# --- one jsonschema error -> diagnostics ------------------------------------


def _explain(error: ValidationError, source: SourceMap) -> Iterator[Diagnostic]:
    if _is_key_error(error):
        yield from _property_name(error, tuple(error.absolute_path), source)
        return
    path = _path(error)
    handler = _HANDLERS.get(str(error.validator), _generic)
    yield from handler(error, path, source)


def _additional(
    error: ValidationError, path: JsonPath, source: SourceMap
) -> Iterator[Diagnostic]:
    """One diagnostic per unknown key, at the key, with a did-you-mean."""
    allowed = sorted(error.schema.get("properties", {}))
    patterns = list(error.schema.get("patternProperties", {}))
    instance = error.instance if isinstance(error.instance, dict) else {}
    for key in instance:
        if key in allowed or any(re.search(p, key) for p in patterns):
            continue
        hint = _did_you_mean(key, allowed)
        expected = ", ".join(allowed) if allowed else "no attributes"
        yield Diagnostic(
            "Unknown attribute",
            f"{_field(path)} has no attribute {key!r}.{hint} "
            f"Expected one of: {expected}.",
            source.key_or_value((*path, key)),
        )


def _required(
    error: ValidationError, path: JsonPath, source: SourceMap
) -> Iterator[Diagnostic]:
    instance = error.instance if isinstance(error.instance, dict) else {}
    for name in error.validator_value:
        if name in instance:
            continue
        yield Diagnostic(
            "Missing required attribute",
            f"{_field(path)} needs {name!r}.",
            source.key_or_value(path),
        )


def _type(
    error: ValidationError, path: JsonPath, source: SourceMap
) -> Iterator[Diagnostic]:
    expected = error.validator_value
    types = [expected] if isinstance(expected, str) else list(expected)
    wanted = " or ".join(_TYPE_NAMES.get(t, t) for t in types)
    surprise = _yaml_surprise(path, types, source)
    if surprise is not None:
        yield Diagnostic("Value needs quotes", surprise, source.value(path))
        return
    yield Diagnostic(
        "Wrong type",
        f"{_field(path)} expects {wanted}; found {_describe(error.instance)}."
        + _type_hint(path, types, error.instance, source),
        source.value(path),
    )


def _yaml_surprise(path: JsonPath, types: list[str], source: SourceMap) -> str | None:
    """Explain an unquoted value that YAML 1.1 read as a non-string."""
    plain = source.plain.get(path)
    if plain is None or "string" not in types:
        return None
    read_as = {
        "int": "a number",
        "float": "a number",
        "bool": "a boolean",
        "timestamp": "a date",
    }.get(plain.tag.rpartition(":")[2])
    if read_as is None:
        # Strings need no quotes, and an empty value is not a quoting problem.
        return None
    quoted = f'"{plain.text}"'
    fix = quoted if path and isinstance(path[-1], int) else f"{_leaf(path)}: {quoted}"
    return (
        f"{_field(path)} expects a string, but YAML reads the unquoted "
        f"{plain.text!r} as {read_as}. Write it in quotes: {fix}."
    )


def _type_hint(path: JsonPath, types: list[str], found: Any, source: SourceMap) -> str:
    plain = source.plain.get(path)
    if "integer" in types and plain is not None and _LEADING_ZERO.match(plain.text):
        return (
            " YAML 1.1 reads a number with a leading zero and the digits 8 or 9 "
            "as text; write it without the leading zero."
        )
    if "boolean" in types and plain is not None and plain.text in _YAML11_BOOLEANS:
        return " Write true or false."
    if "object" in types and isinstance(found, str) and _leaf(path) == "password":
        return (
            " Passwords are never written in a manifest; use "
            "{fromEnv: VARIABLE} or {fromFile: PATH}."
        )
    return ""


def _enum(
    error: ValidationError, path: JsonPath, source: SourceMap
) -> Iterator[Diagnostic]:
    options = (
        [error.validator_value]
        if error.validator == "const"
        else list(error.validator_value)
    )
    shown = ", ".join(_literal(option) for option in options)
    found = error.instance
    hint = (
        _did_you_mean(found, [str(o) for o in options])
        if isinstance(found, str)
        else ""
    )
    plain = source.plain.get(path)
    if plain is not None and not plain.tag.endswith(":str"):
        hint += f" YAML 1.1 reads the unquoted {plain.text!r} that way."
    yield Diagnostic(
        "Invalid value",
        f"{_field(path)} must be {'one of ' if len(options) > 1 else ''}{shown}; "
        f"found {_describe(found)}.{hint}",
        source.value(path),
    )


def _pattern(
    error: ValidationError, path: JsonPath, source: SourceMap
) -> Iterator[Diagnostic]:
    expected = error.schema.get("description") or f"to match {error.validator_value}"
    examples = error.schema.get("examples")
    example = f" (e.g. {examples[0]})" if examples else ""
    yield Diagnostic(
        "Invalid value",
        f"{_field(path)} must be {expected}{example}; "
        f"found {_describe(error.instance)}.",
        source.value(path),
    )


def _range(
    error: ValidationError, path: JsonPath, source: SourceMap
) -> Iterator[Diagnostic]:
    schema, found = error.schema, error.instance
    if error.validator in ("minLength", "maxLength"):
        low, high, unit = schema.get("minLength"), schema.get("maxLength"), "characters"
        measure = f"{len(found)} characters" if isinstance(found, str) else ""
    elif error.validator in ("minItems", "maxItems"):
        low, high, unit = schema.get("minItems"), schema.get("maxItems"), "items"
        measure = f"{len(found)} items" if isinstance(found, list) else ""
    else:
        low, high, unit = schema.get("minimum"), schema.get("maximum"), ""
        measure = _describe(found)
    yield Diagnostic(
        "Value out of range",
        f"{_field(path)} must be {_bounds(low, high, unit)}; found {measure}.",
        source.value(path),
    )


def _bounds(low: Any, high: Any, unit: str) -> str:
    suffix = f" {unit}" if unit else ""
    if low is not None and high is not None:
        return f"between {low} and {high}{suffix}"
    if low is not None:
        return f"at least {low}{suffix}"
    return f"at most {high}{suffix}"


def _property_name(
    error: ValidationError, path: JsonPath, source: SourceMap
) -> Iterator[Diagnostic]:
    """A resource key (or other mapping key) that breaks the naming rule."""
    name = error.instance
    rule = error.schema.get("description", "a valid name")
    yield Diagnostic(
        "Invalid name",
        f"{name!r} is not a valid name here; expected {rule}.",
        source.key_or_value((*path, name)) if isinstance(name, str) else None,
    )


def _one_of(
    error: ValidationError, path: JsonPath, source: SourceMap
) -> Iterator[Diagnostic]:
    """Report only the branch the user meant, never every branch's errors."""
    branches: dict[int, list[ValidationError]] = {}
    for sub in error.context or []:
        branches.setdefault(int(sub.relative_schema_path[0]), []).append(sub)
    if not branches:
        # Valid under several branches: the schema should make that impossible.
        yield from _generic(error, path, source)
        return

    meant = {
        index: errors
        for index, errors in branches.items()
        if not _type_mismatch(errors, path)
    }
    if not meant:
        yield from _no_branch_type(error, path, source)
        return

    # Mappings told apart by one key each ({fromEnv} | {fromFile}): the key
    # the user wrote says which branch they meant.
    keyed = _branch_keys(error, meant)
    if keyed is not None and isinstance(error.instance, dict):
        chosen_index = yield from _by_key(error, path, source, keyed)
        if chosen_index is None:
            return
        meant = {chosen_index: meant[chosen_index]}

    chosen = min(meant.values(), key=lambda errors: _branch_distance(errors, path))
    for sub in chosen:
        yield from _explain(sub, source)


def _branch_keys(
    error: ValidationError, meant: dict[int, list[ValidationError]]
) -> dict[str, int] | None:
    """Discriminating key -> branch index, when every branch has one."""
    keys: dict[str, int] = {}
    for index in meant:
        branch = error.validator_value[index]
        branch = _resolve(branch["$ref"]) if "$ref" in branch else branch
        required = branch.get("required", [])
        if len(required) != 1:
            return None
        keys[required[0]] = index
    return keys


def _by_key(
    error: ValidationError,
    path: JsonPath,
    source: SourceMap,
    keyed: dict[str, int],
) -> Generator[Diagnostic, None, int | None]:
    written = [key for key in error.instance if key in keyed]
    choices = " or ".join(f"{{{key}: ...}}" for key in keyed)
    if len(written) == 1:
        return keyed[written[0]]
    if written:
        yield Diagnostic(
            "Conflicting attributes",
            f"{_field(path)} takes exactly one of {', '.join(keyed)}; found "
            f"{' and '.join(written)}.",
            source.key_or_value((*path, written[1])),
        )
        return None
    for key in error.instance:
        yield Diagnostic(
            "Unknown attribute",
            f"{_field(path)} has no attribute {key!r}."
            f"{_did_you_mean(key, list(keyed))} Expected {choices}.",
            source.key_or_value((*path, key)),
        )
    if not error.instance:
        yield Diagnostic(
            "Missing required attribute",
            f"{_field(path)} is empty; expected {choices}.",
            source.value(path),
        )
    return None


def _type_mismatch(errors: Sequence[ValidationError], path: JsonPath) -> bool:
    """True when the branch wants another type (or constant) at ``path``."""
    return any(
        _path(sub) == path and sub.validator in ("type", "const", "enum")
        for sub in errors
    )


def _branch_distance(
    errors: Sequence[ValidationError], path: JsonPath
) -> tuple[int, int]:
    # Fewer problems at the top and deeper problems mean the user got further.
    shallow = sum(1 for sub in errors if _path(sub) == path)
    return shallow, len(errors)


def _no_branch_type(
    error: ValidationError, path: JsonPath, source: SourceMap
) -> Iterator[Diagnostic]:
    wanted: list[str] = []
    for branch in error.validator_value:
        for kind in _branch_types(branch):
            if kind not in wanted:
                wanted.append(kind)
    shown = " or ".join(wanted) if wanted else "another form"
    yield Diagnostic(
        "Wrong type",
        f"{_field(path)} expects {shown}; found {_describe(error.instance)}."
        + _type_hint(path, ["object"], error.instance, source),
        source.value(path),
    )


def _branch_types(branch: dict[str, Any]) -> list[str]:
    if "$ref" in branch:
        branch = _resolve(branch["$ref"])
    if "const" in branch:
        return [_literal(branch["const"])]
    declared = branch.get("type", [])
    declared = [declared] if isinstance(declared, str) else declared
    if branch.get("required") and "object" in declared:
        keys = ", ".join(f"{key}: ..." for key in branch["required"])
        return ["{" + keys + "}"]
    return [_TYPE_NAMES.get(kind, kind) for kind in declared]


def _resolve(reference: str) -> dict[str, Any]:
    node: Any = manifest_schema()
    for part in reference.removeprefix("#/").split("/"):
        node = node.get(part, {}) if isinstance(node, dict) else {}
    return node if isinstance(node, dict) else {}


def _count_of(
    error: ValidationError, path: JsonPath, source: SourceMap
) -> Iterator[Diagnostic]:
    """min/maxProperties: used for "exactly one of these keys"."""
    keys = ", ".join(error.schema.get("properties", {}))
    yield Diagnostic(
        "Invalid value",
        f"{_field(path)} takes exactly one of: {keys}.",
        source.value(path),
    )


def _generic(
    error: ValidationError, path: JsonPath, source: SourceMap
) -> Iterator[Diagnostic]:
    yield Diagnostic(
        "Invalid value",
        f"{_field(path)}: {error.message}.",
        source.value(path),
    )


_HANDLERS = {
    "additionalProperties": _additional,
    "required": _required,
    "type": _type,
    "enum": _enum,
    "const": _enum,
    "pattern": _pattern,
    "minimum": _range,
    "maximum": _range,
    "minLength": _range,
    "maxLength": _range,
    "minItems": _range,
    "maxItems": _range,
    "oneOf": _one_of,
    "anyOf": _one_of,
    "minProperties": _count_of,
    "maxProperties": _count_of,
}


# --- YAML 1.1 values that other tools read differently ----------------------


def _ambiguous_scalars(
    source: SourceMap, failed: set[JsonPath]
) -> Iterator[Diagnostic]:
    """Values valid for the schema whose YAML 1.1 reading is a trap."""
    for path, plain in source.plain.items():
        if path in failed or _is_extension(path):
            continue
        kind = plain.tag.rpartition(":")[2]
        if kind == "bool" and plain.text.lower() in _YAML11_BOOLEANS:
            value = plain.text.lower() in ("yes", "on", "y")
            yield Diagnostic(
                "YAML 1.1 boolean",
                f"{_field(path)}: {plain.text!r} is read as {str(value).lower()} "
                "here, but as a string by YAML 1.2 tools. Write "
                f"{str(value).lower()}.",
                source.value(path),
                severity=Severity.WARNING,
            )
        elif kind == "int" and _LEADING_ZERO.match(plain.text):
            yield _octal(path, plain.text, source)
        elif kind in ("int", "float") and _SEXAGESIMAL.match(plain.text):
            yield _sexagesimal(path, plain.text, source)


def _octal(path: JsonPath, text: str, source: SourceMap) -> Diagnostic:
    digits = text.replace("_", "")
    octal, decimal = int(digits, 8), int(digits, 10)
    return Diagnostic(
        "Ambiguous number",
        f"{_field(path)}: YAML 1.1 reads {text} as the octal number {octal}, "
        f"YAML 1.2 as {decimal}. Write {decimal} (or {octal}) without the "
        "leading zero, or quote it if it is text.",
        source.value(path),
    )


def _sexagesimal(path: JsonPath, text: str, source: SourceMap) -> Diagnostic:
    return Diagnostic(
        "Ambiguous number",
        f"{_field(path)}: YAML 1.1 reads {text} as a base-60 number (like a "
        "clock time), YAML 1.2 as text. Write the number you mean, or quote "
        "it if it is text.",
        source.value(path),
    )


def _is_extension(path: JsonPath) -> bool:
    return bool(path) and isinstance(path[0], str) and path[0].startswith("x-")


# --- words ------------------------------------------------------------------


def _where(path: JsonPath) -> str:
    """What a path's mapping is, for a person: "instance 'web'", "provider"."""
    if len(path) >= 2 and path[0] in SECTIONS:
        owner = f"{SECTIONS[str(path[0])]} {path[1]!r}"
        rest = _dotted(path[2:])
        return f"{rest!r} of {owner}" if rest else owner
    if not path:
        return "The manifest"
    return repr(_dotted(path))


def _field(path: JsonPath) -> str:
    """``_where`` at the start of a sentence."""
    where = _where(path)
    return where[:1].upper() + where[1:]


def _leaf(path: JsonPath) -> str:
    for part in reversed(path):
        if isinstance(part, str):
            return part
    return "value"


def _dotted(path: Sequence[str | int]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {_literal(value)}"
    if isinstance(value, date):
        return f"the date {value.isoformat()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _literal(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)[:80]


def _did_you_mean(word: str, candidates: Sequence[str]) -> str:
    match = did_you_mean(word, candidates)
    return f" Did you mean {match!r}?" if match else ""


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate to a misspelt ``word``, if one is close enough."""
    by_lower = {candidate.lower(): candidate for candidate in candidates}
    found = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[found[0]] if found else None
