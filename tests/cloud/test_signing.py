"""Known-answer vectors of legacy-api.md section 4.4.

They guard both the client and the emulator, which share this signer.
"""

from __future__ import annotations

import pytest

from reconciler.cloud.signing import flatten_params, sign, string_to_sign

SECRET_ID = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA"
SECRET_KEY = "Gu5t9xGARNpq86cd98joQYCN3Cozk1qA"
CVM = "cvm.api.qcloud.com"


def common(action: str, **extra: str) -> dict[str, str]:
    params = {
        "Action": action,
        "Nonce": "11886",
        "Region": "ap-guangzhou",
        "RequestClient": "SDK_PYTHON_2.0.15",
        "SecretId": SECRET_ID,
        "Timestamp": "1465185768",
    }
    params.update(extra)
    return params


def v0_params(**extra: str) -> dict[str, str]:
    params = {
        "Action": "DescribeInstances",
        "Nonce": "11886",
        "Region": "gz",
        "SecretId": SECRET_ID,
        "Timestamp": "1465185768",
        "instanceIds.0": "ins-09dx96dg",
        "limit": "20",
        "offset": "0",
    }
    params.update(extra)
    return params


def test_v0_documentation_example_string_and_signature() -> None:
    params = v0_params()

    assert string_to_sign("GET", CVM, params) == (
        "GETcvm.api.qcloud.com/v2/index.php?Action=DescribeInstances&Nonce=11886"
        "&Region=gz&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA"
        "&Timestamp=1465185768&instanceIds.0=ins-09dx96dg&limit=20&offset=0"
    )
    assert sign(SECRET_KEY, "GET", CVM, params) == "NSI3UqqD99b/UJb4tbG/xZpRW64="


def test_v0_underscore_names_are_signed_as_dots() -> None:
    params = v0_params()
    params["instanceIds_0"] = params.pop("instanceIds.0")

    assert sign(SECRET_KEY, "GET", CVM, params) == "NSI3UqqD99b/UJb4tbG/xZpRW64="


@pytest.mark.parametrize(
    ("method", "extra", "expected"),
    [
        (
            "GET",
            {"SignatureMethod": "HmacSHA256"},
            "PSWUwVv4TfW2sQP1FT9KbbLjIZ9bmK8f1cL6fbpf3KI=",
        ),
        ("POST", {}, "dzT+D/khj+EpX3/XekVxUbpMtqs="),
        ("POST", {"note": "@file"}, "dzT+D/khj+EpX3/XekVxUbpMtqs="),
        ("GET", {"note": "@file"}, "3HwkZRu+mRyp87lV/Wd+c2+E1dU="),
    ],
)
def test_v0_variants(method: str, extra: dict[str, str], expected: str) -> None:
    assert sign(SECRET_KEY, method, CVM, v0_params(**extra)) == expected


def describe_two(method_name: str) -> dict[str, str]:
    return common(
        "DescribeInstances",
        SignatureMethod=method_name,
        **flatten_params(
            {"instanceIds": ["ins-09dx96dg", "ins-8oby8q00"], "offset": 0, "limit": 20}
        ),
    )


def test_v1_get_sha1() -> None:
    params = describe_two("HmacSHA1")

    assert string_to_sign("GET", CVM, params) == (
        "GETcvm.api.qcloud.com/v2/index.php?Action=DescribeInstances&Nonce=11886"
        "&Region=ap-guangzhou&RequestClient=SDK_PYTHON_2.0.15"
        "&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA&SignatureMethod=HmacSHA1"
        "&Timestamp=1465185768&instanceIds.0=ins-09dx96dg"
        "&instanceIds.1=ins-8oby8q00&limit=20&offset=0"
    )
    assert sign(SECRET_KEY, "GET", CVM, params) == "WrBXD3Hc5HOCOseOstfxJpi9/3M="


def test_v2_get_sha256() -> None:
    params = describe_two("HmacSHA256")

    assert (
        sign(SECRET_KEY, "GET", CVM, params)
        == "Dd1SULbMrhp/M97oNf78JUQVDky+3DOevRapu7JjJ7M="
    )


