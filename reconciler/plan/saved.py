"""Saved plans: ``plan --out FILE`` writes one, ``apply FILE`` executes it.

A saved plan is the exact ``Plan``: changes, every operation with its
parameters, the graph's edges, drift and the refreshed resources, with the
state serial and lineage it was made against and the manifest's digest.
Apply must run exactly it, so ``check_still_valid`` refuses it when state or
manifest moved since.

Secrets never reach the file: each is replaced by ``{"$sensitive": HASH}``
(a salted hash, as state keeps them). ``check_still_valid`` puts the
manifest's values back after checking them against those hashes, so the
plan that is applied carries the secrets that were planned.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import networkx as nx

from reconciler.diagnostics import Diagnostic, DiagnosticError
from reconciler.manifest.result import Manifest
from reconciler.model.address import Address
from reconciler.model.change import Action, AttributeChange, Change, Operation
from reconciler.model.resource import CurrentResource, DesiredResource
from reconciler.plan.estimate import DurationProfile
from reconciler.plan.plan import Plan, PlanOptions
from reconciler.plan.refresh import Drift
from reconciler.plan.sensitive import Hidden, hash_secret, secret_matches
from reconciler.state.store import StateStore

logger = logging.getLogger(__name__)

SAVED_PLAN_KIND = "reconciler-plan"
SAVED_PLAN_VERSION = 1
_SECRET = "$sensitive"

Hider = Callable[[Address, str, Any], Any]


# --- writing -----------------------------------------------------------------


def save_plan(plan: Plan, path: Path, manifest_paths: Sequence[Path] = ()) -> None:
    """Write ``plan`` to ``path``; the same plan always gives the same bytes.

    ``manifest_paths`` are recorded (absolute) so that ``apply FILE`` reads
    the same manifest to check its digest and restore its secrets.
    """
    text = dump_plan(plan, [str(p.resolve()) for p in manifest_paths])
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise DiagnosticError(
            Diagnostic(
                "Cannot write the plan file",
                f"Writing {path} failed: {error.strerror or error}. Choose a "
                "writable path for --out.",
            )
        ) from None
    logger.info("Saved the plan to %s.", path)


def dump_plan(plan: Plan, manifest_paths: Sequence[str] = ()) -> str:
    hide = _hider(plan)
    document = {
        "kind": SAVED_PLAN_KIND,
        "manifest_paths": list(manifest_paths),
        "format_version": SAVED_PLAN_VERSION,
        "state": {"serial": plan.state_serial, "lineage": plan.state_lineage},
        "manifest_digest": plan.manifest_digest,
        "options": {
            "targets": sorted(str(a) for a in plan.options.targets),
            "replace": sorted(str(a) for a in plan.options.replace),
            "refresh_only": plan.options.refresh_only,
        },
        "profile": _profile_json(plan.profile),
        "desired": [_desired_json(r, hide) for _, r in sorted(plan.desired.items())],
        "current": [_current_json(r) for _, r in sorted(plan.current.items())],
        "drift": [_drift_json(item) for item in plan.drift],
        "changes": [_change_json(change, hide) for change in plan.changes],
        "operations": [
            _operation_json(plan.graph.nodes[key]["operation"], hide)
            for key in sorted(plan.graph)
        ],
        "edges": sorted([a, b] for a, b in plan.graph.edges),
    }
    return json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def _hider(plan: Plan) -> Hider:
    """Replace secrets by salted hashes; deterministic for the same plan."""

    def hide(address: Address, name: str, value: Any) -> Any:
        desired = plan.desired.get(address)
        if isinstance(value, Hidden):
            return {_SECRET: value.digest}
        if desired is None or name not in desired.sensitive or value is None:
            return value
        seed = f"{plan.state_lineage}:{address}:{name}".encode()
        salt = hashlib.sha256(seed).hexdigest()[:16]
        return {_SECRET: hash_secret(str(value), salt)}

    return hide


def _profile_json(profile: DurationProfile) -> dict[str, Any]:
    return {
        "name": profile.name,
        "settle_seconds": dict(sorted(profile.settle_seconds.items())),
        "call_seconds": profile.call_seconds,
        "poll_seconds": profile.poll_seconds,
        "parallelism": profile.parallelism,
    }


def _desired_json(resource: DesiredResource, hide: Hider) -> dict[str, Any]:
    address = resource.address
    return {
        "address": str(address),
        "attributes": {
            name: hide(address, name, value)
            for name, value in sorted(resource.attributes.items())
        },
        "sensitive": sorted(resource.sensitive),
    }


def _current_json(resource: CurrentResource) -> dict[str, Any]:
    # State keeps secrets hashed already; current comes from state.
    return {
        "address": str(resource.address),
        "resource_id": resource.resource_id,
        "attributes": dict(sorted(resource.attributes.items())),
    }


def _drift_json(drift: Drift) -> dict[str, Any]:
    return {
        "address": str(drift.address),
        "deleted": drift.deleted,
        "attributes": {
            name: [old, new] for name, (old, new) in sorted(drift.attributes.items())
        },
    }


def _change_json(change: Change, hide: Hider) -> dict[str, Any]:
    address = change.address
    return {
        "address": str(address),
        "action": change.action.value,
        "reason": change.reason,
        "resource_id": change.resource_id,
        "attributes": [
            {
                "name": row.name,
                "old": row.old,
                "new": hide(address, row.name, row.new),
                "how": row.how,
                "sensitive": row.sensitive,
            }
            for row in change.attributes
        ],
    }


def _operation_json(operation: Operation, hide: Hider) -> dict[str, Any]:
    address = operation.address
    return {
        "address": str(address),
        "api_action": operation.api_action,
        "batch_key": [[k, hide(address, k, v)] for k, v in operation.batch_key],
        "params": {k: hide(address, k, v) for k, v in sorted(operation.params.items())},
        "resource_id": operation.resource_id,
        "wait_for": operation.wait_for,
    }


# --- reading -----------------------------------------------------------------


def load_saved_plan(path: Path) -> Plan:
    """Read a plan written by ``plan --out``; secrets stay hidden until
    ``check_still_valid`` restores them from the manifest."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DiagnosticError(_not_a_plan(path, str(error))) from None
    if not isinstance(document, dict) or document.get("kind") != SAVED_PLAN_KIND:
        raise DiagnosticError(_not_a_plan(path, "it is not a reconciler plan"))
    if document.get("format_version") != SAVED_PLAN_VERSION:
        found = document.get("format_version")
        raise DiagnosticError(
            _not_a_plan(
                path,
                f"it has format version {found!r}; this reconciler reads "
                f"version {SAVED_PLAN_VERSION}. Make the plan again",
            )
        )
    try:
        return _plan_from(document)
    except (KeyError, TypeError, ValueError) as error:
        raise DiagnosticError(_not_a_plan(path, f"it is damaged ({error})")) from None


