"""The ``reconciler`` command: commands and exit codes only, no logic.

Exit codes follow design.md: 0 success, 1 error (and for ``plan
--detailed-exitcode``, 2 when there are changes). Every user mistake is a
diagnostic on stderr; machine output goes to stdout alone.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

from reconciler.apply.console import (
    make_reporter,
    print_history_entry,
    print_summary,
)
from reconciler.apply.recovery import resolve_open_intents
from reconciler.apply.session import execute_plan
from reconciler.apply.steps import CloudSteps, StepContext
from reconciler.cloud.errors import ApiError, TransportError
from reconciler.diagnostics import Diagnostic, DiagnosticError
from reconciler.manifest import validate_paths
from reconciler.model.address import Address
from reconciler.model.resource import CurrentResource
from reconciler.plan.adopt import import_resource, record_refresh
from reconciler.plan.markdown import render_markdown
from reconciler.plan.plan import Plan, PlanOptions
from reconciler.plan.planner import plan_destroy, plan_manifest
from reconciler.plan.render import (
    NO_CHANGES,
    render_dot,
    render_graph_json,
    render_json,
    render_record_json,
    render_record_text,
    render_text,
)
from reconciler.plan.saved import (
    check_still_valid,
    is_saved_plan,
    load_saved_plan,
    save_plan,
    saved_manifest_paths,
)
from reconciler.state.lock import describe as describe_lock
from reconciler.state.lock import held_by_live_process, state_lock
from reconciler.state.store import LockInfo, StateStore
from reconciler.workspace import Workspace, default_state_path, open_workspace

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


class Duration(click.ParamType):  # type: ignore[type-arg]
    """``30s``, ``2m``, ``1h`` or plain seconds, as a number of seconds."""

    name = "duration"
    _units = {"s": 1.0, "m": 60.0, "h": 3600.0}

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, (int, float)):
            return float(value)
        text = str(value).strip()
        unit = self._units.get(text[-1:], None)
        number = text[:-1] if unit else text
        try:
            seconds = float(number) * (unit or 1.0)
        except ValueError:
            self.fail(
                f"{value!r} is not a duration; use e.g. 30s, 2m or 1h", param, ctx
            )
        if seconds < 0:
            self.fail(f"{value!r} is negative", param, ctx)
        return seconds


DURATION = Duration()

stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="reconciler")
@click.option(
    "-v",
    "--verbose",
    count=True,
    help="Log to stderr: -v one line per API call and every retry, -vv debug.",
)
def main(verbose: int) -> None:
    """Declarative, batch-first reconciler for Tencent Cloud's legacy APIs.

    PATH arguments are manifest files, or directories whose *.yaml and *.yml
    files form one manifest. Without -v, problems are reported as
    diagnostics and progress by the commands themselves; logs stay quiet.
    """
    # Diagnostics and the progress reporter tell users what they need; the
    # logs repeat it at length and are for -v.
    level = {0: logging.CRITICAL, 1: logging.INFO}.get(verbose, logging.DEBUG)
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )


STATE_OPTION = click.option(
    "--state",
    "state_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="State database (default: .reconciler/state.db beside the manifest).",
)
# Optional where --state alone is enough.
MANIFEST_PATHS = click.argument("paths", nargs=-1, type=click.Path(path_type=Path))


def cloud_options(command: F) -> F:
    """Options shared by every command that talks to a cloud."""
    decorators = [
        click.argument(
            "paths", nargs=-1, required=True, type=click.Path(path_type=Path)
        ),
        click.option(
            "--endpoint",
            help="'local' for the embedded local cloud, or a URL such as "
            "http://127.0.0.1:8123 (default: the manifest's provider.endpoint, "
            "else the real Tencent Cloud).",
        ),
        click.option("--region", help="Region, e.g. ap-guangzhou."),
        STATE_OPTION,
    ]
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn every expected failure into a message and exit code 1."""
    try:
        yield
    except DiagnosticError as error:
        _print_diagnostics(error.diagnostics)
        sys.exit(1)
    except TransportError as error:
        _print_diagnostics([_unreachable(error)])
        sys.exit(1)
    except ApiError as error:
        _print_diagnostics([_refused(error)])
        sys.exit(1)


def _print_diagnostics(diagnostics: Sequence[Diagnostic]) -> None:
    for diagnostic in diagnostics:
        stderr.print(diagnostic.render(), markup=False)


