"""API keys and region, from the places Tencent Cloud users keep them.

In: the process environment and tccli's profile files. Out: ``Credentials``
for ``LegacyClient`` and an optional default region. The CLI calls
``load_credentials`` only for a real endpoint; the local cloud uses fixed
local keys. Sources, first match wins:

1. ``TENCENTCLOUD_SECRET_ID`` + ``TENCENTCLOUD_SECRET_KEY`` (optional
   ``TENCENTCLOUD_SECURITY_TOKEN``), region from ``TENCENTCLOUD_REGION``;
2. the tccli profile named by ``TENCENTCLOUD_PROFILE`` or ``TCCLI_PROFILE``
   (default ``default``): ``~/.tccli/<profile>.credential`` (JSON with
   ``secretId``, ``secretKey``, optional ``token``) and
   ``~/.tccli/<profile>.configure`` (JSON with ``region``, either at the top
   or under ``_sys_param`` as newer tccli writes it).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.cloud.redact import register_secret

logger = logging.getLogger(__name__)

ENV_SECRET_ID = "TENCENTCLOUD_SECRET_ID"
ENV_SECRET_KEY = "TENCENTCLOUD_SECRET_KEY"
ENV_TOKEN = "TENCENTCLOUD_SECURITY_TOKEN"
ENV_REGION = "TENCENTCLOUD_REGION"
ENV_PROFILES = ("TENCENTCLOUD_PROFILE", "TCCLI_PROFILE")
DEFAULT_PROFILE = "default"


class CredentialsError(Exception):
    """No usable key pair was found; the message names every source tried."""


@dataclass(frozen=True)
class Credentials:
    """A key pair, optionally temporary (with a session token).

    ``repr`` shows only the ends of the SecretId, never the key or token.
    """

    secret_id: str
    secret_key: str = field(repr=False)
    token: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        register_secret(self.secret_key)
        register_secret(self.token)

    def __repr__(self) -> str:
        shown = self.secret_id
        if len(shown) > 8:
            shown = f"{shown[:4]}...{shown[-4:]}"
        token = ", token=***" if self.token else ""
        return f"Credentials(secret_id={shown!r}, secret_key=***{token})"

    __str__ = __repr__


def load_credentials(
    environ: Mapping[str, str] | None = None,
    home: Path | None = None,
    profile: str | None = None,
) -> Credentials:
    """Find credentials in the environment, then in the tccli profile.

    Raise ``CredentialsError`` naming the variables and files looked at.
    """
    env = os.environ if environ is None else environ

    from_env = _credentials_from_env(env)
    if from_env is not None:
        logger.debug("Using credentials from %s.", ENV_SECRET_ID)
        return from_env

    name, path = _profile_file(env, home, profile, ".credential")
    from_profile = _credentials_from_file(path)
    if from_profile is not None:
        logger.debug("Using credentials of tccli profile %r.", name)
        return from_profile

    raise CredentialsError(
        "No Tencent Cloud credentials found. Set "
        f"{ENV_SECRET_ID} and {ENV_SECRET_KEY} (and {ENV_TOKEN} for temporary "
        f"keys), or configure a tccli profile in {path} (choose the profile "
        f"with {' or '.join(ENV_PROFILES)}; looked for profile {name!r})."
    )


def load_region(
    environ: Mapping[str, str] | None = None,
    home: Path | None = None,
    profile: str | None = None,
) -> str | None:
    """``TENCENTCLOUD_REGION``, else the tccli profile's region, else None."""
    env = os.environ if environ is None else environ
    if env.get(ENV_REGION):
        return env[ENV_REGION]

    _, path = _profile_file(env, home, profile, ".configure")
    document = _read_json(path)
    system = document.get("_sys_param")
    if isinstance(system, Mapping) and system.get("region"):
        return str(system["region"])
    region = document.get("region")
    return str(region) if region else None


def _credentials_from_env(env: Mapping[str, str]) -> Credentials | None:
    secret_id = env.get(ENV_SECRET_ID, "")
    secret_key = env.get(ENV_SECRET_KEY, "")
    if not (secret_id and secret_key):
        return None
    return Credentials(secret_id, secret_key, env.get(ENV_TOKEN) or None)


def _credentials_from_file(path: Path) -> Credentials | None:
    document = _read_json(path)
    secret_id = str(document.get("secretId") or "")
    secret_key = str(document.get("secretKey") or "")
    if not (secret_id and secret_key):
        return None
    token = document.get("token") or None
    return Credentials(secret_id, secret_key, str(token) if token else None)


def _profile_file(
    env: Mapping[str, str], home: Path | None, profile: str | None, suffix: str
) -> tuple[str, Path]:
    name = profile or next(
        (env[var] for var in ENV_PROFILES if env.get(var)), DEFAULT_PROFILE
    )
    base = home if home is not None else Path.home()
    return name, base / ".tccli" / f"{name}{suffix}"


def _read_json(path: Path) -> dict[str, Any]:
    # A missing or broken profile file is "no credentials here", not a crash:
    # the error raised by the caller names the file.
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return {}
    try:
        document = json.loads(text)
    except ValueError:
        logger.warning("Ignoring %s: it is not valid JSON.", path)
        return {}
    return document if isinstance(document, dict) else {}