def is_saved_plan(path: Path) -> bool:
    """True when ``path`` is a file written by ``plan --out``."""
    if not path.is_file():
        return False
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    return head.lstrip().startswith(b"{") and SAVED_PLAN_KIND.encode() in head


def saved_manifest_paths(path: Path) -> list[Path]:
    """The manifest files or directories a saved plan was made from."""
    document = json.loads(path.read_text(encoding="utf-8"))
    recorded = document.get("manifest_paths") or []
    if not recorded:
        raise DiagnosticError(
            _not_a_plan(path, "it does not say which manifest it was made from")
        )
    return [Path(item) for item in recorded]


def parse_plan(text: str) -> Plan:
    """``load_saved_plan`` for text already read (tests, pipelines)."""
    return _plan_from(json.loads(text))


def _plan_from(document: Mapping[str, Any]) -> Plan:
    changes = [_change_from(item) for item in document["changes"]]
    by_address = {change.address: change for change in changes}
    graph = nx.DiGraph()
    for item in document["operations"]:
        operation = _operation_from(item)
        change = by_address[operation.address]
        graph.add_node(operation.key, operation=operation, change=change)
    graph.add_edges_from(tuple(edge) for edge in document["edges"])

    options = document["options"]
    return Plan(
        changes=changes,
        graph=graph,
        desired=_by_address(_desired_from(item) for item in document["desired"]),
        current=_by_address(_current_from(item) for item in document["current"]),
        drift=[_drift_from(item) for item in document["drift"]],
        state_serial=int(document["state"]["serial"]),
        manifest_digest=str(document["manifest_digest"]),
        state_lineage=str(document["state"]["lineage"]),
        options=PlanOptions(
            targets=frozenset(Address.parse(a) for a in options["targets"]),
            replace=frozenset(Address.parse(a) for a in options["replace"]),
            refresh_only=bool(options["refresh_only"]),
        ),
        profile=_profile_from(document["profile"]),
    )


def _by_address(resources: Any) -> dict[Address, Any]:
    return {resource.address: resource for resource in resources}


def _profile_from(item: Mapping[str, Any]) -> DurationProfile:
    return DurationProfile(
        name=item["name"],
        settle_seconds=dict(item["settle_seconds"]),
        call_seconds=float(item["call_seconds"]),
        poll_seconds=float(item["poll_seconds"]),
        parallelism=int(item["parallelism"]),
    )


def _desired_from(item: Mapping[str, Any]) -> DesiredResource:
    return DesiredResource(
        Address.parse(item["address"]),
        {name: _frozen(value) for name, value in item["attributes"].items()},
        sensitive=frozenset(item["sensitive"]),
    )


def _current_from(item: Mapping[str, Any]) -> CurrentResource:
    return CurrentResource(
        Address.parse(item["address"]), item["resource_id"], dict(item["attributes"])
    )


