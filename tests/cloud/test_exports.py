"""The package's public names: pinned, resolvable, and loaded lazily."""

from __future__ import annotations

import subprocess
import sys

import pytest

import reconciler.cloud as cloud

EXPECTED = {
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
}


def test_public_names_are_pinned() -> None:
    assert set(cloud.__all__) == EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_public_name_resolves(name: str) -> None:
    value = getattr(cloud, name)

    assert value.__name__ == name
    assert value.__module__.startswith("reconciler.cloud.")


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError):
        cloud.NoSuchThing  # noqa: B018


def test_importing_signing_loads_no_http_client() -> None:
    # The emulator imports signing and zones only; it must not drag in the
    # client and its requests dependency through the package.
    code = (
        "import sys, reconciler.cloud.signing, reconciler.cloud.zones; "
        "print(sorted(m for m in ('requests', 'reconciler.cloud.client') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert out.stdout.strip() == "[]"
