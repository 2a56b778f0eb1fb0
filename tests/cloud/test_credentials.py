"""Credentials and region from the environment and tccli profiles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.cloud.credentials import (
    Credentials,
    CredentialsError,
    load_credentials,
    load_region,
)

KEY = "k3y-value-never-shown"


def write_profile(home: Path, name: str, credential: object, configure: object) -> None:
    folder = home / ".tccli"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.credential").write_text(json.dumps(credential))
    (folder / f"{name}.configure").write_text(json.dumps(configure))


def test_environment_wins(tmp_path: Path) -> None:
    write_profile(tmp_path, "default", {"secretId": "p", "secretKey": "q"}, {})
    env = {
        "TENCENTCLOUD_SECRET_ID": "AKIDenv",
        "TENCENTCLOUD_SECRET_KEY": KEY,
        "TENCENTCLOUD_SECURITY_TOKEN": "tok-123",
    }

    found = load_credentials(env, home=tmp_path)

    assert found == Credentials("AKIDenv", KEY, "tok-123")


def test_environment_without_token_has_none(tmp_path: Path) -> None:
    env = {"TENCENTCLOUD_SECRET_ID": "AKIDenv", "TENCENTCLOUD_SECRET_KEY": KEY}

    assert load_credentials(env, home=tmp_path).token is None


def test_default_tccli_profile(tmp_path: Path) -> None:
    write_profile(tmp_path, "default", {"secretId": "AKIDp", "secretKey": KEY}, {})

    assert load_credentials({}, home=tmp_path) == Credentials("AKIDp", KEY)


@pytest.mark.parametrize("variable", ["TENCENTCLOUD_PROFILE", "TCCLI_PROFILE"])
def test_named_profile_from_environment(tmp_path: Path, variable: str) -> None:
    credential = {"secretId": "AKIDprod", "secretKey": KEY, "token": "t-9"}
    write_profile(tmp_path, "prod", credential, {})

    found = load_credentials({variable: "prod"}, home=tmp_path)

    assert found == Credentials("AKIDprod", KEY, "t-9")


def test_missing_credentials_error_names_every_source(tmp_path: Path) -> None:
    with pytest.raises(CredentialsError) as caught:
        load_credentials({"TCCLI_PROFILE": "ci"}, home=tmp_path)

    text = str(caught.value)
    for source in (
        "TENCENTCLOUD_SECRET_ID",
        "TENCENTCLOUD_SECRET_KEY",
        "TENCENTCLOUD_SECURITY_TOKEN",
        "TENCENTCLOUD_PROFILE",
        "TCCLI_PROFILE",
        str(tmp_path / ".tccli" / "ci.credential"),
        "'ci'",
    ):
        assert source in text


def test_half_set_environment_falls_through_to_profile(tmp_path: Path) -> None:
    write_profile(tmp_path, "default", {"secretId": "AKIDp", "secretKey": KEY}, {})

    found = load_credentials({"TENCENTCLOUD_SECRET_ID": "x"}, home=tmp_path)

    assert found.secret_id == "AKIDp"


def test_broken_profile_file_counts_as_missing(tmp_path: Path) -> None:
    folder = tmp_path / ".tccli"
    folder.mkdir()
    (folder / "default.credential").write_text("{not json")

    with pytest.raises(CredentialsError):
        load_credentials({}, home=tmp_path)


def test_region_from_environment_then_profile(tmp_path: Path) -> None:
    write_profile(tmp_path, "default", {}, {"region": "ap-beijing"})
    write_profile(tmp_path, "new", {}, {"_sys_param": {"region": "ap-shanghai"}})

    assert load_region({"TENCENTCLOUD_REGION": "ap-seoul"}, home=tmp_path) == (
        "ap-seoul"
    )
    assert load_region({}, home=tmp_path) == "ap-beijing"
    assert load_region({"TENCENTCLOUD_PROFILE": "new"}, home=tmp_path) == (
        "ap-shanghai"
    )
    assert load_region({"TENCENTCLOUD_PROFILE": "none"}, home=tmp_path) is None


def test_repr_never_shows_the_key_or_token() -> None:
    credentials = Credentials("AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA", KEY, "tok-xyz")

    for text in (repr(credentials), str(credentials), f"{credentials}"):
        assert KEY not in text
        assert "tok-xyz" not in text
        assert "AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA" not in text
        assert "AKID" in text