def _drift_from(item: Mapping[str, Any]) -> Drift:
    attributes = {name: (pair[0], pair[1]) for name, pair in item["attributes"].items()}
    return Drift(Address.parse(item["address"]), attributes, bool(item["deleted"]))


def _change_from(item: Mapping[str, Any]) -> Change:
    rows = tuple(
        AttributeChange(
            row["name"],
            row["old"],
            _frozen(row["new"]),
            row["how"],
            bool(row["sensitive"]),
        )
        for row in item["attributes"]
    )
    return Change(
        Address.parse(item["address"]),
        Action(item["action"]),
        rows,
        item["reason"],
        item["resource_id"],
    )


def _operation_from(item: Mapping[str, Any]) -> Operation:
    return Operation(
        Address.parse(item["address"]),
        item["api_action"],
        batch_key=tuple((key, _frozen(value)) for key, value in item["batch_key"]),
        params={key: _frozen(value) for key, value in item["params"].items()},
        resource_id=item["resource_id"],
        wait_for=item["wait_for"],
    )


def _frozen(value: Any) -> Any:
    """Hidden secrets become ``Hidden``; in batch keys, lists become tuples
    so that the keys hash as they did before saving."""
    if isinstance(value, dict) and set(value) == {_SECRET}:
        return Hidden(str(value[_SECRET]))
    if isinstance(value, list):
        return tuple(_frozen(item) for item in value)
    return value


def _not_a_plan(path: Path, why: str) -> Diagnostic:
    return Diagnostic(
        "Not a saved plan",
        f"{path} cannot be applied as a plan: {why}. Save one with "
        "'reconciler plan PATH --out FILE'.",
    )


# --- checking before apply ---------------------------------------------------


def check_still_valid(plan: Plan, store: StateStore, manifest: Manifest) -> Plan:
    """The saved ``plan``, ready to apply, or a ``DiagnosticError`` saying why not.

    Refused when the state is another one (lineage), has been written since
    (serial), or the manifest's files changed (digest). Returns the plan with
    its secrets restored from the manifest: apply that one.
    """
    problems = _staleness(plan, store, manifest)
    if problems:
        raise DiagnosticError(problems)
    return restore_secrets(plan, manifest)


def _staleness(plan: Plan, store: StateStore, manifest: Manifest) -> list[Diagnostic]:
    problems = []
    if plan.state_lineage and plan.state_lineage != store.lineage:
        problems.append(
            _stale(
                "The plan was made against another state",
                f"It belongs to state lineage {plan.state_lineage}, but "
                f"{store.path} has lineage {store.lineage}.",
            )
        )
    elif plan.state_serial != store.serial:
        problems.append(
            _stale(
                "State changed since the plan was saved",
                f"The plan was made at state serial {plan.state_serial}; the "
                f"state is now at serial {store.serial}, so something was "
                "applied, imported or removed in between.",
            )
        )
    if plan.manifest_digest != manifest.digest:
        problems.append(
            _stale(
                "The manifest changed since the plan was saved",
                "The manifest files no longer match the digest recorded in the "
                "plan, so the plan may not be what they now ask for.",
            )
        )
    return problems


def _stale(summary: str, detail: str) -> Diagnostic:
    return Diagnostic(
        summary,
        f"{detail} Nothing was changed. Run 'reconciler plan --out FILE' again "
        "and apply the new plan.",
    )


def restore_secrets(plan: Plan, manifest: Manifest) -> Plan:
    """Put the manifest's secrets back where the file holds their hashes."""
    secrets = {
        resource.address: {
            name: resource.attributes[name]
            for name in resource.sensitive
            if name in resource.attributes
        }
        for resource in manifest.resources
        if resource.sensitive
    }
    problems: list[Diagnostic] = []

    def reveal(address: Address, name: str, value: Any) -> Any:
        if not isinstance(value, Hidden):
            return value
        known = secrets.get(address, {}).get(name)
        if known is None or not secret_matches(known, value.digest):
            problems.append(_secret_changed(address, name))
            return value
        return known

    graph = plan.graph.copy()
    for key in graph:
        operation = graph.nodes[key]["operation"]
        graph.nodes[key]["operation"] = _revealed(operation, reveal)
    if problems:
        raise DiagnosticError(problems)
    return replace(plan, graph=graph)


def _revealed(operation: Operation, reveal: Hider) -> Operation:
    address = operation.address
    return replace(
        operation,
        batch_key=tuple((k, reveal(address, k, v)) for k, v in operation.batch_key),
        params={k: reveal(address, k, v) for k, v in operation.params.items()},
    )


def _secret_changed(address: Address, name: str) -> Diagnostic:
    return Diagnostic(
        "A secret changed since the plan was saved",
        f"The {name} of {address} is not the one the plan was made with (its "
        "source, such as an environment variable, now gives another value). "
        "Nothing was changed. Make the plan again.",
        address=str(address),
    )
