"""The emulator's WSGI application: routing, authentication, faults, admin.

One port serves every service. The service is taken from the path
(``/cvm/v2/index.php``), else from the Host header (``cvm.api.qcloud.com``),
else, for a loopback Host, from the Action name. A call then goes through
the steps of legacy-api.md section 14: signature (4100), timestamp window
(4200), nonce (4500), action (6100), rate limit (4400), injected faults,
and the action handler, which runs as one transaction. API errors are HTTP
200 with the error in the JSON body.

The admin surface under ``/_emulator/`` answers loopback clients only.
"""

from __future__ import annotations

import errno
import logging
import socket
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request, Response

from reconciler.cloud.zones import REGION_ZONE_BASE

from . import clb, cvm, eip, keypairs, vpc
from .auth import RateLimiter, check_timestamp, verify_signature
from .config import EmulatorConfig
from .context import Call, Handler, IdFactory
from .faults import (
    CALL_ERROR,
    DELAY,
    DROP,
    LOSE_RESPONSE,
    CallFaults,
    FaultEngine,
    FaultError,
    Target,
    load_fault_document,
)
from .protocol import REGION_ALIASES, ApiError, Params
from .store import Store
from .wsgi import StartResponse, json_bytes, request_host, request_params, respond

logger = logging.getLogger(__name__)

API_PATH = "/v2/index.php"
DOMAIN_SUFFIX = ".api.qcloud.com"

# Handlers per service; one entry per module as services are added.
SERVICES: dict[str, dict[str, Handler]] = {
    "cvm": {**cvm.ACTIONS, **keypairs.ACTIONS},
    "lb": clb.ACTIONS,
    "vpc": vpc.ACTIONS,
    "eip": eip.ACTIONS,
}
ACTION_SERVICE = {
    action: service for service, actions in SERVICES.items() for action in actions
}

# Parameters that carry ids of existing resources, for the call log and for
# fault rules that name resources.
ID_LISTS = (
    "instanceIds",
    "loadBalancerIds",
    "eipIds",
    "keyIds",
    "listenerIds",
    "unInstanceIds",
)
ID_SCALARS = (
    "instanceId",
    "unInstanceId",
    "loadBalancerId",
    "listenerId",
    "eipId",
    "keyId",
    "vpcId",
    "subnetId",
)
NAME_PARAMS = ("instanceName", "loadBalancerName", "vpcName", "keyName", "eipName")

NONCE_SWEEP_EVERY = 500
TEXT = "text/plain; charset=utf-8"
LOSE_RESPONSE_KEY = "reconciler.lose_response"


class Dropped(ConnectionAbortedError):
    """Raised to make the server close the connection without an answer."""

    def __init__(self, reason: str) -> None:
        # The errno is what tells the HTTP server that the connection is gone.
        super().__init__(errno.ECONNABORTED, reason)


