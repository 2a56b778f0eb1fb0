"""Errors of the legacy API client, classified where they are raised.

The client turns every failed call into one exception of this tree, so that
the executor and refresh code decide with ``isinstance`` and never read raw
codes (legacy-api.md, section 6)::

    ApiError                      action, code, code_desc, message, resource_ids
    +-- TransientApiError         worth retrying later: 4200 4400 4500 5100 6000 6200
    |   +-- RateLimitedError      4400: the server throttled us
    |   +-- TransportError        no usable answer: connection, timeout, HTTP, JSON
    |       +-- UnknownOutcomeError   a write that may have taken effect; not retried
    +-- PermanentApiError         retrying cannot help: 4000 4100 4300 4600 5000 ...
        +-- ResourceNotFoundError 5000: for the reconciler it means "absent"

Messages never contain parameters or credentials; the server's message is
passed through ``redact.redact_text`` in case it echoes a secret back.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.cloud.redact import redact_text

# Codes the client or the executor may retry (section 6, "retry?" column).
TRANSIENT_CODES = frozenset({4200, 4400, 4500, 5100, 6000, 6200})

# Codes that the client itself retries: the request never took effect, so a
# re-signed repeat is safe. 5100 is transient too, but only the executor knows
# whether waiting for the resource makes a retry worthwhile.
RETRYABLE_CODES = frozenset({4200, 4400, 4500, 6000, 6200})

REQUEST_EXPIRED = 4200
RATE_LIMITED = 4400
NOT_FOUND = 5000

CODE_NAMES = {
    4000: "InvalidParameter",
    4100: "AuthFailure",
    4101: "UnauthorizedOperation",
    4102: "UnauthorizedResource",
    4103: "SubAccountDenied",
    4200: "RequestExpired",
    4300: "Forbidden",
    4400: "LimitExceeded",
    4500: "ReplayAttack",
    4600: "UnsupportedProtocol",
    5000: "ResourceNotFound",
    5100: "OperationFailed",
    5200: "PurchaseFailed",
    5300: "InsufficientBalance",
    5400: "PartialSuccess",
    5500: "IdentityNotVerified",
    6000: "InternalError",
    6100: "ActionNotFound",
    6200: "ActionUnavailable",
}


class ApiError(Exception):
    """A call that did not succeed; ``code`` is None when no answer came back."""

    def __init__(
        self,
        action: str,
        code: int | None,
        message: str,
        *,
        code_desc: str = "",
        resource_ids: Sequence[str] = (),
        service: str = "",
    ) -> None:
        self.action = action
        self.code = code
        self.code_desc = code_desc or CODE_NAMES.get(code or 0, "")
        self.message = redact_text(message)
        self.resource_ids = tuple(resource_ids)
        self.service = service
        super().__init__(self._describe())

    @property
    def transient(self) -> bool:
        return isinstance(self, TransientApiError)

    def _describe(self) -> str:
        code = "no answer" if self.code is None else f"code {self.code}"
        if self.code_desc:
            code += f" ({self.code_desc})"
        text = f"{self.action} failed with {code}"
        if self.message:
            text += f": {self.message}"
        if self.resource_ids:
            text += f" [resources: {', '.join(self.resource_ids[:10])}"
            text += ", ...]" if len(self.resource_ids) > 10 else "]"
        return " ".join(text.split())


class TransientApiError(ApiError):
    """The same request may succeed later (throttling, outage, busy resource)."""


class PermanentApiError(ApiError):
    """The request is wrong or not allowed; repeating it gives the same answer."""


class RateLimitedError(TransientApiError):
    """4400: too many requests; the client slows down and retries."""


class TransportError(TransientApiError):
    """No usable API answer: connection refused, timeout, HTTP error, bad JSON."""

    def __init__(
        self,
        action: str,
        message: str,
        *,
        resource_ids: Sequence[str] = (),
        service: str = "",
    ) -> None:
        super().__init__(
            action, None, message, resource_ids=resource_ids, service=service
        )
        # True when no attempt of the call can have reached the server
        # (connection refused, name not resolved, connect timeout).
        self.never_sent = False

    def with_resource_ids(self, resource_ids: Sequence[str]) -> TransportError:
        """The same error, labelled with the resources the call was about."""
        labelled = type(self)(
            self.action, self.message, resource_ids=resource_ids, service=self.service
        )
        labelled.__cause__ = self.__cause__
        return labelled


class UnknownOutcomeError(TransportError):
    """A write was sent and no usable answer came back: it may have happened.

    Raised instead of retrying when the request reached the server (a read
    timeout, a connection closed mid-answer, an accepted call without its
    task number) and repeating it is not safe: the action has no
    ``clientToken``, so a repeat could create or change things twice. The
    caller should refresh the resources involved before deciding again.
    """

    may_have_taken_effect = True


class ResourceNotFoundError(PermanentApiError):
    """5000: the resource does not exist (or was returned, or is not ours)."""


def error_for(
    action: str,
    code: int,
    message: str,
    *,
    code_desc: str = "",
    resource_ids: Sequence[str] = (),
    service: str = "",
) -> ApiError:
    """Build the exception class that matches an outer ``code``."""
    cls: type[ApiError]
    if code == RATE_LIMITED:
        cls = RateLimitedError
    elif code in TRANSIENT_CODES:
        cls = TransientApiError
    elif code == NOT_FOUND:
        cls = ResourceNotFoundError
    else:
        # Unknown codes are permanent: retrying an answer we do not understand
        # would only repeat it (5200 lands here too; it is usually a zone or
        # configuration problem, section 6).
        cls = PermanentApiError
    return cls(
        action,
        code,
        message,
        code_desc=code_desc,
        resource_ids=resource_ids,
        service=service,
    )
