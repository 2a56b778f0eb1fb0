"""Effects of one resource going away on the resources that point at it.

Kept apart from the service modules so that CVM can release an instance's
EIP and LB registrations without importing the EIP and CLB modules (which
import CVM to look instances up).
"""

from __future__ import annotations

import logging

from .context import Call
from .kinds import EIP, LOAD_BALANCER

logger = logging.getLogger(__name__)

EIP_UNBOUND = 4


def release_instance(call: Call, instance_id: str) -> None:
    """Section 14.6: a returned instance frees its EIP and LB registrations."""
    for eip in call.store.list(EIP, call.now, call.region):
        if eip.data.get("unInstanceId") == instance_id:
            eip.data["unInstanceId"] = ""
            eip.data["updatedAt"] = call.now
            eip.status, eip.pending_status, eip.pending_at = EIP_UNBOUND, None, None
            call.store.put(eip)

    for balancer in call.store.list(LOAD_BALANCER, call.now, call.region):
        backends = balancer.data.get("backends", [])
        kept = [b for b in backends if b["instanceId"] != instance_id]
        if len(kept) != len(backends):
            balancer.data["backends"] = kept
            call.store.put(balancer)
