"""Crash recovery: settle the create intents an interrupted apply left open.

Runs before planning. Each open intent is re-sent with its recorded
``clientToken``: if the first call reached the cloud, the cloud answers with
the same ids and creates nothing; if it did not, this call creates the
instances now. Either way the ids land in state and nothing is created twice.
"""

from __future__ import annotations

import logging

from reconciler.apply.cvm_steps import CvmSteps

logger = logging.getLogger(__name__)


def resolve_open_intents(steps: CvmSteps) -> int:
    """Settle every open intent; return how many there were."""
    intents = steps.store.open_intents()
    for intent in intents:
        logger.info(
            "Resolving an interrupted create of %d instance(s) (token %s).",
            len(intent.addresses),
            intent.client_token,
        )
        ids = steps.cvm.run_instances_hour(
            intent.params["config"],
            len(intent.addresses),
            intent.params["name"],
            intent.client_token,
        )
        steps.record_created(intent, ids)
    return len(intents)
