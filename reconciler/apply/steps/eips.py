"""EIP steps: allocate, name, bind, unbind, release.

``CreateEip`` allocates up to five alike addresses per call and has no
``clientToken`` and no name: a lost answer fails the operation rather than
risk a second allocation, and the next apply adopts what it made (see
``EipSteps.resume``). Binding and
unbinding are asynchronous; one ``DescribeEip`` per 100 waiting EIPs reads
their progress.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping

from reconciler.apply.outcome import Outcome, StepResult
from reconciler.apply.steps.base import (
    ServiceSteps,
    StepContext,
    answer_lost,
    batch_outcomes,
    nothing_to_send,
    one_call_each,
)
from reconciler.cloud.eip import BOUND, CREATE_FAILED, CREATING, UNBOUND
from reconciler.cloud.errors import ApiError
from reconciler.model.change import Operation
from reconciler.plan import eip_operations
from reconciler.plan.instance_operations import GONE
from reconciler.state.store import Intent

logger = logging.getLogger(__name__)

_NOT_FOUND = 5000
_STATUS_FOR_GOAL = {eip_operations.BOUND: BOUND, eip_operations.UNBOUND: UNBOUND}


class EipSteps(ServiceSteps):
    creates = frozenset({"CreateEip"})
    renames = frozenset({"ModifyEipAttributes"})

    def __init__(self, context: StepContext) -> None:
        super().__init__(context)
        self.eip = context.apis.eip
        self.actions = {
            "CreateEip": self.create,
            "ModifyEipAttributes": self.rename,
            "EipBindInstance": self.bind,
            "EipUnBindInstance": self.unbind,
            "DeleteEip": self.delete,
        }

    def create(self, batch: list[Operation]) -> list[StepResult]:
        created = self.create_journaled(
            batch,
            {"name": None},
            lambda: [
                (op.address, eip_id, {"name": None})
                for op, eip_id in zip(
                    batch, self.eip.create_eips(len(batch)), strict=False
                )
            ],
        )
        if isinstance(created, Exception):
            return answer_lost(batch, created)

        ids = {address: eip_id for address, eip_id, _ in created}
        return [
            StepResult(op.key, Outcome.ACCEPTED, ids[op.address])
            if op.address in ids
            else StepResult(op.key, Outcome.RETRY, message="fewer EIPs than asked for")
            for op in batch
        ]

    def resume(self, intent: Intent) -> None:
        """Adopt what an interrupted CreateEip made, found by what it lacks.

        CreateEip takes no token and gives no name, so its EIPs are found as
        the newest ones that state does not record, that are unbound and
        still unnamed: at most as many as the intent asked for. An unnamed
        EIP someone else allocated at the same moment could be taken too;
        reconciler then names it, which shows in the plan.
        """
        known = set(self.context.resource_ids.values())
        views = [
            view
            for view in self.eip.describe_eips()
            if view.eip_id not in known
            and not view.instance_id
            and not view.name
            and view.status in (CREATING, UNBOUND)
        ]
        newest = sorted(views, key=lambda v: str(v.raw.get("createdAt", "")))
        chosen = newest[-len(intent.addresses) :] if newest else []
        created = [
            (address, view.eip_id, {"name": None})
            for address, view in zip(intent.addresses, chosen, strict=False)
        ]
        logger.info(
            "Settled an interrupted CreateEip: adopted %d of %d.",
            len(created),
            len(intent.addresses),
        )
        self.context.complete(intent, created)

    def rename(self, batch: list[Operation]) -> list[StepResult]:
        (operation,) = batch
        self.eip.modify_name(
            self.context.id_of_operation(operation), operation.params["name"]
        )
        return one_call_each(batch, Outcome.DONE)

    def bind(self, batch: list[Operation]) -> list[StepResult]:
        (operation,) = batch
        instance_id = self.context.reference_id(
            "instance", operation.params["instance"]
        )
        self.eip.bind(self.context.id_of_operation(operation), str(instance_id))
        return one_call_each(batch, Outcome.ACCEPTED)

    def unbind(self, batch: list[Operation]) -> list[StepResult]:
        (operation,) = batch
        eip_id = self.context.id_of_operation(operation)
        current = self.eip.describe_eips([eip_id])
        if current and current[0].status == UNBOUND:
            # Returning its instance already freed it (legacy-api.md, 14).
            return nothing_to_send(batch)
        self.eip.unbind(eip_id)
        return one_call_each(batch, Outcome.ACCEPTED)

    def delete(self, batch: list[Operation]) -> list[StepResult]:
        ids = [self.context.id_of_operation(op) for op in batch]
        try:
            answer = self.eip.delete_eips(ids)
        except ApiError as error:
            if error.code != _NOT_FOUND:
                raise
            return one_call_each(batch, Outcome.DONE)
        results = batch_outcomes(batch, ids, answer)
        return [
            StepResult(r.operation_key, Outcome.DONE, r.resource_id)
            if r.outcome is Outcome.ACCEPTED
            else r
            for r in results
        ]

    def poll(
        self, waiting: Mapping[str, Operation]
    ) -> tuple[list[StepResult], Counter[str]]:
        ids = sorted({self.context.id_of_operation(op) for op in waiting.values()})
        views = {
            view.eip_id: view
            for view in self.context.read_in_parallel(self.eip.describe_eips, ids)
        }

        results = []
        for key, operation in waiting.items():
            view = views.get(self.context.id_of_operation(operation))
            if operation.wait_for == GONE:
                if view is None:
                    results.append(StepResult(key, Outcome.DONE))
            elif view is not None and view.status == CREATE_FAILED:
                results.append(
                    StepResult(key, Outcome.FAILED, message="the EIP failed to create")
                )
            elif view is not None and view.status == _STATUS_FOR_GOAL.get(
                operation.wait_for or ""
            ):
                results.append(StepResult(key, Outcome.DONE))
        return results, Counter({"DescribeEip": -(-len(ids) // 100)})
