"""A workspace: one manifest with its state store and the cloud it talks to.

Called by the CLI for every command that plans or applies. It decides which
cloud (the embedded local one, a URL, or the real endpoints), which key
pair and region, and where state lives (``.reconciler/`` beside the
manifest unless ``--state`` says otherwise).
"""

from __future__ import annotations

import ipaddress
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from reconciler.apply.executor import ExecutorSettings
from reconciler.cloud.apis import CloudApis
from reconciler.cloud.client import LegacyClient
from reconciler.cloud.credentials import (
    Credentials,
    CredentialsError,
    load_credentials,
    load_region,
)
from reconciler.cloud.ratelimit import RateLimiter
from reconciler.diagnostics import Diagnostic, DiagnosticError
from reconciler.emulator import (
    DEFAULT_DURATIONS,
    DEFAULT_SECRET_ID,
    DEFAULT_SECRET_KEY,
    EmulatorConfig,
    EmulatorServer,
    start_in_thread,
)
from reconciler.manifest import Manifest, load_manifest
from reconciler.plan.estimate import TENCENT_CLOUD, DurationProfile
from reconciler.state.store import StateStore

logger = logging.getLogger(__name__)

LOCAL = "local"
STATE_DIR = ".reconciler"
TIME_SCALE_VARIABLE = "RECONCILER_EMULATOR_TIME_SCALE"


@dataclass
class Workspace:
    manifest: Manifest
    store: StateStore
    apis: CloudApis
    settings: ExecutorSettings
    # How long the cloud's work takes, for the plan's expected duration.
    profile: DurationProfile
    endpoint_label: str
    _emulator: EmulatorServer | None = None

    # Which cloud and region this workspace talks to, as state records it.
    cloud: str = ""

    def bind_state(self) -> None:
        """Tie the state to this cloud before anything is written to it."""
        if self.store.cloud != self.cloud:
            self.store.bind_cloud(self.cloud)

    def close(self) -> None:
        self.store.close()
        if self._emulator is not None:
            self._emulator.stop()


def open_workspace(
    paths: Sequence[Path],
    endpoint: str | None = None,
    region: str | None = None,
    state_path: Path | None = None,
    parallelism: int = 10,
) -> Workspace:
    """Load the manifest and connect its state store and cloud."""
    manifest = load_manifest(paths)
    state_dir = manifest.base_dir / STATE_DIR
    endpoint = endpoint or manifest.provider_endpoint
    _check_endpoint(endpoint)
    region = region or manifest.provider_region or load_region()
    if not region:
        raise DiagnosticError(_missing_region())

    emulator = None
    if endpoint == LOCAL:
        emulator = start_in_thread(state_dir / "cloud.db", _embedded_config())
        endpoint = emulator.url
    credentials = _credentials_for(endpoint)
    client = LegacyClient(
        credentials=credentials,
        region=region,
        endpoint=endpoint,
        rate_limiter=_rate_limiter_for(endpoint),
    )

    settings = _settings_for(endpoint, parallelism)
    profile = _profile_for(emulator, settings)
    # The executor first reads a waiting resource when its work should be
    # done: at the embedded cloud's known durations, or early against the
    # real cloud, whose durations are only assumed. A local cloud started
    # apart has durations nobody told us: it is read from the start.
    known = emulator is not None or not _is_loopback(endpoint)
    settings = replace(
        settings,
        settle_seconds=dict(profile.settle_seconds) if known else {},
        first_poll_fraction=0.9 if emulator else 0.3,
    )
    store = StateStore(state_path or state_dir / "state.db")
    cloud = _cloud_identity(emulator, endpoint, region)
    try:
        _check_same_cloud(store, cloud)
    except DiagnosticError:
        store.close()
        if emulator is not None:
            emulator.stop()
        raise
    return Workspace(
        manifest=manifest,
        store=store,
        cloud=cloud,
        apis=CloudApis.over(client),
        settings=settings,
        profile=profile,
        endpoint_label="the local cloud" if emulator else (endpoint or "Tencent Cloud"),
        _emulator=emulator,
    )


def _check_endpoint(endpoint: str | None) -> None:
    if endpoint is None or endpoint == LOCAL:
        return
    parts = urlsplit(endpoint)
    if parts.scheme in ("http", "https") and parts.netloc:
        return
    raise DiagnosticError(
        Diagnostic(
            "Invalid endpoint",
            f"{endpoint!r} is neither 'local' nor a URL. Use --endpoint local "
            "for the embedded local cloud, a URL such as http://127.0.0.1:8123, "
            "or leave it out for Tencent Cloud.",
        )
    )


