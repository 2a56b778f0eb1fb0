"""Running the emulator: in a background thread, or standalone in the foreground.

``start_in_thread`` is what tests and the embedded local cloud use; ``serve``
is what ``reconciler emulator serve`` wraps.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .app import EmulatorApp, create_app
from .config import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, EmulatorConfig

logger = logging.getLogger(__name__)


class _RequestHandler(WSGIRequestHandler):
    """Keep-alive connections, and request lines at DEBUG on our own logger.

    werkzeug's default handler prints every request to stderr, which would
    end up in the middle of the CLI's output for the embedded cloud.
    """

    protocol_version = "HTTP/1.1"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        logger.debug("%s %s -> %s", self.command, self.path, code)

    def log_error(self, format: str, *args: Any) -> None:
        logger.debug("request error: " + format, *args)

    def connection_dropped(
        self, error: BaseException, environ: dict | None = None
    ) -> None:
        # An injected drop (or a client that went away): never reuse the socket.
        self.close_connection = True


class EmulatorServer:
    """A running emulator: ``url``, ``app``, ``stop()``; usable with ``with``."""

    def __init__(self, server: BaseWSGIServer, app: EmulatorApp) -> None:
        self._server = server
        self.app = app
        self.host = server.host
        self.port = server.server_port
        self.url = f"http://{_url_host(self.host)}:{self.port}"
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name=f"emulator-{self.port}",
            daemon=True,
        )

    def start(self) -> EmulatorServer:
        self._thread.start()
        logger.info("Emulator listening on %s.", self.url)
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self.app.close()

    def __enter__(self) -> EmulatorServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_in_thread(
    db_path: Path,
    config: EmulatorConfig | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
) -> EmulatorServer:
    """Serve the emulator from a daemon thread; port 0 picks a free port."""
    app = create_app(Path(db_path), config or EmulatorConfig())
    server = make_server(
        host, port, app, threaded=True, request_handler=_RequestHandler
    )
    server.daemon_threads = True
    return EmulatorServer(server, app).start()


def serve(
    host: str = "127.0.0.1",
    port: int = 8765,
    db_path: Path | str = ".reconciler/emulator.db",
    faults_path: Path | str | None = None,
    secret_id: str | None = None,
    secret_key: str | None = None,
    time_scale: float = 1.0,
) -> None:
    """Run the emulator in the foreground until interrupted.

    TODO(#4): expose per-action durations and the rate limit here (and in
    ``reconciler emulator serve``); today only ``EmulatorConfig`` sets them.

    Prints the URL and the key pair it accepts: the given pair, or the
    documented default pair of the local cloud when none is given.
    """
    secret_id = secret_id or DEFAULT_SECRET_ID
    secret_key = secret_key or DEFAULT_SECRET_KEY
    config = EmulatorConfig(
        time_scale=time_scale,
        faults=Path(faults_path) if faults_path else None,
        credentials={secret_id: secret_key},
    )
    app = create_app(Path(db_path), config)
    server = make_server(
        host, port, app, threaded=True, request_handler=_RequestHandler
    )
    url = f"http://{_url_host(host)}:{server.server_port}"

    print(f"Emulator listening on {url}  (state: {db_path})", flush=True)
    print(f"SecretId:  {secret_id}", flush=True)
    print(f"SecretKey: {secret_key}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        app.close()


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
