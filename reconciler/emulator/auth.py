"""Request authentication as legacy-api.md section 4.2 describes it.

The signature is checked first (4100), then the timestamp window (4200);
the nonce (4500) is checked by the app inside the call's transaction, because
remembering it must survive a restart like the rest of the state. The
rate limiter (4400) lives here too: it is per key and action, like auth.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping

from reconciler.cloud.signing import sign, signatures_match

from .protocol import ApiError

logger = logging.getLogger(__name__)


def verify_signature(
    credentials: Mapping[str, str],
    method: str,
    hosts: Iterable[str],
    params: Mapping[str, str],
) -> str:
    """Return the SecretId when the signature matches over one of ``hosts``."""
    secret_id = params.get("SecretId", "")
    received = params.get("Signature", "")
    secret_key = credentials.get(secret_id)
    if not secret_id or secret_key is None:
        raise ApiError(4100, "(AuthFailure.SecretIdNotFound) unknown SecretId")
    if not received:
        raise ApiError(4100, "(AuthFailure.SignatureFailure) missing Signature")

    # The SDK signs the host it connects to; a client behind the emulator may
    # sign the real domain instead. Either is accepted (section 4.2, step 4).
    for host in dict.fromkeys(hosts):
        if host and signatures_match(sign(secret_key, method, host, params), received):
            return secret_id
    raise ApiError(4100, "(AuthFailure.SignatureFailure) signature mismatch")


def check_timestamp(params: Mapping[str, str], now: float, window: int) -> int:
    """Return the request's Timestamp if it lies inside the window."""
    text = params.get("Timestamp", "")
    try:
        timestamp = int(text)
    except ValueError:
        raise ApiError(4000, "(100001) Timestamp must be an integer") from None
    if abs(now - timestamp) > window:
        raise ApiError(
            4200,
            f"(RequestExpired) Timestamp {timestamp} is more than {window}s "
            "away from server time",
        )
    if not params.get("Nonce", "").isdigit():
        raise ApiError(4000, "(100001) Nonce must be a positive integer")
    return timestamp


class RateLimiter:
    """Token bucket per (SecretId, Action); ``rate`` calls/s, same-size burst."""

    def __init__(self, rate: float | None) -> None:
        self.rate = rate
        self.burst = max(1.0, rate or 0.0)
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, secret_id: str, action: str, now: float | None = None) -> bool:
        if not self.rate:
            return True
        now = time.monotonic() if now is None else now
        key = (secret_id, action)
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                return False
            self._buckets[key] = (tokens - 1.0, now)
            return True
