"""The CVM steps: one batch of operations becomes one legacy API call.

Called by the executor from its worker threads. Each function sends one
call, records in state what the call changed (create ids at once, through
the intent journal), and says per operation what came of it. Completion of
asynchronous work is read by ``poll_instances``, one ``DescribeInstances``
per 100 waiting instances.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from reconciler.apply.outcome import Outcome, StepResult
from reconciler.cloud.cvm import CvmApi
from reconciler.cloud.errors import ApiError, PermanentApiError, TransportError
from reconciler.cloud.results import BatchResult
from reconciler.model.address import Address
from reconciler.model.change import Operation
from reconciler.model.resource import RUNNING, STOPPED
from reconciler.plan.batching import batch_instance_name
from reconciler.plan.instance_operations import DEPOSED, GONE
from reconciler.state.store import Intent, StateStore

logger = logging.getLogger(__name__)

_NOT_FOUND = 5000
_FAULT = 1
_GONE_STATUSES = {5}
_STATUS_FOR_GOAL = {RUNNING: 2, STOPPED: 4}


class CvmSteps:
    """Runs batches of instance operations against one CVM API."""

    def __init__(
        self, cvm: CvmApi, store: StateStore, resource_ids: dict[Address, str]
    ) -> None:
        self.cvm = cvm
        self.store = store
        self.resource_ids = resource_ids
        self._steps: dict[str, Callable[[list[Operation]], list[StepResult]]] = {
            "RunInstancesHour": self.run_instances,
            "ModifyInstanceAttributes": self.rename,
            "UpdateInstanceBandwidthHour": self.set_bandwidth,
            "StartInstances": self.start,
            "StopInstances": self.stop,
            "ReturnInstance": self.return_instance,
        }

    def run(self, batch: list[Operation]) -> list[StepResult]:
        """Send the one call for ``batch``; never raises for an API failure."""
        step = self._steps[batch[0].api_action]
        try:
            return step(batch)
        except ApiError as error:
            # A whole-call failure is every operation's failure; the client
            # has already retried what it could.
            outcome = (
                Outcome.FAILED
                if isinstance(error, PermanentApiError)
                else Outcome.RETRY
            )
            return [
                StepResult(op.key, outcome, code=error.code, message=str(error))
                for op in batch
            ]

    def id_of(self, operation: Operation) -> str:
        return operation.resource_id or self.resource_ids[operation.address]

    # Creating

    def run_instances(self, batch: list[Operation]) -> list[StepResult]:
        config = dict(batch[0].batch_key)
        name = batch_instance_name(batch)
        intent = self._create_intent(batch, config, name)
        self.store.open_intent(intent)

        try:
            ids = self.cvm.run_instances_hour(
                config, len(batch), name, intent.client_token
            )
        except TransportError as error:
            # The call may have created the instances and lost the answer.
            # The intent stays open: the next apply re-sends the same token
            # and records whatever exists, so nothing is created twice.
            return [
                StepResult(op.key, Outcome.FAILED, message=_lost_answer(error))
                for op in batch
            ]
        except ApiError:
            # The cloud answered with an error: nothing was created.
            self.store.abandon_intent(intent.client_token)
            raise
        return self.record_created(intent, ids)

    def record_created(self, intent: Intent, ids: Sequence[str]) -> list[StepResult]:
        """Give the created ids to the intent's addresses and commit them at once."""
        name = intent.params["name"]
        config = intent.params["config"]
        created = [
            (address, resource_id, {**config, "name": name, "state": RUNNING})
            for address, resource_id in zip(intent.addresses, ids, strict=False)
        ]
        self.store.complete_intent(intent.client_token, created)

        results = []
        for address, resource_id, _ in created:
            self.resource_ids[address] = resource_id
            key = f"{address}:{intent.api_action}"
            results.append(StepResult(key, Outcome.ACCEPTED, resource_id))
        missing = intent.addresses[len(ids) :]
        results += [
            StepResult(
                f"{address}:{intent.api_action}",
                Outcome.RETRY,
                message="the create answered fewer ids than instances asked for",
            )
            for address in missing
        ]
        return results

    def _create_intent(
        self, batch: list[Operation], config: Mapping[str, Any], name: str
    ) -> Intent:
        addresses = tuple(op.address for op in batch)
        params = {"config": dict(config), "name": name}
        # Deterministic for this intent, unique across applies: the serial
        # moves on with every state write.
        seed = json.dumps(
            [
                self.store.lineage,
                self.store.serial,
                [str(a) for a in addresses],
                params,
            ],
            sort_keys=True,
        )
        token = "rc-" + hashlib.sha256(seed.encode()).hexdigest()[:40]
        return Intent(token, "RunInstancesHour", addresses, params)

    # In place

    def settled(self, operation: Operation) -> bool:
        """True when the operation's goal already holds, so it needs no call."""
        if operation.api_action != "ModifyInstanceAttributes":
            return False
        recorded = self.store.resource(operation.address)
        return (
            recorded is not None
            and recorded.attributes.get("name") == (operation.params["name"])
        )

    def rename(self, batch: list[Operation]) -> list[StepResult]:
        (operation,) = batch
        name = operation.params["name"]
        self.cvm.modify_instance_name(self.id_of(operation), name)
        self.store.update_attributes(operation.address, {"name": name})
        return [StepResult(operation.key, Outcome.DONE, self.id_of(operation))]

    def set_bandwidth(self, batch: list[Operation]) -> list[StepResult]:
        (operation,) = batch
        bandwidth = operation.params["bandwidth"]
        self.cvm.update_bandwidth(self.id_of(operation), bandwidth)
        self.store.update_attributes(operation.address, {"bandwidth": bandwidth})
        return [StepResult(operation.key, Outcome.DONE, self.id_of(operation))]

    # Power

    def start(self, batch: list[Operation]) -> list[StepResult]:
        ids = [self.id_of(op) for op in batch]
        results = _batch_results(batch, ids, self.cvm.start_instances(ids))
        return self._reread_not_found(results)

    def stop(self, batch: list[Operation]) -> list[StepResult]:
        ids = [self.id_of(op) for op in batch]
        results = _batch_results(batch, ids, self.cvm.stop_instances(ids))
        return self._reread_not_found(results)

    def _reread_not_found(self, results: list[StepResult]) -> list[StepResult]:
        """An item that answers 5000 is read again before it fails for good.

        A resource created a moment ago may not be visible to every part of
        the cloud yet; if Describe shows it, the item is only re-queued.
        """
        missing = [r.resource_id for r in results if r.code == _NOT_FOUND]
        if not missing:
            return results
        seen = {view.instance_id for view in self.cvm.describe_instances(missing)}
        return [
            replace(result, outcome=Outcome.RETRY)
            if result.code == _NOT_FOUND and result.resource_id in seen
            else result
            for result in results
        ]

    # Deleting

    def return_instance(self, batch: list[Operation]) -> list[StepResult]:
        (operation,) = batch
        resource_id = self.id_of(operation)
        try:
            self.cvm.return_instance(resource_id)
        except ApiError as error:
            if error.code != _NOT_FOUND:
                raise
            # Already gone: the goal is reached without us.
            self.store.remove_resource(operation.address)
            return [StepResult(operation.key, Outcome.DONE, resource_id)]
        return [StepResult(operation.key, Outcome.ACCEPTED, resource_id)]

    # Completion

    def record_goal(self, operation: Operation) -> None:
        """Commit what a finished asynchronous operation changed."""
        if operation.wait_for == GONE:
            # The old instance of a create-before-destroy replacement: its
            # address already records the new one.
            if not operation.params.get(DEPOSED):
                self.store.remove_resource(operation.address)
        elif operation.api_action in ("StartInstances", "StopInstances"):
            self.store.update_attributes(
                operation.address, {"state": operation.wait_for}
            )

    def poll(
        self, waiting: Mapping[str, Operation]
    ) -> tuple[list[StepResult], Counter[str]]:
        """Read the waiting instances in batches; say which reached their goal."""
        ids = sorted({self.id_of(op) for op in waiting.values()})
        views = {view.instance_id: view for view in self.cvm.describe_instances(ids)}

        results = []
        for key, operation in waiting.items():
            view = views.get(self.id_of(operation))
            status = None if view is None else view.status
            result = _goal_result(key, operation, status)
            if result is not None:
                results.append(result)
        return results, Counter({"DescribeInstances": -(-len(ids) // 100)})


def _lost_answer(error: TransportError) -> str:
    return (
        f"the answer to the create was lost ({error}); the next apply finds "
        "out what was created, without creating anything twice"
    )


def _goal_result(
    key: str, operation: Operation, status: int | None
) -> StepResult | None:
    if operation.wait_for == GONE:
        if status is None or status in _GONE_STATUSES:
            return StepResult(key, Outcome.DONE)
        return None
    if status == _FAULT:
        return StepResult(
            key, Outcome.FAILED, code=status, message="instance is in fault status"
        )
    if status == _STATUS_FOR_GOAL.get(operation.wait_for or ""):
        return StepResult(key, Outcome.DONE)
    return None


def _batch_results(
    batch: list[Operation], ids: list[str], result: BatchResult
) -> list[StepResult]:
    results = []
    for operation, resource_id in zip(batch, ids, strict=True):
        item = result.items[resource_id]
        request_ids = (str(item.task_id),) if item.task_id else ()
        if item.ok:
            results.append(
                StepResult(
                    operation.key,
                    Outcome.ACCEPTED,
                    resource_id,
                    request_ids=request_ids,
                )
            )
            continue
        outcome = Outcome.RETRY if item.transient else Outcome.FAILED
        results.append(
            StepResult(
                operation.key,
                outcome,
                resource_id,
                item.code,
                item.message,
                request_ids,
            )
        )
    return results
