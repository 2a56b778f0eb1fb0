"""Settings of one emulator instance: durations, keys, faults, limits.

``create_app``, ``start_in_thread`` and ``serve`` take an ``EmulatorConfig``;
everything in it may be left at its default, which is what the embedded local
cloud uses.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The key pair the embedded local cloud accepts when no other pair is given.
# It is printed by ``serve`` and documented; it opens nothing but an emulator.
DEFAULT_SECRET_ID = "AKIDreconcilerLocalEmulator0000000000"
DEFAULT_SECRET_KEY = "reconcilerLocalEmulatorSecretKey"

# Seconds each asynchronous action takes before the resource settles, at
# time_scale 1.0. Roughly the order of magnitude of the real cloud divided by
# a hundred, so a demo apply finishes in seconds while transitions stay
# visible to a poller.
DEFAULT_DURATIONS: dict[str, float] = {
    "RunInstancesHour": 2.0,
    "RunInstances": 2.0,
    "StartInstances": 1.0,
    "StopInstances": 1.0,
    "RestartInstances": 1.5,
    "ReturnInstance": 1.0,
    "ResetInstancePassword": 1.0,
    "ResetInstances": 3.0,
    "BindInstanceKey": 0.5,
    "UnBindInstanceKey": 0.5,
    "CreateLoadBalancer": 1.0,
    "DeleteLoadBalancers": 1.0,
    "ModifyLoadBalancerAttributes": 0.5,
    "CreateLoadBalancerListeners": 0.5,
    "DeleteLoadBalancerListeners": 0.5,
    "RegisterInstancesWithLoadBalancer": 0.5,
    "DeregisterInstancesFromLoadBalancer": 0.5,
    "ModifyLoadBalancerBackends": 0.5,
    "CreateEip": 0.5,
    "EipBindInstance": 0.5,
    "EipUnBindInstance": 0.5,
}


# Seconds a request's Timestamp may be away from the server's clock before it
# answers 4200: the reference leaves the window unpublished and recommends 300.
DEFAULT_TIMESTAMP_WINDOW = 300


@dataclass
class EmulatorConfig:
    """How one emulator behaves.

    ``time_scale`` multiplies every duration (task durations and fault delays);
    0.01 makes a test suite fast while keeping the order of events.
    ``durations`` overrides entries of ``DEFAULT_DURATIONS`` by action name.
    ``faults`` is a fault document (mapping with ``seed`` and ``rules``), a
    path to a YAML/JSON file holding one, or None.
    ``rate_limit`` is calls per second allowed per (SecretId, Action), with a
    burst of the same size; None switches the limit off.
    ``clock`` is the cloud's time in epoch seconds: when transitions end and
    tasks finish. Tests give one that moves only when they say so, to see
    every transitional status and never sleep; request timestamps are still
    checked against the real time.
    """

    time_scale: float = 1.0
    durations: Mapping[str, float] = field(default_factory=dict)
    faults: Mapping[str, Any] | Path | str | None = None
    credentials: Mapping[str, str] = field(
        default_factory=lambda: {DEFAULT_SECRET_ID: DEFAULT_SECRET_KEY}
    )
    timestamp_window: int = DEFAULT_TIMESTAMP_WINDOW
    rate_limit: float | None = None
    recent_calls: int = 10000
    clock: Callable[[], float] = time.time

    def duration(self, action: str) -> float:
        """Scaled seconds that the asynchronous part of ``action`` takes."""
        seconds = self.durations.get(action, DEFAULT_DURATIONS.get(action, 0.0))
        return max(0.0, float(seconds) * self.time_scale)


def parse_durations(items: Iterable[str]) -> dict[str, float]:
    """``ACTION=SECONDS`` texts (``--duration``) as a ``durations`` mapping.

    Only asynchronous actions (the keys of ``DEFAULT_DURATIONS``) take time,
    so any other name is a mistake worth reporting rather than ignoring.
    Raises ``ValueError`` with a message fit for the command line.
    """
    durations: dict[str, float] = {}
    for item in items:
        action, equals, text = item.partition("=")
        action = action.strip()
        if not equals or not action:
            raise ValueError(f"{item!r} is not ACTION=SECONDS")
        if action not in DEFAULT_DURATIONS:
            known = ", ".join(sorted(DEFAULT_DURATIONS))
            raise ValueError(f"{action} is not an asynchronous action; one of: {known}")

        try:
            seconds = float(text)
        except ValueError:
            raise ValueError(f"{item!r}: {text!r} is not a number of seconds") from None
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"{item!r}: seconds must be zero or more")
        durations[action] = seconds
    return durations
