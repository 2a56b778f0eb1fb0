"""Strict YAML loading: one file's bytes to plain values plus a source map.

Called by ``reconciler.manifest.pipeline`` for every manifest file. PyYAML's
defaults are too forgiving for a file that spends money: it keeps the last of
two duplicate keys, expands alias bombs, recurses without bound and turns
``on`` into ``True`` even in a mapping key. This module composes the node tree
with a depth limit, then builds the values itself so that it can

- report duplicate keys at the second key,
- keep every key and value position (``file:line:col``, 1-based),
- keep the raw text of unquoted scalars, so that later steps can explain what
  YAML 1.1 did to ``yes``, ``0755`` or ``2024-01-01``,
- cap the size of input, nesting and alias expansion.

Nothing here knows the manifest's shape; that is ``validate``'s job.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.resolver import Resolver

from reconciler.diagnostics import Diagnostic, SourcePosition

logger = logging.getLogger(__name__)

# A path from the document root to a value: mapping keys and sequence indexes.
JsonPath = tuple[str | int, ...]

MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 48
# Nodes built in total, and nodes built again through aliases. A manifest of
# 10,000 resources stays far below both; a "billion laughs" hits them fast.
MAX_NODES = 2_000_000
MAX_ALIAS_NODES = 100_000

_CORE_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:merge",
}
_MERGE_TAG = "tag:yaml.org,2002:merge"
_DEPTH_DETAIL = (
    f"The manifest nests more than {MAX_DEPTH} levels of mappings and lists; "
    "no manifest needs that many."
)


@dataclass(frozen=True)
class PlainScalar:
    """An unquoted scalar's text and the YAML 1.1 type it was read as."""

    text: str
    tag: str


@dataclass
class SourceMap:
    """Where each value of a document (or merged documents) was written.

    ``values`` holds the position of every value, ``keys`` the position of
    the mapping key that introduced it, ``plain`` the raw text of unquoted
    scalars. All three are keyed by the value's path from the root.
    """

    values: dict[JsonPath, SourcePosition] = field(default_factory=dict)
    keys: dict[JsonPath, SourcePosition] = field(default_factory=dict)
    plain: dict[JsonPath, PlainScalar] = field(default_factory=dict)

    def key_or_value(self, path: JsonPath) -> SourcePosition | None:
        """Where a user would look for ``path``: its key, else its value."""
        for candidate in _self_and_ancestors(path):
            found = self.keys.get(candidate) or self.values.get(candidate)
            if found is not None:
                return found
        return None

    def value(self, path: JsonPath) -> SourcePosition | None:
        """Where the value at ``path`` starts, else the nearest ancestor's."""
        for candidate in _self_and_ancestors(path):
            found = self.values.get(candidate) or self.keys.get(candidate)
            if found is not None:
                return found
        return None

    def update(self, other: SourceMap) -> None:
        self.values.update(other.values)
        self.keys.update(other.keys)
        self.plain.update(other.plain)


@dataclass
class Document:
    """One file's content: ``value`` is None for an empty file."""

    path: str
    value: Any
    source: SourceMap


def _self_and_ancestors(path: JsonPath) -> Iterator[JsonPath]:
    for end in range(len(path), -1, -1):
        yield path[:end]


class _LoadError(Exception):
    """A problem found while building values; becomes one diagnostic."""

    def __init__(self, summary: str, detail: str, mark: yaml.Mark | None) -> None:
        super().__init__(summary)
        self.summary = summary
        self.detail = detail
        self.mark = mark


class _DepthLimit:
    """PyYAML's (recursive) composer, refusing deep nesting."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _LoadError(
                    "Nesting too deep", _DEPTH_DETAIL, self.peek_event().start_mark
                )
            return super().compose_node(parent, index)  # type: ignore[misc]
        finally:
            self._depth -= 1


class _PythonLoader(_DepthLimit, yaml.SafeLoader):
    """Pure-Python scanning and parsing."""


def _python_loader(text: str) -> Any:
    return _PythonLoader(text)


def _c_loader(text: str) -> Any:
    return _CLoader(text)


try:
    from yaml._yaml import CParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _make_loader = _python_loader
else:

    class _CLoader(_DepthLimit, CParser, Composer, Resolver):  # type: ignore[misc]
        """libyaml scans and parses (about six times faster); the composer is
        Python's, so that the depth limit and positions stay the same."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            Composer.__init__(self)
            Resolver.__init__(self)

    _make_loader = _c_loader


