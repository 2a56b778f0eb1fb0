"""The CVM instance steps: one batch of operations becomes one call.

Creates go through the intent journal: the intent (with a deterministic
``clientToken``) is committed before ``RunInstancesHour`` is sent and the
ids after it answers, so a crash or a lost answer never creates twice.
Completion of asynchronous work is read with one ``DescribeInstances`` per
100 waiting instances.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from reconciler.apply.outcome import Outcome, StepResult
from reconciler.apply.steps.base import (
    ServiceSteps,
    StepContext,
    answer_lost,
    batch_outcomes,
    one_call_each,
)
from reconciler.cloud.errors import ApiError, TransportError
from reconciler.model.address import Address
from reconciler.model.change import Operation
from reconciler.model.resource import RUNNING, STOPPED
from reconciler.plan.batching import batch_instance_name
from reconciler.plan.instance_operations import GONE
from reconciler.plan.rules import INSTANCE_CREATE_KEYS
from reconciler.state.store import Intent

logger = logging.getLogger(__name__)

_NOT_FOUND = 5000
_FAULT = 1
_GONE_STATUSES = {5}
_STATUS_FOR_GOAL = {RUNNING: 2, STOPPED: 4}
_SECRET_CONFIG = ("password",)


class InstanceSteps(ServiceSteps):
    creates = frozenset({"RunInstancesHour"})
    renames = frozenset({"ModifyInstanceAttributes"})

    def __init__(self, context: StepContext) -> None:
        super().__init__(context)
        self.cvm = context.apis.cvm
        self.actions = {
            "RunInstancesHour": self.run_instances,
            "ModifyInstanceAttributes": self.rename,
            "UpdateInstanceBandwidthHour": self.set_bandwidth,
            "StartInstances": self.start,
            "StopInstances": self.stop,
            "ResetInstancePassword": self.reset_password,
            "BindInstanceKey": self.bind_key,
            "UnBindInstanceKey": self.unbind_key,
            "ResetInstances": self.reinstall,
            "ReturnInstance": self.return_instance,
        }

    def _ids(self, batch: list[Operation]) -> list[str]:
        return [self.context.id_of_operation(op) for op in batch]

    # Creating

    def run_instances(self, batch: list[Operation]) -> list[StepResult]:
        config = dict(batch[0].batch_key)
        name = batch_instance_name(batch)
        params = {"config": self.context.recordable(batch[0].address, config)}
        intent = self.context.open_intent(
            "RunInstancesHour", batch, {**params, "name": name}
        )

        try:
            ids = self.cvm.run_instances_hour(
                self._call_config(config), len(batch), name, intent.client_token
            )
        except TransportError as error:
            if error.never_sent:
                # Refused before anything was sent: nothing can exist.
                self.context.store.abandon_intent(intent.client_token)
                raise
            # The call may have created the instances and lost the answer,
            # even after the client re-sent it with the same token. The
            # intent stays open: the next apply re-sends that token and
            # records whatever exists, so nothing is created twice.
            return answer_lost(batch, error)
        except ApiError:
            # The cloud answered with an error: nothing was created.
            self.context.store.abandon_intent(intent.client_token)
            raise
        return self._record_created(intent, ids, config)

    def _call_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The create's configuration with references turned into cloud ids."""
        call = {key: config[key] for key in INSTANCE_CREATE_KEYS}
        call["password"] = config.get("password")
        subnet = config.get("subnet")
        if subnet:
            call["subnet"] = self.context.reference_id("subnet", subnet)
            call["vpc"] = self.context.reference_id(
                "vpc", self.context.recorded(Address("subnet", str(subnet)), "vpc")
            )
        if config.get("keyPair"):
            call["keyPair"] = self.context.reference_id("keyPair", config["keyPair"])
        return call

    def _record_created(
        self, intent: Intent, ids: Sequence[str], config: Mapping[str, Any]
    ) -> list[StepResult]:
        """Give the created ids to the intent's addresses and commit them at once."""
        attributes = {**config, "name": intent.params["name"], "state": RUNNING}
        created = [
            (address, resource_id, attributes)
            for address, resource_id in zip(intent.addresses, ids, strict=False)
        ]
        self.context.complete(intent, created)

        results = [
            StepResult(f"{address}:{intent.api_action}", Outcome.ACCEPTED, resource_id)
            for address, resource_id, _ in created
        ]
        results += [
            StepResult(
                f"{address}:{intent.api_action}",
                Outcome.RETRY,
                message="the create answered fewer ids than instances asked for",
            )
            for address in intent.addresses[len(ids) :]
        ]
        return results

    def resume(self, intent: Intent) -> None:
        """Re-send an open create with its token: the cloud answers the same ids.

        If the first call never reached the cloud, this one creates the
        instances now; the journal keeps only a password's hash, so the
        manifest's value is sent, and none when the manifest no longer has it.
        """
        config = dict(intent.params["config"])
        for secret in _SECRET_CONFIG:
            if secret in config:
                config[secret] = self._secret_for(intent, secret)
        ids = self.cvm.run_instances_hour(
            self._call_config(config),
            len(intent.addresses),
            intent.params["name"],
            intent.client_token,
        )
        self._record_created(intent, ids, config)

    def _secret_for(self, intent: Intent, name: str) -> str | None:
        for address in intent.addresses:
            value = self.context.secrets.get(address, {}).get(name)
            if value is not None:
                return value
        return None

    # In place

    def rename(self, batch: list[Operation]) -> list[StepResult]:
        (operation,) = batch
        self.cvm.modify_instance_name(
            self.context.id_of_operation(operation), operation.params["name"]
        )
        return one_call_each(batch, Outcome.DONE)

    def set_bandwidth(self, batch: list[Operation]) -> list[StepResult]:
        (operation,) = batch
        self.cvm.update_bandwidth(
            self.context.id_of_operation(operation), operation.params["bandwidth"]
        )
        return one_call_each(batch, Outcome.DONE)

    def reset_password(self, batch: list[Operation]) -> list[StepResult]:
        ids = self._ids(batch)
        password = str(dict(batch[0].batch_key)["password"])
        return batch_outcomes(
            batch, ids, self.cvm.reset_instance_password(ids, password)
        )

    def bind_key(self, batch: list[Operation]) -> list[StepResult]:
        ids = self._ids(batch)
        key_id = self.context.reference_id(
            "keyPair", dict(batch[0].batch_key)["keyPair"]
        )
        return batch_outcomes(batch, ids, self.cvm.bind_instance_key(ids, str(key_id)))

    def unbind_key(self, batch: list[Operation]) -> list[StepResult]:
        ids = self._ids(batch)
        key_id = self.context.reference_id(
            "keyPair", dict(batch[0].batch_key)["keyPair"]
        )
        return batch_outcomes(
            batch, ids, self.cvm.unbind_instance_key(ids, str(key_id))
        )

    def reinstall(self, batch: list[Operation]) -> list[StepResult]:
        (operation,) = batch
        password = self.context.secrets.get(operation.address, {}).get("password")
        task = self.cvm.reset_instance(
            self.context.id_of_operation(operation),
            operation.params["image"],
            password,
        )
        request_ids = (str(task),) if task else ()
        return [StepResult(operation.key, Outcome.ACCEPTED, request_ids=request_ids)]

    # Power

    def start(self, batch: list[Operation]) -> list[StepResult]:
        ids = self._ids(batch)
        results = batch_outcomes(batch, ids, self.cvm.start_instances(ids))
        return self._reread_not_found(results)

    def stop(self, batch: list[Operation]) -> list[StepResult]:
        ids = self._ids(batch)
        results = batch_outcomes(batch, ids, self.cvm.stop_instances(ids))
        return self._reread_not_found(results)

    def _reread_not_found(self, results: list[StepResult]) -> list[StepResult]:
        """An item that answers 5000 is read again before it fails for good.

        A resource created a moment ago may not be visible to every part of
        the cloud yet; if Describe shows it, the item is only re-queued.
        """
        missing = [
            r.resource_id for r in results if r.code == _NOT_FOUND and r.resource_id
        ]
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
        try:
            self.cvm.return_instance(self.context.id_of_operation(operation))
        except ApiError as error:
            if error.code != _NOT_FOUND:
                raise
            # Already gone: the goal is reached without us.
            return one_call_each(batch, Outcome.DONE)
        return one_call_each(batch, Outcome.ACCEPTED)

    # Completion

    def record_goal(self, operation: Operation) -> None:
        key = dict(operation.batch_key)
        if operation.api_action == "ResetInstancePassword":
            changed = {"password": key["password"]}
        elif operation.api_action == "BindInstanceKey":
            changed = {"keyPair": key["keyPair"]}
        elif operation.api_action == "UnBindInstanceKey":
            changed = {"keyPair": None}
        else:
            super().record_goal(operation)
            return
        address = operation.address
        self.context.store.update_attributes(
            address, self.context.recordable(address, changed)
        )

    def poll(
        self, waiting: Mapping[str, Operation]
    ) -> tuple[list[StepResult], Counter[str]]:
        """Read the waiting instances in batches; say which reached their goal."""
        ids = sorted({self.context.id_of_operation(op) for op in waiting.values()})
        views = {
            view.instance_id: view
            for view in self.context.read_in_parallel(self.cvm.describe_instances, ids)
        }

        results = []
        for key, operation in waiting.items():
            view = views.get(self.context.id_of_operation(operation))
            result = _goal_result(key, operation, None if view is None else view.status)
            if result is not None:
                results.append(result)
        return results, Counter({"DescribeInstances": -(-len(ids) // 100)})


def _goal_result(
    key: str, operation: Operation, status: int | None
) -> StepResult | None:
    if operation.wait_for == GONE:
        if status is None or status in _GONE_STATUSES:
            return StepResult(key, Outcome.DONE)
        return None
    if status == _FAULT:
        return StepResult(
            key, Outcome.FAILED, code=status, message="the instance is in fault status"
        )
    if status == _STATUS_FOR_GOAL.get(operation.wait_for or ""):
        return StepResult(key, Outcome.DONE)
    return None
