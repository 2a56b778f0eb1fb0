"""Steps: how operations become legacy API calls, one module per service.

``CloudSteps`` is what the executor holds: it sends each batch to the
service that owns its action, splits polling by service, and lets that
service record finished operations in state. Adding a kind means adding
its service's steps here.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping

from reconciler.apply.outcome import Outcome, StepResult
from reconciler.apply.steps.base import ServiceSteps, StepContext
from reconciler.apply.steps.eips import EipSteps
from reconciler.apply.steps.instances import InstanceSteps
from reconciler.apply.steps.loadbalancers import LoadBalancerSteps
from reconciler.apply.steps.network import NetworkSteps
from reconciler.cloud.errors import ApiError, PermanentApiError
from reconciler.model.change import Operation
from reconciler.state.store import Intent

logger = logging.getLogger(__name__)

__all__ = ["CloudSteps", "StepContext"]


class CloudSteps:
    """The steps of every service, behind the executor's ``Steps`` protocol."""

    def __init__(self, context: StepContext) -> None:
        self.context = context
        self.instances = InstanceSteps(context)
        services: list[ServiceSteps] = [
            NetworkSteps(context),
            self.instances,
            EipSteps(context),
            LoadBalancerSteps(context),
        ]
        self._owner = {
            action: service for service in services for action in service.actions
        }

    def owner(self, operation: Operation) -> ServiceSteps:
        try:
            return self._owner[operation.api_action]
        except KeyError:
            raise LookupError(
                f"no step carries out {operation.api_action}; this is a bug in "
                "reconciler"
            ) from None

    def run(self, batch: list[Operation]) -> list[StepResult]:
        """Send the one call for ``batch``; never raises for an API failure."""
        service = self.owner(batch[0])
        try:
            return service.actions[batch[0].api_action](batch)
        except ApiError as error:
            # A whole-call failure is every operation's failure; the client
            # has already retried what it safely could.
            permanent = isinstance(error, PermanentApiError)
            outcome = Outcome.FAILED if permanent else Outcome.RETRY
            return [
                StepResult(op.key, outcome, code=error.code, message=str(error))
                for op in batch
            ]

    def poll(
        self, waiting: Mapping[str, Operation]
    ) -> tuple[list[StepResult], Counter[str]]:
        by_service: dict[int, tuple[ServiceSteps, dict[str, Operation]]] = {}
        for key, operation in waiting.items():
            service = self.owner(operation)
            by_service.setdefault(id(service), (service, {}))[1][key] = operation

        results: list[StepResult] = []
        calls: Counter[str] = Counter()
        for service, mine in by_service.values():
            found, made = service.poll(mine)
            results += found
            calls.update(made)
        return results, calls

    def resume(self, intent: Intent) -> None:
        """Settle a create an interrupted apply left open (crash recovery)."""
        service = self._owner.get(intent.api_action)
        if service is None:
            raise LookupError(f"no step resumes {intent.api_action}; a bug")
        service.resume(intent)

    def settled(self, operation: Operation) -> bool:
        return self.owner(operation).settled(operation)

    def record_goal(self, operation: Operation) -> None:
        self.owner(operation).record_goal(operation)