def _unreachable(error: TransportError) -> Diagnostic:
    return Diagnostic(
        "Cannot reach the cloud",
        f"{error}. Check --endpoint (or provider.endpoint in the manifest): "
        "for a local cloud started apart, is 'reconciler emulator serve' "
        "running at that address? For Tencent Cloud, check the network. "
        "Nothing was changed by this call.",
    )


def _refused(error: ApiError) -> Diagnostic:
    return Diagnostic(
        "The cloud refused a call",
        f"{error}. The code and message are the cloud's; fix what they name "
        "and run the command again.",
    )


@contextmanager
def workspace_for(
    paths: Sequence[Path],
    endpoint: str | None,
    region: str | None,
    state_path: Path | None,
    parallelism: int = 10,
) -> Iterator[Workspace]:
    _refuse_saved_plans(paths)
    workspace = open_workspace(paths, endpoint, region, state_path, parallelism)
    try:
        yield workspace
    finally:
        workspace.close()


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json"]),
    default="text",
    help="text for people, json (on stdout) for editors and CI.",
)
def validate(paths: tuple[Path, ...], output: str) -> None:
    """Check manifests against the schema and the semantic rules.

    Exits 0 when the manifest is valid (warnings allowed), 1 otherwise.
    """
    with reported_errors():
        _refuse_saved_plans(paths)
    diagnostics = validate_paths(list(paths))
    errors = [d for d in diagnostics if d.severity.value == "error"]
    if output == "json":
        click.echo(json.dumps([d.to_json() for d in diagnostics], indent=2))
    else:
        for diagnostic in diagnostics:
            stderr.print(diagnostic.render(), markup=False)
        if not errors:
            stdout.print("The manifest is valid.")
    sys.exit(1 if errors else 0)


@main.command()
@cloud_options
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    help="text for people, json for scripts, markdown for pull requests.",
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 with no changes, 2 with changes, 1 on error.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Save the exact plan to this file for 'reconciler apply FILE'.",
)
@click.option(
    "--refresh-only",
    is_flag=True,
    help="Show drift only; applying such a plan records it in state.",
)
@click.option(
    "--target",
    "targets",
    multiple=True,
    metavar="ADDR",
    help="Plan only this resource and what it depends on (repeatable).",
)
@click.option(
    "--replace",
    "replacing",
    multiple=True,
    metavar="ADDR",
    help="Replace this resource even if nothing differs (repeatable).",
)
def plan(
    paths: tuple[Path, ...],
    endpoint: str | None,
    region: str | None,
    state_path: Path | None,
    output: str,
    detailed_exitcode: bool,
    out: Path | None,
    refresh_only: bool,
    targets: tuple[str, ...],
    replacing: tuple[str, ...],
) -> None:
    """Show what apply would change."""
    with reported_errors(), workspace_for(paths, endpoint, region, state_path) as ws:
        options = PlanOptions(
            targets=_addresses(targets, "--target"),
            replace=_addresses(replacing, "--replace"),
            refresh_only=refresh_only,
        )
        _warn_open_intents(ws)
        the_plan = _plan(ws, options)
        if out is not None:
            save_plan(the_plan, out, manifest_paths=paths)
        _print_plan(the_plan, output)
        if out is not None and output == "text":
            stderr.print(
                f"Saved the plan to {out}; apply it with 'reconciler apply {out}'.",
                markup=False,
            )
    sys.exit(2 if detailed_exitcode and not the_plan.is_empty else 0)


def apply_options(command: F) -> F:
    """Options shared by apply and destroy."""
    decorators = [
        click.option("--auto-approve", is_flag=True, help="Go ahead without asking."),
        click.option(
            "--parallelism",
            type=click.IntRange(1, 64),
            default=10,
            show_default=True,
            help="API calls in flight at once.",
        ),
        click.option(
            "--lock-timeout",
            type=DURATION,
            default="0s",
            show_default=True,
            help="How long to wait for another apply's lock, e.g. 30s or 2m.",
        ),
        click.option(
            "--max-attempts",
            type=click.IntRange(1, 100),
            default=5,
            show_default=True,
            help="Calls per operation before a transient failure counts as final.",
        ),
    ]
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


