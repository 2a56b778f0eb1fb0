"""The legacy API client: signed POSTs, typed envelopes, retries, rate limits.

In: a service name (``cvm``, ``lb``, ``vpc``, ``eip`` ...), an action and
its logical parameters (lists and nested objects allowed). Out: the answer's
JSON object when the outer ``code`` is 0, a ``BatchResult`` for batch
actions, or an exception of ``reconciler.cloud.errors``. The service modules
(``cvm.py`` ...) call it; the executor and refresh code call those.

Every attempt is a fresh request: new ``Nonce`` and ``Timestamp``, signed
again, because the server rejects replays (legacy-api.md, section 4.3).
Retries use exponential backoff with full jitter; 4400 answers also slow
down the shared ``RateLimiter`` of that (endpoint, action).
"""

from __future__ import annotations

import logging
import random
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError

from reconciler.cloud import errors
from reconciler.cloud.credentials import Credentials
from reconciler.cloud.endpoints import endpoints_from_env
from reconciler.cloud.errors import (
    ApiError,
    PermanentApiError,
    TransientApiError,
    TransportError,
    UnknownOutcomeError,
)
from reconciler.cloud.ratelimit import RateLimiter
from reconciler.cloud.redact import redact_params
from reconciler.cloud.results import (
    BatchResult,
    batch_all_succeeded,
    batch_from_answer,
)
from reconciler.cloud.signing import API_PATH, HMAC_SHA1, HMAC_SHA256, flatten_params
from reconciler.cloud.signing import sign as sign_params

__all__ = ["Credentials", "LegacyClient", "RetryPolicy", "service_domain"]

logger = logging.getLogger(__name__)

REQUEST_CLIENT = "RECONCILER_0.1.0"

# Nonce range used by the official SDK: any positive 63-bit integer.
NONCE_LIMIT = 2**63 - 1

# Outer codes of a batch answer that still carry a per-id ``detail``.
BATCH_CODES = frozenset({0, 5100, 5400})


def service_domain(service: str) -> str:
    """Canonical domain of a service; every product follows one pattern."""
    return f"{service}.api.qcloud.com"


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a call that failed transiently.

    ``max_attempts`` bounds attempts for outages and transport errors;
    throttled attempts (4400) have their own, larger budget so that
    throttling alone does not fail a run; an expired request (4200, clock
    skew) is retried once.
    """

    max_attempts: int = 5
    max_throttled_attempts: int = 12
    max_expired_retries: int = 1
    base_delay: float = 0.5
    max_delay: float = 20.0

    def delay(self, retry_number: int, rng: random.Random) -> float:
        """Full jitter: uniform in [0, min(max, base * 2**(n-1))]."""
        cap = min(self.max_delay, self.base_delay * 2 ** max(0, retry_number - 1))
        return rng.uniform(0.0, cap)


@dataclass(frozen=True)
class Route:
    """Where one service's requests go and which host they are signed over."""

    url: str
    sign_host: str
    origin: str


@dataclass
class _Attempts:
    """Retry counters of one call."""

    total: int = 0
    throttled: int = 0
    expired: int = 0
    # Whether any attempt may have reached the server.
    may_have_arrived: bool = False


