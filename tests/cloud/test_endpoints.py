"""Per-service endpoint overrides from ``RECONCILER_ENDPOINT_<SERVICE>``."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from reconciler.cloud.client import Credentials, LegacyClient
from reconciler.cloud.endpoints import endpoints_from_env, variable_for
from reconciler.cloud.signing import sign
from reconciler.cloud.testing import SECRET_KEY, ScriptedServer


def test_variables_name_services_in_upper_case() -> None:
    assert variable_for("lb") == "RECONCILER_ENDPOINT_LB"


def test_overrides_are_read_per_service_and_empty_ones_ignored() -> None:
    env = {
        "RECONCILER_ENDPOINT_CVM": " https://cvm.internal ",
        "RECONCILER_ENDPOINT_VPC": "",
        "RECONCILER_ENDPOINT_": "x",
        "TENCENTCLOUD_REGION": "ap-guangzhou",
    }

    assert endpoints_from_env(env) == {"cvm": "https://cvm.internal"}


def test_client_without_endpoints_uses_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RECONCILER_ENDPOINT_EIP", "eip.private.example:8443")

    client = LegacyClient(Credentials("id", "key"), "ap-guangzhou")

    assert client.route("eip").url == "https://eip.private.example:8443/v2/index.php"
    assert client.route("cvm").url == "https://cvm.api.qcloud.com/v2/index.php"


def test_explicit_empty_endpoints_ignore_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RECONCILER_ENDPOINT_EIP", "eip.private.example")

    client = LegacyClient(Credentials("id", "key"), "ap-guangzhou", endpoints={})

    assert client.route("eip").url == "https://eip.api.qcloud.com/v2/index.php"


def test_environment_override_wins_over_the_global_endpoint(
    server: ScriptedServer,
    make_client: Callable[..., LegacyClient],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RECONCILER_ENDPOINT_LB", server.url + "/lb-private")
    client = make_client(endpoint="http://127.0.0.1:9")

    client.call("lb", "DescribeLoadBalancers", {})

    seen = server.requests[0]
    form = dict(seen.form)
    received = form.pop("Signature")
    assert seen.path == "/lb-private/v2/index.php"
    assert received == sign(SECRET_KEY, "POST", seen.host, form)
