"""Resource addresses: ``KIND.NAME``, e.g. ``instance.web-0``."""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("vpc", "subnet", "keyPair", "instance", "eip", "loadBalancer")


@dataclass(frozen=True, order=True)
class Address:
    kind: str
    name: str

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