@main.command()
@cloud_options
@apply_options
@click.option(
    "--refresh-only",
    is_flag=True,
    help="Record the drift that a refresh finds in state; change nothing in the cloud.",
)
def apply(
    paths: tuple[Path, ...],
    endpoint: str | None,
    region: str | None,
    state_path: Path | None,
    auto_approve: bool,
    parallelism: int,
    lock_timeout: float,
    max_attempts: int,
    refresh_only: bool,
) -> None:
    """Bring the cloud to the manifest, or carry out a saved plan.

    PATHS are manifest files or directories, or one file written by
    'reconciler plan --out', which is applied exactly as it was saved.
    """
    with reported_errors():
        saved = _saved_plan_path(paths)
        manifest_paths = saved_manifest_paths(saved) if saved else paths
        with (
            workspace_for(
                manifest_paths, endpoint, region, state_path, parallelism
            ) as ws,
            _locked(ws, "apply", lock_timeout),
        ):
            ws.settings = replace(ws.settings, max_attempts=max_attempts)
            steps = _steps(ws)
            if saved is not None:
                # A saved plan is applied exactly; settling open intents
                # first would move the state it was made against.
                the_plan = check_still_valid(
                    load_saved_plan(saved), ws.store, ws.manifest
                )
            else:
                resolve_open_intents(steps)
                the_plan = _plan(ws, PlanOptions(refresh_only=refresh_only))
            if the_plan.options.refresh_only:
                _record_drift(ws, the_plan, auto_approve)
                return
            _execute(ws, steps, the_plan, auto_approve, verb="apply")


@main.command()
@cloud_options
@apply_options
def destroy(
    paths: tuple[Path, ...],
    endpoint: str | None,
    region: str | None,
    state_path: Path | None,
    auto_approve: bool,
    parallelism: int,
    lock_timeout: float,
    max_attempts: int,
) -> None:
    """Delete everything the state owns, dependents first.

    The state is .reconciler/state.db beside the manifest (or --state): all
    it records is deleted, what the manifest names and anything else.
    """
    with (
        reported_errors(),
        workspace_for(paths, endpoint, region, state_path, parallelism) as ws,
        _locked(ws, "destroy", lock_timeout),
    ):
        ws.settings = replace(ws.settings, max_attempts=max_attempts)
        steps = _steps(ws)
        resolve_open_intents(steps)
        the_plan = plan_destroy(ws.store, ws.apis, ws.manifest, ws.profile)
        _execute(ws, steps, the_plan, auto_approve, "destroy")


@main.command()
@MANIFEST_PATHS
@STATE_OPTION
@click.option(
    "--limit",
    type=click.IntRange(1, 1000),
    default=10,
    show_default=True,
    help="How many of the last applies to show.",
)
def history(paths: tuple[Path, ...], state_path: Path | None, limit: int) -> None:
    """Show past applies, each operation's outcome and request ids."""
    with reported_errors(), _existing_state(paths, state_path) as store:
        records = store.history(limit)
        holder = store.lock_holder()
    # An apply still marked running whose process is gone was interrupted.
    still_running = holder is not None and held_by_live_process(holder)
    records = [
        replace(record, outcome="interrupted")
        if record.outcome == "running" and not (still_running and index == 0)
        else record
        for index, record in enumerate(records)
    ]
    if not records:
        stdout.print("No applies recorded yet.")
    for record in records:
        print_history_entry(stdout, record)


@main.command("force-unlock")
@MANIFEST_PATHS
@STATE_OPTION
@click.option(
    "--force",
    is_flag=True,
    help="Clear the lock even when its holder still runs on this host.",
)
def force_unlock(paths: tuple[Path, ...], state_path: Path | None, force: bool) -> None:
    """Clear a lock left behind by an apply that is gone.

    A lock held by a process that still runs on this host is left alone
    unless --force: clearing it would let two applies run at once.
    """
    with reported_errors(), _existing_state(paths, state_path) as store:
        holder = store.lock_holder()
        if holder is not None and held_by_live_process(holder) and not force:
            raise DiagnosticError(
                Diagnostic(
                    "The lock's holder is still running",
                    f"{describe_lock(holder)} holds the state and its process "
                    "is alive. Let it finish or stop it with Ctrl-C; --force "
                    "clears the lock anyway, at the risk of two applies at once.",
                )
            )
        holder = store.unlock()
    if holder is None:
        stdout.print("The state was not locked.")
        return
    stdout.print(f"Removed the lock held by {describe_lock(holder)}.")


