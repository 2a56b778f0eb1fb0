"""The legacy (API 2.0) Tencent Cloud client.

In: credentials, a region, optional endpoints, and calls by service and
action. Out: typed views, task numbers, batch results and classified
errors. Called by the plan's refresh and the apply executor through the
service APIs; the emulator shares only ``signing`` (guarded by known-answer
vectors) and ``zones``.

Modules, bottom to top:

- ``signing``: v1 signatures; ``zones``: zone names <-> numeric ids;
- ``redact``: secrets kept out of logs and errors;
- ``errors``: the exception tree; ``results``: ``BatchResult``/``ItemResult``;
- ``fields``: tolerant readers for the answers' documented disagreements;
- ``credentials``: keys and region from the environment and tccli profiles;
- ``endpoints``: per-service overrides (``RECONCILER_ENDPOINT_<SERVICE>``);
- ``ratelimit``: token buckets per (endpoint, action);
- ``client``: ``LegacyClient`` (signed POSTs, retries, rate limits);
- ``paging``: Describe* pagination and id chunking;
- the service APIs, one per module: ``cvm`` (``CvmApi``: instances and key
  pairs), ``vpc`` (``VpcApi``), ``clb`` (``ClbApi``), ``eip`` (``EipApi``);
- ``testing``: a scripted loopback server for tests.

The names below are exported lazily: ``import reconciler.cloud.signing`` (as
the emulator does) loads neither the HTTP client nor the service modules.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reconciler.cloud.clb import (
        BackendView,
        ClbApi,
        CreatedLoadBalancers,
        ListenerSpec,
        ListenerView,
        LoadBalancerView,
    )
    from reconciler.cloud.client import LegacyClient, RetryPolicy
    from reconciler.cloud.credentials import Credentials
    from reconciler.cloud.cvm import CreatedKeyPair, CvmApi, InstanceView, KeyPairView
    from reconciler.cloud.eip import EipApi, EipView
    from reconciler.cloud.errors import (
        ApiError,
        PermanentApiError,
        RateLimitedError,
        ResourceNotFoundError,
        TransientApiError,
        TransportError,
        UnknownOutcomeError,
    )
    from reconciler.cloud.results import BatchResult, ItemResult
    from reconciler.cloud.vpc import SubnetView, VpcApi, VpcView

# Public name -> the module that defines it.
_EXPORTS = {
    "LegacyClient": "client",
    "RetryPolicy": "client",
    "Credentials": "credentials",
    "ApiError": "errors",
    "TransientApiError": "errors",
    "PermanentApiError": "errors",
    "RateLimitedError": "errors",
    "ResourceNotFoundError": "errors",
    "TransportError": "errors",
    "UnknownOutcomeError": "errors",
    "BatchResult": "results",
    "ItemResult": "results",
    "CvmApi": "cvm",
    "InstanceView": "cvm",
    "KeyPairView": "cvm",
    "CreatedKeyPair": "cvm",
    "VpcApi": "vpc",
    "VpcView": "vpc",
    "SubnetView": "vpc",
    "ClbApi": "clb",
    "LoadBalancerView": "clb",
    "ListenerView": "clb",
    "ListenerSpec": "clb",
    "BackendView": "clb",
    "CreatedLoadBalancers": "clb",
    "EipApi": "eip",
    "EipView": "eip",
}

__all__ = [
    "ApiError",
    "BackendView",
    "BatchResult",
    "ClbApi",
    "CreatedKeyPair",
    "CreatedLoadBalancers",
    "Credentials",
    "CvmApi",
    "EipApi",
    "EipView",
    "InstanceView",
    "ItemResult",
    "KeyPairView",
    "LegacyClient",
    "ListenerSpec",
    "ListenerView",
    "LoadBalancerView",
    "PermanentApiError",
    "RateLimitedError",
    "ResourceNotFoundError",
    "RetryPolicy",
    "SubnetView",
    "TransientApiError",
    "TransportError",
    "UnknownOutcomeError",
    "VpcApi",
    "VpcView",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
