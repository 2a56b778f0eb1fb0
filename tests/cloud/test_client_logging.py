"""Logs: one INFO line per call, DEBUG parameters, and never a secret."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from reconciler.cloud.client import Credentials, LegacyClient
from reconciler.cloud.cvm import CvmApi
from reconciler.cloud.errors import ApiError
from reconciler.cloud.redact import (
    MASK,
    is_secret_name,
    redact_params,
    redact_text,
    register_secret,
)
from reconciler.cloud.testing import SECRET_ID, SECRET_KEY, ScriptedServer

PASSWORD = "Pa55-word-from-manifest!"
TOKEN = "session-token-abc123"


def all_log_text(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(record.getMessage() for record in caplog.records)


def test_info_line_per_call_names_service_action_region_code_duration(
    server: ScriptedServer,
    client: LegacyClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="reconciler.cloud")

    client.call("cvm", "DescribeInstances", {})

    [line] = [r for r in caplog.records if r.name == "reconciler.cloud.client"]
    assert line.levelno == logging.INFO
    text = line.getMessage()
    for part in ("cvm.DescribeInstances", "region=ap-guangzhou", "code=0", " s"):
        assert part in text


def test_password_signature_and_keys_never_reach_logs_or_errors(
    server: ScriptedServer,
    make_client: Callable[..., LegacyClient],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client(
        credentials=Credentials(SECRET_ID, SECRET_KEY, TOKEN), max_attempts=2
    )
    register_secret(PASSWORD)
    # The server echoes the password back in its error, as some APIs do.
    server.answer(
        {"code": 6000, "message": "busy"},
        {"code": 4000, "message": f"(100004) password {PASSWORD} too weak"},
    )
    config = {"zone": "ap-guangzhou-3", "cpu": 1, "password": PASSWORD}

    with pytest.raises(ApiError) as caught:
        CvmApi(client).run_instances_hour(config, 1, "web", "tok-1")

    signatures = [seen.form["Signature"] for seen in server.requests]
    assert server.requests[0].form["password"] == PASSWORD
    logged = all_log_text(caplog)
    assert "RunInstancesHour parameters" in logged
    assert MASK in logged
    for secret in (PASSWORD, SECRET_KEY, TOKEN, *signatures):
        assert secret not in logged
        assert secret not in str(caught.value)
        assert secret not in repr(caught.value)


def test_secret_names_are_recognised() -> None:
    for name in ("password", "Signature", "SecretKey", "Token", "login.0.password"):
        assert is_secret_name(name)
    for name in ("clientToken", "instanceName", "SecretId", "keyId"):
        assert not is_secret_name(name)


def test_redact_params_masks_names_and_registered_values() -> None:
    register_secret("manifest-secret-42")

    shown = redact_params(
        {"password": "x", "instanceName": "has manifest-secret-42 inside", "cpu": 2}
    )

    assert shown == {"password": MASK, "instanceName": f"has {MASK} inside", "cpu": "2"}


def test_short_values_are_not_registered() -> None:
    register_secret("ab")

    assert redact_text("ab cd") == "ab cd"
