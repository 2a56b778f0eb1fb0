"""Retries: which answers are retried, how often, how long apart, re-signed."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import pytest

from reconciler.cloud.client import LegacyClient, RetryPolicy
from reconciler.cloud.errors import (
    PermanentApiError,
    RateLimitedError,
    TransientApiError,
    TransportError,
)
from reconciler.cloud.ratelimit import RateLimiter
from reconciler.cloud.signing import sign
from reconciler.cloud.testing import SECRET_KEY, ScriptedServer

ClientFactory = Callable[..., LegacyClient]
OK = {"code": 0, "message": ""}


def error(code: int) -> dict[str, object]:
    return {"code": code, "message": f"answer {code}"}


@pytest.mark.parametrize("code", [6000, 6200])
def test_server_errors_are_retried_until_success(
    server: ScriptedServer, client: LegacyClient, sleeps: list[float], code: int
) -> None:
    server.answer(error(code), error(code), OK)

    assert client.call("cvm", "DescribeInstances", {})["code"] == 0
    assert len(server.requests) == 3
    assert len(sleeps) == 2


def test_every_attempt_is_re_signed_with_fresh_nonce(
    server: ScriptedServer, client: LegacyClient
) -> None:
    server.answer(error(6000), error(4500), OK)

    client.call("cvm", "DescribeInstances", {})

    nonces = {seen.form["Nonce"] for seen in server.requests}
    assert len(nonces) == 3
    for seen in server.requests:
        form = dict(seen.form)
        received = form.pop("Signature")
        assert received == sign(SECRET_KEY, "POST", "cvm.api.qcloud.com", form)


def test_retry_takes_a_fresh_timestamp(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    times = iter([1000.0, 1400.0])
    client = make_client(clock=lambda: next(times))
    server.answer(error(4500), OK)

    client.call("cvm", "DescribeInstances", {})

    assert [seen.form["Timestamp"] for seen in server.requests] == ["1000", "1400"]


def test_expired_request_follows_the_server_clock(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    # The scripted server sends a real Date header, like any HTTP server.
    skewed = make_client(clock=lambda: time.time() - 3600)
    server.answer(error(4200), OK, OK)

    skewed.call("cvm", "DescribeInstances", {})
    skewed.call("cvm", "DescribeInstances", {})

    stamps = [int(seen.form["Timestamp"]) for seen in server.requests]
    assert abs(stamps[0] - (time.time() - 3600)) < 5
    assert abs(stamps[1] - time.time()) < 5
    assert abs(stamps[2] - time.time()) < 5


def test_attempts_are_bounded_and_the_last_error_raised(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    client = make_client(max_attempts=3)
    server.answer(error(6000), error(6000), error(6200), OK)

    with pytest.raises(TransientApiError) as caught:
        client.call("cvm", "DescribeInstances", {})

    assert caught.value.code == 6200
    assert len(server.requests) == 3


def test_expired_request_is_retried_once_without_waiting(
    server: ScriptedServer, client: LegacyClient, sleeps: list[float]
) -> None:
    server.answer(error(4200), error(4200), OK)

    with pytest.raises(TransientApiError) as caught:
        client.call("cvm", "DescribeInstances", {})

    assert caught.value.code == 4200
    assert len(server.requests) == 2
    assert sleeps == [0.0]


def test_replay_is_retried_at_once_with_a_new_nonce(
    server: ScriptedServer, client: LegacyClient, sleeps: list[float]
) -> None:
    server.answer(error(4500), OK)

    client.call("cvm", "DescribeInstances", {})

    assert sleeps == [0.0]
    first, second = server.requests
    assert first.form["Nonce"] != second.form["Nonce"]


@pytest.mark.parametrize("code", [4000, 4100, 4300, 5000, 5100, 5300, 6100])
def test_non_retryable_answers_are_sent_once(
    server: ScriptedServer, client: LegacyClient, sleeps: list[float], code: int
) -> None:
    server.answer(error(code), OK)

    with pytest.raises((PermanentApiError, TransientApiError)):
        client.call("cvm", "ReturnInstance", {"instanceId": "ins-1"})

    assert len(server.requests) == 1
    assert sleeps == []


def test_throttling_has_its_own_larger_budget(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    client = make_client(max_attempts=2)
    server.answer(*[error(4400)] * 6, OK)

    assert client.call("cvm", "StartInstances", {})["code"] == 0
    assert len(server.requests) == 7


def test_throttling_gives_up_after_its_budget(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    policy = RetryPolicy(max_throttled_attempts=3)
    client = make_client(retry=policy)
    server.answer(*[error(4400)] * 5)

    with pytest.raises(RateLimitedError):
        client.call("cvm", "StartInstances", {})

    assert len(server.requests) == 3


def test_throttling_lowers_the_client_rate(
    server: ScriptedServer, make_client: ClientFactory, sleeps: list[float]
) -> None:
    limiter = RateLimiter(sleep=sleeps.append)
    client = make_client(rate_limiter=limiter)
    origin = client.route("cvm").origin
    server.answer(error(4400), error(4400), OK)

    client.call("cvm", "StartInstances", {})

    assert limiter.rate(origin, "StartInstances") < 10.0
    assert limiter.rate(origin, "DescribeInstances") == 40.0


def test_http_503_and_connection_errors_are_retried(
    server: ScriptedServer, client: LegacyClient
) -> None:
    server.answer((503, "busy"), (502, "<html>bad gateway</html>"), OK)

    assert client.call("cvm", "DescribeInstances", {})["code"] == 0
    assert len(server.requests) == 3


def test_connection_refused_is_retried_then_raised(
    make_client: ClientFactory, sleeps: list[float]
) -> None:
    client = make_client(endpoint="http://127.0.0.1:9", max_attempts=3)

    with pytest.raises(TransportError):
        client.call("cvm", "DescribeInstances", {})

    assert len(sleeps) == 2


def test_batch_calls_retry_whole_call_errors_then_return_items(
    server: ScriptedServer, client: LegacyClient
) -> None:
    detail = {"ins-1": {"code": 5100, "message": "busy", "requestId": 0}}
    server.answer(error(6000), {"code": 5100, "message": "x", "detail": detail})

    result = client.call_batch("cvm", "StartInstances", "instanceIds", ["ins-1"])

    assert len(server.requests) == 2
    assert [item.code for item in result.failed] == [5100]


def test_backoff_is_exponential_with_full_jitter() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=4.0)
    rng = random.Random(7)

    caps = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    for retry_number, cap in enumerate(caps, start=1):
        delays = [policy.delay(retry_number, rng) for _ in range(200)]
        assert all(0.0 <= delay <= cap for delay in delays)
        # Full jitter spreads over the whole range, not just near the cap.
        assert min(delays) < cap * 0.1
        assert max(delays) > cap * 0.9


def test_waits_between_retries_follow_the_policy(
    server: ScriptedServer, make_client: ClientFactory, sleeps: list[float]
) -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=2.0, max_attempts=4)
    client = make_client(retry=policy, rng=random.Random(1))
    server.answer(error(6000), error(6000), error(6000), OK)

    client.call("cvm", "DescribeInstances", {})

    assert len(sleeps) == 3
    assert 0.0 <= sleeps[0] <= 1.0
    assert all(0.0 <= delay <= 2.0 for delay in sleeps)


def test_max_attempts_one_disables_every_retry(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    client = make_client(max_attempts=1)
    server.answer(error(4400), OK)

    with pytest.raises(RateLimitedError):
        client.call("cvm", "DescribeInstances", {})

    assert len(server.requests) == 1
