"""Holding the state lock for the length of one apply.

Two applies against one state must never both run: the second waits up to
``--lock-timeout`` and then stops with a diagnostic naming the holder. A
lock left by a process that died on this host is taken over (its pid no
longer exists); one left on another host needs ``reconciler force-unlock``.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from reconciler.diagnostics import Diagnostic, DiagnosticError
from reconciler.state.store import LockInfo, StateStore

logger = logging.getLogger(__name__)


def this_process(holder: str) -> LockInfo:
    return LockInfo(holder, os.getpid(), socket.gethostname(), time.time())


@contextmanager
def state_lock(
    store: StateStore,
    holder: str,
    timeout: float,
    sleep: Callable[[float], None] = time.sleep,
    on_wait: Callable[[LockInfo], None] | None = None,
) -> Iterator[LockInfo]:
    """Hold the lock inside the block; wait for it up to ``timeout`` seconds."""
    wanted = this_process(holder)
    deadline = time.monotonic() + timeout
    told = False

    while (current := store.try_lock(wanted)) is not None:
        if _left_by_dead_process(current):
            logger.warning("Taking over a lock left by dead process %d.", current.pid)
            store.unlock(current)
            continue
        if time.monotonic() >= deadline:
            raise DiagnosticError(_locked(store, current))
        if on_wait and not told:
            on_wait(current)
            told = True
        sleep(min(0.2, max(0.0, deadline - time.monotonic())))

    try:
        yield wanted
    finally:
        store.unlock(wanted)


def describe(info: LockInfo) -> str:
    since = datetime.fromtimestamp(info.acquired_at, tz=UTC)
    return (
        f"'{info.holder}' (pid {info.pid} on {info.host}, "
        f"since {since:%Y-%m-%d %H:%M:%S} UTC)"
    )


def held_by_live_process(info: LockInfo) -> bool:
    """True when the holder runs on this host and its process still exists."""
    if info.host != socket.gethostname():
        return False
    try:
        os.kill(info.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _left_by_dead_process(info: LockInfo) -> bool:
    if info.host != socket.gethostname():
        return False
    try:
        os.kill(info.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _locked(store: StateStore, holder: LockInfo) -> Diagnostic:
    return Diagnostic(
        "The state is locked",
        f"{store.path} is held by {describe(holder)}. Wait for it to finish, "
        "raise --lock-timeout, or, if that run is gone, clear the lock with "
        "'reconciler force-unlock'.",
    )
