"""Secrets in state: salted hashes, and how the diff compares with them.

State never holds a secret in clear (design.md, State); it keeps
``sha256:SALT:DIGEST``. The diff hashes the manifest's value with the
recorded salt, so a plan can tell whether a password changed without the
state knowing it. Called by the diff, the saved-plan loader and whoever
records a secret (the executor).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

_PREFIX = "sha256"
SHOWN = "(sensitive)"


def hash_secret(value: str, salt: str | None = None) -> str:
    """The stored form of ``value``; a fresh random salt unless one is given."""
    salt = salt if salt is not None else secrets.token_hex(8)
    digest = hashlib.sha256(f"{salt}:{value}".encode()).hexdigest()
    return f"{_PREFIX}:{salt}:{digest}"


def is_hashed(value: Any) -> bool:
    return (
        isinstance(value, str)
        and value.count(":") == 2
        and (value.startswith(_PREFIX + ":"))
    )


def secret_matches(value: Any, recorded: Any) -> bool:
    """True when the manifest's ``value`` is the secret ``recorded`` in state."""
    if value is None or recorded is None:
        return value is recorded
    if not is_hashed(recorded):
        # A record from before secrets were hashed: compare as they are.
        return bool(value == recorded)
    salt = recorded.split(":")[1]
    return hmac.compare_digest(hash_secret(str(value), salt), recorded)


@dataclass(frozen=True)
class Hidden:
    """A secret read back from a saved plan: only its salted hash is known."""

    digest: str

    def __str__(self) -> str:
        return SHOWN
