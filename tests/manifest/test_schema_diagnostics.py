"""Schema errors read as one precise sentence each, at the right place."""

from __future__ import annotations

import pytest

KEYED = """\
version: 1
defaults:
  instance: {zone: ap-guangzhou-3, image: img-ubuntu22, cpu: 1, memory: 2}
instances:
  a: %s
"""


def one(kit, text):
    found = kit.errors(kit.write(text))
    assert len(found) == 1, [d.render() for d in found]
    return found[0]


def test_a_misspelt_attribute_gets_a_did_you_mean_at_the_key(kit):
    error = one(kit, KEYED % "{memroy: 4}")

    assert (error.summary, kit.where(error)) == ("Unknown attribute", (5, 7))
    assert "Did you mean 'memory'?" in error.detail
    assert "Expected one of:" in error.detail


def test_a_misspelt_section_gets_a_did_you_mean(kit):
    error = one(kit, "version: 1\ninstance:\n  a: {}\n")

    assert "Did you mean 'instances'?" in error.detail
    assert kit.where(error) == (2, 1)


def test_extension_sections_are_allowed_for_anchors(kit):
    assert kit.errors(kit.write("version: 1\nx-anything: {what: ever}\n")) == []


def test_a_wrong_type_says_what_was_expected_and_found(kit):
    error = one(kit, KEYED % "{cpu: many}")

    assert error.summary == "Wrong type"
    assert 'expects a whole number; found the string "many"' in error.detail
    assert kit.where(error) == (5, 12)


def test_an_enum_value_gets_a_did_you_mean(kit):
    error = one(kit, KEYED % "{state: stoped}")

    assert "Did you mean 'stopped'?" in error.detail


def test_a_range_error_gives_the_bounds(kit):
    error = one(kit, KEYED % "{memory: 1024}")

    assert error.summary == "Value out of range"
    assert "between 1 and 512" in error.detail


def test_a_name_longer_than_60_characters_is_refused(kit):
    error = one(kit, KEYED % ("{name: %s}" % ("n" * 61)))

    assert error.summary == "Value out of range"
    assert "61 characters" in error.detail


def test_an_invalid_resource_key_is_reported_at_the_key(kit):
    error = one(kit, "version: 1\ninstances:\n  web_: {}\n")

    assert (error.summary, kit.where(error)) == ("Invalid name", (3, 3))


def test_a_pattern_error_describes_the_expected_form(kit):
    error = one(kit, KEYED % "{image: ubuntu}")

    assert "img- followed by 8 lowercase letters or digits" in error.detail


def test_the_version_must_be_1(kit):
    error = one(kit, "version: 2\n")

    assert error.summary == "Invalid value"
    assert "must be 1" in error.detail


def test_the_version_is_required(kit):
    error = one(kit, "instances: {}\n")

    assert error.summary == "Missing required attribute"
    assert "'version'" in error.detail


@pytest.mark.parametrize(
    ("value", "summary", "fragment"),
    [
        ("{password: hunter2}", "Wrong type", "Passwords are never written"),
        ("{password: {fromEnv: X, fromFile: y}}", "Conflicting attributes", "one of"),
        ("{password: {fromEnvv: X}}", "Unknown attribute", "Did you mean 'fromEnv'?"),
        ("{password: {}}", "Missing required attribute", "{fromEnv: ...} or"),
        ("{password: {fromEnv: 1X}}", "Invalid value", "environment variable name"),
    ],
)
def test_one_of_errors_are_reduced_to_the_branch_the_user_meant(
    kit, value, summary, fragment
):
    error = one(kit, KEYED % value)

    assert error.summary == summary
    assert fragment in error.detail


def test_one_of_over_types_names_every_accepted_form(kit):
    error = one(kit, "version: 1\nloadBalancers:\n  lb: {backends: [{instances: 5}]}\n")

    assert error.summary == "Wrong type"
    assert "a string or a list" in error.detail


def test_a_yes_for_a_boolean_is_a_warning_with_the_fix(kit):
    path = kit.write(KEYED % "{lifecycle: {preventDestroy: yes}}")

    [warning] = kit.warnings(path)

    assert warning.summary == "YAML 1.1 boolean"
    assert "Write true" in warning.detail
    assert kit.errors(path) == []


def test_a_y_for_a_boolean_is_an_error_asking_for_true_or_false(kit):
    error = one(kit, KEYED % "{lifecycle: {preventDestroy: y}}")

    assert "Write true or false" in error.detail


def test_ignore_changes_names_attributes_of_the_kind(kit):
    error = one(kit, KEYED % "{lifecycle: {ignoreChanges: [bandwith]}}")

    assert "Did you mean 'bandwidth'?" in error.detail


def test_an_empty_instance_entry_is_allowed(kit):
    assert kit.errors(kit.write(KEYED % "")) == []


def test_all_errors_of_a_file_are_reported_together(kit):
    path = kit.write(KEYED % "{cpu: 0, memory: x, colour: red, state: on}")

    assert len(kit.errors(path)) == 4
