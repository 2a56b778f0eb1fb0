"""The local cloud: a faithful emulator of Tencent Cloud's legacy API 2.0.

A WSGI application (``create_app``) whose state lives in SQLite, with the
legacy protocol (v1 signatures, timestamp window, nonces, error codes and
response envelopes), asynchronous transitions that take configurable time,
and fault injection. ``start_in_thread`` runs it on a loopback port for tests
and for the embedded cloud; ``serve`` runs it in the foreground for
``reconciler emulator serve``.

It imports nothing from the reconciler engine; only ``reconciler.cloud``'s
signing and zone tables, which are pure protocol facts.
"""

from .app import EmulatorApp, create_app
from .config import (
    DEFAULT_DURATIONS,
    DEFAULT_SECRET_ID,
    DEFAULT_SECRET_KEY,
    EmulatorConfig,
    parse_durations,
)
from .faults import FaultError
from .server import EmulatorServer, serve, start_in_thread

__all__ = [
    "DEFAULT_DURATIONS",
    "DEFAULT_SECRET_ID",
    "DEFAULT_SECRET_KEY",
    "EmulatorApp",
    "EmulatorConfig",
    "EmulatorServer",
    "FaultError",
    "create_app",
    "parse_durations",
    "serve",
    "start_in_thread",
]
