"""How a change becomes its chain of operations, the same for every kind.

Each kind says how it creates, deletes and updates one resource
(``KindOperations``); the order around them is shared: a delete is one
chain, a create another, a replacement deletes then creates (or creates
first, with ``createBeforeDestroy``, deleting the old resource last).
Pure; ``reconciler.plan.graph`` calls ``chain`` through its per-kind table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from reconciler.model.change import Action, Change, Operation
from reconciler.model.resource import CurrentResource, DesiredResource

Create = Callable[[DesiredResource], list[Operation]]
# The change, the current resource (None if unknown), and whether the
# resource deleted is the old one of a create-before-destroy replacement.
Delete = Callable[[Change, CurrentResource | None, bool], list[Operation]]
Update = Callable[[Change, DesiredResource, CurrentResource], list[Operation]]


@dataclass(frozen=True)
class KindOperations:
    create: Create
    delete: Delete
    update: Update

    def chain(
        self,
        change: Change,
        desired: DesiredResource | None,
        current: CurrentResource | None,
        create_before_destroy: bool = False,
    ) -> list[Operation]:
        """The chain of operations that carries out ``change``."""
        if change.action is Action.DELETE:
            return self.delete(change, current, False)
        assert desired is not None, f"{change.address}: a create needs its desired form"
        if change.action is Action.CREATE:
            return self.create(desired)
        if change.action is Action.REPLACE:
            if create_before_destroy:
                return [*self.create(desired), *self.delete(change, current, True)]
            return [*self.delete(change, current, False), *self.create(desired)]
        assert current is not None, (
            f"{change.address}: an update needs its current form"
        )
        return self.update(change, desired, current)
