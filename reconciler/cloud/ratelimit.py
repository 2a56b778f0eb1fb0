"""Client-side rate limiting per (endpoint, action), shared by all threads.

``LegacyClient`` asks ``RateLimiter.acquire`` before every attempt and
reports 4400 answers with ``throttled`` and other answers with ``succeeded``.
Each (endpoint, action) has a token bucket. Its rate starts at the default
for the action (10/s for writes, 40/s for ``Describe*``, the documented
limits of the newer API, since the legacy API publishes none), is halved on
4400 and raised again by a small step per success, never above the
configured rate: the server, not our guess, decides the real limit.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

logger = logging.getLogger(__name__)

WRITE_RATE = 10.0
DESCRIBE_RATE = 40.0

# A throttled bucket never drops below this, so a burst of 4400 answers cannot
# stall a run for minutes.
MIN_RATE = 0.5

# Multiplicative decrease on 4400, additive increase (a fraction of the
# configured rate) per successful call.
DECREASE_FACTOR = 0.5
INCREASE_FRACTION = 0.02


def default_rate(action: str) -> float:
    """The starting requests per second for an action."""
    return DESCRIBE_RATE if action.startswith("Describe") else WRITE_RATE


@dataclass
class TokenBucket:
    """Tokens refill at ``rate`` per second up to ``burst``; one per request."""

    ceiling: float
    rate: float
    burst: float
    tokens: float
    updated: float

    def refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(self.burst, self.tokens + elapsed * self.rate)
        self.updated = now

    def reserve(self, now: float) -> float:
        """Take a token, possibly on credit; return how long to wait for it."""
        self.refill(now)
        self.tokens -= 1.0
        if self.tokens >= 0:
            return 0.0
        return -self.tokens / self.rate


class RateLimiter:
    """Token buckets keyed by (endpoint, action); thread-safe."""

    def __init__(
        self,
        rates: Mapping[str, float] | None = None,
        *,
        enabled: bool = True,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._rates = dict(rates or {})
        self._enabled = enabled
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], TokenBucket] = {}

    def acquire(self, endpoint: str, action: str) -> float:
        """Wait for a token; return the seconds waited."""
        if not self._enabled:
            return 0.0

        # Reserve under the lock, sleep outside it so other keys go on.
        with self._lock:
            bucket = self._bucket(endpoint, action)
            wait = bucket.reserve(self._clock())

        if wait > 0:
            self._sleep(wait)
        return wait

    def throttled(self, endpoint: str, action: str) -> None:
        """The server answered 4400: halve the rate of this key."""
        with self._lock:
            bucket = self._bucket(endpoint, action)
            bucket.rate = max(MIN_RATE, bucket.rate * DECREASE_FACTOR)
            bucket.tokens = min(bucket.tokens, 0.0)
            rate = bucket.rate
        logger.warning(
            "Server throttled %s at %s; lowering the client rate to %.2f/s.",
            action,
            endpoint,
            rate,
        )

    def succeeded(self, endpoint: str, action: str) -> None:
        """A call went through: raise a lowered rate by a small step."""
        with self._lock:
            bucket = self._bucket(endpoint, action)
            step = bucket.ceiling * INCREASE_FRACTION
            bucket.rate = min(bucket.ceiling, bucket.rate + step)

    def rate(self, endpoint: str, action: str) -> float:
        """The current rate of a key (for tests and diagnostics)."""
        with self._lock:
            return self._bucket(endpoint, action).rate

    def _bucket(self, endpoint: str, action: str) -> TokenBucket:
        key = (endpoint, action)
        bucket = self._buckets.get(key)
        if bucket is None:
            ceiling = self._rates.get(action, default_rate(action))
            # Burst of one second's worth lets a batch start without waiting.
            burst = max(1.0, ceiling)
            bucket = TokenBucket(ceiling, ceiling, burst, burst, self._clock())
            self._buckets[key] = bucket
        return bucket
