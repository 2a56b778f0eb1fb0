"""Fixtures: a scripted loopback server, the emulator, and clients for both."""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests

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


# -- the emulator -----------------------------------------------------------

T = TypeVar("T")

# Asynchronous work takes its documented duration times this: milliseconds.
TIME_SCALE = 0.005


@pytest.fixture
def emulated(tmp_path: Path) -> Iterator[LegacyClient]:
    """A client aimed at a fresh emulator (real HTTP, real signatures)."""
    # Imported by name: the emulator is another team's package, type-checked
    # on its own, and these tests only need its running URL.
    config_module = importlib.import_module("reconciler.emulator.config")
    server_module = importlib.import_module("reconciler.emulator.server")

    config = config_module.EmulatorConfig(time_scale=TIME_SCALE)
    with server_module.start_in_thread(tmp_path / "cloud.db", config) as running:
        client = LegacyClient(
            Credentials(
                config_module.DEFAULT_SECRET_ID, config_module.DEFAULT_SECRET_KEY
            ),
            "ap-guangzhou",
            running.url,
            rate_limiter=RateLimiter(enabled=False),
        )
        with client:
            yield client


def _eventually(read: Callable[[], T], done: Callable[[T], bool]) -> T:
    deadline = time.monotonic() + 5
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still not done after 5 s: {value!r}")
        time.sleep(0.01)


@pytest.fixture
def eventually() -> Callable[..., Any]:
    """``eventually(read, done)``: read until ``done`` holds (at most 5 s)."""
    return _eventually


@pytest.fixture
def set_faults(emulated: LegacyClient) -> Callable[[list[dict[str, Any]]], None]:
    """Load fault rules into the running emulator through its admin surface."""

    def load(rules: list[dict[str, Any]]) -> None:
        answer = requests.put(
            f"{emulated.endpoint}/_emulator/faults",
            json={"seed": 1, "rules": rules},
            timeout=5,
        )
        assert answer.ok, answer.text

    return load
