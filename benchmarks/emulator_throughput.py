"""How many legacy API calls per second the local emulator serves.

Measures ``DescribeInstances`` with 100 ids and ``StopInstances`` /
``StartInstances`` with 100 ids, each over real HTTP with real signatures,
from a few client threads at once. The emulator must not be the bottleneck
of the reconciler's own benchmarks (issue #4 aims for hundreds of calls/s).

    python benchmarks/emulator_throughput.py [--seconds 3] [--threads 4]
                                             [--in-process]

By default the emulator runs in its own process (as ``reconciler emulator
serve`` would), so the signing clients do not share its interpreter lock;
``--in-process`` measures the embedded setup, client and cloud in one process.

TODO(#4): over HTTP this serves tens, not hundreds, of 100-id calls per
second on a shared 2-core machine; the app itself needs ~3.5 ms (Describe)
and ~8.5 ms (Start/Stop) per call, so werkzeug's development server and
JSON (de)serialisation of every row are the next things to replace.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import requests

from reconciler.cloud.signing import flatten_params, sign
from reconciler.emulator import (
    DEFAULT_SECRET_ID,
    DEFAULT_SECRET_KEY,
    EmulatorConfig,
    start_in_thread,
)

SPEC = {"zoneId": 100003, "cpu": 1, "mem": 1, "imageId": "img-ubuntu22",
        "storageSize": 0}  # fmt: skip
_nonce = itertools.count(1)
_nonce_lock = threading.Lock()


def call(session: requests.Session, url: str, action: str, params: dict) -> dict:
    wire = flatten_params(params)
    with _nonce_lock:
        nonce = next(_nonce)
    wire.update(
        Action=action,
        Region="ap-guangzhou",
        SecretId=DEFAULT_SECRET_ID,
        Timestamp=str(int(time.time())),
        Nonce=str(nonce),
        SignatureMethod="HmacSHA256",
    )
    wire["Signature"] = sign(DEFAULT_SECRET_KEY, "POST", "cvm.api.qcloud.com", wire)
    return session.post(f"{url}/cvm/v2/index.php", data=wire, timeout=30).json()


def measure(name: str, threads: int, seconds: float, work) -> float:
    """Run ``work(session)`` in a loop on each thread; return calls per second."""
    counts = [0] * threads
    stop_at = time.monotonic() + seconds

    def loop(index: int) -> None:
        session = requests.Session()
        while time.monotonic() < stop_at:
            work(session, index)
            counts[index] += 1

    workers = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    rate = sum(counts) / (time.monotonic() - started)
    print(f"{name:<34} {rate:8.1f} calls/s  ({sum(counts)} calls, {threads} threads)")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--in-process", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "bench.db"
        if args.in_process:
            # time_scale 0: transitions settle at once, so every batch works.
            config = EmulatorConfig(time_scale=0.0)
            with start_in_thread(db_path, config) as server:
                run(server.url, args.threads, args.seconds)
            return
        with separate_process(db_path) as url:
            run(url, args.threads, args.seconds)


@contextlib.contextmanager
def separate_process(db_path: Path) -> Iterator[str]:
    """``serve`` in a child process on a free port; yields its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = (
        "from reconciler.emulator import serve; "
        f"serve('127.0.0.1', {port}, {str(db_path)!r}, time_scale=0.0)"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        child.stdout.readline()  # "Emulator listening on ..." once it is up
        yield f"http://127.0.0.1:{port}"
    finally:
        child.terminate()
        child.wait(timeout=10)


def run(url: str, threads: int, seconds: float) -> None:
    session = requests.Session()
    # One fleet of 100 instances per thread, so batch calls never collide.
    fleets = [
        call(session, url, "RunInstancesHour", {**SPEC, "goodsNum": 100})[
            "unInstanceIds"
        ]
        for _ in range(threads)
    ]

    def describe(s: requests.Session, index: int) -> None:
        body = call(s, url, "DescribeInstances", {"instanceIds": fleets[index],
                                                  "limit": 100})  # fmt: skip
        assert body["totalCount"] == 100, body

    running = [True] * threads

    def stop_start(s: requests.Session, index: int) -> None:
        action = "StopInstances" if running[index] else "StartInstances"
        body = call(s, url, action, {"instanceIds": fleets[index]})
        assert body["code"] == 0, body
        running[index] = not running[index]

    measure("DescribeInstances (100 ids)", threads, seconds, describe)
    measure("Stop/StartInstances (100 ids)", threads, seconds, stop_start)


if __name__ == "__main__":
    main()
