"""Our flattening and signatures equal the official legacy SDK's, for any input.

The SDK (``qcloudapi-sdk-python`` 2.0.15) is the reference implementation of
signature v1; hypothesis feeds both the same random parameter sets: lists
(with 11+ items, so two-digit indexes sort bytewise), nested objects, UTF-8
text, ``&``, ``=``, ``+``, spaces, and ``@`` values that POST leaves unsigned.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from QcloudApi.common.sign import Sign
from QcloudApi.modules.base import Base

from reconciler.cloud.client import Credentials, LegacyClient
from reconciler.cloud.signing import API_PATH, flatten_params, sign
from reconciler.cloud.testing import SECRET_ID, SECRET_KEY

HOSTS = st.sampled_from(["cvm.api.qcloud.com", "lb.api.qcloud.com", "127.0.0.1:8"])
METHODS = st.sampled_from(["GET", "POST"])
SIGNATURE_METHODS = st.sampled_from(["HmacSHA1", "HmacSHA256"])

# Text the wire can carry: any Unicode except lone surrogates (not UTF-8).
TEXT = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=20),
    st.sampled_from(["a&b=c", "web 01/测试+a&b=c", " ", "=", "&", "@file", "%20"]),
)
SCALARS = st.one_of(TEXT, st.integers(min_value=0, max_value=2**40))
LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
NAMES = st.builds(
    str.__add__,
    st.sampled_from(LETTERS),
    st.text(LETTERS + "0123456789_", max_size=8),
)
# Names the client sets itself; a parameter set never carries them.
COMMON = {"Action", "Nonce", "Region", "SecretId", "Signature", "SignatureMethod"}
NAMES = NAMES.filter(lambda name: name not in COMMON | {"Timestamp", "Token"})

VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=12),
        st.dictionaries(NAMES, children, max_size=4),
    ),
    max_leaves=16,
)
PARAMS = st.dictionaries(NAMES, VALUES, max_size=6)
LONG_LISTS = st.dictionaries(
    NAMES, st.lists(TEXT, min_size=11, max_size=25), min_size=1
)


# Building an SDK module sets up its HTTP machinery (~50 ms): build one.
SDK_MODULE = Base({"secretId": SECRET_ID, "secretKey": SECRET_KEY, "endpoint": "x"})


def sdk_flatten(params: dict[str, Any]) -> dict[str, str]:
    """The SDK's own flattening, values as the SDK's urlencode sends them."""
    flat = SDK_MODULE._fix_params(params)
    return {name: str(value) for name, value in flat.items()}


def sdk_client(digest: str, with_token: bool) -> LegacyClient:
    token = "tmpTokenExample123" if with_token else None
    credentials = Credentials(SECRET_ID, SECRET_KEY, token)
    return LegacyClient(credentials, "ap-guangzhou", signature_method=digest)


def unambiguous(flat: dict[str, str]) -> bool:
    # Names differing only in ``_`` vs ``.`` collapse into one when signed, in
    # the SDK and here alike; such sets are not meaningful requests.
    signed_names = {name.replace("_", ".") for name in flat}
    return len(signed_names) == len(flat)


@settings(max_examples=100, deadline=None)
@given(PARAMS)
def test_flattening_matches_the_sdk(params: dict[str, Any]) -> None:
    assert flatten_params(params) == sdk_flatten(params)


@settings(max_examples=100, deadline=None)
@given(st.one_of(PARAMS, LONG_LISTS), HOSTS, METHODS, SIGNATURE_METHODS, st.integers(1))
def test_signature_matches_the_sdk(
    params: dict[str, Any], host: str, method: str, digest: str, nonce: int
) -> None:
    flat = flatten_params(params)
    if not unambiguous(flat):
        return
    flat.update(
        Action="DescribeInstances",
        Nonce=str(nonce),
        Region="ap-guangzhou",
        SecretId=SECRET_ID,
        SignatureMethod=digest,
        Timestamp="1465185768",
    )

    expected = Sign(SECRET_ID, SECRET_KEY).make(host, API_PATH, flat, method, digest)

    assert sign(SECRET_KEY, method, host, flat) == expected


@settings(max_examples=60, deadline=None)
@given(st.one_of(PARAMS, LONG_LISTS), SIGNATURE_METHODS, st.booleans())
def test_client_signed_requests_verify_with_the_sdk(
    params: dict[str, Any], digest: str, with_token: bool
) -> None:
    client = sdk_client(digest, with_token)
    route = client.route("cvm")

    signed = client.signed_params(route, "DescribeInstances", params, "ap-guangzhou")
    if not unambiguous(signed):
        return
    received = signed.pop("Signature")

    sdk = Sign(SECRET_ID, SECRET_KEY).make(
        route.sign_host, API_PATH, signed, "POST", digest
    )
    assert received == sdk
    assert ("Token" in signed) is with_token
