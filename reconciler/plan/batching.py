"""Which operations may share one API call, and how many fit in one.

Shared by the planner (to predict the calls an apply makes) and the
executor (to form the calls), so the prediction and the apply agree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from reconciler.model.change import Operation

# The legacy documents are silent on ids per batch call; the API 3.0 versions
# of the same actions cap at 100 (legacy-api.md, section 13). Actions missing
# here take one resource per call.
BATCH_LIMITS = {
    "RunInstancesHour": 100,
    "StartInstances": 100,
    "StopInstances": 100,
    "ResetInstancePassword": 100,
    "BindInstanceKey": 100,
    "UnBindInstanceKey": 100,
    # One CreateSubnet takes a subnetSet; one call deletes many key pairs,
    # EIPs or load balancers; CreateEip allocates at most five (section 13).
    "CreateSubnet": 100,
    "DeleteKeyPair": 100,
    "CreateEip": 5,
    "DeleteEip": 100,
    "DeleteLoadBalancers": 100,
}

BatchKey = tuple[str, tuple[tuple[str, Any], ...]]


def batch_limit(api_action: str) -> int:
    return BATCH_LIMITS.get(api_action, 1)


def form_batches(
    operations: Iterable[Operation], size_cap: int | None = None
) -> list[list[Operation]]:
    """Group operations by action and shared parameters, then cut at the limit.

    Deterministic: groups and their members come out sorted, so the same
    ready set always forms the same calls. ``size_cap`` lowers every limit
    (1 gives the one-resource-per-call baseline the benchmarks compare with).
    """
    groups: dict[BatchKey, list[Operation]] = defaultdict(list)
    for operation in operations:
        groups[(operation.api_action, operation.batch_key)].append(operation)

    batches: list[list[Operation]] = []
    for key in sorted(groups, key=repr):
        members = sorted(groups[key], key=lambda op: op.address)
        limit = min(batch_limit(key[0]), size_cap or batch_limit(key[0]))
        batches.extend(
            members[start : start + limit] for start in range(0, len(members), limit)
        )
    return batches


def batch_instance_name(batch: list[Operation]) -> str:
    """The one ``instanceName`` a batch create gives all its instances."""
    return str(batch[0].params["name"])
