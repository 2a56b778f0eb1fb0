"""Version 1 request signatures of the legacy API (legacy-api.md, section 4).

Used by the client to sign every request and by the emulator to verify them,
so the known-answer vectors in ``tests/cloud/test_signing.py`` guard both.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

API_PATH = "/v2/index.php"
HMAC_SHA1 = "HmacSHA1"
HMAC_SHA256 = "HmacSHA256"


def flatten_params(params: Mapping[str, Any]) -> dict[str, str]:
    """Flatten lists and nested objects into dotted wire names.

    ``{"ids": ["a", "b"]}`` becomes ``{"ids.0": "a", "ids.1": "b"}``; booleans
    go out as ``0``/``1`` because the API reads integers, and ``None`` values
    are left out, which is how callers say "not set".
    """
    flat: dict[str, str] = {}
    for name, value in params.items():
        _flatten_into(flat, name, value)
    return flat


def _flatten_into(flat: dict[str, str], name: str, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            _flatten_into(flat, f"{name}.{key}", item)
        return
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _flatten_into(flat, f"{name}.{index}", item)
        return
    if isinstance(value, bool):
        flat[name] = "1" if value else "0"
        return
    flat[name] = str(value)


def string_to_sign(method: str, host: str, params: Mapping[str, str]) -> str:
    """Build the exact text that is signed, as the official SDK builds it.

    Names have ``_`` replaced by ``.`` before sorting; values are raw (not
    URL-encoded); POST leaves out values starting with ``@`` (the SDK's
    file-upload convention) while GET signs them.
    """
    method = method.upper()
    signed = {
        name.replace("_", "."): value
        for name, value in params.items()
        if name != "Signature" and not (method == "POST" and str(value).startswith("@"))
    }

    query = "&".join(f"{name}={signed[name]}" for name in sorted(signed))
    return f"{method}{host}{API_PATH}?{query}"


def sign(
    secret_key: str,
    method: str,
    host: str,
    params: Mapping[str, str],
) -> str:
    """Return the base64 signature; ``SignatureMethod`` in params picks SHA-256."""
    digest = (
        hashlib.sha256 if params.get("SignatureMethod") == HMAC_SHA256 else hashlib.sha1
    )
    text = string_to_sign(method, host, params)
    mac = hmac.new(secret_key.encode("utf-8"), text.encode("utf-8"), digest)
    return base64.b64encode(mac.digest()).decode("ascii")


def signatures_match(expected: str, received: str) -> bool:
    """Compare two signatures in constant time."""
    return hmac.compare_digest(expected.encode("utf-8"), received.encode("utf-8"))
