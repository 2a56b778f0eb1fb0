"""EIP steps: allocate, name, bind, unbind, release.

``CreateEip`` allocates up to five alike addresses per call and has no
``clientToken``: a lost answer fails the operation rather than risk a
second allocation (the next apply's refresh finds nothing recorded and the
address, unnamed, is left for the user to see in the summary). Binding and
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
    batch_outcomes,
    one_call_each,
)
from reconciler.cloud.eip import BOUND, CREATE_FAILED, UNBOUND
from reconciler.cloud.errors import ApiError, UnknownOutcomeError
from reconciler.model.change import Operation
from reconciler.plan import eip_operations
from reconciler.plan.instance_operations import GONE

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
        try:
            ids = self.eip.create_eips(len(batch))
        except UnknownOutcomeError as error:
            message = (
                f"the answer to CreateEip was lost ({error}); any address it "
                "allocated is not recorded: check DescribeEip for unnamed EIPs"
            )
            return one_call_each(batch, Outcome.FAILED, message)

        results = []
        for operation, eip_id in zip(batch, ids, strict=False):
            self.context.record_created(operation.address, eip_id, {"name": None})
            results.append(StepResult(operation.key, Outcome.ACCEPTED, eip_id))
        results += [
            StepResult(op.key, Outcome.RETRY, message="fewer EIPs than asked for")
            for op in batch[len(ids) :]
        ]
        return results

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
            return one_call_each(batch, Outcome.DONE)
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
        views = {view.eip_id: view for view in self.eip.describe_eips(ids)}

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
