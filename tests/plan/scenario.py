"""One plan with every kind of change, drift and a secret, for renderer tests."""

from __future__ import annotations

from reconciler.manifest.result import Lifecycle
from reconciler.model.resource import DesiredResource
from reconciler.plan.plan import Plan, make_plan
from reconciler.plan.refresh import Drift
from reconciler.plan.sensitive import hash_secret

from .helpers import address, by_address, current, desired

SECRET = frozenset({"password"})
# A fixed salt keeps the recorded hash, and so the pinned output, stable.
RECORDED_PASSWORD = hash_secret("old-pw", salt="0123456789abcdef")


def wanted() -> list[DesiredResource]:
    return [
        desired("new-0"),
        desired("new-1"),
        desired("renamed", name="front"),
        desired("locked", SECRET, password="n3w-pw"),
        desired("moved", zone="ap-guangzhou-4"),
        desired("paused", state="stopped"),
    ]


def every_change(reverse: bool = False) -> Plan:
    records = [
        current("renamed", "ins-00000001"),
        current("locked", "ins-00000002", password=RECORDED_PASSWORD),
        current("moved", "ins-00000003"),
        current("paused", "ins-00000004", name="paused-old"),
        current("gone", "ins-00000005"),
    ]
    resources = wanted()
    if reverse:
        records.reverse()
        resources.reverse()
    drift = [
        Drift(address("paused"), {"name": ("paused", "paused-old")}),
        Drift(address("vanished"), deleted=True),
    ]
    return make_plan(
        resources,
        by_address(*records),
        drift,
        7,
        "sha256:abc",
        state_lineage="lineage-1",
        lifecycle={address("moved"): Lifecycle(create_before_destroy=True)},
    )
