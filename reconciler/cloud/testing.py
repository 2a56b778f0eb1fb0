"""A scripted loopback server that speaks HTTP like the legacy API.

For tests of code that calls ``LegacyClient``: queue answers (JSON objects,
``(status, text)`` pairs, or functions of the request) and read back the
requests exactly as they arrived over a real socket. Not used at run time.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

# The documentation's example key pair (legacy-api.md, 4.4); not a credential.
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
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _serve(self) -> None:
        # A short poll keeps shutdown quick for test teardown.
        self._server.serve_forever(poll_interval=0.05)

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
