"""What ``LegacyClient`` puts on the wire, checked on a real loopback server."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qsl

from reconciler.cloud.client import Credentials, LegacyClient, service_domain
from reconciler.cloud.signing import sign
from reconciler.cloud.testing import SECRET_ID, SECRET_KEY, ScriptedServer


def test_request_is_a_form_encoded_post_to_the_service_path(
    server: ScriptedServer, client: LegacyClient
) -> None:
    client.call("cvm", "DescribeInstances", {"instanceIds": ["ins-1", "ins-2"]})

    [seen] = server.requests
    assert seen.method == "POST"
    assert seen.path == "/cvm/v2/index.php"
    assert seen.content_type == "application/x-www-form-urlencoded"
    assert seen.query == {}
    assert seen.form["instanceIds.0"] == "ins-1"
    assert seen.form["instanceIds.1"] == "ins-2"


def test_common_parameters_are_sent(
    server: ScriptedServer, client: LegacyClient
) -> None:
    client.call("cvm", "DescribeInstances", {})

    form = server.requests[0].form
    assert form["Action"] == "DescribeInstances"
    assert form["Region"] == "ap-guangzhou"
    assert form["SecretId"] == SECRET_ID
    assert form["SignatureMethod"] == "HmacSHA256"
    assert int(form["Nonce"]) > 0
    assert int(form["Timestamp"]) > 1_600_000_000
    assert "Token" not in form


def test_signature_is_valid_over_the_canonical_domain(
    server: ScriptedServer, client: LegacyClient
) -> None:
    client.call("lb", "DescribeLoadBalancers", {"loadBalancerIds": ["lb-1"]})

    form = dict(server.requests[0].form)
    received = form.pop("Signature")
    assert received == sign(SECRET_KEY, "POST", "lb.api.qcloud.com", form)


def test_special_characters_survive_form_encoding_and_signing(
    server: ScriptedServer, client: LegacyClient
) -> None:
    name = "web 01/测试+a&b=c"

    client.call("cvm", "ModifyInstanceAttributes", {"instanceName": name})

    seen = server.requests[0]
    assert b"instanceName=web+01%2F%E6%B5%8B%E8%AF%95%2Ba%26b%3Dc" in seen.raw_body
    form = dict(parse_qsl(seen.raw_body.decode("ascii")))
    received = form.pop("Signature")
    assert form["instanceName"] == name
    assert received == sign(SECRET_KEY, "POST", "cvm.api.qcloud.com", form)


def test_token_is_sent_and_signed_with_temporary_credentials(
    server: ScriptedServer, make_client: Callable[..., LegacyClient]
) -> None:
    client = make_client(credentials=Credentials(SECRET_ID, SECRET_KEY, "tmp-tok"))

    client.call("cvm", "DescribeInstances", {})

    form = dict(server.requests[0].form)
    received = form.pop("Signature")
    assert form["Token"] == "tmp-tok"
    assert received == sign(SECRET_KEY, "POST", "cvm.api.qcloud.com", form)


def test_sha1_can_be_chosen(
    server: ScriptedServer, make_client: Callable[..., LegacyClient]
) -> None:
    client = make_client(signature_method="HmacSHA1")

    client.call("cvm", "DescribeInstances", {})

    form = dict(server.requests[0].form)
    received = form.pop("Signature")
    assert form["SignatureMethod"] == "HmacSHA1"
    assert received == sign(SECRET_KEY, "POST", "cvm.api.qcloud.com", form)
    assert len(received) == 28


def test_each_call_gets_a_fresh_nonce(
    server: ScriptedServer, client: LegacyClient
) -> None:
    for _ in range(5):
        client.call("cvm", "DescribeInstances", {})

    nonces = {seen.form["Nonce"] for seen in server.requests}
    assert len(nonces) == 5


def test_region_can_be_given_per_call(
    server: ScriptedServer, client: LegacyClient
) -> None:
    client.call("cvm", "DescribeInstances", {}, region="ap-shanghai")

    assert server.requests[0].form["Region"] == "ap-shanghai"


def test_per_service_endpoint_is_signed_over_its_own_host(
    server: ScriptedServer, make_client: Callable[..., LegacyClient]
) -> None:
    client = make_client(endpoint=None, endpoints={"vpc": server.url + "/private"})

    client.call("vpc", "DescribeVpcEx", {})

    seen = server.requests[0]
    form = dict(seen.form)
    received = form.pop("Signature")
    assert seen.path == "/private/v2/index.php"
    assert received == sign(SECRET_KEY, "POST", seen.host, form)


def test_real_cloud_route_is_https_on_the_service_domain() -> None:
    client = LegacyClient(Credentials("id", "key"), "ap-guangzhou")

    route = client.route("cvm")

    assert route.url == "https://cvm.api.qcloud.com/v2/index.php"
    assert route.sign_host == "cvm.api.qcloud.com"
    assert service_domain("eip") == "eip.api.qcloud.com"


def test_global_endpoint_route_keeps_canonical_signing_host() -> None:
    client = LegacyClient(Credentials("id", "key"), "gz", "http://127.0.0.1:9/")

    route = client.route("lb")

    assert route.url == "http://127.0.0.1:9/lb/v2/index.php"
    assert route.sign_host == "lb.api.qcloud.com"


def test_booleans_go_out_as_integers(
    server: ScriptedServer, client: LegacyClient
) -> None:
    client.call("cvm", "StopInstances", {"forceStop": True, "instanceIds": ["a"]})

    assert server.requests[0].form["forceStop"] == "1"


def test_bare_host_endpoints_mean_https() -> None:
    client = LegacyClient(
        Credentials("id", "key"),
        "ap-guangzhou",
        endpoints={"cvm": "cvm.example.internal:8443/"},
    )

    route = client.route("cvm")

    assert route.url == "https://cvm.example.internal:8443/v2/index.php"
    assert route.sign_host == "cvm.example.internal:8443"
    assert client.route("vpc").url == "https://vpc.api.qcloud.com/v2/index.php"
