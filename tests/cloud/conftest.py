"""A real loopback HTTP server with scripted answers, for client tests.

Tests queue answers (JSON objects, or ``(status, text)`` pairs) and read back
the requests the client really sent over the wire.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from reconciler.cloud.client import Credentials, LegacyClient
from reconciler.cloud.ratelimit import RateLimiter

SECRET_ID = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA"
SECRET_KEY = "Gu5t9xGARNpq86cd98joQYCN3Cozk1qA"

Answer = dict[str, Any] | tuple[int, str] | Callable[["Seen"], Any]


@dataclass(frozen=True)
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    host: str
    content_type: str
    query: dict[str, str]
    form: dict[str, str]
    raw_body: bytes


class ScriptedServer:
    """Answers requests from a queue; the default answer is ``{"code": 0}``."""

    def __init__(self) -> None:
        self.answers: deque[Answer] = deque()
        self.requests: list[Seen] = []
        self.default: Answer = {"code": 0, "message": "", "codeDesc": "Success"}
        self._lock = threading.Lock()
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)

    def reset(self) -> None:
        with self._lock:
            self.answers.clear()
            self.requests.clear()

    def answer(self, *answers: Answer) -> None:
        self.answers.extend(answers)

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        raw = request.get_data(cache=True)
        seen = Seen(
            method=request.method,
            path=request.path,
            host=request.host,
            content_type=request.content_type or "",
            query=dict(request.args),
            form=dict(request.form),
            raw_body=raw,
        )
        with self._lock:
            self.requests.append(seen)
            answer = self.answers.popleft() if self.answers else self.default
        return _response(answer, seen)(environ, start_response)


def _response(answer: Answer, seen: Seen) -> Response:
    if callable(answer):
        answer = answer(seen)
    if isinstance(answer, tuple):
        status, text = answer
        return Response(text, status=status)
    return Response(json.dumps(answer), mimetype="application/json")


@pytest.fixture(scope="session")
def _running_server() -> Iterator[ScriptedServer]:
    # One server for the whole run: stopping one takes up to its poll interval.
    scripted = ScriptedServer()
    scripted.start()
    yield scripted
    scripted.stop()


@pytest.fixture
def server(_running_server: ScriptedServer) -> ScriptedServer:
    _running_server.reset()
    return _running_server


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_client(
    server: ScriptedServer, sleeps: list[float]
) -> Iterator[Callable[..., LegacyClient]]:
    """Build clients aimed at the scripted server that never really sleep."""
    made: list[LegacyClient] = []

    def build(**overrides: Any) -> LegacyClient:
        options: dict[str, Any] = {
            "credentials": Credentials(SECRET_ID, SECRET_KEY),
            "region": "ap-guangzhou",
            "endpoint": server.url,
            "sleep": sleeps.append,
            "rate_limiter": RateLimiter(enabled=False),
        }
        options.update(overrides)
        client = LegacyClient(**options)
        made.append(client)
        return client

    yield build
    for client in made:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., LegacyClient]) -> LegacyClient:
    return make_client()