def load_document(path: str, data: bytes) -> tuple[Document | None, list[Diagnostic]]:
    """Parse one file's bytes; return the document or the reasons it failed."""
    if len(data) > MAX_FILE_BYTES:
        return None, [_too_large(path, len(data))]

    text, problem = _decode(path, data)
    if problem is not None:
        return None, [problem]

    try:
        node = _compose_single(text)
        source = SourceMap()
        value = _Builder(path, source).build(node, ())
    except _LoadError as error:
        return None, [_at_mark(path, error.summary, error.detail, error.mark)]
    except yaml.YAMLError as error:
        return None, [_syntax_error(path, text, error)]
    except RecursionError:
        # The depth limit should stop this first; keep the promise of "never a
        # traceback" even so.
        return None, [Diagnostic("Nesting too deep", "", SourcePosition(path, 1, 1))]

    logger.debug("Loaded %s (%d bytes).", path, len(data))
    return Document(path, value, source), []


def _too_large(path: str, size: int) -> Diagnostic:
    return Diagnostic(
        "File too large",
        f"The file has {size} bytes; manifest files are limited to "
        f"{MAX_FILE_BYTES} bytes. Split it into several files in one directory.",
        SourcePosition(path, 1, 1),
    )


def _decode(path: str, data: bytes) -> tuple[str, Diagnostic | None]:
    """UTF-8 only (a leading BOM is allowed); bad bytes are located exactly."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as error:
        before = data[: error.start]
        line = before.count(b"\n") + 1
        column = len(before) - (before.rfind(b"\n") + 1) + 1
        return "", Diagnostic(
            "File is not UTF-8",
            f"Byte 0x{data[error.start]:02x} is not valid UTF-8. Manifest files "
            "must be UTF-8 text; re-save the file with UTF-8 encoding.",
            SourcePosition(path, line, column),
        )


def _compose_single(text: str) -> yaml.Node | None:
    """The file's one document as nodes; a second document is an error."""
    loader = _make_loader(text)
    try:
        loader.get_event()  # StreamStartEvent
        node = None
        if not loader.check_event(yaml.StreamEndEvent):
            node = loader.compose_document()
        if not loader.check_event(yaml.StreamEndEvent):
            raise _LoadError(
                "More than one YAML document",
                "A manifest file holds one YAML document; this `---` starts a "
                "second one. Put each document in a file of its own in the "
                "same directory.",
                loader.peek_event().start_mark,
            )
        return node
    finally:
        loader.dispose()


