"""The state store: what reconciler owns, in SQLite, one transaction per change.

In: resource records from the executor as each operation finishes, create
intents before their call is sent. Out: the recorded resources for refresh,
the open intents for crash recovery, and a serial that moves on every write
so a saved plan can tell that state moved since.

Only the small interface below is used by the engine, so another backend
(PostgreSQL for teams sharing one state) can stand behind it later.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.model.address import Address
from reconciler.model.resource import CurrentResource

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS resources (
    address TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    attributes TEXT NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS lock (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    holder TEXT NOT NULL,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    acquired_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS applies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    command TEXT NOT NULL,
    started_at REAL NOT NULL,
    finished_at REAL,
    outcome TEXT NOT NULL,
    calls TEXT,
    predicted_calls TEXT,
    seconds REAL
);
CREATE TABLE IF NOT EXISTS apply_operations (
    apply_id INTEGER NOT NULL REFERENCES applies (id),
    operation TEXT NOT NULL,
    outcome TEXT NOT NULL,
    code INTEGER,
    message TEXT NOT NULL,
    request_ids TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS journal (
    client_token TEXT PRIMARY KEY,
    api_action TEXT NOT NULL,
    addresses TEXT NOT NULL,
    params TEXT NOT NULL,
    status TEXT NOT NULL,
    resource_ids TEXT,
    created_at REAL NOT NULL,
    completed_at REAL
);
"""


@dataclass(frozen=True)
class LockInfo:
    """Who holds the state: a command, its process and host, and since when."""

    holder: str
    pid: int
    host: str
    acquired_at: float


@dataclass(frozen=True)
class OperationRecord:
    """One operation's outcome in an apply's history."""

    operation: str
    outcome: str
    code: int | None
    message: str
    request_ids: tuple[str, ...]


@dataclass(frozen=True)
class ApplyRecord:
    apply_id: int
    command: str
    started_at: float
    finished_at: float | None
    outcome: str
    calls: Mapping[str, int]
    predicted_calls: Mapping[str, int]
    operations: tuple[OperationRecord, ...]


@dataclass(frozen=True)
class Intent:
    """A create call recorded before it was sent, so a crash cannot lose it."""

    client_token: str
    api_action: str
    addresses: tuple[Address, ...]
    params: Mapping[str, Any]