@pytest.mark.parametrize(
    ("method_name", "expected"),
    [
        ("HmacSHA1", "FkywJefMUJC9wyEufGLoOtb10GA="),
        ("HmacSHA256", "TprdXMYQj6c4YDmz7RTRNlNZl93oS163K5UNoTV2WCY="),
    ],
)
def test_v3_v4_post_stop_instances(method_name: str, expected: str) -> None:
    params = common(
        "StopInstances",
        SignatureMethod=method_name,
        **flatten_params({"instanceIds": ["ins-09dx96dg"], "forceStop": True}),
    )

    assert sign(SECRET_KEY, "POST", CVM, params) == expected


def test_v5_post_lb_with_token_and_nested_backends() -> None:
    backends = [
        {"instanceId": "ins-09dx96dg", "weight": 10},
        {"instanceId": "ins-8oby8q00", "weight": 20},
    ]
    params = common(
        "RegisterInstancesWithLoadBalancer",
        SignatureMethod="HmacSHA256",
        Token="tmpTokenExample123",
        **flatten_params({"loadBalancerId": "lb-abcdefgh", "backends": backends}),
    )

    assert (
        sign(SECRET_KEY, "POST", "lb.api.qcloud.com", params)
        == "Zf9BpuHbNZ2ZB1/ziek71HmP+dLA5VBtpxwQJ8R+w4c="
    )


def test_v6_raw_utf8_values_with_reserved_characters() -> None:
    params = common(
        "ModifyInstanceAttributes",
        SignatureMethod="HmacSHA1",
        instanceId="ins-09dx96dg",
        instanceName="web 01/测试+a&b=c",
    )

    assert string_to_sign("GET", CVM, params).endswith(
        "&instanceId=ins-09dx96dg&instanceName=web 01/测试+a&b=c"
    )
    assert sign(SECRET_KEY, "GET", CVM, params) == "ztzndM0CA4f49m8QRvTV+hFcNeI="


def test_v7_two_digit_indexes_sort_bytewise() -> None:
    ids = [f"ins-{n:08d}" for n in range(11)]
    params = common(
        "StartInstances",
        SignatureMethod="HmacSHA256",
        **flatten_params({"instanceIds": ids}),
    )

    text = string_to_sign("POST", CVM, params)
    assert (
        "instanceIds.1=ins-00000001&instanceIds.10=ins-00000010&instanceIds.2" in text
    )
    assert (
        sign(SECRET_KEY, "POST", CVM, params)
        == "iEJ/JE/V5T+P0JXNxeNg4ApwisYf1s3gignZQyKyWBA="
    )


@pytest.mark.parametrize(
    ("method", "method_name", "expected"),
    [
        ("POST", "HmacSHA1", "p3n+pxBqF5JGZtDSxoVn5tGngf0="),
        ("POST", "HmacSHA256", "B2T37FRSP6Fk0/q/cdfrTE0p3zX5ooB/2BPWZUFpsj4="),
        ("GET", "HmacSHA1", "5HAq1BOKNLEE2/uauWnp6Zv9Z3c="),
    ],
)
def test_sdk_unit_test_vectors(method: str, method_name: str, expected: str) -> None:
    params = {
        "Action": "DescribeInstances",
        "Nonce": "1290303896666895346",
        "Region": "ap-guangzhou",
        "SecretId": "secretIdFoo",
        "SignatureMethod": method_name,
        "Timestamp": "1512393162",
        "Version": "2017-03-12",
    }

    assert sign("secretKeyBar", method, CVM, params) == expected


def test_flatten_emits_zero_based_indexes_and_integer_booleans() -> None:
    flat = flatten_params(
        {"ids": ["a", "b"], "force": False, "nested": {"x": [{"y": 1}]}, "skip": None}
    )

    assert flat == {"ids.0": "a", "ids.1": "b", "force": "0", "nested.x.0.y": "1"}