@main.command()
@cloud_options
@click.option(
    "--format",
    "output",
    type=click.Choice(["dot", "json"]),
    default="dot",
    help="dot for Graphviz, json for scripts.",
)
def graph(
    paths: tuple[Path, ...],
    endpoint: str | None,
    region: str | None,
    state_path: Path | None,
    output: str,
) -> None:
    """Print the plan's graph of operations."""
    with reported_errors(), workspace_for(paths, endpoint, region, state_path) as ws:
        the_graph = _plan(ws).graph
    if output == "json":
        click.echo(render_graph_json(the_graph))
        return
    click.echo(render_dot(the_graph))


@main.group()
def state() -> None:
    """Inspect what the state records."""


@state.command("list")
@MANIFEST_PATHS
@STATE_OPTION
def state_list(paths: tuple[Path, ...], state_path: Path | None) -> None:
    """List the recorded resources and their ids."""
    with reported_errors(), _existing_state(paths, state_path) as store:
        records = store.resources()
    for address, record in sorted(records.items()):
        click.echo(f"{address}\t{record.resource_id}")


@state.command("show")
@click.argument("address")
@MANIFEST_PATHS
@STATE_OPTION
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json"]),
    default="text",
    help="text for people, json for scripts.",
)
def state_show(
    address: str, paths: tuple[Path, ...], state_path: Path | None, output: str
) -> None:
    """Show what state records for one resource."""
    with reported_errors(), _existing_state(paths, state_path) as store:
        record = _recorded(store, _address(address))
    if output == "json":
        click.echo(render_record_json(record))
        return
    stdout.print(render_record_text(record))


@state.command("rm")
@click.argument("address")
@MANIFEST_PATHS
@STATE_OPTION
def state_rm(address: str, paths: tuple[Path, ...], state_path: Path | None) -> None:
    """Forget a resource: state stops owning it; the cloud keeps it."""
    with reported_errors(), _existing_state(paths, state_path) as store:
        record = _recorded(store, _address(address))
        with state_lock(store, "reconciler state rm", 0.0):
            store.remove_resource(record.address)
    stdout.print(
        f"Removed {record.address} ({record.resource_id}) from state; the "
        "resource itself still exists.",
        markup=False,
    )


@main.command("import")
@click.argument("address")
@click.argument("resource_id", metavar="ID")
@cloud_options
def import_command(
    address: str,
    resource_id: str,
    paths: tuple[Path, ...],
    endpoint: str | None,
    region: str | None,
    state_path: Path | None,
) -> None:
    """Adopt a resource made elsewhere, recording ID as ADDRESS."""
    with reported_errors(), workspace_for(paths, endpoint, region, state_path) as ws:
        wanted = _address(address)
        with state_lock(ws.store, "reconciler import", 0.0):
            ws.bind_state()
            record = import_resource(
                wanted, resource_id, ws.apis, ws.store, ws.manifest
            )
    stdout.print(f"Imported {resource_id} as {record.address}.", markup=False)
    stdout.print("Run 'reconciler plan' to see how it differs from the manifest.")


@main.group()
def emulator() -> None:
    """The local cloud."""


