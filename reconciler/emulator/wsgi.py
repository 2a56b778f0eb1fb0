"""Reading API requests from a WSGI environ and writing JSON answers.

Called by ``app.EmulatorApp`` for every API call. A 100-id call carries about
110 form fields and answers up to ~75 kB of JSON, and at that size werkzeug's
``Request``/``Response`` objects and the standard ``json`` module cost more
than the call itself (see ``benchmarks/emulator_throughput.py``). So the API
path parses the urlencoded body itself and encodes with orjson;
multipart bodies (the official SDK's file-upload convention, never used by
these actions) still go through werkzeug's parser. The admin surface keeps
werkzeug's objects, since it is neither hot nor simple.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, BinaryIO
from urllib.parse import unquote

import orjson
from werkzeug.wrappers import Request

logger = logging.getLogger(__name__)

StartResponse = Callable[..., Any]

FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
JSON_TYPE = "application/json"
DEFAULT_PORTS = {"http": "80", "https": "443"}

# Non-string keys (ints in a handler's dict) are written as strings, as the
# standard module did, instead of failing the call.
_JSON_OPTIONS = orjson.OPT_NON_STR_KEYS


def request_params(environ: dict[str, Any]) -> dict[str, str]:
    """The call's parameters: the form body of a POST, the query of a GET.

    A repeated name keeps its first value, as werkzeug's ``MultiDict.get``
    does; other content types carry no parameters, as the real API ignores
    them.
    """
    method = environ.get("REQUEST_METHOD", "GET")
    if method != "POST":
        return parse_form(environ.get("QUERY_STRING", ""))

    mimetype = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
    if mimetype == MULTIPART:
        form = Request(environ).form
        return {name: form.get(name, "") for name in form.keys()}
    if mimetype != FORM:
        return {}

    return parse_form(_read_body(environ).decode("utf-8", "replace"))


def parse_form(text: str) -> dict[str, str]:
    """``a=1&b=x+y`` as a mapping; blank values kept, the first of a name wins.

    What ``parse_qsl(text, keep_blank_values=True)`` returns, in half the
    time: most of a call's fields (ids, numbers) need no unquoting at all.
    """
    params: dict[str, str] = {}
    for field in text.split("&"):
        if not field:
            continue
        name, _, value = field.partition("=")
        name = _unquote(name)
        if name not in params:
            params[name] = _unquote(value)
    return params


def request_host(environ: dict[str, Any]) -> str:
    """The Host the client addressed, without a default port (as werkzeug)."""
    scheme = environ.get("wsgi.url_scheme", "http")
    host = environ.get("HTTP_HOST") or _server_host(environ)
    name, colon, port = host.rpartition(":")
    if colon and not host.endswith("]") and port == DEFAULT_PORTS.get(scheme):
        return name
    return host


def json_bytes(body: Any) -> bytes:
    """Compact UTF-8 JSON, as the real API answers."""
    return orjson.dumps(body, option=_JSON_OPTIONS)


def respond(
    start_response: StartResponse,
    payload: bytes,
    status: str = "200 OK",
    content_type: str = JSON_TYPE,
) -> Iterable[bytes]:
    """Start a complete response whose body is ``payload``."""
    headers = [
        ("Content-Type", content_type),
        ("Content-Length", str(len(payload))),
    ]
    start_response(status, headers)
    return [payload]


def _unquote(text: str) -> str:
    if "+" in text:
        text = text.replace("+", " ")
    if "%" in text:
        text = unquote(text, errors="replace")
    return text


def _read_body(environ: dict[str, Any]) -> bytes:
    stream: BinaryIO = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH") or ""
    if length.isdigit():
        return stream.read(int(length)) if int(length) else b""

    # No length: a chunked body, which servers that support it dechunk and
    # end for us.
    if environ.get("wsgi.input_terminated"):
        return stream.read()
    return b""


def _server_host(environ: dict[str, Any]) -> str:
    name = environ.get("SERVER_NAME", "")
    port = environ.get("SERVER_PORT", "")
    return f"{name}:{port}" if port else name