class LegacyClient:
    """Signed calls to the legacy API of one account and default region."""

    def __init__(
        self,
        credentials: Credentials,
        region: str,
        endpoint: str | None = None,
        *,
        endpoints: Mapping[str, str] | None = None,
        signature_method: str = HMAC_SHA256,
        timeout: tuple[float, float] = (5.0, 30.0),
        max_attempts: int | None = None,
        retry: RetryPolicy | None = None,
        rate_limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        pool_size: int = 16,
    ) -> None:
        if signature_method not in (HMAC_SHA1, HMAC_SHA256):
            raise ValueError(f"unknown signature method {signature_method!r}")
        policy = retry or RetryPolicy()
        if max_attempts is not None:
            policy = _with_max_attempts(policy, max_attempts)

        self.credentials = credentials
        self.region = region
        self.endpoint = _base_url(endpoint) if endpoint else None
        # No mapping given means "whatever RECONCILER_ENDPOINT_<SERVICE> says",
        # so private deployments need no code; an empty mapping means none.
        overrides = endpoints_from_env() if endpoints is None else endpoints
        self.endpoints = {k.lower(): _base_url(v) for k, v in overrides.items()}
        self.signature_method = signature_method
        self.timeout = timeout
        self.retry = policy
        self.rate_limiter = rate_limiter or RateLimiter(sleep=sleep)
        self._sleep = sleep
        self._clock = clock
        self._clock_offset = 0.0
        self._rng = rng or random.Random()
        self._pool_size = pool_size
        self._sessions: dict[str, requests.Session] = {}
        self._sessions_lock = threading.Lock()

    def __enter__(self) -> LegacyClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every pooled connection."""
        with self._sessions_lock:
            sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            session.close()

    def call(
        self,
        service: str,
        action: str,
        params: Mapping[str, Any],
        *,
        region: str | None = None,
        resource_ids: Sequence[str] = (),
        repeatable: bool | None = None,
    ) -> dict[str, Any]:
        """Call an action; return the answer when the outer ``code`` is 0.

        Raise a ``TransientApiError`` or ``PermanentApiError`` otherwise, after
        the retries the policy allows. ``resource_ids`` only label errors.
        ``repeatable`` says whether sending the request twice is harmless;
        by default reads (``Describe*``) and calls with a ``clientToken`` are.
        A request that is not repeatable and may have reached the server
        without an answer coming back raises ``UnknownOutcomeError``.
        """
        safe = _repeatable(action, params) if repeatable is None else repeatable
        return self._call(
            service, action, params, region, resource_ids, _is_success, safe
        )

    def call_batch(
        self,
        service: str,
        action: str,
        ids_param: str,
        ids: Sequence[str],
        params: Mapping[str, Any] | None = None,
        *,
        region: str | None = None,
        repeatable: bool | None = None,
    ) -> BatchResult:
        """Call a batch action for ``ids``; per-id outcomes, never raised.

        An answer with outer 0, 5100 or 5400 and a ``detail`` becomes a
        ``BatchResult`` (an id missing from ``detail`` counts as failed). A
        whole-call error (no ``detail``) is raised like ``call`` does.
        """
        ids = list(ids)
        full = {**(params or {}), ids_param: ids}
        safe = _repeatable(action, full) if repeatable is None else repeatable
        body = self._call(service, action, full, region, ids, _is_batch_answer, safe)

        if "detail" not in body:
            return batch_all_succeeded(action, ids, str(body.get("message", "")))
        return batch_from_answer(action, ids, body)

    def route(self, service: str) -> Route:
        """The URL, signing host and pool of a service's requests."""
        domain = service_domain(service)

        # A per-service override is a real host of its own: sign over it, as
        # the official SDK signs the host it connects to.
        override = self.endpoints.get(service)
        if override is not None:
            parts = urlsplit(override)
            url = override if override.endswith(API_PATH) else override + API_PATH
            return Route(url, parts.netloc, f"{parts.scheme}://{parts.netloc}")

        # A global endpoint (emulator, proxy) serves every service under
        # /<service>/; it verifies signatures over the canonical domain.
        if self.endpoint is not None:
            parts = urlsplit(self.endpoint)
            url = f"{self.endpoint}/{service}{API_PATH}"
            return Route(url, domain, f"{parts.scheme}://{parts.netloc}")

        return Route(f"https://{domain}{API_PATH}", domain, f"https://{domain}")

    def signed_params(
        self, route: Route, action: str, params: Mapping[str, Any], region: str
    ) -> dict[str, str]:
        """Flatten, add the common parameters and sign, for one attempt."""
        flat = flatten_params(params)
        flat.update(
            {
                "Action": action,
                "Region": region,
                "Timestamp": str(int(self._clock() + self._clock_offset)),
                "Nonce": str(secrets.randbelow(NONCE_LIMIT) + 1),
                "SecretId": self.credentials.secret_id,
                "SignatureMethod": self.signature_method,
                "RequestClient": REQUEST_CLIENT,
            }
        )
        if self.credentials.token:
            flat["Token"] = self.credentials.token

        flat["Signature"] = sign_params(
            self.credentials.secret_key, "POST", route.sign_host, flat
        )
        return flat

    def _call(
        self,
        service: str,
        action: str,
        params: Mapping[str, Any],
        region: str | None,
        resource_ids: Sequence[str],
        accept: Callable[[Mapping[str, Any]], bool],
        repeatable: bool,
    ) -> dict[str, Any]:
        route = self.route(service)
        region = region or self.region
        attempts = _Attempts()

        while True:
            attempts.total += 1
            server_time: float | None = None
            try:
                body, server_time = self._attempt(
                    route, service, action, params, region
                )
                error = self._check(body, service, action, resource_ids, accept)
            except _Unanswered as exc:
                error = exc.error.with_resource_ids(resource_ids)
                attempts.may_have_arrived |= exc.may_have_arrived
                error.never_sent = not attempts.may_have_arrived
                if exc.may_have_arrived and not repeatable:
                    raise _unknown_outcome(error) from exc.error.__cause__
            else:
                if error is None:
                    self.rate_limiter.succeeded(route.origin, action)
                    return body

            delay = self._after_failure(route, error, attempts, server_time)
            if delay is None:
                raise error
            self._sleep(delay)

    def _after_failure(
        self,
        route: Route,
        error: ApiError,
        attempts: _Attempts,
        server_time: float | None,
    ) -> float | None:
        """Adapt to the failure; return the wait before a retry, or None."""
        if error.code == errors.RATE_LIMITED:
            self.rate_limiter.throttled(route.origin, error.action)
        if error.code == errors.REQUEST_EXPIRED:
            self._correct_clock(server_time)

        delay = self._retry_delay(error, attempts)
        if delay is None:
            # Single permanent answers are the caller's to report; only a
            # call that exhausted its retries is an error of the client's.
            level = logging.ERROR if attempts.total > 1 else logging.DEBUG
            logger.log(
                level, "Giving up after %d attempt(s): %s", attempts.total, error
            )
            return None

        logger.warning(
            "Retrying %s.%s in %.2f s after attempt %d: %s",
            error.service,
            error.action,
            delay,
            attempts.total,
            error,
        )
        return delay

    def _attempt(
        self,
        route: Route,
        service: str,
        action: str,
        params: Mapping[str, Any],
        region: str,
    ) -> tuple[dict[str, Any], float | None]:
        """One signed POST; the answer and the server's clock (``Date``)."""
        signed = self.signed_params(route, action, params, region)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s.%s parameters: %s", service, action, redact_params(signed))

        self.rate_limiter.acquire(route.origin, action)
        started = time.monotonic()
        try:
            response = self._session(route.origin).post(
                route.url, data=signed, timeout=self.timeout
            )
        except requests.RequestException as exc:
            error = TransportError(
                action, f"{type(exc).__name__} calling {route.url}", service=service
            )
            error.__cause__ = exc
            raise _Unanswered(error, _may_have_arrived(exc)) from exc
        elapsed = time.monotonic() - started

        try:
            body = _decode(response, service, action, route.url)
        except TransportError as exc:
            # The server (or a proxy in front of it) saw the request.
            raise _Unanswered(exc, _may_have_arrived_status(response)) from exc
        logger.info(
            "%s.%s region=%s code=%s took %.3f s",
            service,
            action,
            region,
            body.get("code"),
            elapsed,
        )
        return body, _server_time(response)

    def _correct_clock(self, server_time: float | None) -> None:
        # 4200 means our Timestamp is outside the server's window: a retry
        # with the same skewed clock would fail again, so follow the server's
        # clock (its Date header) from now on.
        if server_time is None:
            return
        offset = server_time - self._clock()
        if abs(offset - self._clock_offset) < 1.0:
            return
        logger.warning(
            "Local clock is %.0f s off the server's; correcting timestamps.", offset
        )
        self._clock_offset = offset

    def _check(
        self,
        body: Mapping[str, Any],
        service: str,
        action: str,
        resource_ids: Sequence[str],
        accept: Callable[[Mapping[str, Any]], bool],
    ) -> ApiError | None:
        """None when the answer is accepted; otherwise the matching error."""
        if accept(body):
            return None
        return errors.error_for(
            action,
            int(body["code"]),
            str(body.get("message", "")),
            code_desc=str(body.get("codeDesc", "")),
            resource_ids=resource_ids,
            service=service,
        )

    def _retry_delay(self, error: ApiError, attempts: _Attempts) -> float | None:
        """Seconds to wait before the next attempt, or None to give up."""
        policy = self.retry
        if not isinstance(error, TransientApiError):
            return None
        if error.code is not None and error.code not in errors.RETRYABLE_CODES:
            return None

        # Throttling has its own budget; the limiter has slowed us already.
        if error.code == errors.RATE_LIMITED:
            attempts.throttled += 1
            if attempts.throttled >= policy.max_throttled_attempts:
                return None
            return policy.delay(attempts.throttled, self._rng)

        if attempts.total - attempts.throttled >= policy.max_attempts:
            return None

        # Clock skew or a nonce clash: a fresh signature is all it takes.
        if error.code == errors.REQUEST_EXPIRED:
            attempts.expired += 1
            return 0.0 if attempts.expired <= policy.max_expired_retries else None
        if error.code == 4500:
            return 0.0

        return policy.delay(attempts.total - attempts.throttled, self._rng)

    def _session(self, origin: str) -> requests.Session:
        with self._sessions_lock:
            session = self._sessions.get(origin)
            if session is None:
                session = requests.Session()
                adapter = HTTPAdapter(
                    pool_connections=4, pool_maxsize=self._pool_size, max_retries=0
                )
                session.mount("http://", adapter)
                session.mount("https://", adapter)
                self._sessions[origin] = session
            return session


