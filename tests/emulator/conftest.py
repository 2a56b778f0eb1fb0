"""Fixtures: a real emulator on a loopback port and a tiny signed client.

The client here is deliberately independent of ``reconciler.cloud``'s HTTP
client (written in parallel); it shares only the signing functions, which
have their own known-answer tests.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from reconciler.cloud.signing import flatten_params, sign
from reconciler.emulator import (
    DEFAULT_SECRET_ID,
    DEFAULT_SECRET_KEY,
    EmulatorConfig,
    EmulatorServer,
    start_in_thread,
)

REGION = "ap-guangzhou"
ZONE = 100003
_nonces = itertools.count(random.randrange(1, 10**9))


class Client:
    """Signs and sends legacy API calls to one emulator."""

    def __init__(
        self, server: EmulatorServer, clock: ManualClock | None = None
    ) -> None:
        self.server = server
        self.clock = clock
        self.session = requests.Session()
        self.secret_id = DEFAULT_SECRET_ID
        self.secret_key = DEFAULT_SECRET_KEY

    def pause(self) -> None:
        """Let the cloud's time move on a little before polling again."""
        if self.clock is not None:
            self.clock.advance(CLOCK_STEP)
        else:
            time.sleep(0.01)

    def signed(
        self,
        action: str,
        params: dict[str, Any] | None = None,
        *,
        method: str = "POST",
        service: str = "cvm",
        sign_host: str | None = None,
        region: str = REGION,
        timestamp: int | None = None,
        nonce: int | None = None,
        secret_key: str | None = None,
    ) -> dict[str, str]:
        """The full wire parameter set, Signature included."""
        wire = flatten_params(params or {})
        wire.update(
            Action=action,
            Region=region,
            SecretId=self.secret_id,
            Timestamp=str(int(time.time()) if timestamp is None else timestamp),
            Nonce=str(next(_nonces) if nonce is None else nonce),
            SignatureMethod="HmacSHA256",
        )
        host = sign_host or f"{service}.api.qcloud.com"
        wire["Signature"] = sign(secret_key or self.secret_key, method, host, wire)
        return wire

    def send(
        self,
        wire: dict[str, str],
        *,
        method: str = "POST",
        path: str = "/cvm/v2/index.php",
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        url = self.server.url + path
        if method == "POST":
            response = self.session.post(url, data=wire, headers=headers, timeout=10)
        else:
            response = self.session.get(url, params=wire, headers=headers, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def call(
        self, action: str, params: dict[str, Any] | None = None, **options: Any
    ) -> dict[str, Any]:
        service = options.pop("service", "cvm")
        method = options.pop("method", "POST")
        wire = self.signed(action, params, method=method, service=service, **options)
        return self.send(wire, method=method, path=f"/{service}/v2/index.php")

    def admin(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(
            method, self.server.url + "/_emulator/" + path, timeout=10, **kwargs
        )

    def run(self, count: int = 1, **params: Any) -> list[str]:
        """Create instances; return their ids."""
        body = self.call(
            "RunInstancesHour", {**INSTANCE_SPEC, "goodsNum": count, **params}
        )
        assert body["code"] == 0, body
        return body["unInstanceIds"]

    def describe(self, ids: list[str] | None = None, **params: Any) -> dict[str, Any]:
        if ids is not None:
            params["instanceIds"] = ids
        body = self.call("DescribeInstances", params)
        assert body["code"] == 0, body
        return body

    def statuses(self, ids: list[str]) -> dict[str, int]:
        found = self.describe(ids, limit=100)["instanceSet"]
        return {item["unInstanceId"]: item["status"] for item in found}

    def wait_status(self, ids: list[str], status: int, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if list(self.statuses(ids).values()) == [status] * len(ids):
                return
            self.pause()
        raise AssertionError(f"{ids} did not reach {status}: {self.statuses(ids)}")

    def wait_gone(self, ids: list[str], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while self.describe(ids)["totalCount"]:
            assert time.monotonic() < deadline, f"{ids} are still listed"
            self.pause()


INSTANCE_SPEC: dict[str, Any] = {
    "zoneId": ZONE,
    "cpu": 1,
    "mem": 2,
    "imageId": "img-ubuntu22",
    "storageSize": 50,
    "bandwidth": 1,
}


class ManualClock:
    """The cloud's time for a test: it starts now and moves only when told.

    Every transitional status stays visible until the test moves time on
    (``Client.pause`` does, between polls), so no test sleeps for the cloud
    and none depends on how busy the machine is.
    """

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# Durations are scaled down so that a wait takes few polls; ``slow_client``
# keeps them long enough for a test to move time within one transition.
FAST_SCALE = 0.02
SLOW_SCALE = 0.1
CLOCK_STEP = 0.05
# Server threads per test: enough for the concurrency tests, cheap to start.
TEST_THREADS = 4


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "cloud.db"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def server(db_path: Path, clock: ManualClock) -> Iterator[EmulatorServer]:
    config = EmulatorConfig(time_scale=FAST_SCALE, clock=clock)
    with start_in_thread(db_path, config, threads=TEST_THREADS) as running:
        yield running


@pytest.fixture
def client(server: EmulatorServer, clock: ManualClock) -> Client:
    return Client(server, clock)


@pytest.fixture
def slow_client(tmp_path: Path) -> Iterator[Client]:
    clock = ManualClock()
    config = EmulatorConfig(time_scale=SLOW_SCALE, clock=clock)
    with start_in_thread(tmp_path / "slow.db", config, threads=TEST_THREADS) as running:
        yield Client(running, clock)