def _emulator_durations(
    ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
) -> dict[str, float]:
    from reconciler.emulator import parse_durations

    try:
        return parse_durations(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def _emulator_epilog() -> str:
    from reconciler.emulator import DEFAULT_DURATIONS

    defaults = ", ".join(f"{a}={s:g}" for a, s in sorted(DEFAULT_DURATIONS.items()))
    return (
        "Asynchronous actions and their default durations in seconds, before "
        f"--time-scale: {defaults}. Every other action answers at once."
    )


@emulator.command("serve", epilog=_emulator_epilog())
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; the admin surface answers loopback clients only.",
)
@click.option(
    "--port", type=int, default=8123, show_default=True, help="Port to listen on."
)
@click.option(
    "--db",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path(".reconciler/cloud.db"),
    show_default=True,
    help="SQLite file holding the cloud's resources; kept across restarts.",
)
@click.option(
    "--faults",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Fault rules (YAML or JSON) to inject; replaceable at run time with "
    "PUT /_emulator/faults.",
)
@click.option("--secret-id", help="Accept this SecretId (default: the local pair).")
@click.option("--secret-key", help="Accept this SecretKey (default: the local pair).")
@click.option(
    "--time-scale",
    type=float,
    default=1.0,
    show_default=True,
    help="Multiply every asynchronous duration (0.1 = ten times faster).",
)
@click.option(
    "--duration",
    "durations",
    multiple=True,
    metavar="ACTION=SECONDS",
    callback=_emulator_durations,
    help="Seconds the asynchronous part of ACTION takes, before --time-scale "
    "(repeatable), e.g. RunInstancesHour=2.5.",
)
@click.option(
    "--rate-limit",
    type=click.FloatRange(min=0, min_open=True),
    metavar="CALLS",
    help="Calls per second allowed per SecretId and action, with a burst of "
    "the same size; more answer 4400 and change nothing.  [default: off]",
)
@click.option(
    "--timestamp-window",
    type=click.IntRange(min=1),
    default=300,
    show_default=True,
    metavar="SECONDS",
    help="How far a request's Timestamp may be from the server's clock before "
    "it answers 4200.",
)
def emulator_serve(
    host: str,
    port: int,
    db: Path,
    faults: Path | None,
    secret_id: str | None,
    secret_key: str | None,
    time_scale: float,
    durations: dict[str, float],
    rate_limit: float | None,
    timestamp_window: int,
) -> None:
    """Run the local cloud until interrupted.

    It speaks the legacy API 2.0 of CVM, VPC, CLB and EIP on one port (routed
    by the Host header or a /<service>/v2/index.php path) and keeps its state
    in --db, tasks included.
    """
    from reconciler.emulator import serve

    with reported_errors():
        try:
            serve(
                host,
                port,
                db,
                faults,
                secret_id,
                secret_key,
                time_scale,
                durations=durations,
                rate_limit=rate_limit,
                timestamp_window=timestamp_window,
            )
        except OSError as error:
            raise DiagnosticError(
                Diagnostic(
                    f"Cannot listen on {host}:{port}",
                    f"{error.strerror or error}. Another program (perhaps "
                    "another local cloud) may hold the port: choose another "
                    "with --port.",
                )
            ) from None


# Steps shared by the commands


def _steps(ws: Workspace) -> CloudSteps:
    secrets = {
        resource.address: {
            name: resource.attributes[name]
            for name in resource.sensitive
            if name in resource.attributes
        }
        for resource in ws.manifest.resources
        if resource.sensitive
    }
    return CloudSteps(StepContext(ws.apis, ws.store, secrets))


def _plan(ws: Workspace, options: PlanOptions | None = None) -> Plan:
    return plan_manifest(ws.manifest, ws.store, ws.apis, options, ws.profile)


def _refuse_saved_plans(paths: Sequence[Path]) -> None:
    """Only apply reads saved plans; elsewhere one is a mistake worth naming."""
    for path in paths:
        if is_saved_plan(path):
            raise DiagnosticError(
                Diagnostic(
                    "A saved plan is not a manifest",
                    f"{path} was written by 'reconciler plan --out'. Apply it "
                    f"with 'reconciler apply {path}', or give the manifest "
                    "here instead.",
                )
            )


def _saved_plan_path(paths: Sequence[Path]) -> Path | None:
    """The one saved plan among ``paths``, or None when they are manifests."""
    plans = [path for path in paths if is_saved_plan(path)]
    if not plans:
        return None
    if len(paths) > 1:
        raise DiagnosticError(
            Diagnostic(
                "A saved plan is applied alone",
                f"{plans[0]} is a saved plan; give it as the only path "
                "(its manifest files are recorded in it).",
            )
        )
    return plans[0]


def _record_drift(ws: Workspace, the_plan: Plan, auto_approve: bool) -> None:
    stdout.print(render_text(the_plan))
    if the_plan.is_empty:
        return
    _confirm(auto_approve, "record")
    count = record_refresh(the_plan, ws.store)
    stderr.print(f"Recorded the drift of {count} resource(s) in state.")


def _addresses(texts: Sequence[str], flag: str) -> frozenset[Address]:
    """Parse ``KIND.NAME`` arguments; a malformed one is a diagnostic."""
    addresses = set()
    for text in texts:
        try:
            addresses.add(Address.parse(text))
        except ValueError as error:
            raise DiagnosticError(
                Diagnostic(f"Invalid address for {flag}", str(error))
            ) from None
    return frozenset(addresses)


def _address(text: str) -> Address:
    try:
        return Address.parse(text)
    except ValueError as error:
        raise DiagnosticError(Diagnostic("Invalid address", str(error))) from None


