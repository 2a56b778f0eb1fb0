"""How many legacy API calls per second the local emulator serves.

Measures ``DescribeInstances`` with 100 ids and ``StopInstances`` /
``StartInstances`` with 100 ids, each over real HTTP with real signatures
and keep-alive connections, from a few client threads at once. The emulator
runs in its own process, as ``reconciler emulator serve`` does, so that the
signing clients do not share its interpreter lock. Issue #4 asks for
hundreds of calls per second on the project's 2-core machine, so that the
emulator is never the bottleneck of the reconciler's own benchmarks.

    python benchmarks/emulator_throughput.py [--seconds 3] [--threads 4]
        [--client http|requests] [--compare OLD_CHECKOUT]

Prints calls per second and, on Linux, the server's CPU time per call (user
and system). ``--compare`` first serves with the reconciler package of
another checkout (e.g. a ``git worktree`` of an older commit), so that
before and after are measured in one run, on the same machine, at the same
time. ``--client requests`` sends with ``requests`` sessions, as the
reconciler's own client does; the default ``http`` client is lighter, so
that the measure is of the server rather than of the load generator.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import itertools
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from reconciler.cloud.signing import flatten_params, sign
from reconciler.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY

SPEC = {"zoneId": 100003, "cpu": 1, "mem": 1, "imageId": "img-ubuntu22",
        "storageSize": 0}  # fmt: skip
PATH = "/cvm/v2/index.php"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}

# Nonces must never repeat for one key, even across runs on one database.
_nonces = itertools.count(time.time_ns() // 1000)
_nonce_lock = threading.Lock()


def signed_body(action: str, params: dict[str, Any]) -> str:
    """The urlencoded form of a signed POST, as the reconciler's client sends."""
    wire = flatten_params(params)
    with _nonce_lock:
        nonce = next(_nonces)
    wire.update(
        Action=action,
        Region="ap-guangzhou",
        SecretId=DEFAULT_SECRET_ID,
        Timestamp=str(int(time.time())),
        Nonce=str(nonce),
        SignatureMethod="HmacSHA256",
    )
    wire["Signature"] = sign(DEFAULT_SECRET_KEY, "POST", "cvm.api.qcloud.com", wire)
    return urlencode(wire)


class HttpClient:
    """One keep-alive connection through ``http.client``."""

    def __init__(self, port: int) -> None:
        self._connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def post(self, body: str) -> bytes:
        self._connection.request("POST", PATH, body=body, headers=FORM)
        return self._connection.getresponse().read()


class RequestsClient:
    """One ``requests`` session, the way the reconciler's client sends."""

    def __init__(self, port: int) -> None:
        import requests

        self._session = requests.Session()
        self._url = f"http://127.0.0.1:{port}{PATH}"

    def post(self, body: str) -> bytes:
        response = self._session.post(self._url, data=body, headers=FORM, timeout=30)
        return response.content


CLIENTS: dict[str, Callable[[int], HttpClient | RequestsClient]] = {
    "http": HttpClient,
    "requests": RequestsClient,
}


@dataclass
class Result:
    """One measured phase: calls per second and server CPU per call."""

    name: str
    calls: int
    seconds: float
    cpu_user: float | None
    cpu_system: float | None

    def line(self) -> str:
        rate = self.calls / self.seconds
        text = f"{self.name:<30} {rate:7.1f} calls/s ({self.calls} calls)"
        if self.cpu_user is not None and self.cpu_system is not None:
            user = 1000 * self.cpu_user / self.calls
            system = 1000 * self.cpu_system / self.calls
            text += f"  server CPU/call {user:.2f} ms user + {system:.2f} ms sys"
        return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--client", choices=sorted(CLIENTS), default="http")
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="CHECKOUT",
        help="also measure the emulator of another checkout, first",
    )
    args = parser.parse_args()

    sources = [("this checkout", None)]
    if args.compare:
        sources.insert(0, (f"{args.compare}", args.compare.resolve()))
    for label, source in sources:
        print(f"== emulator of {label}")
        with tempfile.TemporaryDirectory() as tmp:
            with separate_process(Path(tmp) / "bench.db", source) as server:
                for result in run(server, args.threads, args.seconds, args.client):
                    print(result.line())


@dataclass
class Server:
    port: int
    pid: int


@contextlib.contextmanager
def separate_process(db_path: Path, source: Path | None) -> Iterator[Server]:
    """``serve`` in a child process on a free port, from ``source`` if given."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = (
        "from reconciler.emulator import serve; "
        f"serve('127.0.0.1', {port}, {str(db_path)!r}, time_scale=0.0)"
    )
    # The child starts in the database's folder, so that the package comes
    # from ``source`` (or this checkout) and not from the working directory.
    source = source or Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(source)}
    child = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=db_path.parent,
    )
    try:
        assert child.stdout is not None
        child.stdout.readline()  # "Emulator listening on ..." once it is up
        yield Server(port, child.pid)
    finally:
        child.terminate()
        child.wait(timeout=10)


def run(server: Server, threads: int, seconds: float, client: str) -> list[Result]:
    make_client = CLIENTS[client]
    setup = make_client(server.port)
    # One fleet of 100 instances per thread, so batch calls never collide.
    fleets = []
    for _ in range(threads):
        body = signed_body("RunInstancesHour", {**SPEC, "goodsNum": 100})
        fleets.append(json.loads(setup.post(body))["unInstanceIds"])

    def describe(connection: Any, index: int, _: int) -> None:
        params = {"instanceIds": fleets[index], "limit": 100}
        answer = connection.post(signed_body("DescribeInstances", params))
        assert b'"totalCount":100' in answer, answer[:300]

    def stop_start(connection: Any, index: int, count: int) -> None:
        action = "StopInstances" if count % 2 == 0 else "StartInstances"
        answer = connection.post(signed_body(action, {"instanceIds": fleets[index]}))
        assert answer.startswith(b'{"code":0,'), answer[:300]

    return [
        measure(
            "DescribeInstances (100 ids)", server, threads, seconds, describe, client
        ),
        measure(
            "Stop/StartInstances (100 ids)",
            server,
            threads,
            seconds,
            stop_start,
            client,
        ),
    ]


def measure(
    name: str,
    server: Server,
    threads: int,
    seconds: float,
    work: Callable[[Any, int, int], None],
    client: str,
) -> Result:
    """Run ``work`` in a loop on each thread for ``seconds``."""
    counts = [0] * threads
    stop_at = time.monotonic() + seconds

    def loop(index: int) -> None:
        connection = CLIENTS[client](server.port)
        while time.monotonic() < stop_at:
            work(connection, index, counts[index])
            counts[index] += 1

    workers = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    cpu_before = _cpu_seconds(server.pid)
    started = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - started
    cpu_after = _cpu_seconds(server.pid)

    if cpu_before is None or cpu_after is None:
        return Result(name, sum(counts), elapsed, None, None)
    user = cpu_after[0] - cpu_before[0]
    system = cpu_after[1] - cpu_before[1]
    return Result(name, sum(counts), elapsed, user, system)


def _cpu_seconds(pid: int) -> tuple[float, float] | None:
    """User and system CPU seconds of a process, where /proc tells them."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / ticks, int(fields[12]) / ticks


if __name__ == "__main__":
    main()
