"""Redaction of secrets before anything reaches a log line or an exception.

Two rules: parameters whose *name* is secret (``password``, ``Signature``,
``SecretKey``, ``Token``) are masked, and any *value* registered with
``register_secret`` (credentials, passwords that came from the manifest) is
masked wherever it appears in text. The client registers its credentials;
the manifest loader registers sensitive attributes.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

MASK = "***"

# Exact names (compared case-insensitively) whose values are always secret.
SECRET_NAMES = frozenset({"signature", "secretkey", "token", "securitytoken"})

# Name suffixes that mark secrets inside flattened names, e.g. ``password`` or
# ``loginSettings.password``.
SECRET_SUFFIXES = ("password", "secretkey", "privatekey")

# Shorter values would mask ordinary words and numbers in log lines.
MIN_SECRET_LENGTH = 4

_lock = threading.Lock()
_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Mask ``value`` in every later log line and error message."""
    if value is None or len(value) < MIN_SECRET_LENGTH:
        return
    with _lock:
        _secrets.add(value)


def is_secret_name(name: str) -> bool:
    """True for parameter names whose values must never be shown."""
    leaf = name.rsplit(".", 1)[-1].lower()
    lowered = name.lower()
    return leaf in SECRET_NAMES or lowered.endswith(SECRET_SUFFIXES)


def redact_text(text: str) -> str:
    """Replace every registered secret value inside ``text``."""
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def redact_params(params: Mapping[str, object]) -> dict[str, str]:
    """A copy of flat parameters fit for a DEBUG line."""
    return {
        name: MASK if is_secret_name(name) else redact_text(str(value))
        for name, value in params.items()
    }
