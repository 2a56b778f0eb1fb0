"""Strict YAML: every mistake and hostile input becomes a positioned diagnostic."""

from __future__ import annotations

import time

import pytest

from reconciler.manifest import load, validate_paths
from reconciler.manifest.load import MAX_FILE_BYTES, load_document


def only(path, kit):
    [error] = kit.errors(path)
    return error.summary, kit.where(error)


def test_a_duplicate_key_is_an_error_at_the_second_key(kit):
    path = kit.write(kit.header + "instances:\n  web: {}\n  db: {}\n  web: {}\n")

    [error] = kit.errors(path)

    assert (error.summary, kit.where(error)) == ("Duplicate key", (8, 3))
    assert f"{path}:6:3" in error.detail


def test_a_duplicate_key_in_a_flow_mapping_is_an_error(kit):
    path = kit.write("version: 1\nprovider: {region: ap-guangzhou, region: x}\n")

    assert only(path, kit) == ("Duplicate key", (2, 34))


def test_invalid_syntax_is_a_positioned_diagnostic(kit):
    path = kit.write("version: 1\ninstances: [a, b\n")

    summary, _ = only(path, kit)

    assert summary == "Invalid YAML"


def test_tabs_in_indentation_are_named_as_the_problem(kit):
    path = kit.write("version: 1\ninstances:\n\tweb: {}\n")

    assert only(path, kit) == ("Tab used for indentation", (3, 1))


def test_a_second_document_is_refused(kit):
    path = kit.write("version: 1\n---\nversion: 1\n")

    assert only(path, kit) == ("More than one YAML document", (2, 1))


def test_non_utf8_bytes_are_located(tmp_path, kit):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("version: 1\nx-note: caf\xe9\n".encode("latin-1"))

    assert only(path, kit) == ("File is not UTF-8", (2, 12))


def test_a_utf8_byte_order_mark_is_accepted(tmp_path, kit):
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + kit.quickstart.encode())

    assert validate_paths([path]) == []


def test_control_characters_are_refused(tmp_path, kit):
    path = tmp_path / "nul.yaml"
    path.write_bytes(b"version: 1\nx-a: b\x00c\n")

    assert only(path, kit) == ("Invalid character", (2, 7))


def test_deep_nesting_is_refused_fast(kit):
    path = kit.write("version: 1\nx-deep: " + "[" * 5000 + "]" * 5000 + "\n")

    started = time.monotonic()
    summary, _ = only(path, kit)

    assert summary == "Nesting too deep"
    assert time.monotonic() - started < 1


def test_an_alias_bomb_is_refused_fast(kit):
    lines = ["version: 1", 'x-0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 10):
        refs = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"x-{level}: &a{level} [{refs}]")
    path = kit.write("\n".join(lines) + "\n")

    started = time.monotonic()
    summary, _ = only(path, kit)

    assert summary == "Alias expansion too large"
    # About 0.4 s alone; the margin is for busy CI machines.
    assert time.monotonic() - started < 2


def test_a_recursive_alias_is_refused(kit):
    path = kit.write("version: 1\nx-loop: &loop\n  again: *loop\n")

    summary, _ = only(path, kit)

    assert summary == "Recursive alias"


def test_an_undefined_alias_is_a_syntax_error(kit):
    path = kit.write("version: 1\ninstances:\n  a: *missing\n")

    summary, where = only(path, kit)

    assert (summary, where[0]) == ("Invalid YAML", 3)


def test_a_huge_file_is_refused_before_parsing(tmp_path, kit):
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"version: 1\n" + b"#" * MAX_FILE_BYTES)

    started = time.monotonic()
    summary, _ = only(path, kit)

    assert summary == "File too large"
    assert time.monotonic() - started < 1


def test_python_tags_are_refused(kit):
    path = kit.write("version: 1\nx-evil: !!python/object/apply:os.system [true]\n")

    summary, _ = only(path, kit)

    assert summary == "Unsupported YAML tag"


