"""Fixtures: one scripted loopback server, and clients aimed at it."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from reconciler.cloud.client import Credentials, LegacyClient
from reconciler.cloud.endpoints import PREFIX as ENDPOINT_PREFIX
from reconciler.cloud.ratelimit import RateLimiter
from reconciler.cloud.testing import SECRET_ID, SECRET_KEY, ScriptedServer


@pytest.fixture(autouse=True)
def _no_endpoint_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    # Clients read RECONCILER_ENDPOINT_<SERVICE>; the developer's shell must not
    # send test traffic elsewhere.
    for name in list(os.environ):
        if name.startswith(ENDPOINT_PREFIX):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def _running_server() -> Iterator[ScriptedServer]:
    # One server for the whole run: stopping one takes up to its poll interval.
    scripted = ScriptedServer()
    scripted.start()
    yield scripted
    scripted.stop()


@pytest.fixture
def server(_running_server: ScriptedServer) -> ScriptedServer:
    _running_server.reset()
    return _running_server


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_client(
    server: ScriptedServer, sleeps: list[float]
) -> Iterator[Callable[..., LegacyClient]]:
    """Build clients aimed at the scripted server that never really sleep."""
    made: list[LegacyClient] = []

    def build(**overrides: Any) -> LegacyClient:
        options: dict[str, Any] = {
            "credentials": Credentials(SECRET_ID, SECRET_KEY),
            "region": "ap-guangzhou",
            "endpoint": server.url,
            "sleep": sleeps.append,
            "rate_limiter": RateLimiter(enabled=False),
        }
        options.update(overrides)
        client = LegacyClient(**options)
        made.append(client)
        return client

    yield build
    for client in made:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., LegacyClient]) -> LegacyClient:
    return make_client()
