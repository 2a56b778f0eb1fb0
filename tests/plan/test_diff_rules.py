"""The diff row by row: how each instance attribute changes, and lifecycle rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.diagnostics import DiagnosticError
from reconciler.manifest.result import Lifecycle
from reconciler.model.change import Action, Change
from reconciler.plan.diff import REPLACE_REQUESTED, check_prevent_destroy, diff
from reconciler.plan.rules import RULES_BY_KIND
from reconciler.plan.sensitive import hash_secret, secret_matches

from .helpers import address, by_address, current, desired

PASSWORD = frozenset({"password"})


def rows_of(change: Change) -> list[tuple[Any, ...]]:
    return [(row.name, row.old, row.new, row.how) for row in change.attributes]


@pytest.mark.parametrize(
    ("attribute", "new", "action", "how"),
    [
        ("name", "front", Action.UPDATE, "ModifyInstanceAttributes"),
        ("bandwidth", 10, Action.UPDATE, "UpdateInstanceBandwidthHour"),
        ("state", "stopped", Action.UPDATE, "StopInstances"),
        (
            "image",
            "img-centos7",
            Action.UPDATE,
            "ResetInstances: reinstalls the OS; the system disk is wiped",
        ),
        ("keyPair", "ops", Action.UPDATE, "BindInstanceKey, while stopped"),
        (
            "zone",
            "ap-guangzhou-4",
            Action.REPLACE,
            "forces replacement: an instance cannot move zone",
        ),
        (
            "subnet",
            "back",
            Action.REPLACE,
            "forces replacement: an instance cannot move subnet",
        ),
        ("cpu", 2, Action.REPLACE, "forces replacement: the legacy API cannot resize"),
        (
            "memory",
            4,
            Action.REPLACE,
            "forces replacement: the legacy API cannot resize",
        ),
        (
            "disk",
            100,
            Action.REPLACE,
            "forces replacement: the legacy API cannot resize",
        ),
    ],
)
def test_every_instance_attribute_has_its_way_of_changing(
    attribute: str, new: object, action: Action, how: str
) -> None:
    (change,) = diff(
        [desired("a", **{attribute: new})], by_address(current("a", "ins-1"))
    )

    assert change.action is action
    assert [(row.name, row.new, row.how) for row in change.attributes] == [
        (attribute, new, how)
    ]
    assert change.resource_id == "ins-1"


def test_a_replacement_names_the_attributes_that_force_it() -> None:
    (change,) = diff(
        [desired("a", zone="ap-guangzhou-4", cpu=2, name="b")],
        by_address(current("a", "ins-1")),
    )

    assert change.reason == "changing cpu, zone forces replacement"


def test_a_reinstall_says_so_in_the_reason() -> None:
    (change,) = diff([desired("a", image="img-x")], by_address(current("a", "ins-1")))

    assert change.reason == "changing image reinstalls the OS"


def test_dropping_a_key_pair_unbinds_it_and_dropping_a_password_changes_nothing() -> (
    None
):
    recorded = current("a", "ins-1", keyPair="ops", password=hash_secret("pw"))

    (change,) = diff([desired("a")], by_address(recorded))

    assert rows_of(change) == [
        ("keyPair", "ops", None, "UnBindInstanceKey, while stopped")
    ]


def test_a_password_is_compared_through_the_salted_hash_in_state() -> None:
    recorded = current("a", "ins-1", password=hash_secret("s3cret"))

    same = diff([desired("a", PASSWORD, password="s3cret")], by_address(recorded))
    other = diff([desired("a", PASSWORD, password="n3w")], by_address(recorded))

    assert same == []
    (change,) = other
    (row,) = change.attributes
    assert (row.name, row.sensitive, row.how) == (
        "password",
        True,
        "ResetInstancePassword, while stopped",
    )


def test_hashes_are_salted_and_verifiable() -> None:
    first, second = hash_secret("pw"), hash_secret("pw")

    assert first != second
    assert "pw" not in first
    assert secret_matches("pw", first) and secret_matches("pw", second)
    assert not secret_matches("other", first)


def test_ignore_changes_hides_the_attribute_but_not_the_others() -> None:
    rules = {address("a"): Lifecycle(ignore_changes=frozenset({"name", "zone"}))}

    (change,) = diff(
        [desired("a", name="x", zone="ap-guangzhou-4", bandwidth=5)],
        by_address(current("a", "ins-1")),
        rules,
    )

    assert change.action is Action.UPDATE
    assert [row.name for row in change.attributes] == ["bandwidth"]


def test_ignore_changes_on_every_difference_gives_no_change() -> None:
    rules = {address("a"): Lifecycle(ignore_changes=frozenset({"state"}))}

    assert (
        diff([desired("a", state="stopped")], by_address(current("a", "i")), rules)
        == []
    )


def test_replace_forces_a_replacement_with_no_difference() -> None:
    (change,) = diff(
        [desired("a")], by_address(current("a", "ins-1")), replace={address("a")}
    )

    assert change.action is Action.REPLACE
    assert change.reason == REPLACE_REQUESTED
    assert change.attributes == ()


def test_prevent_destroy_refuses_a_replacement_and_names_the_address() -> None:
    rules = {address("db"): Lifecycle(prevent_destroy=True)}
    wanted = [desired("db", zone="ap-guangzhou-4")]
    changes = diff(wanted, by_address(current("db", "ins-1")), rules)

    with pytest.raises(DiagnosticError) as raised:
        check_prevent_destroy(changes, rules, {w.address: w for w in wanted})

    (problem,) = raised.value.diagnostics
    assert problem.address == "instance.db"
    assert "preventDestroy" in problem.detail
    assert "changing zone forces replacement" in problem.detail


def test_prevent_destroy_refuses_a_delete_but_allows_updates() -> None:
    rules = {address("db"): Lifecycle(prevent_destroy=True)}
    deleting = diff([], by_address(current("db", "ins-1")))
    updating = diff([desired("db", name="x")], by_address(current("db", "ins-1")))

    check_prevent_destroy(updating, rules, {})
    with pytest.raises(DiagnosticError, match="instance.db"):
        check_prevent_destroy(deleting, rules, {})


def test_a_deleted_password_row_is_sensitive() -> None:
    (change,) = diff([], by_address(current("a", "ins-1", password=hash_secret("p"))))

    password = next(row for row in change.attributes if row.name == "password")
    assert password.sensitive


SECTIONS = {
    "instance": "Instances",
    "vpc": "VPCs",
    "subnet": "Subnets",
    "keyPair": "Key pairs",
    "eip": "EIPs",
    "loadBalancer": "Load balancers",
}


def attribute_rows(text: str, heading: str) -> dict[str, str]:
    """The table rows of one ``## heading`` section, by attribute name."""
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return {
        line.split("|")[1].strip().strip("`"): line
        for line in section.splitlines()
        if line.startswith("| `")
    }


@pytest.mark.parametrize("kind", sorted(RULES_BY_KIND))
def test_docs_changes_lists_every_attribute_with_its_action(kind: str) -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "changes.md").read_text()
    table = attribute_rows(text, SECTIONS[kind])

    for name, rule in RULES_BY_KIND[kind].items():
        assert name in table, f"docs/changes.md lacks {kind} attribute {name}"
        row = table[name]
        assert rule.mode.value.replace("-", " ") in row
        if rule.api_action:
            assert rule.api_action in row
