"""Load balancer steps: every change is a CLB task, polled until it ends.

One ``DeleteLoadBalancers`` call carries up to 100 load balancers as one
task; every other change is one call (and one task) per load balancer,
carrying all its listeners or backends of that change. A task ending in
status 1 fails its operations. ``CreateLoadBalancer`` has no
``clientToken``: when its answer is lost the step looks the new load
balancer up by name before deciding.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.apply.outcome import Outcome, StepResult
from reconciler.apply.steps.base import (
    Created,
    ServiceSteps,
    StepContext,
    answer_lost,
    nothing_to_send,
    one_call_each,
)
from reconciler.cloud.clb import ListenerSpec
from reconciler.cloud.errors import UnknownOutcomeError
from reconciler.model.address import Address
from reconciler.model.change import Operation
from reconciler.plan.loadbalancer_operations import (
    ADD,
    DEREGISTER,
    REGISTER,
    REMOVE,
    REWEIGH,
)
from reconciler.state.store import Intent

logger = logging.getLogger(__name__)

_TASK_DONE, _TASK_FAILED = 0, 1


class LoadBalancerSteps(ServiceSteps):
    creates = frozenset({"CreateLoadBalancer"})

    def __init__(self, context: StepContext) -> None:
        super().__init__(context)
        self.clb = context.apis.clb
        # The task each accepted operation waits for.
        self.tasks: dict[str, int] = {}
        self.actions = {
            "CreateLoadBalancer": self.create,
            "ModifyLoadBalancerAttributes": self.rename,
            "CreateLoadBalancerListeners": self.add_listeners,
            "DeleteLoadBalancerListeners": self.remove_listeners,
            "RegisterInstancesWithLoadBalancer": self.register,
            "DeregisterInstancesFromLoadBalancer": self.deregister,
            "ModifyLoadBalancerBackends": self.reweigh,
            "DeleteLoadBalancers": self.delete,
        }

    def _accepted(self, batch: list[Operation], task_id: int) -> list[StepResult]:
        for operation in batch:
            self.tasks[operation.key] = task_id
        return [
            StepResult(op.key, Outcome.ACCEPTED, request_ids=(str(task_id),))
            for op in batch
        ]

    def _lb(self, operation: Operation) -> str:
        return self.context.id_of_operation(operation)

    def create(self, batch: list[Operation]) -> list[StepResult]:
        (operation,) = batch
        params = operation.params
        tasks: list[int] = []

        def create() -> list[Created]:
            try:
                made = self.clb.create_load_balancer(
                    params["type"],
                    params["name"],
                    self.context.reference_id("vpc", params.get("vpc")),
                    self.context.reference_id("subnet", params.get("subnet")),
                )
            except UnknownOutcomeError:
                found = self._find(params["name"])
                if found is None:
                    raise
                return [(operation.address, found, params)]
            tasks.append(made.task_id)
            return [(operation.address, made.ids[0], params)]

        created = self.create_journaled(batch, params, create)
        if isinstance(created, Exception):
            return answer_lost(batch, created)
        if not tasks:
            # Found after a lost answer: the next apply sees how it runs.
            return one_call_each(batch, Outcome.DONE)
        return self._accepted(batch, tasks[0])

    def _find(self, name: str) -> str | None:
        views = self.clb.describe_load_balancers(name=name)
        return views[0].lb_id if views else None

    def resume(self, intent: Intent) -> None:
        """No token: an interrupted create is looked up by its name."""
        (address,) = intent.addresses
        found = self._find(intent.params["name"])
        created = [] if found is None else [(address, found, intent.params)]
        self.context.complete(intent, created)

    def rename(self, batch: list[Operation]) -> list[StepResult]:
        (operation,) = batch
        task = self.clb.modify_load_balancer(
            self._lb(operation), operation.params["name"]
        )
        return self._accepted(batch, task)

    def add_listeners(self, batch: list[Operation]) -> list[StepResult]:
        (operation,) = batch
        specs = [_listener_spec(row) for row in operation.params[ADD]]
        return self._accepted(
            batch, self.clb.create_listeners(self._lb(operation), specs)
        )

    def remove_listeners(self, batch: list[Operation]) -> list[StepResult]:
        (operation,) = batch
        lb_id = self._lb(operation)
        going = {(row["port"], row["protocol"]) for row in operation.params[REMOVE]}
        ids = [
            view.listener_id
            for view in self.clb.describe_listeners(lb_id)
            if (view.port, view.protocol) in going
        ]
        if not ids:
            return nothing_to_send(batch)
        return self._accepted(batch, self.clb.delete_listeners(lb_id, ids))

    def register(self, batch: list[Operation]) -> list[StepResult]:
        (operation,) = batch
        rows = self._backends(operation.params[REGISTER])
        task = self.clb.register_backends(self._lb(operation), rows)
        return self._accepted(batch, task)

    def deregister(self, batch: list[Operation]) -> list[StepResult]:
        (operation,) = batch
        lb_id = self._lb(operation)
        registered = {view.instance_id for view in self.clb.describe_backends(lb_id)}
        # An instance returned meanwhile is deregistered by the cloud itself.
        ids = [
            instance_id
            for instance_id, _ in self._backends(operation.params[DEREGISTER])
            if instance_id in registered
        ]
        if not ids:
            return nothing_to_send(batch)
        return self._accepted(batch, self.clb.deregister_backends(lb_id, ids))

    def reweigh(self, batch: list[Operation]) -> list[StepResult]:
        (operation,) = batch
        rows = self._backends(operation.params[REWEIGH])
        return self._accepted(
            batch, self.clb.modify_backends(self._lb(operation), rows)
        )

    def _backends(self, rows: Sequence[Mapping[str, Any]]) -> list[tuple[str, int]]:
        backends = []
        for row in rows:
            address = Address("instance", str(row["instance"]))
            instance_id = self.context.resource_ids.get(address)
            if instance_id is not None:
                backends.append((instance_id, int(row["weight"] or 0)))
        return backends

    def delete(self, batch: list[Operation]) -> list[StepResult]:
        ids = [self._lb(operation) for operation in batch]
        return self._accepted(batch, self.clb.delete_load_balancers(ids))

    def poll(
        self, waiting: Mapping[str, Operation]
    ) -> tuple[list[StepResult], Counter[str]]:
        """One DescribeLoadBalancersTaskResult per task still running."""
        tasks = sorted({self.tasks[key] for key in waiting if key in self.tasks})
        status = {task: self.clb.task_status(task) for task in tasks}

        results = []
        for key in waiting:
            ended = status.get(self.tasks.get(key, -1))
            if ended == _TASK_DONE:
                results.append(StepResult(key, Outcome.DONE))
            elif ended == _TASK_FAILED:
                task = str(self.tasks[key])
                results.append(
                    StepResult(
                        key,
                        Outcome.FAILED,
                        message=f"CLB task {task} ended in failure",
                        request_ids=(task,),
                    )
                )
        return results, Counter({"DescribeLoadBalancersTaskResult": len(tasks)})


def _listener_spec(row: Mapping[str, Any]) -> ListenerSpec:
    return ListenerSpec(
        port=int(row["port"]),
        backend_port=int(row.get("instancePort") or row["port"]),
        protocol=str(row["protocol"]),
        name=row.get("name"),
        cert_id=row.get("certificate"),
    )