class EmulatorApp:
    """WSGI callable; create with ``create_app``."""

    def __init__(self, db_path: Path, config: EmulatorConfig) -> None:
        self.config = config
        self.store = Store(db_path)
        self.faults = FaultEngine(config.faults)
        self.ids = IdFactory(self.faults.seed if self.faults.rules else None)
        self.limiter = RateLimiter(config.rate_limit)
        self._requests = 0

    def close(self) -> None:
        self.store.close()

    def __call__(
        self, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_emulator/"):
            return self._admin(Request(environ))(environ, start_response)
        return self._api(environ, path, start_response)

    # -- API calls -------------------------------------------------------

    def _api(
        self, environ: dict[str, Any], path: str, start_response: StartResponse
    ) -> Iterable[bytes]:
        service, known_path = _service_from_path(path)
        if not known_path:
            return respond(start_response, b"not found\n", "404 Not Found", TEXT)
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "POST"):
            return respond(
                start_response, b"method not allowed\n", "405 Method Not Allowed", TEXT
            )

        # POST reads the form body only, GET the query only (section 1).
        raw = request_params(environ)
        action = raw.get("Action", "")
        host = request_host(environ)
        service = service or _service_from_host(host) or ACTION_SERVICE.get(action, "")

        now = time.time()
        try:
            body = self._serve(environ, method, host, raw, service, action, now)
        except ApiError as error:
            body = error.body()
            self._record(now, action, Params(raw), [], body["code"])
        return respond(start_response, json_bytes(body))

    def _serve(
        self,
        environ: dict[str, Any],
        method: str,
        host: str,
        raw: dict[str, str],
        service: str,
        action: str,
        now: float,
    ) -> dict[str, Any]:
        hosts = [f"{service}{DOMAIN_SUFFIX}" if service else "", host]
        secret_id = verify_signature(self.config.credentials, method, hosts, raw)
        timestamp = check_timestamp(raw, now, self.config.timestamp_window)
        self._check_nonce(secret_id, raw["Nonce"], timestamp, now)

        handler = SERVICES.get(service, {}).get(action)
        if handler is None:
            raise ApiError(
                6100,
                f"(ActionNotFound) {action or 'Action'} is not "
                f"supported by service {service or 'unknown'}",
            )
        params = Params(raw)
        region = _region(params)
        if not self.limiter.allow(secret_id, action):
            raise ApiError(4400, f"(LimitExceeded) too many {action} requests")

        carried = carried_ids(params)
        faults = self._call_faults(environ, action, params, carried)
        call = Call(
            action=action,
            service=service,
            params=params,
            region=region,
            secret_id=secret_id,
            now=self.config.clock(),
            store=self.store,
            config=self.config,
            faults=faults,
            ids=self.ids,
        )
        return self._run(environ, handler, call, carried)

    def _check_nonce(
        self, secret_id: str, nonce: str, timestamp: int, now: float
    ) -> None:
        with self.store.transaction():
            self._requests += 1
            if self._requests % NONCE_SWEEP_EVERY == 0:
                self.store.forget_nonces(int(now) - 2 * self.config.timestamp_window)
            if not self.store.remember_nonce(secret_id, nonce, timestamp):
                raise ApiError(4500, f"(ReplayAttack) Nonce {nonce} was already used")

    def _call_faults(
        self,
        environ: dict[str, Any],
        action: str,
        params: Params,
        carried: list[str],
    ) -> CallFaults:
        """Select the fault rules for this call and play its call-level outcomes."""
        faults = self.faults.begin(action, self._targets(params, carried))
        for outcome in faults.call_outcome():
            if outcome.type == DROP:
                self._record(time.time(), action, params, [], -1)
                _drop(environ)
            if outcome.type == DELAY:
                time.sleep(outcome.seconds * self.config.time_scale)
            if outcome.type == CALL_ERROR:
                raise ApiError(outcome.code, outcome.message)
            if outcome.type == LOSE_RESPONSE:
                environ[LOSE_RESPONSE_KEY] = True
        return faults

    def _targets(self, params: Params, ids: list[str]) -> list[Target]:
        if not self.faults.rules:
            return []
        names = (
            self.store.names(ids)
            if ids and any(rule.resources for rule in self.faults.rules)
            else {}
        )
        targets = [
            Target(resource_id, names.get(resource_id, "")) for resource_id in ids
        ]
        targets += [
            Target("", params.raw[name]) for name in NAME_PARAMS if name in params
        ]
        return targets

    def _run(
        self,
        environ: dict[str, Any],
        handler: Handler,
        call: Call,
        carried: list[str],
    ) -> dict[str, Any]:
        with self.store.transaction():
            try:
                with self.store.savepoint():
                    body = handler(call)
            except ApiError as error:
                body = error.body()
            self.store.record_call(
                call.now,
                call.action,
                carried,
                call.created,
                body["code"],
            )
            if self._requests % 100 == 0:
                self.store.trim_calls(self.config.recent_calls)

        if environ.get(LOSE_RESPONSE_KEY):
            # Applied and committed above; the client never hears of it.
            _drop(environ)
        return body

    def _record(
        self, at: float, action: str, params: Params, created: list[str], code: int
    ) -> None:
        with self.store.transaction():
            self.store.record_call(at, action, carried_ids(params), created, code)

    # -- admin surface ---------------------------------------------------

    def _admin(self, request: Request) -> Response:
        if not _is_loopback(request.remote_addr):
            return _json({"error": "the admin surface answers loopback only"}, 403)

        route = (request.method, request.path.rstrip("/"))
        if route == ("GET", "/_emulator/stats"):
            return _json(self.stats())
        if route == ("POST", "/_emulator/reset"):
            self.reset()
            return _json({"ok": True})
        if route == ("GET", "/_emulator/calls"):
            return _json({"calls": self._calls(request)})
        if route == ("GET", "/_emulator/faults"):
            return _json(self.faults.document)
        if route == ("PUT", "/_emulator/faults"):
            return self._put_faults(request)
        return _json({"error": f"no admin route {request.method} {request.path}"}, 404)

    def stats(self) -> dict[str, Any]:
        with self.store.transaction():
            return {
                "calls": self.store.counters("calls"),
                "failed": self.store.counters("failed"),
                "resources": self.store.count(self.config.clock()),
                "fault_rules": [
                    {
                        "index": rule.index,
                        "action": rule.action,
                        "matched_calls": rule.matched_calls,
                        "fired": rule.fired,
                    }
                    for rule in self.faults.rules
                ],
            }

    def reset(self) -> None:
        """Empty cloud, zeroed counters; fault rules kept but started again."""
        self.store.reset()
        self.faults.restart()
        self.limiter = RateLimiter(self.config.rate_limit)
        logger.info("Emulator state was reset.")

    def _calls(self, request: Request) -> list[dict[str, Any]]:
        since = request.args.get("since", "0")
        limit = request.args.get("limit", "1000")
        with self.store.transaction():
            return self.store.calls(
                since=int(since) if since.isdigit() else 0,
                action=request.args.get("action") or None,
                limit=int(limit) if limit.isdigit() else 1000,
            )

    def _put_faults(self, request: Request) -> Response:
        try:
            document = load_fault_document(request.get_data(as_text=True))
            self.faults.load(document)
        except FaultError as error:
            return _json({"error": str(error)}, 400)
        return _json({"ok": True, "rules": len(self.faults.rules)})