def test_anchors_and_merge_keys_share_settings(kit):
    path = kit.write(
        """\
        version: 1
        x-small: &small {zone: ap-guangzhou-3, image: img-ubuntu22, cpu: 1, memory: 2}
        instances:
          a: {<<: *small}
          b:
            <<: *small
            cpu: 4
        """
    )

    assert validate_paths([path]) == []


def test_keys_stay_text_even_when_they_look_like_booleans_or_numbers(kit):
    document, problems = load_document("k.yaml", b"on: 1\n01: 2\nnull: 3\n")

    assert problems == []
    assert document is not None
    assert document.value == {"on": 1, "01": 2, "null": 3}


@pytest.mark.parametrize(
    ("line", "summary"),
    [
        ("zone: 2024-01-01", "Value needs quotes"),
        ("name: 12345", "Value needs quotes"),
        ("name: yes", "Value needs quotes"),
        ("name: ~", "Wrong type"),
        ("name: null", "Wrong type"),
        ("image: 1.5", "Value needs quotes"),
    ],
)
def test_unquoted_values_yaml_turns_into_other_types_need_quotes(kit, line, summary):
    path = kit.write(kit.header + "instances:\n  a:\n    " + line + "\n")

    [error] = kit.errors(path)

    assert (error.summary, kit.where(error)[0]) == (summary, 7)


def test_value_needs_quotes_shows_the_quoted_fix(kit):
    path = kit.write(kit.header + "instances:\n  a: {name: 0x1F}\n")

    [error] = kit.errors(path)

    assert 'name: "0x1F"' in error.detail


def test_octal_looking_numbers_are_errors_with_both_readings(kit):
    path = kit.write(kit.header + "instances:\n  a: {disk: 0100}\n")

    [error] = kit.errors(path)

    assert error.summary == "Ambiguous number"
    assert "64" in error.detail and "100" in error.detail


def test_leading_zero_with_8_or_9_is_explained(kit):
    path = kit.write(kit.header + "instances:\n  a: {disk: 090}\n")

    [error] = kit.errors(path)

    assert error.summary == "Wrong type"
    assert "leading zero" in error.detail


def test_sexagesimal_numbers_are_errors(kit):
    path = kit.write(kit.header + "instances:\n  a: {bandwidth: 1:30}\n")

    [error] = kit.errors(path)

    assert error.summary == "Ambiguous number"


def test_quoted_values_are_taken_as_written(kit):
    path = kit.write(
        kit.header + "instances:\n  a: {name: '0755'}\n  b: {name: 'yes'}\n"
    )

    assert validate_paths([path]) == []


BAD_INPUTS = [
    b"version: 1\ninstances: [a, b\n",
    b"version: 1\ninstances:\n\tweb: {}\n",
    b"version: 1\n---\nversion: 1\n",
    b"version: 1\nx-a: caf\xc3\xa9 b\x00c\n",
    b"version: 1\nx-deep: " + b"[" * 200 + b"]" * 200 + b"\n",
    b"a: 1\nb: 2\na: 3\n",
    b"version: 1\ninstances:\n  a: *missing\n",
    b"version: 1\nx-a: {b: 0755, c: yes, d: '1', e: 2024-01-01}\n",
]


@pytest.mark.parametrize("data", BAD_INPUTS)
def test_the_libyaml_and_python_parsers_read_alike(monkeypatch, data):
    fast = load_document("f.yaml", data)

    monkeypatch.setattr(load, "_make_loader", load._python_loader)
    slow = load_document("f.yaml", data)

    assert [(d.summary, d.position) for d in fast[1]] == [
        (d.summary, d.position) for d in slow[1]
    ]
    assert (fast[0] and fast[0].value) == (slow[0] and slow[0].value)
    assert (fast[0] and fast[0].source.plain) == (slow[0] and slow[0].source.plain)
