"""Secrets: ``{fromEnv: NAME}`` and ``{fromFile: PATH}`` resolved at load time.

Called by ``reconciler.manifest.desired`` for instance passwords and key pair
public keys. A secret's value never appears in a diagnostic or a log line;
only its source (the variable or file name) does. Relative files are read
from the directory of the manifest file that names them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

logger = logging.getLogger(__name__)

MAX_SECRET_BYTES = 64 * 1024


class SecretError(Exception):
    """A secret's source is missing or unusable; the message says which."""


def resolve(spec: Mapping[str, str], manifest_file: str) -> str:
    """The value behind a ``fromEnv``/``fromFile`` mapping."""
    if "fromEnv" in spec:
        return _from_env(spec["fromEnv"])
    return _from_file(spec["fromFile"], Path(manifest_file).parent)


def describe(spec: Mapping[str, str]) -> str:
    """Where a secret comes from, for messages: never its value."""
    if "fromEnv" in spec:
        return f"the environment variable {spec['fromEnv']}"
    return f"the file {spec['fromFile']}"


def _from_env(name: str) -> str:
    value = os.environ.get(name)
    if value is None:
        raise SecretError(
            f"The environment variable {name} is not set. Export it before "
            "running reconciler (CI systems: add it as a masked secret)."
        )
    if not value:
        raise SecretError(f"The environment variable {name} is empty.")
    return value


def _from_file(given: str, base: Path) -> str:
    path = Path(given).expanduser()
    path = path if path.is_absolute() else base / path
    try:
        if path.stat().st_size > MAX_SECRET_BYTES:
            raise SecretError(f"The file {path} is larger than a secret can be.")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SecretError(f"The file {path} does not exist.") from None
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "it is not UTF-8 text"
        raise SecretError(f"The file {path} cannot be read: {reason}.") from None

    # Editors add a final newline; it is never part of the secret.
    value = text[:-1] if text.endswith("\n") else text
    value = value[:-1] if value.endswith("\r") else value
    if not value:
        raise SecretError(f"The file {path} is empty.")
    logger.debug("Read a secret from %s.", path)
    return value