def create_app(db_path: Path, config: EmulatorConfig | None = None) -> EmulatorApp:
    """The emulator as a WSGI application backed by the SQLite file ``db_path``."""
    return EmulatorApp(Path(db_path), config or EmulatorConfig())


def carried_ids(params: Params) -> list[str]:
    """Ids of existing resources a call names, in parameter order."""
    ids: list[str] = []
    for name in ID_LISTS:
        ids.extend(params.list(name, limit=10**6))
    for name in ID_SCALARS:
        value = params.raw.get(name)
        if value:
            ids.append(value)
    for backend in params.objects("backends", limit=10**6):
        if backend.get("instanceId"):
            ids.append(backend["instanceId"])
    return list(dict.fromkeys(ids))


def _service_from_path(path: str) -> tuple[str, bool]:
    if path == API_PATH:
        return "", True
    head, _, rest = path.lstrip("/").partition("/")
    if "/" + rest == API_PATH and head:
        return head, True
    return "", False


def _service_from_host(host: str) -> str:
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    if name.endswith(DOMAIN_SUFFIX):
        return name[: -len(DOMAIN_SUFFIX)]
    return ""


def _region(params: Params) -> str:
    region = params.req("Region")
    region = REGION_ALIASES.get(region, region)
    if region not in REGION_ZONE_BASE:
        raise ApiError(4000, f"(InvalidRegion) region {region} does not exist")
    return region


def _is_loopback(address: str | None) -> bool:
    if not address:
        return False
    return address.startswith("127.") or address in ("::1", "localhost")


def _drop(environ: dict[str, Any]) -> None:
    """Close the client's connection; nothing is written back.

    Under werkzeug's server the socket is at hand and is shut down here; the
    servers of ``server.py`` turn ``Dropped`` into a silent close.
    """
    sock = environ.get("werkzeug.socket")
    if isinstance(sock, socket.socket):
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    raise Dropped("connection dropped by an injected fault")


def _json(body: Any, status: int = 200) -> Response:
    return Response(json_bytes(body), status=status, mimetype="application/json")