class StateStore:
    """SQLite-backed state; safe to share between the executor's threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._initialise_meta()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _initialise_meta(self) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION),),
            )
            db.execute("INSERT OR IGNORE INTO meta VALUES ('serial', '0')")
            db.execute(
                "INSERT OR IGNORE INTO meta VALUES ('lineage', ?)", (str(uuid.uuid4()),)
            )

    def _bump_serial(self, db: sqlite3.Connection) -> None:
        db.execute(
            "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'serial'"
        )

    # Reading

    @property
    def serial(self) -> int:
        return int(self._meta("serial"))

    @property
    def lineage(self) -> str:
        return self._meta("lineage")

    @property
    def cloud(self) -> str | None:
        """Which cloud and region the recorded resources live in, once known."""
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'cloud'")
            found = row.fetchone()
        return None if found is None else str(found[0])

    def bind_cloud(self, cloud: str) -> None:
        """Record which cloud this state's resources live in."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO meta VALUES ('cloud', ?) ON CONFLICT(key) DO "
                "UPDATE SET value = excluded.value",
                (cloud,),
            )

    def is_empty(self) -> bool:
        with self._lock:
            row = self._db.execute("SELECT 1 FROM resources LIMIT 1").fetchone()
        return row is None

    def _meta(self, key: str) -> str:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,))
            return str(row.fetchone()[0])

    def resources(self) -> dict[Address, CurrentResource]:
        with self._lock:
            rows = self._db.execute(
                "SELECT address, resource_id, attributes FROM resources"
            ).fetchall()
        return {
            address: CurrentResource(address, resource_id, json.loads(attributes))
            for address, resource_id, attributes in (
                (Address.parse(row[0]), row[1], row[2]) for row in rows
            )
        }

    def resource(self, address: Address) -> CurrentResource | None:
        with self._lock:
            row = self._db.execute(
                "SELECT resource_id, attributes FROM resources WHERE address = ?",
                (str(address),),
            ).fetchone()
        if row is None:
            return None
        return CurrentResource(address, row[0], json.loads(row[1]))

    # Writing: each call is one transaction and moves the serial on.

    def put_resource(
        self, address: Address, resource_id: str, attributes: Mapping[str, Any]
    ) -> None:
        with self._transaction() as db:
            self._put(db, address, resource_id, attributes)
            self._bump_serial(db)
        logger.debug("Recorded %s as %s.", address, resource_id)

    def _put(
        self,
        db: sqlite3.Connection,
        address: Address,
        resource_id: str,
        attributes: Mapping[str, Any],
    ) -> None:
        db.execute(
            "INSERT INTO resources VALUES (?, ?, ?, ?, ?) ON CONFLICT(address) DO "
            "UPDATE SET resource_id = excluded.resource_id, "
            "attributes = excluded.attributes, updated_at = excluded.updated_at",
            (
                str(address),
                address.kind,
                resource_id,
                json.dumps(dict(attributes), sort_keys=True),
                time.time(),
            ),
        )

    def update_attributes(self, address: Address, changed: Mapping[str, Any]) -> None:
        """Merge ``changed`` into the recorded attributes of one resource."""
        with self._transaction() as db:
            row = db.execute(
                "SELECT attributes FROM resources WHERE address = ?", (str(address),)
            ).fetchone()
            if row is None:
                return
            attributes = json.loads(row[0])
            attributes.update(changed)
            db.execute(
                "UPDATE resources SET attributes = ?, updated_at = ? WHERE address = ?",
                (json.dumps(attributes, sort_keys=True), time.time(), str(address)),
            )
            self._bump_serial(db)

    def remove_resource(self, address: Address) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM resources WHERE address = ?", (str(address),))
            self._bump_serial(db)
        logger.debug("Forgot %s.", address)

    # The intent journal

    def open_intent(self, intent: Intent) -> None:
        """Record a create call before it is sent."""
        with self._transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO journal "
                "VALUES (?, ?, ?, ?, 'open', NULL, ?, NULL)",
                (
                    intent.client_token,
                    intent.api_action,
                    json.dumps([str(a) for a in intent.addresses]),
                    json.dumps(dict(intent.params), sort_keys=True),
                    time.time(),
                ),
            )

    def complete_intent(
        self,
        client_token: str,
        created: Sequence[tuple[Address, str, Mapping[str, Any]]],
    ) -> None:
        """Record the ids a create answered with, and close its intent, at once."""
        with self._transaction() as db:
            for address, resource_id, attributes in created:
                self._put(db, address, resource_id, attributes)
            db.execute(
                "UPDATE journal SET status = 'done', resource_ids = ?, "
                "completed_at = ? WHERE client_token = ?",
                (
                    json.dumps([resource_id for _, resource_id, _ in created]),
                    time.time(),
                    client_token,
                ),
            )
            self._bump_serial(db)

    def abandon_intent(self, client_token: str) -> None:
        """Close an intent whose call is known to have created nothing."""
        with self._transaction() as db:
            db.execute(
                "UPDATE journal SET status = 'abandoned', completed_at = ? "
                "WHERE client_token = ?",
                (time.time(), client_token),
            )

    def open_intents(self) -> list[Intent]:
        with self._lock:
            rows = self._db.execute(
                "SELECT client_token, api_action, addresses, params FROM journal "
                "WHERE status = 'open' ORDER BY created_at"
            ).fetchall()
        return [
            Intent(
                client_token=token,
                api_action=action,
                addresses=tuple(Address.parse(a) for a in json.loads(addresses)),
                params=json.loads(params),
            )
            for token, action, addresses, params in rows
        ]

    # The lock: one apply at a time against one state.

    def try_lock(self, wanted: LockInfo) -> LockInfo | None:
        """Take the lock; return the current holder instead when it is taken."""
        with self._transaction() as db:
            row = db.execute(
                "SELECT holder, pid, host, acquired_at FROM lock WHERE id = 1"
            ).fetchone()
            if row is not None:
                return LockInfo(*row)
            db.execute(
                "INSERT INTO lock VALUES (1, ?, ?, ?, ?)",
                (wanted.holder, wanted.pid, wanted.host, wanted.acquired_at),
            )
        return None

    def lock_holder(self) -> LockInfo | None:
        with self._lock:
            row = self._db.execute(
                "SELECT holder, pid, host, acquired_at FROM lock WHERE id = 1"
            ).fetchone()
        return None if row is None else LockInfo(*row)

    def unlock(self, expected: LockInfo | None = None) -> LockInfo | None:
        """Drop the lock (only if ``expected`` still holds it); return who held it."""
        with self._transaction() as db:
            row = db.execute(
                "SELECT holder, pid, host, acquired_at FROM lock WHERE id = 1"
            ).fetchone()
            if row is None:
                return None
            holder = LockInfo(*row)
            if expected is None or (holder.pid, holder.host) == (
                expected.pid,
                expected.host,
            ):
                db.execute("DELETE FROM lock WHERE id = 1")
        return holder

    # History

    def begin_apply(self, command: str) -> int:
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT INTO applies (command, started_at, outcome) "
                "VALUES (?, ?, 'running')",
                (command, time.time()),
            )
            return int(cursor.lastrowid or 0)

    def finish_apply(
        self,
        apply_id: int,
        outcome: str,
        calls: Mapping[str, int],
        predicted_calls: Mapping[str, int],
        operations: Sequence[OperationRecord],
    ) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE applies SET finished_at = ?, outcome = ?, calls = ?, "
                "predicted_calls = ? WHERE id = ?",
                (
                    time.time(),
                    outcome,
                    json.dumps(dict(calls), sort_keys=True),
                    json.dumps(dict(predicted_calls), sort_keys=True),
                    apply_id,
                ),
            )
            db.executemany(
                "INSERT INTO apply_operations VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (
                        apply_id,
                        record.operation,
                        record.outcome,
                        record.code,
                        record.message,
                        json.dumps(list(record.request_ids)),
                    )
                    for record in operations
                ],
            )

    def history(self, limit: int = 10) -> list[ApplyRecord]:
        """The last ``limit`` applies, newest first, with their operations."""
        with self._lock:
            applies = self._db.execute(
                "SELECT id, command, started_at, finished_at, outcome, calls, "
                "predicted_calls FROM applies ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
            operations = {row[0]: self._operations_of(row[0]) for row in applies}
        return [
            ApplyRecord(
                apply_id=row[0],
                command=row[1],
                started_at=row[2],
                finished_at=row[3],
                outcome=row[4],
                calls=json.loads(row[5] or "{}"),
                predicted_calls=json.loads(row[6] or "{}"),
                operations=operations[row[0]],
            )
            for row in applies
        ]

    def _operations_of(self, apply_id: int) -> tuple[OperationRecord, ...]:
        rows = self._db.execute(
            "SELECT operation, outcome, code, message, request_ids "
            "FROM apply_operations WHERE apply_id = ? ORDER BY operation",
            (apply_id,),
        ).fetchall()
        return tuple(
            OperationRecord(row[0], row[1], row[2], row[3], tuple(json.loads(row[4])))
            for row in rows
        )
