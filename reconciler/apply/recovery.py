"""Crash recovery: settle the create intents an interrupted apply left open.

Runs before planning. Each open intent is re-sent with its recorded
``clientToken``: if the first call reached the cloud, the cloud answers with
the same ids and creates nothing; if it did not, this call creates the
instances now. Either way the ids land in state and nothing is created twice.
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
            "Resolving an interrupted create of %d instance(s) (token %s).",
            len(intent.addresses),
            intent.client_token,
        )
        steps.instances.resume(intent)
    return len(intents)
