"""The emulator's cloud state in one SQLite file.

Every API call runs as one transaction under a process-wide lock, so a call
is atomic and concurrent requests from the threaded server see a consistent
cloud. WAL mode keeps readers of another process (a test peeking at the file)
out of the writer's way. Everything that must survive a restart lives here:
resources, their pending transitions, task numbers, client tokens, seen
nonces, counters and the recent-call log.

Resources are rows of (kind, id, region) with a few columns the list queries
filter on, and the rest of their attributes as JSON. Asynchronous work is
stored as "status now, status later, at time T" and resolved lazily by the
readers (``settled``), which is why transitions survive a restart.
"""

from __future__ import annotations

import builtins
import logging
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

logger = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    region TEXT NOT NULL,
    seq INTEGER NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    status INTEGER,
    pending_status INTEGER,
    pending_at REAL,
    gone_at REAL,
    visible_at REAL,
    data TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX IF NOT EXISTS resources_list ON resources (kind, region, seq);
CREATE INDEX IF NOT EXISTS resources_id ON resources (id);
CREATE TABLE IF NOT EXISTS tasks (
    id INTEGER PRIMARY KEY,
    service TEXT NOT NULL,
    status INTEGER NOT NULL,
    final_status INTEGER NOT NULL,
    done_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    secret_id TEXT NOT NULL,
    action TEXT NOT NULL,
    token TEXT NOT NULL,
    response TEXT NOT NULL,
    PRIMARY KEY (secret_id, action, token)
);
CREATE TABLE IF NOT EXISTS nonces (
    secret_id TEXT NOT NULL,
    nonce TEXT NOT NULL,
    timestamp INTEGER NOT NULL,
    PRIMARY KEY (secret_id, nonce, timestamp)
);
CREATE INDEX IF NOT EXISTS nonces_age ON nonces (timestamp);
CREATE TABLE IF NOT EXISTS calls (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    action TEXT NOT NULL,
    resource_ids TEXT NOT NULL,
    created_ids TEXT NOT NULL,
    code INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (
    name TEXT NOT NULL,
    key TEXT NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (name, key)
);
"""

# Tables emptied by a reset; the schema itself stays.
ALL_TABLES = ("resources", "tasks", "tokens", "nonces", "calls", "counters")

RESOURCE_COLUMNS = (
    "kind, id, region, seq, name, status, pending_status, pending_at, gone_at, "
    "visible_at, data"
)
# Positions in a resource row (a tuple in RESOURCE_COLUMNS order).
NAME, PENDING_AT, DATA = 4, 7, 10

# Writing back a resource that is stored: the columns that can change, by key
# (kind, id, region and seq never change), leaving out the JSON attributes
# when they did not change. Updates leave the list index alone, which makes
# them cheaper than INSERT OR REPLACE.
UPDATE_ROW = (
    "UPDATE resources SET name=?, status=?, pending_status=?, pending_at=?, "
    "gone_at=?, visible_at=?, data=? WHERE kind=? AND id=?"
)
UPDATE_COLUMNS = (
    "UPDATE resources SET name=?, status=?, pending_status=?, pending_at=?, "
    "gone_at=?, visible_at=? WHERE kind=? AND id=?"
)
INSERT_ROW = (
    f"INSERT OR REPLACE INTO resources ({RESOURCE_COLUMNS}) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?)"
)


@dataclass
class Resource:
    """One stored resource; ``data`` holds every attribute not in a column.

    ``status`` becomes ``pending_status`` at ``pending_at``; the resource stops
    existing at ``gone_at`` and is invisible to list queries before
    ``visible_at`` (eventual consistency).
    """

    kind: str
    id: str
    region: str
    seq: int = 0
    name: str = ""
    status: int | None = None
    pending_status: int | None = None
    pending_at: float | None = None
    gone_at: float | None = None
    visible_at: float | None = None
    data: dict[str, Any] = field(default_factory=dict)
    # The stored row this resource was read from (or last written as), so
    # that writing it back touches only what changed; None for a new one.
    loaded: tuple[Any, ...] | None = field(default=None, compare=False, repr=False)

    def settled(self, now: float) -> Resource:
        """Apply a pending transition whose time has come (in place)."""
        if self.pending_at is not None and self.pending_at <= now:
            self.status = self.pending_status
            self.data["statusTime"] = self.pending_at
            self.pending_status = None
            self.pending_at = None
        return self

    def exists(self, now: float) -> bool:
        return self.gone_at is None or self.gone_at > now

    def busy(self) -> bool:
        """True while asynchronous work on the resource is still running."""
        return self.pending_at is not None

    def transition(self, now_status: int, later_status: int, at: float) -> None:
        """Show ``now_status`` until ``at``, then ``later_status``."""
        self.status = now_status
        self.pending_status = later_status
        self.pending_at = at


class Store:
    """SQLite-backed state shared by all request threads of one emulator.

    Resource rows read or written inside a transaction are mirrored in memory
    (``_rows``), so a 100-id call finds its rows without a query; SQLite stays
    the store of record, written before every commit. The mirror holds
    exactly what the database holds: a rolled-back write evicts its key, and
    a commit by another connection (another emulator on the same file, such
    as a second embedded cloud) empties it, seen through ``data_version``.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(
            str(self.path), check_same_thread=False, isolation_level=None
        )
        self._conn.row_factory = sqlite3.Row

        # WAL plus NORMAL sync: durable across process crashes, fast enough to
        # serve hundreds of calls per second.
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA busy_timeout=5000")
        self._conn.executescript(SCHEMA)

        self._rows: dict[tuple[str, str], tuple[Any, ...]] = {}
        self._touched: set[tuple[str, str]] = set()
        self._data_version = -1
        self._in_transaction = False
        self._checked_version = False

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """Hold the lock and run the block as one transaction."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            self._in_transaction = True
            self._checked_version = False
            self._touched.clear()
            try:
                yield self
            except BaseException:
                self._conn.execute("ROLLBACK")
                self._evict(self._touched)
                raise
            finally:
                self._in_transaction = False
            self._conn.execute("COMMIT")

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Undo the block's writes if it raises, keeping the outer transaction."""
        self._conn.execute("SAVEPOINT block")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK TO block")
            self._conn.execute("RELEASE block")
            # Evicting more than the block wrote is safe: the keys stay
            # touched, so an outer rollback evicts them again.
            self._evict(self._touched)
            raise
        self._conn.execute("RELEASE block")

    def reset(self) -> None:
        with self.transaction():
            for table in ALL_TABLES:
                self._conn.execute(f"DELETE FROM {table}")
            self._rows.clear()

    # -- resources -------------------------------------------------------

    def get(self, kind: str, resource_id: str) -> Resource | None:
        return self.get_many(kind, [resource_id]).get(resource_id)

    def get_many(self, kind: str, ids: Iterable[str]) -> dict[str, Resource]:
        wanted = list(dict.fromkeys(ids))
        rows = self._mirror()
        found: dict[str, Resource] = {}
        missing: list[str] = []
        for resource_id in wanted:
            row = rows.get((kind, resource_id))
            if row is None:
                missing.append(resource_id)
            else:
                found[resource_id] = _resource(row)

        for start in range(0, len(missing), 500):
            chunk = missing[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self._conn.execute(
                f"SELECT {RESOURCE_COLUMNS} FROM resources "
                f"WHERE kind=? AND id IN ({marks})",
                (kind, *chunk),
            ):
                found[row["id"]] = self._remember(tuple(row))
        return found

    def exists_id(self, resource_id: str) -> bool:
        """True when any resource of any kind already uses this id."""
        row = self._conn.execute(
            "SELECT 1 FROM resources WHERE id=? LIMIT 1", (resource_id,)
        ).fetchone()
        return row is not None

    def names(self, ids: Iterable[str]) -> dict[str, str]:
        """Names of the resources (of any kind) that use these ids."""
        wanted = list(dict.fromkeys(ids))[:500]
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        with self._lock:
            rows = self._conn.execute(
                f"SELECT id, name FROM resources WHERE id IN ({marks})", wanted
            ).fetchall()
        return {row["id"]: row["name"] for row in rows}

    def put(self, resource: Resource) -> None:
        self.put_many([resource])

    def put_many(self, resources: Iterable[Resource]) -> None:
        """Write resources, each with the least work that stores its change.

        A stored row is updated by key, without its JSON attributes when they
        did not change, and not at all when nothing did; anything else is
        inserted (or replaced). Batches write their 100 rows in one statement
        per kind of write.
        """
        rows = self._mirror()
        whole: list[tuple[Any, ...]] = []
        full: list[tuple[Any, ...]] = []
        small: list[tuple[Any, ...]] = []
        for resource in resources:
            if not resource.seq:
                resource.seq = self.next_value("seq", resource.kind)
            row = _row(resource)
            key = (resource.kind, resource.id)
            before = rows.get(key)
            if before is None:
                whole.append(row)
            elif row[DATA] != before[DATA]:
                full.append(row[NAME:] + row[:2])
            elif row != before:
                small.append(row[NAME:DATA] + row[:2])
            resource.loaded = row
            self._note(key, row)

        if whole:
            self._conn.executemany(INSERT_ROW, whole)
        if full:
            self._conn.executemany(UPDATE_ROW, full)
        if small:
            self._conn.executemany(UPDATE_COLUMNS, small)

    def delete(self, kind: str, resource_id: str) -> None:
        self._conn.execute(
            "DELETE FROM resources WHERE kind=? AND id=?", (kind, resource_id)
        )
        self._evict([(kind, resource_id)])
        self._touched.add((kind, resource_id))

    def list(
        self,
        kind: str,
        now: float,
        region: str | None = None,
        where: Mapping[str, Any] | None = None,
    ) -> builtins.list[Resource]:
        """Resources of a kind that exist and are visible now, oldest first.

        ``where`` filters on the stored columns ``name`` (substring) and
        ``status`` (the status as it is *now*, pending transitions applied).
        """
        sql = [
            f"SELECT {RESOURCE_COLUMNS} FROM resources WHERE kind=?",
            "AND (gone_at IS NULL OR gone_at > ?)",
            "AND (visible_at IS NULL OR visible_at <= ?)",
        ]
        args: builtins.list[Any] = [kind, now, now]
        if region is not None:
            sql.append("AND region=?")
            args.append(region)

        where = where or {}
        if "name" in where:
            sql.append("AND instr(name, ?) > 0")
            args.append(where["name"])
        if "status" in where:
            sql.append(
                "AND (CASE WHEN pending_at IS NOT NULL AND pending_at <= ? "
                "THEN pending_status ELSE status END) = ?"
            )
            args.extend([now, where["status"]])

        sql.append("ORDER BY seq")
        rows = self._conn.execute(" ".join(sql), args).fetchall()
        return [self._remember(tuple(row)).settled(now) for row in rows]

    def count(self, now: float) -> dict[str, int]:
        """Existing resources per kind."""
        rows = self._conn.execute(
            "SELECT kind, count(*) AS n FROM resources "
            "WHERE gone_at IS NULL OR gone_at > ? GROUP BY kind",
            (now,),
        ).fetchall()
        return {row["kind"]: row["n"] for row in rows}

    def purge_gone(self, before: float) -> None:
        """Forget resources that stopped existing long ago."""
        self._conn.execute(
            "DELETE FROM resources WHERE gone_at IS NOT NULL AND gone_at < ?",
            (before,),
        )
        self._rows.clear()

    # -- the in-memory mirror of resource rows -----------------------------

    def _mirror(self) -> dict[tuple[str, str], tuple[Any, ...]]:
        """The mirror, once it is known to match the database; else empty.

        Outside a transaction nothing can be known (another thread may be
        writing), so callers get an empty mapping and read SQLite.
        """
        if not self._in_transaction:
            return {}
        if not self._checked_version:
            version = self._conn.execute("PRAGMA data_version").fetchone()[0]
            if version != self._data_version:
                self._rows.clear()
                self._data_version = version
            self._checked_version = True
        return self._rows

    def _remember(self, row: tuple[Any, ...]) -> Resource:
        """A resource from a row just read, mirrored when in a transaction."""
        if self._in_transaction:
            self._rows[(row[0], row[1])] = row
        return _resource(row)

    def _note(self, key: tuple[str, str], row: tuple[Any, ...]) -> None:
        """Mirror a row just written; outside a transaction, forget it."""
        if self._in_transaction:
            self._rows[key] = row
            self._touched.add(key)
        else:
            self._rows.pop(key, None)

    def _evict(self, keys: Iterable[tuple[str, str]]) -> None:
        for key in keys:
            self._rows.pop(key, None)

    # -- counters, tasks, tokens, nonces ---------------------------------

    def next_value(self, name: str, key: str = "", by: int = 1) -> int:
        """Advance a persistent serial by ``by``; return its new (last) value."""
        self._conn.execute(
            "INSERT INTO counters (name, key, value) VALUES (?, ?, ?) "
            "ON CONFLICT (name, key) DO UPDATE SET value = value + ?",
            (name, key, by, by),
        )
        row = self._conn.execute(
            "SELECT value FROM counters WHERE name=? AND key=?", (name, key)
        ).fetchone()
        return int(row["value"])

    def bump(self, name: str, key: str, by: int = 1) -> None:
        self._conn.execute(
            "INSERT INTO counters (name, key, value) VALUES (?, ?, ?) "
            "ON CONFLICT (name, key) DO UPDATE SET value = value + ?",
            (name, key, by, by),
        )

    def counters(self, name: str) -> dict[str, int]:
        rows = self._conn.execute(
            "SELECT key, value FROM counters WHERE name=? ORDER BY key", (name,)
        ).fetchall()
        return {row["key"]: row["value"] for row in rows}

    def new_task(self, service: str, done_at: float, final_status: int = 0) -> int:
        """A task number that reports 2 (running) until ``done_at``."""
        task_id = 1000000 + self.next_value("task")
        self._conn.execute(
            "INSERT INTO tasks (id, service, status, final_status, done_at) "
            "VALUES (?, ?, 2, ?, ?)",
            (task_id, service, final_status, done_at),
        )
        return task_id

    def task_status(self, task_id: int, now: float) -> int | None:
        row = self._conn.execute(
            "SELECT final_status, done_at FROM tasks WHERE id=?", (task_id,)
        ).fetchone()
        if row is None:
            return None
        return int(row["final_status"]) if row["done_at"] <= now else 2

    def token_response(self, secret_id: str, action: str, token: str) -> str | None:
        row = self._conn.execute(
            "SELECT response FROM tokens WHERE secret_id=? AND action=? AND token=?",
            (secret_id, action, token),
        ).fetchone()
        return row["response"] if row else None

    def save_token(self, secret_id: str, action: str, token: str, body: str) -> None:
        self._conn.execute(
            "INSERT OR REPLACE INTO tokens VALUES (?, ?, ?, ?)",
            (secret_id, action, token, body),
        )

    def remember_nonce(self, secret_id: str, nonce: str, timestamp: int) -> bool:
        """Record a nonce; False when the same one was already seen."""
        cursor = self._conn.execute(
            "INSERT OR IGNORE INTO nonces VALUES (?, ?, ?)",
            (secret_id, nonce, timestamp),
        )
        return cursor.rowcount == 1

    def forget_nonces(self, older_than: int) -> None:
        self._conn.execute("DELETE FROM nonces WHERE timestamp < ?", (older_than,))

    # -- call log --------------------------------------------------------

    def record_call(
        self,
        at: float,
        action: str,
        resource_ids: builtins.list[str],
        created_ids: builtins.list[str],
        code: int,
    ) -> None:
        self._conn.execute(
            "INSERT INTO calls (at, action, resource_ids, created_ids, code) "
            "VALUES (?, ?, ?, ?, ?)",
            (at, action, _json_text(resource_ids), _json_text(created_ids), code),
        )
        self.bump("calls", action)
        if code != 0:
            self.bump("failed", str(code))

    def trim_calls(self, keep: int) -> None:
        self._conn.execute(
            "DELETE FROM calls WHERE seq <= (SELECT max(seq) FROM calls) - ?",
            (keep,),
        )

    def calls(
        self, since: int = 0, action: str | None = None, limit: int = 1000
    ) -> builtins.list[dict[str, Any]]:
        sql = "SELECT * FROM calls WHERE seq > ?"
        args: builtins.list[Any] = [since]
        if action:
            sql += " AND action = ?"
            args.append(action)
        sql += " ORDER BY seq LIMIT ?"
        args.append(limit)
        return [
            {
                "seq": row["seq"],
                "at": row["at"],
                "action": row["action"],
                "resource_ids": orjson.loads(row["resource_ids"]),
                "created_ids": orjson.loads(row["created_ids"]),
                "code": row["code"],
            }
            for row in self._conn.execute(sql, args).fetchall()
        ]


def _row(resource: Resource) -> tuple[Any, ...]:
    return (
        resource.kind,
        resource.id,
        resource.region,
        resource.seq,
        resource.name,
        resource.status,
        resource.pending_status,
        resource.pending_at,
        resource.gone_at,
        resource.visible_at,
        _json_text(resource.data),
    )


def _resource(row: tuple[Any, ...]) -> Resource:
    kind, resource_id, region, seq, name, status, pending, at, gone, visible, data = row
    return Resource(
        kind,
        resource_id,
        region,
        seq,
        name,
        status,
        pending,
        at,
        gone,
        visible,
        orjson.loads(data),
        row,
    )


def _json_text(value: Any) -> str:
    # orjson: the 100 rows of a batch cost ~0.1 ms instead of ~1 ms.
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode("utf-8")
