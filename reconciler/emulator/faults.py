"""Fault injection: rules that make chosen calls or resources misbehave.

Format (YAML or JSON, design.md "Emulator contract")::

    seed: 7
    rules:
      - action: StartInstances        # action name, or "*"
        resources: [ins-ab12cd34, "web-*"]   # ids or name globs (optional)
        calls: [2]                    # or {every: 3} or {after: 1} (optional)
        probability: 0.3              # per resource (per call for call faults)
        times: 1                      # how often the rule may fire (optional)
        outcome: {code: 5100, message: "(EC_CVM_STATUS_ERROR) boom",
                  transient: true}

Outcome types (``type`` may be given, otherwise it is inferred from the keys):

- ``resource_error``: one resource of the call fails (``code``, ``message``);
  inferred when ``transient`` is present or ``code`` is 5000/5100. In a batch
  action it becomes that resource's ``detail`` entry; in a single-resource
  action it fails the call. ``transient: false`` makes the failure stick: the
  resource then fails every later call of the rule's action.
- ``call_error``: the whole call answers ``code`` with no side effect
  (any other ``code``).
- ``delay``: ``{delay: seconds}``, scaled by ``time_scale``; the call is
  answered late.
- ``drop``: ``{drop: true}``; the connection closes before anything is done.
- ``lose_response``: ``{lose_response: true}``; the call is applied, then the
  connection closes without an answer.
- ``task_failure``: ``{task: failed}``; the asynchronous work of the resource
  ends in failure (an instance ends in status 1, a task reports 1).
- ``hidden``: ``{hidden_for: seconds}``; a created resource is not listed by
  Describe calls for that long (eventual consistency).
- ``slow_delete``: ``{slow_delete: seconds}``; a delete/return stays in
  progress that much longer.

``calls`` counts the calls that match ``action`` and ``resources``, from 1.
The same seed and rules with the same sequence of calls give the same run:
one random stream, seeded by ``seed``, drawn in call order only for rules
with ``probability`` below 1. Rule counters live in memory; a restart or a
``PUT /_emulator/faults`` starts them again.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import random
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

logger = logging.getLogger(__name__)

RESOURCE_ERROR = "resource_error"
CALL_ERROR = "call_error"
DELAY = "delay"
DROP = "drop"
LOSE_RESPONSE = "lose_response"
TASK_FAILURE = "task_failure"
HIDDEN = "hidden"
SLOW_DELETE = "slow_delete"

CALL_TYPES = frozenset({CALL_ERROR, DELAY, DROP, LOSE_RESPONSE})
RESOURCE_TYPES = frozenset({RESOURCE_ERROR, TASK_FAILURE, HIDDEN, SLOW_DELETE})
ALL_TYPES = CALL_TYPES | RESOURCE_TYPES

# Codes that are per-item codes inside a batch ``detail``.
ITEM_CODES = frozenset({5000, 5100})


class FaultError(ValueError):
    """A fault document that cannot be understood."""


@dataclass(frozen=True)
class Outcome:
    type: str
    code: int = 0
    message: str = ""
    transient: bool = True
    seconds: float = 0.0


@dataclass
class Rule:
    index: int
    action: str
    resources: tuple[str, ...]
    calls: list[int] | None
    every: int | None
    after: int | None
    probability: float
    times: int | None
    outcome: Outcome
    matched_calls: int = 0
    fired: int = 0
    stuck: set[str] = field(default_factory=set)

    def matches_action(self, action: str) -> bool:
        return self.action in ("*", action)

    def matches_resource(self, resource_id: str, name: str = "") -> bool:
        if not self.resources:
            return True
        return any(
            fnmatch.fnmatchcase(resource_id, pattern)
            or (name and fnmatch.fnmatchcase(name, pattern))
            for pattern in self.resources
        )

    def selects_call(self, number: int) -> bool:
        if self.calls is not None and number not in self.calls:
            return False
        if self.every is not None and number % self.every != 0:
            return False
        return self.after is None or number > self.after

    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times


@dataclass(frozen=True)
class Target:
    """A resource a call carries: its id (may be empty for a create) and name."""

    id: str
    name: str = ""


def load_fault_document(
    source: Mapping[str, Any] | Path | str | None,
) -> dict[str, Any]:
    """Read a fault document from a mapping, a file path or YAML/JSON text."""
    if source is None:
        return {}
    if isinstance(source, Mapping):
        return dict(source)
    if isinstance(source, Path):
        return parse_fault_text(source.read_text(encoding="utf-8"))
    return parse_fault_text(source)


def parse_fault_text(text: str) -> dict[str, Any]:
    try:
        # JSON is (nearly) a subset of YAML; try it first for exact errors.
        loaded = json.loads(text) if text.lstrip().startswith("{") else None
        if loaded is None:
            loaded = yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as error:
        raise FaultError(f"fault document is not valid YAML or JSON: {error}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, Mapping):
        raise FaultError("fault document must be a mapping with 'seed' and 'rules'")
    return dict(loaded)


def parse_rules(document: Mapping[str, Any]) -> tuple[int, list[Rule]]:
    """Validate a fault document; return its seed and rules."""
    unknown = set(document) - {"seed", "rules"}
    if unknown:
        raise FaultError(f"unknown top-level keys: {sorted(unknown)}")
    seed = document.get("seed", 0)
    if not isinstance(seed, int):
        raise FaultError("seed must be an integer")
    raw_rules = document.get("rules") or []
    if not isinstance(raw_rules, list):
        raise FaultError("rules must be a list")
    return seed, [_parse_rule(index, raw) for index, raw in enumerate(raw_rules)]


def _parse_rule(index: int, raw: Any) -> Rule:
    where = f"rules[{index}]"
    if not isinstance(raw, Mapping):
        raise FaultError(f"{where} must be a mapping")
    known = {"action", "resources", "calls", "probability", "times", "outcome"}
    unknown = set(raw) - known
    if unknown:
        raise FaultError(f"{where}: unknown keys {sorted(unknown)}")

    action = raw.get("action", "*")
    if not isinstance(action, str) or not action:
        raise FaultError(f"{where}.action must be an action name or '*'")
    resources = raw.get("resources") or []
    if isinstance(resources, str):
        resources = [resources]
    if not isinstance(resources, list) or not all(
        isinstance(item, str) for item in resources
    ):
        raise FaultError(f"{where}.resources must be a list of ids or globs")

    calls, every, after = _parse_calls(where, raw.get("calls"))
    probability = raw.get("probability", 1.0)
    if not isinstance(probability, (int, float)) or not 0 <= probability <= 1:
        raise FaultError(f"{where}.probability must be between 0 and 1")
    times = raw.get("times")
    if times is not None and (not isinstance(times, int) or times < 0):
        raise FaultError(f"{where}.times must be a non-negative integer")

    return Rule(
        index=index,
        action=action,
        resources=tuple(resources),
        calls=calls,
        every=every,
        after=after,
        probability=float(probability),
        times=times,
        outcome=_parse_outcome(where, raw.get("outcome")),
    )


def _parse_calls(
    where: str, raw: Any
) -> tuple[list[int] | None, int | None, int | None]:
    if raw is None:
        return None, None, None
    if isinstance(raw, int):
        raw = [raw]
    if isinstance(raw, list) and all(isinstance(n, int) and n > 0 for n in raw):
        return list(raw), None, None
    if isinstance(raw, Mapping) and set(raw) <= {"every", "after"}:
        every, after = raw.get("every"), raw.get("after")
        if every is not None and (not isinstance(every, int) or every < 1):
            raise FaultError(f"{where}.calls.every must be a positive integer")
        if after is not None and (not isinstance(after, int) or after < 0):
            raise FaultError(f"{where}.calls.after must be a non-negative integer")
        return None, every, after
    raise FaultError(f"{where}.calls must be a list like [2] or {{every: 3}}")


def _parse_outcome(where: str, raw: Any) -> Outcome:
    if not isinstance(raw, Mapping):
        raise FaultError(f"{where}.outcome must be a mapping")
    kind = raw.get("type") or _infer_type(raw)
    if kind not in ALL_TYPES:
        raise FaultError(f"{where}.outcome: unknown type {kind!r}")

    code = raw.get("code", 5100 if kind == RESOURCE_ERROR else 6000)
    if not isinstance(code, int) or code <= 0:
        raise FaultError(f"{where}.outcome.code must be a positive integer")
    seconds = raw.get(
        {DELAY: "delay", HIDDEN: "hidden_for", SLOW_DELETE: "slow_delete"}.get(
            kind, "seconds"
        ),
        raw.get("seconds", 0.0),
    )
    if not isinstance(seconds, (int, float)) or seconds < 0:
        raise FaultError(f"{where}.outcome: seconds must be a non-negative number")

    message = raw.get("message") or _default_message(kind, code)
    return Outcome(
        type=kind,
        code=code,
        message=str(message),
        transient=bool(raw.get("transient", True)),
        seconds=float(seconds),
    )


def _infer_type(raw: Mapping[str, Any]) -> str:
    if "delay" in raw:
        return DELAY
    if raw.get("drop"):
        return DROP
    if raw.get("lose_response"):
        return LOSE_RESPONSE
    if raw.get("task") == "failed":
        return TASK_FAILURE
    if "hidden_for" in raw:
        return HIDDEN
    if "slow_delete" in raw:
        return SLOW_DELETE
    if raw.get("scope") == "resource" or "transient" in raw:
        return RESOURCE_ERROR
    if raw.get("scope") != "call" and raw.get("code") in ITEM_CODES:
        return RESOURCE_ERROR
    if "code" in raw:
        return CALL_ERROR
    raise FaultError("outcome needs a code, delay, drop, lose_response, task, ...")


def _default_message(kind: str, code: int) -> str:
    if kind == RESOURCE_ERROR:
        return "(EC_INJECTED_FAULT) injected failure"
    return f"({code}) injected fault"


class FaultEngine:
    """Holds the active rules and decides, call by call, which ones fire."""

    def __init__(self, source: Mapping[str, Any] | Path | str | None = None) -> None:
        self._lock = threading.Lock()
        self.load(source)

    def load(self, source: Mapping[str, Any] | Path | str | None) -> None:
        """Replace the rules (and start their counters and randomness again)."""
        document = load_fault_document(source)
        seed, rules = parse_rules(document)
        with self._lock:
            self.document = document
            self.seed = seed
            self.rules = rules
            self._random = random.Random(seed)
        logger.info("Loaded %d fault rule(s) with seed %d.", len(rules), seed)

    def restart(self) -> None:
        """Same rules, counters and randomness from the beginning."""
        self.load(self.document)

    def begin(self, action: str, targets: Iterable[Target]) -> CallFaults:
        """Count this call against every rule it matches; return the selection."""
        targets = list(targets)
        active: list[Rule] = []
        with self._lock:
            for rule in self.rules:
                if not rule.matches_action(action):
                    continue
                if rule.resources and not any(
                    rule.matches_resource(t.id, t.name) for t in targets
                ):
                    continue
                rule.matched_calls += 1
                if rule.stuck or rule.selects_call(rule.matched_calls):
                    active.append(rule)
        return CallFaults(self, active)

    def _draw(self, rule: Rule) -> bool:
        if rule.probability >= 1.0:
            return True
        return self._random.random() < rule.probability


class CallFaults:
    """The rules selected for one call, consulted by the app and the handlers."""

    def __init__(self, engine: FaultEngine, active: list[Rule]) -> None:
        self._engine = engine
        self._active = active

    @property
    def active(self) -> bool:
        """True when some rule was selected for this call (rarely)."""
        return bool(self._active)

    def call_outcome(self, types: frozenset[str] = CALL_TYPES) -> list[Outcome]:
        """Call-level outcomes that fire now, each rule at most once."""
        fired: list[Outcome] = []
        with self._engine._lock:
            for rule in self._active:
                if rule.outcome.type not in types or rule.exhausted():
                    continue
                if self._engine._draw(rule):
                    rule.fired += 1
                    fired.append(rule.outcome)
        return fired

    def resource_outcome(
        self, types: frozenset[str], resource_id: str, name: str = ""
    ) -> Outcome | None:
        """The first per-resource outcome of ``types`` that fires for a resource."""
        if not self._active:
            # The usual case, asked once or twice per item of a 100-id batch.
            return None
        with self._engine._lock:
            for rule in self._active:
                outcome = self._fire_for(rule, types, resource_id, name)
                if outcome is not None:
                    return outcome
        return None

    def _fire_for(
        self, rule: Rule, types: frozenset[str], resource_id: str, name: str
    ) -> Outcome | None:
        if rule.outcome.type not in types:
            return None
        if resource_id and resource_id in rule.stuck:
            return rule.outcome
        if not rule.selects_call(rule.matched_calls):
            return None
        if rule.exhausted() or not rule.matches_resource(resource_id, name):
            return None
        if not self._engine._draw(rule):
            return None

        rule.fired += 1
        if not rule.outcome.transient and resource_id:
            rule.stuck.add(resource_id)
        return rule.outcome
