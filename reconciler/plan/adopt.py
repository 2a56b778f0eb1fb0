"""Writing what the cloud shows into state, without changing the cloud.

Two callers: ``apply`` of a ``--refresh-only`` plan records the drift the
plan showed (``record_refresh``), and ``reconciler import ADDR ID`` adopts
a resource made outside reconciler (``import_resource``). Both are the
planner's reading side turned into state writes; neither sends anything but
Describe calls.
"""

from __future__ import annotations

import logging

from reconciler.cloud.apis import CloudApis
from reconciler.diagnostics import Diagnostic, DiagnosticError
from reconciler.manifest.result import Manifest
from reconciler.model.address import Address
from reconciler.model.resource import CurrentResource
from reconciler.plan.live import READERS, Names
from reconciler.plan.plan import Plan
from reconciler.state.store import StateStore

logger = logging.getLogger(__name__)


def record_refresh(plan: Plan, store: StateStore) -> int:
    """Record the plan's drift in state; return how many resources it touched.

    Resources the cloud no longer has are forgotten; the others get the
    attributes the refresh read. Refused when state moved since the plan.
    """
    if store.serial != plan.state_serial:
        raise DiagnosticError(_moved(plan.state_serial, store.serial))

    for drift in plan.drift:
        if drift.deleted:
            store.remove_resource(drift.address)
            continue
        live = plan.current[drift.address]
        store.put_resource(drift.address, live.resource_id, live.attributes)
    logger.info("Recorded the drift of %d resources in state.", len(plan.drift))
    return len(plan.drift)


def import_resource(
    address: Address,
    resource_id: str,
    apis: CloudApis,
    store: StateStore,
    manifest: Manifest,
) -> CurrentResource:
    """Read ``resource_id`` from the cloud and record it at ``address``."""
    _check_importable(address, resource_id, store, manifest)

    # References are read back as manifest keys of what state already
    # records; the password cannot be read back at all, so the manifest's
    # value is taken as the truth only once an apply has set it.
    wanted = {address: CurrentResource(address, resource_id, {})}
    names = Names({**store.resources(), **wanted})
    attributes = READERS[address.kind](apis, wanted, names).get(address)
    if attributes is None:
        raise DiagnosticError(_not_found(address, resource_id))

    record = CurrentResource(address, resource_id, attributes)
    store.put_resource(address, resource_id, record.attributes)
    logger.info("Imported %s as %s.", resource_id, address)
    return record


def _check_importable(
    address: Address, resource_id: str, store: StateStore, manifest: Manifest
) -> None:
    if address not in {resource.address for resource in manifest.resources}:
        raise DiagnosticError(
            _refused(
                address,
                "Resource not in the manifest",
                f"{address} is not in the manifest, so the next apply would "
                "delete the imported resource. Add it to the manifest first.",
            )
        )
    _check_unrecorded(address, resource_id, store)


def _check_unrecorded(address: Address, resource_id: str, store: StateStore) -> None:
    recorded = store.resources()
    if address in recorded:
        raise DiagnosticError(
            _refused(
                address,
                "Resource already in state",
                f"{address} is already recorded as {recorded[address].resource_id}. "
                f"Run 'reconciler state rm {address} MANIFEST' first to adopt "
                "another.",
            )
        )
    owner = next(
        (r.address for r in recorded.values() if r.resource_id == resource_id), None
    )
    if owner is not None:
        raise DiagnosticError(
            _refused(
                address,
                "Resource id already in state",
                f"{resource_id} is already recorded as {owner}; one cloud "
                "resource can have only one address.",
            )
        )


def _refused(address: Address, summary: str, detail: str) -> Diagnostic:
    return Diagnostic(summary, detail + " Nothing was imported.", address=str(address))


def _not_found(address: Address, resource_id: str) -> Diagnostic:
    return _refused(
        address,
        "No such resource in the cloud",
        f"The cloud has no live {address.kind} {resource_id} in this region. "
        "Check the id and --region.",
    )


def _moved(planned: int, now: int) -> Diagnostic:
    return Diagnostic(
        "State changed since the plan was made",
        f"The refresh-only plan was made at state serial {planned}; the state "
        f"is now at serial {now}. Nothing was recorded. Plan again.",
    )
