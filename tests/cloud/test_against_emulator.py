"""The client against the project's emulator: real signatures, real envelopes.

The emulator verifies signatures over the canonical domain, nonces and the
timestamp window, so these tests prove the wire contract end to end.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.cloud.client import Credentials, LegacyClient, RetryPolicy
from reconciler.cloud.cvm import CvmApi
from reconciler.cloud.errors import PermanentApiError
from reconciler.cloud.ratelimit import RateLimiter

emulator_server = pytest.importorskip("reconciler.emulator.server")
emulator_config = pytest.importorskip("reconciler.emulator.config")

CONFIG = {
    "zone": "ap-guangzhou-3",
    "image": "img-ubuntu22",
    "cpu": 1,
    "memory": 1,
    "disk": 50,
    "bandwidth": 1,
}


def start(tmp_path: Path, rate_limit: float | None) -> Any:
    config = emulator_config.EmulatorConfig(time_scale=0.005, rate_limit=rate_limit)
    return emulator_server.start_in_thread(tmp_path / "cloud.db", config)


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Any]:
    with start(tmp_path, rate_limit=None) as running:
        yield running


@pytest.fixture
def throttling_emulator(tmp_path: Path) -> Iterator[Any]:
    with start(tmp_path, rate_limit=20.0) as running:
        yield running


def client_for(emulator: Any, **options: Any) -> LegacyClient:
    credentials = Credentials(
        emulator_config.DEFAULT_SECRET_ID, emulator_config.DEFAULT_SECRET_KEY
    )
    options.setdefault("rate_limiter", RateLimiter(enabled=False))
    return LegacyClient(credentials, "ap-guangzhou", emulator.url, **options)


def wait_for_status(cvm: CvmApi, ids: list[str], status: int) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        views = cvm.describe_instances(ids)
        if views and all(view.status == status for view in views):
            return
        time.sleep(0.02)
    raise AssertionError(f"instances did not reach status {status}")


def test_instance_lifecycle(emulator: Any) -> None:
    with client_for(emulator) as client:
        cvm = CvmApi(client)

        ids = cvm.run_instances_hour(CONFIG, 3, "web", "token-lifecycle")
        again = cvm.run_instances_hour(CONFIG, 3, "web", "token-lifecycle")
        assert again == ids
        wait_for_status(cvm, ids, 2)

        stopped = cvm.stop_instances(ids[:2], force=True)
        assert stopped.succeeded == ids[:2]
        wait_for_status(cvm, ids[:2], 4)

        # One stopped, one running: the batch partly fails, per id.
        mixed = cvm.start_instances([ids[0], ids[2]])
        assert mixed.succeeded == [ids[0]]
        assert [item.resource_id for item in mixed.failed] == [ids[2]]

        cvm.modify_instance_name(ids[2], "renamed")
        [view] = cvm.describe_instances([ids[2]])
        assert view.name == "renamed"
        assert view.zone == "ap-guangzhou-3"

        cvm.return_instance(ids[2])


def test_wrong_key_is_a_permanent_error(emulator: Any) -> None:
    client = LegacyClient(
        Credentials("AKIDwrong", "wrong-key"), "ap-guangzhou", emulator.url
    )

    with client, pytest.raises(PermanentApiError) as caught:
        CvmApi(client).list_instances()

    assert caught.value.code == 4100


def test_throttling_by_the_emulator_is_absorbed(
    throttling_emulator: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # The client starts five times as fast as the emulator allows; 4400 answers
    # lower its rate and are retried, and no call fails.
    limiter = RateLimiter({"DescribeInstances": 100.0})
    policy = RetryPolicy(base_delay=0.01, max_delay=0.1)
    with client_for(throttling_emulator, rate_limiter=limiter, retry=policy) as client:
        cvm = CvmApi(client)

        for _ in range(40):
            cvm.list_instances()

    throttled = [r for r in caplog.records if "Server throttled" in r.getMessage()]
    assert throttled