@contextmanager
def _existing_state(
    paths: Sequence[Path], state_path: Path | None
) -> Iterator[StateStore]:
    """The state store, opened only if it exists: reading must not create one."""
    missing = [path for path in paths if not path.exists()]
    path = state_path or default_state_path(list(paths) or [Path(".")])
    if missing and state_path is None:
        raise DiagnosticError(
            Diagnostic(
                "No state",
                f"{missing[0]} does not exist, so there is no state beside it. "
                "Give the manifest file or directory whose state to read, or "
                "the state with --state FILE.",
            )
        )
    if not path.exists():
        raise DiagnosticError(
            Diagnostic(
                "No state",
                f"There is no state at {path}: nothing has been applied with "
                "this manifest yet. Apply it first, or name another state "
                "with --state FILE.",
            )
        )
    store = StateStore(path)
    try:
        yield store
    finally:
        store.close()


def _recorded(store: StateStore, address: Address) -> CurrentResource:
    record = store.resource(address)
    if record is None:
        raise DiagnosticError(
            Diagnostic(
                "Resource not in state",
                f"State records no {address}. 'reconciler state list' shows "
                "what it records.",
                address=str(address),
            )
        )
    return record


def _print_plan(the_plan: Plan, output: str) -> None:
    if output == "json":
        click.echo(render_json(the_plan))
    elif output == "markdown":
        click.echo(render_markdown(the_plan), nl=False)
    else:
        stdout.print(render_text(the_plan))


def _warn_open_intents(ws: Workspace) -> None:
    intents = ws.store.open_intents()
    if intents:
        stderr.print(
            f"warning: an interrupted apply left {len(intents)} create call(s) "
            "unresolved; the next apply settles them before it plans."
        )


@contextmanager
def _locked(ws: Workspace, verb: str, timeout: float) -> Iterator[None]:
    def waiting(holder: LockInfo) -> None:
        stderr.print(f"Waiting for the state lock held by {describe_lock(holder)}...")

    with state_lock(ws.store, f"reconciler {verb}", timeout, on_wait=waiting):
        ws.bind_state()
        yield


def _execute(
    ws: Workspace, steps: CloudSteps, the_plan: Plan, auto_approve: bool, verb: str
) -> None:
    if verb == "destroy" and the_plan.is_empty:
        stdout.print("Nothing to destroy: the state owns no resources.")
        return
    stdout.print(render_text(the_plan))
    if the_plan.is_empty:
        return
    _confirm(auto_approve, verb)

    stderr.print(f"\n[bold]Applying to {ws.endpoint_label}...[/bold]")
    result = execute_plan(
        the_plan,
        steps,
        ws.store,
        verb,
        make_reporter(stderr),
        ws.settings,
        on_interrupt=lambda: stderr.print(
            "[yellow]Interrupted: no new calls; waiting for the ones in flight "
            "(Ctrl-C again to quit at once).[/yellow]"
        ),
    )
    print_summary(stderr, result, dict(the_plan.predicted_calls()), verb)
    if not result.succeeded:
        sys.exit(1)

    _check_converged(ws, the_plan, verb)


def _confirm(auto_approve: bool, verb: str) -> None:
    if auto_approve:
        return
    if not sys.stdin.isatty():
        raise DiagnosticError(
            Diagnostic(
                f"{verb.capitalize()} needs approval",
                "Standard input is not a terminal, so reconciler cannot ask. "
                "Review the plan above and run again with --auto-approve.",
            )
        )
    try:
        answer = click.prompt(
            f"Do you want to {verb} these changes? Only 'yes' proceeds"
        )
    except click.Abort:
        answer = ""
    if answer.strip() != "yes":
        stderr.print(f"Nothing was changed; {verb} cancelled.")
        sys.exit(1)


def _check_converged(ws: Workspace, applied: Plan, verb: str) -> None:
    """A fresh plan after a successful apply must be empty.

    It is made as the applied plan was (same targets; lifecycle honoured),
    without the replacements asked for, which the apply has just done.
    """
    if verb == "destroy":
        again = plan_destroy(ws.store, ws.apis, ws.manifest, ws.profile)
    else:
        options = replace(applied.options, replace=frozenset())
        again = plan_manifest(ws.manifest, ws.store, ws.apis, options, ws.profile)
    if again.is_empty:
        done = "Nothing the state owned is left." if verb == "destroy" else NO_CHANGES
        stderr.print(f"[green]{done}[/green]")
        return
    left = ", ".join(str(change.address) for change in again.changes)
    raise DiagnosticError(
        Diagnostic(
            "The cloud did not converge",
            f"These resources still differ after the {verb}: {left}. Run "
            "'reconciler plan' to see how, then apply again.",
        )
    )
