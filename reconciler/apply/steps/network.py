"""VPC, subnet and key pair steps: synchronous calls, done when they answer.

None of these creates takes a ``clientToken``. When the answer to a create
is lost, the step looks the resource up by its name (unique per region for
VPCs and key pairs, per VPC for subnets) before deciding, so a retry never
makes a second one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

from reconciler.apply.outcome import Outcome, StepResult
from reconciler.apply.steps.base import (
    Created,
    ServiceSteps,
    StepContext,
    answer_lost,
    batch_outcomes,
    one_call_each,
)
from reconciler.cloud.errors import ApiError, UnknownOutcomeError
from reconciler.cloud.vpc import SubnetView
from reconciler.model.change import Operation
from reconciler.state.store import Intent

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
        return self._create_one(
            operation,
            lambda: self.vpc.create_vpc(name, cidr).vpc_id,
            lambda: self._find_vpc(name, cidr),
        )

    def _create_one(
        self,
        operation: Operation,
        create: Callable[[], str],
        find: Callable[[], str | None],
    ) -> list[StepResult]:
        """One journaled create that has no token; found by name if its answer
        is lost."""
        created = self.create_journaled(
            [operation],
            operation.params,
            lambda: [
                (
                    operation.address,
                    _created_or_found(create, find),
                    operation.params,
                )
            ],
        )
        if isinstance(created, Exception):
            return answer_lost([operation], created)
        return _done([operation])

    def _find_vpc(self, name: str, cidr: str) -> str | None:
        views = self.vpc.describe_vpcs(name=name)
        return next((v.vpc_id for v in views if v.cidr == cidr), None)

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
        created = self.create_journaled(
            batch,
            {"vpc": vpc_key, "subnets": [op.params for op in batch]},
            lambda: self._subnets_made(
                batch,
                _created_or_found(
                    lambda: self.vpc.create_subnets(vpc_id, wanted),
                    lambda: self.vpc.describe_subnets(vpc_id=vpc_id),
                ),
            ),
        )
        if isinstance(created, Exception):
            return answer_lost(batch, created)

        made = {address for address, _, _ in created}
        return [
            StepResult(op.key, Outcome.DONE)
            if op.address in made
            else StepResult(op.key, Outcome.RETRY, message="not created")
            for op in batch
        ]

    def _subnets_made(
        self, batch: list[Operation], views: Sequence[SubnetView]
    ) -> list[Created]:
        by_name = {view.name: view for view in views}
        return [
            (op.address, by_name[op.params["name"]].subnet_id, op.params)
            for op in batch
            if op.params["name"] in by_name
        ]

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
        return self._create_one(
            operation,
            lambda: self.cvm.import_key_pair(name, key),
            lambda: self._find_key_pair(name),
        )

    def _find_key_pair(self, name: str) -> str | None:
        views = self.cvm.describe_key_pairs(name=name)
        return next((view.key_id for view in views), None)

    # Crash recovery: none of these creates has a token; find them by name.

    def resume(self, intent: Intent) -> None:
        params = intent.params
        if intent.api_action == "CreateVpc":
            found = [self._find_vpc(params["name"], params["cidr"])]
            attributes = [params]
        elif intent.api_action == "ImportKeyPair":
            found = [self._find_key_pair(params["name"])]
            attributes = [params]
        else:
            vpc_id = str(self.context.reference_id("vpc", params["vpc"]))
            views = {v.name: v for v in self.vpc.describe_subnets(vpc_id=vpc_id)}
            attributes = list(params["subnets"])
            found = [
                views[row["name"]].subnet_id if row["name"] in views else None
                for row in attributes
            ]

        created = [
            (address, resource_id, row)
            for address, resource_id, row in zip(
                intent.addresses, found, attributes, strict=True
            )
            if resource_id is not None
        ]
        logger.info(
            "Settled an interrupted %s: %d of %d found.",
            intent.api_action,
            len(created),
            len(intent.addresses),
        )
        self.context.complete(intent, created)

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


def _done(batch: list[Operation]) -> list[StepResult]:
    return one_call_each(batch, Outcome.DONE)


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


__all__ = ["NetworkSteps"]
