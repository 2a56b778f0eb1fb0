"""What every cloud's steps share: ids, references, secrets, recording.

The executor calls steps from its worker threads (``run``) and its
scheduler thread (``poll``, ``record_goal``, ``settled``). A step sends one
call for a batch of operations and says per operation what came of it;
``record_goal`` commits to state what a finished operation changed, each
in its own transaction.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from reconciler.apply.outcome import Outcome, StepResult
from reconciler.cloud.apis import CloudApis
from reconciler.cloud.results import BatchResult
from reconciler.model.address import Address
from reconciler.model.change import Operation
from reconciler.plan.instance_operations import DEPOSED, GONE
from reconciler.plan.rules import rules_for
from reconciler.plan.sensitive import hash_secret
from reconciler.state.store import StateStore

logger = logging.getLogger(__name__)

Step = Callable[[list[Operation]], list[StepResult]]


class StepContext:
    """State, clients and the cloud id of every address, shared by all steps."""

    def __init__(
        self,
        apis: CloudApis,
        store: StateStore,
        secrets: Mapping[Address, Mapping[str, str]] | None = None,
    ) -> None:
        self.apis = apis
        self.store = store
        self.resource_ids = {a: r.resource_id for a, r in store.resources().items()}
        # Secret values of the manifest, to re-send a create after a crash.
        self.secrets = secrets or {}

    def id_of(self, address: Address) -> str:
        try:
            return self.resource_ids[address]
        except KeyError:
            raise LookupError(
                f"{address} has no cloud id yet; this is a bug in reconciler's "
                "ordering of operations"
            ) from None

    def id_of_operation(self, operation: Operation) -> str:
        return operation.resource_id or self.id_of(operation.address)

    def reference_id(self, kind: str, key: Any) -> str | None:
        """The cloud id of the resource a reference names, None when unset."""
        if not key:
            return None
        return self.id_of(Address(kind, str(key)))

    def recorded(self, address: Address, name: str) -> Any:
        record = self.store.resource(address)
        return None if record is None else record.attributes.get(name)

    def recordable(self, address: Address, attributes: Mapping[str, Any]) -> dict:
        """Attributes as state keeps them: secrets as salted hashes only."""
        rules = rules_for(address.kind)
        return {
            name: hash_secret(str(value))
            if value is not None and name in rules and rules[name].sensitive
            else value
            for name, value in attributes.items()
        }

    def record_created(
        self, address: Address, resource_id: str, attributes: Mapping[str, Any]
    ) -> None:
        self.store.put_resource(
            address, resource_id, self.recordable(address, attributes)
        )
        self.resource_ids[address] = resource_id


class ServiceSteps:
    """The steps of one cloud service; subclasses fill ``actions``."""

    # Actions that record their resource when the call answers.
    creates: frozenset[str] = frozenset()
    # Renames whose goal may already hold (a batch create named the resource).
    renames: frozenset[str] = frozenset()

    def __init__(self, context: StepContext) -> None:
        self.context = context
        self.actions: dict[str, Step] = {}

    def poll(
        self, waiting: Mapping[str, Operation]
    ) -> tuple[list[StepResult], Counter[str]]:
        """Which waiting operations reached their goal; calls made to know."""
        return [], Counter()

    def settled(self, operation: Operation) -> bool:
        if operation.api_action not in self.renames:
            return False
        wanted = operation.params.get("name")
        return self.context.recorded(operation.address, "name") == wanted

    def record_goal(self, operation: Operation) -> None:
        """Commit what a finished operation changed."""
        store = self.context.store
        if operation.wait_for == GONE:
            # The old resource of a create-before-destroy replacement: its
            # address already records the new one.
            if not operation.params.get(DEPOSED):
                store.remove_resource(operation.address)
            return
        if operation.api_action in self.creates:
            return

        changed = recorded_params(operation)
        if changed:
            store.update_attributes(
                operation.address, self.context.recordable(operation.address, changed)
            )


def recorded_params(operation: Operation) -> dict[str, Any]:
    """The attributes an operation sets: its params but the private ones."""
    return {
        name: value
        for name, value in operation.params.items()
        if not name.startswith("_") and name != DEPOSED
    }


def one_call_each(
    operations: list[Operation], outcome: Outcome, message: str = ""
) -> list[StepResult]:
    """The same outcome for every operation the call carried."""
    return [StepResult(op.key, outcome, message=message) for op in operations]


def batch_outcomes(
    batch: list[Operation], ids: list[str], result: BatchResult
) -> list[StepResult]:
    """Per-operation outcomes of a batch answer (outer 0, 5100 or 5400)."""
    results = []
    for operation, resource_id in zip(batch, ids, strict=True):
        item = result.items[resource_id]
        request_ids = (str(item.task_id),) if item.task_id else ()
        if item.ok:
            outcome = Outcome.ACCEPTED
        else:
            outcome = Outcome.RETRY if item.transient else Outcome.FAILED
        results.append(
            StepResult(
                operation.key,
                outcome,
                resource_id,
                None if item.ok else item.code,
                "" if item.ok else item.message,
                request_ids,
            )
        )
    return results
