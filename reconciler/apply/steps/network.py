"""VPC, subnet and key pair steps: synchronous calls, done when they answer.

None of these creates takes a ``clientToken``. When the answer to a create
is lost, the step looks the resource up by its name (unique per region for
VPCs and key pairs, per VPC for subnets) before deciding, so a retry never
makes a second one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from reconciler.apply.outcome import Outcome, StepResult
from reconciler.apply.steps.base import (
    ServiceSteps,
    StepContext,
    batch_outcomes,
    one_call_each,
)
from reconciler.cloud.errors import ApiError, UnknownOutcomeError
from reconciler.model.address import Address
from reconciler.model.change import Operation

logger = logging.getLogger(__name__)

_NOT_FOUND = 5000
T = TypeVar("T")


class NetworkSteps(ServiceSteps):
    creates = frozenset({"CreateVpc", "CreateSubnet", "ImportKeyPair"})
    renames = frozenset(
        {"ModifyVpcAttribute", "ModifySubnetAttribute", "ModifyKeyPair"}
    )

    def __init__(self, context: StepContext) -> None:
        super().__init__(context)
        self.vpc = context.apis.vpc
        self.cvm = context.apis.cvm
        self.actions = {
            "CreateVpc": self.create_vpc,
            "ModifyVpcAttribute": self.rename_vpc,
            "DeleteVpc": self.delete_vpc,
            "CreateSubnet": self.create_subnets,
            "ModifySubnetAttribute": self.rename_subnet,
            "DeleteSubnet": self.delete_subnet,
            "ImportKeyPair": self.import_key_pair,
            "ModifyKeyPair": self.rename_key_pair,
            "DeleteKeyPair": self.delete_key_pairs,
        }

    # VPCs

    def create_vpc(self, batch: list[Operation]) -> list[StepResult]:
        (operation,) = batch
        name, cidr = operation.params["name"], operation.params["cidr"]
        view = _created_or_found(
            lambda: self.vpc.create_vpc(name, cidr),
            lambda: _one(
                v for v in self.vpc.describe_vpcs(name=name) if v.cidr == cidr
            ),
        )
        self.context.record_created(operation.address, view.vpc_id, operation.params)
        return one_call_each(batch, Outcome.DONE)

    def rename_vpc(self, batch: list[Operation]) -> list[StepResult]:
        (operation,) = batch
        self.vpc.modify_vpc(
            self.context.id_of_operation(operation), operation.params["name"]
        )
        return one_call_each(batch, Outcome.DONE)

    def delete_vpc(self, batch: list[Operation]) -> list[StepResult]:
        (operation,) = batch
        vpc_id = self.context.id_of_operation(operation)
        return _deleted(batch, lambda: self.vpc.delete_vpc(vpc_id))

    # Subnets: one CreateSubnet per VPC carries them all.

    def create_subnets(self, batch: list[Operation]) -> list[StepResult]:
        vpc_key = dict(batch[0].batch_key)["vpc"]
        vpc_id = str(self.context.reference_id("vpc", vpc_key))
        wanted = [
            (op.params["name"], op.params["cidr"], op.params["zone"]) for op in batch
        ]
        views = _created_or_found(
            lambda: self.vpc.create_subnets(vpc_id, wanted),
            lambda: self.vpc.describe_subnets(vpc_id=vpc_id),
        )

        by_name = {view.name: view for view in views}
        results = []
        for operation in batch:
            view = by_name.get(operation.params["name"])
            if view is None:
                results.append(
                    StepResult(operation.key, Outcome.RETRY, message="not created")
                )
                continue
            self.context.record_created(
                operation.address, view.subnet_id, operation.params
            )
            results.append(StepResult(operation.key, Outcome.DONE, view.subnet_id))
        return results

    def _vpc_of_subnet(self, operation: Operation) -> str:
        vpc_key = self.context.recorded(operation.address, "vpc")
        return str(self.context.reference_id("vpc", vpc_key))

    def rename_subnet(self, batch: list[Operation]) -> list[StepResult]:
        (operation,) = batch
        self.vpc.modify_subnet(
            self._vpc_of_subnet(operation),
            self.context.id_of_operation(operation),
            operation.params["name"],
        )
        return one_call_each(batch, Outcome.DONE)

    def delete_subnet(self, batch: list[Operation]) -> list[StepResult]:
        (operation,) = batch
        vpc_id = self._vpc_of_subnet(operation)
        subnet_id = self.context.id_of_operation(operation)
        return _deleted(batch, lambda: self.vpc.delete_subnet(vpc_id, subnet_id))

    # Key pairs

    def import_key_pair(self, batch: list[Operation]) -> list[StepResult]:
        (operation,) = batch
        name, key = operation.params["name"], operation.params["publicKey"]
        key_id = _created_or_found(
            lambda: self.cvm.import_key_pair(name, key),
            lambda: _one(
                view.key_id for view in self.cvm.describe_key_pairs(name=name)
            ),
        )
        self.context.record_created(operation.address, key_id, operation.params)
        return one_call_each(batch, Outcome.DONE)

    def rename_key_pair(self, batch: list[Operation]) -> list[StepResult]:
        (operation,) = batch
        self.cvm.modify_key_pair(
            self.context.id_of_operation(operation), operation.params["name"]
        )
        return one_call_each(batch, Outcome.DONE)

    def delete_key_pairs(self, batch: list[Operation]) -> list[StepResult]:
        ids = [self.context.id_of_operation(op) for op in batch]
        results = batch_outcomes(batch, ids, self.cvm.delete_key_pairs(ids))
        return [_synchronous(result) for result in results]


def _created_or_found(create: Callable[[], T], find: Callable[[], T | None]) -> T:
    """Create; when the answer was lost, find what the call made, if anything."""
    try:
        return create()
    except UnknownOutcomeError:
        found = find()
        if found is None:
            raise
        logger.info("A create's answer was lost; found what it created.")
        return found


def _one(items: object) -> object:
    return next(iter(items), None)  # type: ignore[call-overload]


def _deleted(batch: list[Operation], delete: Callable[[], None]) -> list[StepResult]:
    try:
        delete()
    except ApiError as error:
        if error.code != _NOT_FOUND:
            raise
        # Already gone: the goal holds without us.
    return one_call_each(batch, Outcome.DONE)


def _synchronous(result: StepResult) -> StepResult:
    """A synchronous batch item that the cloud took is done at once."""
    if result.outcome is Outcome.ACCEPTED:
        return StepResult(
            result.operation_key,
            Outcome.DONE,
            result.resource_id,
            request_ids=result.request_ids,
        )
    return result


__all__ = ["Address", "NetworkSteps"]