class _Unanswered(Exception):
    """A transport failure, and whether the request may have been executed."""

    def __init__(self, error: TransportError, may_have_arrived: bool) -> None:
        super().__init__(str(error))
        self.error = error
        self.may_have_arrived = may_have_arrived


def _repeatable(action: str, params: Mapping[str, Any]) -> bool:
    # Reads change nothing; a clientToken makes the server answer a repeat
    # with the first call's result instead of acting twice (section 8.1).
    return action.startswith("Describe") or bool(params.get("clientToken"))


def _may_have_arrived(exc: requests.RequestException) -> bool:
    """False only when the request certainly never reached the server."""
    if isinstance(exc, (requests.ConnectTimeout, requests.exceptions.SSLError)):
        return False
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.URLRequired)):
        return False
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    # Refused, unresolvable or timed out while connecting: nothing was sent.
    return not isinstance(reason, ConnectTimeoutError)


def _may_have_arrived_status(response: requests.Response) -> bool:
    # 429 and 503 are how proxies say "not now" without forwarding.
    return response.status_code not in (429, 503)


def _unknown_outcome(error: TransportError) -> UnknownOutcomeError:
    logger.warning(
        "Not repeating %s.%s: it may have taken effect (%s).",
        error.service,
        error.action,
        error.message,
    )
    message = (
        f"{error.message}; the request may have taken effect and is not repeated "
        "because it has no clientToken (refresh before deciding again)"
    )
    return UnknownOutcomeError(
        error.action,
        message,
        resource_ids=error.resource_ids,
        service=error.service,
    )