def _cloud_identity(
    emulator: EmulatorServer | None, endpoint: str | None, region: str
) -> str:
    # The embedded cloud's port changes every run; its database does not.
    if emulator is not None:
        where = LOCAL
    elif endpoint:
        parts = urlsplit(endpoint)
        where = f"{parts.scheme}://{parts.netloc}"
    else:
        where = "tencentcloud"
    return f"{where} {region}"


def _check_same_cloud(store: StateStore, cloud: str) -> None:
    """Refuse a state whose resources live in another cloud or region.

    Its ids mean nothing here: a refresh would find none of them and plan
    to create everything again, leaving the real ones behind.
    """
    recorded = store.cloud
    if recorded is None or recorded == cloud:
        return
    if store.is_empty() and not store.open_intents():
        return
    raise DiagnosticError(
        Diagnostic(
            "State belongs to another cloud",
            f"{store.path} records resources (or creates not yet settled) in "
            f"'{recorded}', but this run talks to '{cloud}'. Use the endpoint "
            "and region the state was made "
            "with (--endpoint, --region, provider in the manifest), or give "
            "another state file with --state.",
        )
    )


def _profile_for(
    emulator: EmulatorServer | None, settings: ExecutorSettings
) -> DurationProfile:
    """The embedded cloud's own timings; the real cloud's assumed ones else."""
    if emulator is None:
        return replace(TENCENT_CLOUD, parallelism=settings.parallelism)
    config = emulator.app.config
    return DurationProfile(
        name="local cloud",
        settle_seconds={name: config.duration(name) for name in DEFAULT_DURATIONS},
        call_seconds=0.01,
        poll_seconds=settings.poll_initial,
        parallelism=settings.parallelism,
    )


def default_state_path(paths: Sequence[Path]) -> Path:
    """Where state lives when ``--state`` is not given, without loading YAML.

    Beside the first manifest file, or inside the first directory given, as
    ``load_manifest`` places ``base_dir``; commands such as ``force-unlock``
    must work even when the manifest itself is broken.
    """
    first = paths[0]
    base_dir = first if first.is_dir() else first.parent
    return base_dir / STATE_DIR / "state.db"


def _embedded_config() -> EmulatorConfig:
    scale = os.environ.get(TIME_SCALE_VARIABLE, "1")
    try:
        time_scale = float(scale)
    except ValueError:
        raise DiagnosticError(
            Diagnostic(
                f"{TIME_SCALE_VARIABLE} is not a number",
                f"Found {scale!r}; set it to a factor such as 0.1 (ten times "
                "faster) or unset it.",
            )
        ) from None
    return EmulatorConfig(time_scale=time_scale)


def _is_loopback(endpoint: str | None) -> bool:
    if not endpoint:
        return False
    host = urlsplit(endpoint).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _credentials_for(endpoint: str | None) -> Credentials:
    if not _is_loopback(endpoint):
        try:
            return load_credentials()
        except CredentialsError as error:
            raise DiagnosticError(
                Diagnostic(
                    "No credentials for Tencent Cloud",
                    f"{error} To try reconciler without an account, use the "
                    "local cloud: --endpoint local.",
                )
            ) from None

    # The local cloud accepts a fixed, documented key pair (no secret), or
    # the pair given to 'reconciler emulator serve' through the environment.
    secret_id = os.environ.get("TENCENTCLOUD_SECRET_ID")
    secret_key = os.environ.get("TENCENTCLOUD_SECRET_KEY")
    if secret_id and secret_key:
        return Credentials(secret_id, secret_key)
    return Credentials(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY)


def _rate_limiter_for(endpoint: str | None) -> RateLimiter:
    # The real cloud's per-action limits do not apply to the local cloud,
    # which has its own switchable limiter (answering 4400) for tests.
    return RateLimiter(enabled=not _is_loopback(endpoint))


def _settings_for(endpoint: str | None, parallelism: int) -> ExecutorSettings:
    if _is_loopback(endpoint):
        # The local cloud answers in milliseconds; polling at cloud pace
        # would only add waiting.
        return ExecutorSettings(
            parallelism=parallelism,
            poll_initial=0.05,
            poll_max=0.5,
            retry_base=0.1,
            batch_linger=0.3,
            batch_linger_max=2.0,
            poll_gather=0.2,
        )
    return ExecutorSettings(parallelism=parallelism)


def _missing_region() -> Diagnostic:
    return Diagnostic(
        "No region",
        "Set provider.region in the manifest, pass --region, or set "
        "TENCENTCLOUD_REGION (e.g. ap-guangzhou).",
    )
