"""What every cloud's steps share: ids, references, secrets, recording.

The executor calls steps from its worker threads (``run``) and its
scheduler thread (``poll``, ``record_goal``, ``settled``). A step sends one
call for a batch of operations and says per operation what came of it;
``record_goal`` commits to state what a finished operation changed, each
in its own transaction.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from reconciler.apply.outcome import Outcome, StepResult
from reconciler.cloud.apis import CloudApis
from reconciler.cloud.errors import ApiError, UnknownOutcomeError
from reconciler.cloud.results import BatchResult
from reconciler.model.address import Address
from reconciler.model.change import Operation
from reconciler.plan.instance_operations import DEPOSED, GONE
from reconciler.plan.rules import rules_for
from reconciler.plan.sensitive import hash_secret
from reconciler.state.store import Intent, StateStore

logger = logging.getLogger(__name__)

Step = Callable[[list[Operation]], list[StepResult]]
T = TypeVar("T")
# Ids per Describe call, and Describe calls a poll sends side by side.
_PER_CALL = 100
_READERS = 8
# What a create made: the address, its cloud id, the attributes to record.
Created = tuple[Address, str, Mapping[str, Any]]


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

    def read_in_parallel(
        self, describe: Callable[[list[str]], list[T]], ids: Sequence[str]
    ) -> list[T]:
        """``describe`` over ``ids`` in chunks of 100, sent side by side.

        One chunk is one Describe call either way; sent together, a poll of
        a thousand waiting resources takes one round trip, not ten.
        """
        chunks = [list(ids[i : i + _PER_CALL]) for i in range(0, len(ids), _PER_CALL)]
        if len(chunks) <= 1:
            return describe(list(ids))
        with ThreadPoolExecutor(min(len(chunks), _READERS)) as pool:
            return [view for part in pool.map(describe, chunks) for view in part]

    def recorded(self, address: Address, name: str) -> Any:
        record = self.store.resource(address)
        return None if record is None else record.attributes.get(name)

    def recordable(
        self, address: Address, attributes: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Attributes as state keeps them: secrets as salted hashes only."""
        rules = rules_for(address.kind)
        return {
            name: hash_secret(str(value))
            if value is not None and name in rules and rules[name].sensitive
            else value
            for name, value in attributes.items()
        }

    def open_intent(
        self, api_action: str, batch: Sequence[Operation], params: Mapping[str, Any]
    ) -> Intent:
        """Journal a create before it is sent, with a deterministic token.

        The token is the same for the same intent, and differs across
        applies because the state serial moves on with every write.
        """
        addresses = tuple(op.address for op in batch)
        recorded = self.recordable(batch[0].address, params)
        seed = json.dumps(
            [
                self.store.lineage,
                self.store.serial,
                api_action,
                [str(a) for a in addresses],
                recorded,
            ],
            sort_keys=True,
            default=str,
        )
        token = "rc-" + hashlib.sha256(seed.encode()).hexdigest()[:40]
        intent = Intent(token, api_action, addresses, recorded)
        self.store.open_intent(intent)
        return intent

    def complete(self, intent: Intent, created: Sequence[Created]) -> None:
        """Record what a create made and close its intent, in one transaction."""
        recorded = [
            (address, resource_id, self.recordable(address, attributes))
            for address, resource_id, attributes in created
        ]
        self.store.complete_intent(intent.client_token, recorded)
        for address, resource_id, _ in created:
            self.resource_ids[address] = resource_id


class ServiceSteps:
    """The steps of one cloud service; subclasses fill ``actions``.

    Creates go through the intent journal (``create_journaled``), so that a
    crash or a lost answer never leaves a resource the state does not know:
    the next apply settles every open intent (``resume``) before it plans.
    """

    # Actions that record their resource when the call answers.
    creates: frozenset[str] = frozenset()
    # Renames whose goal may already hold (a batch create named the resource).
    renames: frozenset[str] = frozenset()

    def __init__(self, context: StepContext) -> None:
        self.context = context
        self.actions: dict[str, Step] = {}

    def create_journaled(
        self,
        batch: list[Operation],
        params: Mapping[str, Any],
        create: Callable[[], list[Created]],
    ) -> list[Created] | UnknownOutcomeError:
        """Journal, create, record; the error when the answer was lost.

        A lost answer leaves the intent open for the next apply's ``resume``;
        an error answer means nothing was made, and closes it.
        """
        intent = self.context.open_intent(batch[0].api_action, batch, params)
        try:
            created = create()
        except UnknownOutcomeError as error:
            return error
        except ApiError:
            self.context.store.abandon_intent(intent.client_token)
            raise
        self.context.complete(intent, created)
        return created

    def resume(self, intent: Intent) -> None:
        """Settle an intent an interrupted apply left open.

        Kinds whose creates can be found again override this; here the
        intent is closed with a warning, since nothing can tell what exists.
        """
        logger.warning(
            "An interrupted %s for %s cannot be checked; look in the cloud for "
            "what it may have made.",
            intent.api_action,
            ", ".join(str(a) for a in intent.addresses),
        )
        self.context.store.abandon_intent(intent.client_token)

    def poll(
        self, waiting: Mapping[str, Operation]
    ) -> tuple[list[StepResult], Counter[str]]:
        """Which waiting operations reached their goal; calls made to know."""
        return [], Counter()

    def settled(self, operation: Operation) -> bool:
        if operation.api_action not in self.renames:
            return False
        wanted = operation.params.get("name")
        return bool(self.context.recorded(operation.address, "name") == wanted)

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


def answer_lost(batch: list[Operation], error: Exception) -> list[StepResult]:
    """A create got no answer: its intent stays open, nothing is retried."""
    message = (
        f"{batch[0].api_action} got no answer ({error}); if it reached the "
        "cloud, the next apply finds what it made, without making anything twice"
    )
    return one_call_each(batch, Outcome.FAILED, message)


def nothing_to_send(operations: list[Operation]) -> list[StepResult]:
    """The goal already holds (the cloud did it, or it was never needed)."""
    return [StepResult(op.key, Outcome.DONE, sent=False) for op in operations]


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