def _with_max_attempts(policy: RetryPolicy, max_attempts: int) -> RetryPolicy:
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")

    # One attempt means no retry of any kind, throttled or expired included.
    if max_attempts == 1:
        return replace(
            policy, max_attempts=1, max_throttled_attempts=1, max_expired_retries=0
        )
    return replace(policy, max_attempts=max_attempts)


def _base_url(value: str) -> str:
    # A bare host ("cvm.example.internal:8443") means HTTPS, as on the cloud.
    value = value.strip().rstrip("/")
    return value if "://" in value else f"https://{value}"


def _server_time(response: requests.Response) -> float | None:
    date = response.headers.get("Date")
    if not date:
        return None
    try:
        return parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError):
        return None


def _is_success(body: Mapping[str, Any]) -> bool:
    return bool(body["code"] == 0)


def _is_batch_answer(body: Mapping[str, Any]) -> bool:
    if body["code"] == 0:
        return True
    return body["code"] in BATCH_CODES and "detail" in body


def _decode(
    response: requests.Response, service: str, action: str, url: str
) -> dict[str, Any]:
    """The answer as a JSON object with an integer ``code``; else raise."""
    try:
        body = response.json()
    except ValueError:
        body = None

    if not isinstance(body, dict) or "code" not in body:
        raise _undecodable(response, body, service, action, url)

    try:
        body["code"] = int(body["code"])
    except (TypeError, ValueError):
        raise PermanentApiError(
            action,
            None,
            f"answer has a non-numeric code {body['code']!r}",
            service=service,
        ) from None
    return body


def _undecodable(
    response: requests.Response, body: Any, service: str, action: str, url: str
) -> ApiError:
    # The API 3.0 envelope means the wrong product version answered; repeating
    # the request cannot change that.
    if isinstance(body, dict) and "Response" in body:
        return PermanentApiError(
            action,
            None,
            "answer is in the API 3.0 format; this client speaks only the legacy "
            "API (is the endpoint right?)",
            service=service,
        )

    status = response.status_code
    what = "not a legacy API answer" if body is not None else "not JSON"
    message = f"HTTP {status} from {url}, {what}"
    if status >= 500 or status in (200, 429):
        return TransportError(action, message, service=service)
    return PermanentApiError(action, None, message, service=service)
