"""Crash recovery: settle the create intents an interrupted apply left open.

Runs before planning. An open instance create is re-sent with its recorded
``clientToken``: if the first call reached the cloud, the cloud answers with
the same ids and creates nothing; if it did not, this call creates the
instances now. Creates without a token (VPCs, subnets, key pairs, load
balancers) are looked up by their names. Either way what exists lands in
state, and nothing is created twice.
"""

from __future__ import annotations

import logging

from reconciler.apply.steps import CloudSteps

logger = logging.getLogger(__name__)


def resolve_open_intents(steps: CloudSteps) -> int:
    """Settle every open intent; return how many there were."""
    intents = steps.context.store.open_intents()
    for intent in intents:
        logger.info(
            "Settling an interrupted %s of %s.",
            intent.api_action,
            ", ".join(str(address) for address in intent.addresses),
        )
        steps.resume(intent)
    return len(intents)
