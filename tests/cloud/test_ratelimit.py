"""The client-side token buckets, on a fake clock."""

from __future__ import annotations

import threading

import pytest

from reconciler.cloud.ratelimit import MIN_RATE, RateLimiter, default_rate

EP = "https://cvm.api.qcloud.com"


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def limiter(clock: FakeClock, **rates: float) -> RateLimiter:
    return RateLimiter(rates, clock=clock, sleep=clock.sleep)


def test_defaults_are_10_for_writes_and_40_for_describes() -> None:
    assert default_rate("StartInstances") == 10.0
    assert default_rate("DescribeInstances") == 40.0


def test_a_burst_of_one_second_passes_then_callers_wait(clock: FakeClock) -> None:
    bucket = limiter(clock, StartInstances=5.0)

    waits = [bucket.acquire(EP, "StartInstances") for _ in range(7)]

    assert waits[:5] == [0.0] * 5
    assert waits[5:] == pytest.approx([0.2, 0.4])
    assert clock.slept == pytest.approx([0.2, 0.4])


def test_tokens_refill_with_time(clock: FakeClock) -> None:
    bucket = limiter(clock, StartInstances=2.0)
    for _ in range(2):
        bucket.acquire(EP, "StartInstances")

    clock.now += 1.0

    assert bucket.acquire(EP, "StartInstances") == 0.0


def test_keys_are_independent(clock: FakeClock) -> None:
    bucket = limiter(clock, StartInstances=1.0)
    bucket.acquire(EP, "StartInstances")

    assert bucket.acquire(EP, "StopInstances") == 0.0
    assert bucket.acquire("http://127.0.0.1:1", "StartInstances") == 0.0
    assert bucket.acquire(EP, "StartInstances") == pytest.approx(1.0)


def test_throttling_halves_the_rate_down_to_a_floor(clock: FakeClock) -> None:
    bucket = limiter(clock)

    bucket.throttled(EP, "StartInstances")
    assert bucket.rate(EP, "StartInstances") == 5.0

    for _ in range(20):
        bucket.throttled(EP, "StartInstances")
    assert bucket.rate(EP, "StartInstances") == MIN_RATE


def test_successes_raise_the_rate_slowly_up_to_the_ceiling(clock: FakeClock) -> None:
    bucket = limiter(clock)
    bucket.throttled(EP, "StartInstances")

    bucket.succeeded(EP, "StartInstances")
    assert 5.0 < bucket.rate(EP, "StartInstances") < 5.5

    for _ in range(1000):
        bucket.succeeded(EP, "StartInstances")
    assert bucket.rate(EP, "StartInstances") == 10.0


def test_throttling_empties_the_bucket(clock: FakeClock) -> None:
    bucket = limiter(clock)

    bucket.throttled(EP, "StartInstances")

    assert bucket.acquire(EP, "StartInstances") > 0.0


def test_disabled_limiter_never_waits(clock: FakeClock) -> None:
    bucket = RateLimiter({"StartInstances": 1.0}, enabled=False, clock=clock)

    assert [bucket.acquire(EP, "StartInstances") for _ in range(5)] == [0.0] * 5


def test_threads_share_one_bucket_without_losing_tokens(clock: FakeClock) -> None:
    bucket = limiter(clock, StartInstances=10.0)
    waits: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(25):
            wait = bucket.acquire(EP, "StartInstances")
            with lock:
                waits.append(wait)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # 200 requests at 10/s with a burst of 10: each token is handed out once,
    # so the waits are exactly 0 (x10), then 0.1, 0.2, ... 19.0.
    expected = [0.0] * 10 + [n / 10 for n in range(1, 191)]
    assert sorted(waits) == pytest.approx(expected)
