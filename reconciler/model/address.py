"""Resource addresses: ``KIND.NAME``, e.g. ``instance.web-0``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

KINDS = ("vpc", "subnet", "keyPair", "instance", "eip", "loadBalancer")


@dataclass(frozen=True, order=True)
class Address:
    """Sorted by kind, then by name with numbers compared as numbers, so
    ``web-2`` comes before ``web-10`` in plans, state and history."""

    kind: str
    name: str = field(compare=False)
    _order: tuple[object, ...] = field(init=False, repr=False, compare=True)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_order", _natural(self.name))

    def __str__(self) -> str:
        return f"{self.kind}.{self.name}"

    @classmethod
    def parse(cls, text: str) -> Address:
        """Parse ``KIND.NAME``; raise ValueError with the expected form."""
        kind, dot, name = text.partition(".")
        if not dot or not name or kind not in KINDS:
            raise ValueError(
                f"{text!r} is not a resource address; expected KIND.NAME with "
                f"KIND one of {', '.join(KINDS)} (e.g. instance.web-0)."
            )
        return cls(kind, name)


def _natural(name: str) -> tuple[object, ...]:
    # Numbers and text alternate after the split, so tuples always compare
    # like with like; the name itself breaks ties such as "01" and "1".
    parts = re.split(r"(\d+)", name)
    keyed = tuple(int(part) if index % 2 else part for index, part in enumerate(parts))
    return (*keyed, name)