class _Builder:
    """Turns a node tree into plain values, recording positions on the way."""

    def __init__(self, path: str, source: SourceMap) -> None:
        self._path = path
        self._source = source
        self._constructor = yaml.SafeLoader("")
        self._nodes = 0
        self._alias_nodes = 0
        self._active: set[int] = set()
        self._seen: set[int] = set()

    def build(self, node: yaml.Node | None, path: JsonPath) -> Any:
        if node is None:
            return None
        return self._value(node, path, via_alias=False)

    def _value(self, node: yaml.Node, path: JsonPath, via_alias: bool) -> Any:
        # A node met a second time was reached through an alias.
        via_alias = via_alias or id(node) in self._seen
        self._count(node, via_alias)
        self._source.values[path] = _position(self._path, node.start_mark)
        self._check_tag(node)

        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path)
        if id(node) in self._active:
            raise _LoadError(
                "Recursive alias",
                "This alias refers to a node that contains it; the value would "
                "be infinite.",
                node.start_mark,
            )
        self._active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [
                    self._value(item, (*path, index), via_alias)
                    for index, item in enumerate(node.value)
                ]
            return self._mapping(node, path, via_alias)
        finally:
            self._active.discard(id(node))

    def _count(self, node: yaml.Node, via_alias: bool) -> None:
        self._seen.add(id(node))
        self._nodes += 1
        self._alias_nodes += via_alias
        if self._alias_nodes > MAX_ALIAS_NODES or self._nodes > MAX_NODES:
            raise _LoadError(
                "Alias expansion too large",
                "Expanding the aliases (`*name`) of this file would build more "
                f"than {MAX_ALIAS_NODES} values; this looks like an alias bomb.",
                node.start_mark,
            )

    def _check_tag(self, node: yaml.Node) -> None:
        if node.tag not in _CORE_TAGS:
            raise _LoadError(
                "Unsupported YAML tag",
                f"The tag {node.tag!r} is not supported; manifests use plain "
                "strings, numbers, booleans, lists and mappings.",
                node.start_mark,
            )

    def _scalar(self, node: yaml.ScalarNode, path: JsonPath) -> Any:
        try:
            value = self._constructor.construct_object(node)
        except (yaml.YAMLError, ValueError, OverflowError) as error:
            raise _LoadError(
                "Invalid scalar",
                f"YAML could not read {node.value!r} as {_tag_name(node.tag)}: {error}",
                node.start_mark,
            ) from error
        # PyYAML marks a plain scalar with style None, libyaml with "".
        if not node.style:
            self._source.plain[path] = PlainScalar(node.value, node.tag)
        return value

    def _mapping(self, node: yaml.MappingNode, path: JsonPath, via_alias: bool) -> Any:
        result: dict[str, Any] = {}
        first_seen: dict[str, yaml.Mark] = {}
        merged: list[yaml.Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merged.append(value_node)
                continue
            key = self._key(key_node, first_seen)
            child = (*path, key)
            self._source.keys[child] = _position(self._path, key_node.start_mark)
            result[key] = self._value(value_node, child, via_alias)

        # `<<: *base` fills in keys the mapping does not set itself.
        for source_node in merged:
            for extra in self._merge_sources(source_node):
                self._merge_into(result, extra, path)
        return result

    def _key(self, key_node: yaml.Node, first_seen: dict[str, yaml.Mark]) -> str:
        # Keys are names, never numbers or booleans: `on:` and `01:` stay text.
        if not isinstance(key_node, yaml.ScalarNode):
            raise _LoadError(
                "Invalid key",
                "Mapping keys must be plain names, not lists or mappings.",
                key_node.start_mark,
            )
        key = str(key_node.value)
        if key in first_seen:
            first = _position(self._path, first_seen[key])
            raise _LoadError(
                "Duplicate key",
                f"The key {key!r} is already set at {first}; YAML would "
                "silently keep only the last one. Remove or rename one of them.",
                key_node.start_mark,
            )
        first_seen[key] = key_node.start_mark
        return key

    def _merge_sources(self, node: yaml.Node) -> list[yaml.MappingNode]:
        if isinstance(node, yaml.MappingNode):
            return [node]
        if isinstance(node, yaml.SequenceNode) and all(
            isinstance(item, yaml.MappingNode) for item in node.value
        ):
            return list(node.value)
        raise _LoadError(
            "Invalid merge",
            "`<<` merges a mapping (`<<: *base`) or a list of mappings into this one.",
            node.start_mark,
        )

    def _merge_into(
        self, result: dict[str, Any], node: yaml.MappingNode, path: JsonPath
    ) -> None:
        # Build into a scratch map so that the merged keys' positions never
        # replace those of keys this mapping sets itself.
        own, scratch = self._source, SourceMap()
        self._source = scratch
        try:
            built = self._value(node, path, via_alias=True)
        finally:
            self._source = own
        added = {key for key in built if key not in result}
        for key in added:
            result[key] = built[key]
        depth = len(path)
        for target, mine in (
            (own.values, scratch.values),
            (own.keys, scratch.keys),
            (own.plain, scratch.plain),
        ):
            for child, where in mine.items():
                if len(child) > depth and child[depth] in added:
                    target[child] = where  # type: ignore[index]


def _tag_name(tag: str) -> str:
    return tag.rpartition(":")[2]


def _position(path: str, mark: yaml.Mark) -> SourcePosition:
    return SourcePosition(path, mark.line + 1, mark.column + 1)


def _at_mark(
    path: str, summary: str, detail: str, mark: yaml.Mark | None
) -> Diagnostic:
    where = _position(path, mark) if mark is not None else SourcePosition(path, 1, 1)
    return Diagnostic(summary, detail, where)


def _syntax_error(path: str, text: str, error: yaml.YAMLError) -> Diagnostic:
    """A parser error, with tabs (the most common cause) explained."""
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    if mark is None and isinstance(error, yaml.reader.ReaderError):
        return _reader_error(path, text, error)
    where = _position(path, mark) if mark is not None else SourcePosition(path, 1, 1)

    tab = _tab_indent(text, where.line)
    if tab is not None:
        return Diagnostic(
            "Tab used for indentation",
            "YAML indents with spaces only; replace the tab with spaces.",
            SourcePosition(path, where.line, tab),
        )
    problem = getattr(error, "problem", None) or str(error)
    if "nesting depth" in str(problem):
        # libyaml has its own (higher) depth limit; same message as ours.
        return _at_mark(path, "Nesting too deep", _DEPTH_DETAIL, mark)
    context = getattr(error, "context", None)
    detail = f"{context}, {problem}" if context else str(problem)
    return Diagnostic("Invalid YAML", detail[:1].upper() + detail[1:] + ".", where)


def _reader_error(path: str, text: str, error: yaml.reader.ReaderError) -> Diagnostic:
    # libyaml counts bytes of UTF-8, PyYAML characters.
    offset = error.position
    if _make_loader is _c_loader:
        offset = len(text.encode("utf-8")[:offset].decode("utf-8", errors="ignore"))
    before = text[:offset]
    line = before.count("\n") + 1
    column = len(before) - (before.rfind("\n") + 1) + 1
    code = error.character if isinstance(error.character, int) else 0
    return Diagnostic(
        "Invalid character",
        f"The character U+{code:04X} is not allowed in YAML; remove it.",
        SourcePosition(path, line, column),
    )


def _tab_indent(text: str, line: int) -> int | None:
    """Column of a tab in the indentation of ``line`` or the line before."""
    lines = text.split("\n")
    for number in (line, line - 1):
        if 1 <= number <= len(lines):
            content = lines[number - 1]
            indent = content[: len(content) - len(content.lstrip(" \t"))]
            if "\t" in indent:
                return indent.index("\t") + 1
    return None
