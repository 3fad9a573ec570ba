"""Storage of a generated OCPI server: module objects and the credentials state of connected parties.

Static: copied verbatim into every generated server package; names no OCPI version's models.

``Store`` is the protocol the generated handlers and the runtime use; ``SqliteStore`` implements it
with the standard ``sqlite3`` module (one connection, one lock, usable from any thread).

* Objects are keyed by ``(module, country_code, party_id, object_id)``. The last three are OCPI
  CiStrings: they are stored ASCII-upper-cased in the key columns, so keys compare
  case-insensitively while the object's JSON keeps the spelling it was given.
* ``last_updated`` is stored in one fixed-precision UTC form (``...T20:39:09.000000Z``) whatever
  form it came in (``Z``, an offset or no zone), so that text comparison is time comparison.
* Object JSON is stored as text with exact numbers: ``Decimal`` values come back as ``Decimal``.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal, NotRequired, Protocol, TypedDict, Unpack, runtime_checkable

from ._json import dumps, loads
from ._time import canonical_datetime
from .client._wire import ci_key

__all__ = ["Party", "SqliteStore", "Store", "ci_key", "new_token"]


def new_token() -> str:
    """A fresh credentials token: 43 URL-safe characters (printable ASCII, fits string(64))."""
    return secrets.token_urlsafe(32)


@dataclass
class Party:
    """The credentials state of one connected party (one registration).

    The token fields are left out of ``repr`` so that logging a party never logs a token.
    """

    party_key: str
    """Our name for the connection, e.g. ``NL/EXA`` or a uuid."""
    token_a: str | None = field(default=None, repr=False)
    """The one-time token we handed out for registration; None once registered."""
    token_b: str | None = field(default=None, repr=False)
    """The peer's token: we call the peer with it."""
    token_c: str | None = field(default=None, repr=False)
    """The token the peer calls us with after registration."""
    versions_url: str | None = None
    """The peer's versions endpoint."""
    version: str | None = None
    """The OCPI version agreed with the peer."""
    endpoints: list[dict[str, Any]] = field(default_factory=list)
    """The peer's endpoints for ``version`` as received."""
    credentials: dict[str, Any] | None = field(default=None, repr=False)
    """The peer's credentials object as received (it holds token B)."""
    roles: list[dict[str, Any]] = field(default_factory=list)
    """The peer's roles (``country_code``/``party_id``/``role``/``business_details`` each)."""

    @property
    def registered(self) -> bool:
        """True once the credentials exchange has completed (the party has a token C)."""
        return self.token_c is not None


class ListQuery(TypedDict):
    """Which objects of a module ``list_objects`` returns: the date window (from inclusive, to
    exclusive), the page, and optionally one party's objects only."""

    date_from: str | None
    date_to: str | None
    offset: int
    limit: int
    country_code: NotRequired[str | None]
    party_id: NotRequired[str | None]


@runtime_checkable
class Store(Protocol):
    """What the runtime and the generated handlers need from storage."""

    def get_object(self, module: str, country_code: str, party_id: str, object_id: str) -> dict[str, Any] | None:
        """The stored JSON object, or None."""
        ...

    def put_object(
        self, module: str, country_code: str, party_id: str, object_id: str, data: dict[str, Any], last_updated: str
    ) -> bool:
        """Create or replace; True when created, False when an existing object was replaced."""
        ...

    def delete_object(self, module: str, country_code: str, party_id: str, object_id: str) -> bool:
        """True when an object was deleted."""
        ...

    def list_objects(self, module: str, **query: Unpack[ListQuery]) -> tuple[list[dict[str, Any]], int]:
        """One page ordered by last_updated then key, and the count of all matching objects."""
        ...

    def create_token_a(self, party_key: str) -> str:
        """Issue a fresh token A for a party (created when new); returns the token."""
        ...

    def party(self, party_key: str) -> Party | None:
        """The party with this key, or None."""
        ...

    def party_by_token(self, token: str) -> tuple[Party, Literal["A", "C"]] | None:
        """The party that holds this token as its token A or token C, and which of the two."""
        ...

    def save_party(self, party: Party) -> None:
        """Insert or replace the party's row."""
        ...

    def delete_party(self, party_key: str) -> bool:
        """True when a party was deleted."""
        ...

    def parties(self) -> list[Party]:
        """Every party, ordered by key."""
        ...

    def close(self) -> None:
        """Release the database."""
        ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS ocpi_objects (
    module TEXT NOT NULL,
    country_code TEXT NOT NULL,
    party_id TEXT NOT NULL,
    object_id TEXT NOT NULL,
    last_updated TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (module, country_code, party_id, object_id)
);
CREATE INDEX IF NOT EXISTS ocpi_objects_by_time
    ON ocpi_objects (module, last_updated, country_code, party_id, object_id);
CREATE TABLE IF NOT EXISTS ocpi_parties (
    party_key TEXT PRIMARY KEY,
    token_a TEXT UNIQUE,
    token_b TEXT,
    token_c TEXT UNIQUE,
    versions_url TEXT,
    version TEXT,
    endpoints TEXT NOT NULL,
    credentials TEXT,
    roles TEXT NOT NULL
);
"""

#: How long ``SqliteStore.party_by_token`` may answer from memory (changes by other processes).
TOKEN_CACHE_SECONDS = 1.0

_PARTY_COLUMNS = "party_key, token_a, token_b, token_c, versions_url, version, endpoints, credentials, roles"


def _check_key(name: str, value: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string")
    return value


class SqliteStore(Store):
    """``Store`` on sqlite3: ``SqliteStore(":memory:")`` or ``SqliteStore("/path/to/db.sqlite")``."""

    def __init__(self, database: str = ":memory:") -> None:
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = sqlite3.connect(database, check_same_thread=False, isolation_level=None)
        # Counts of list queries, valid while no one writes: our own writes clear them, and
        # PRAGMA data_version tells when another connection (another worker) has committed.
        self._counts: dict[tuple[Any, ...], int] = {}
        self._counts_version: int | None = None
        self._tokens: dict[str, tuple[float, tuple[Any, ...] | None]] = {}
        with self._lock:
            self._db.execute("PRAGMA cache_size=-16000")  # 16 MiB of pages: a list page never re-reads the file
            self._db.executescript(_SCHEMA)

    # -- plumbing ----------------------------------------------------------------------------------

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("the store is closed")
        return self._db

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- objects -----------------------------------------------------------------------------------

    @staticmethod
    def _key(module: str, country_code: str, party_id: str, object_id: str) -> tuple[str, str, str, str]:
        return (
            _check_key("module", module),
            ci_key(_check_key("country_code", country_code)),
            ci_key(_check_key("party_id", party_id)),
            ci_key(_check_key("object_id", object_id)),
        )

    def get_object(self, module: str, country_code: str, party_id: str, object_id: str) -> dict[str, Any] | None:
        key = self._key(module, country_code, party_id, object_id)
        with self._lock:
            row = self._conn.execute(
                "SELECT data FROM ocpi_objects WHERE module=? AND country_code=? AND party_id=? AND object_id=?", key
            ).fetchone()
        if row is None:
            return None
        data: dict[str, Any] = loads(row[0])
        return data

    def put_object(
        self, module: str, country_code: str, party_id: str, object_id: str, data: dict[str, Any], last_updated: str
    ) -> bool:
        key = self._key(module, country_code, party_id, object_id)
        if not isinstance(data, dict):
            raise TypeError("data must be a JSON object (dict)")
        stamp = canonical_datetime(last_updated)
        text = dumps(data)
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                existed = (
                    conn.execute(
                        "SELECT 1 FROM ocpi_objects WHERE module=? AND country_code=? AND party_id=? AND object_id=?",
                        key,
                    ).fetchone()
                    is not None
                )
                conn.execute(
                    "INSERT OR REPLACE INTO ocpi_objects (module, country_code, party_id, object_id, last_updated, data)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (*key, stamp, text),
                )
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            self._counts.clear()
        return not existed

    def delete_object(self, module: str, country_code: str, party_id: str, object_id: str) -> bool:
        key = self._key(module, country_code, party_id, object_id)
        with self._lock:
            cursor = self._conn.execute(
                "DELETE FROM ocpi_objects WHERE module=? AND country_code=? AND party_id=? AND object_id=?", key
            )
            self._counts.clear()
        return cursor.rowcount > 0

    def list_objects(self, module: str, **query: Unpack[ListQuery]) -> tuple[list[dict[str, Any]], int]:
        rows, total = self.list_objects_json(module, **query)
        return [loads(row) for row in rows], total

    def list_objects_json(self, module: str, **query: Unpack[ListQuery]) -> tuple[list[bytes], int]:
        """Like ``list_objects``, but each object as its stored JSON, UTF-8 bytes, nothing parsed
        or decoded: the default list handlers send these as they are."""
        offset, limit = query["offset"], query["limit"]
        date_from, date_to = query["date_from"], query["date_to"]
        country_code, party_id = query.get("country_code"), query.get("party_id")
        if offset < 0:
            raise ValueError(f"offset must be >= 0, got {offset}")
        if limit < 0:
            raise ValueError(f"limit must be >= 0, got {limit}")
        where = ["module=?"]
        args: list[Any] = [module]
        if date_from is not None:
            where.append("last_updated >= ?")  # inclusive
            args.append(canonical_datetime(date_from))
        if date_to is not None:
            where.append("last_updated < ?")  # exclusive
            args.append(canonical_datetime(date_to))
        if country_code is not None:
            where.append("country_code = ?")
            args.append(ci_key(country_code))
        if party_id is not None:
            where.append("party_id = ?")
            args.append(ci_key(party_id))
        condition = " AND ".join(where)
        with self._lock:
            conn = self._conn
            rows = conn.execute(
                f"SELECT CAST(data AS BLOB) FROM ocpi_objects WHERE {condition}"
                " ORDER BY last_updated, country_code, party_id, object_id LIMIT ? OFFSET ?",
                [*args, limit, offset],
            ).fetchall()
            if rows and len(rows) < limit:
                total = offset + len(rows)  # the last page: no need to count
            else:
                total = self._count(conn, condition, args)
        return [row[0] for row in rows], total

    def _count(self, conn: sqlite3.Connection, condition: str, args: list[Any]) -> int:
        version = int(conn.execute("PRAGMA data_version").fetchone()[0])
        if version != self._counts_version:
            self._counts.clear()
            self._counts_version = version
        key = (condition, *args)
        total = self._counts.get(key)
        if total is None:
            total = int(conn.execute(f"SELECT COUNT(*) FROM ocpi_objects WHERE {condition}", args).fetchone()[0])
            if len(self._counts) >= 1024:
                self._counts.clear()
            self._counts[key] = total
        return total

    # -- parties -----------------------------------------------------------------------------------

    @staticmethod
    def _party_from_row(row: tuple[Any, ...]) -> Party:
        return Party(
            party_key=row[0],
            token_a=row[1],
            token_b=row[2],
            token_c=row[3],
            versions_url=row[4],
            version=row[5],
            endpoints=loads(row[6]),
            credentials=None if row[7] is None else loads(row[7]),
            roles=loads(row[8]),
        )

    def party(self, party_key: str) -> Party | None:
        with self._lock:
            row = self._conn.execute(
                f"SELECT {_PARTY_COLUMNS} FROM ocpi_parties WHERE party_key=?", (party_key,)
            ).fetchone()
        return None if row is None else self._party_from_row(row)

    def create_token_a(self, party_key: str) -> str:
        _check_key("party_key", party_key)
        token = new_token()
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                updated = conn.execute(
                    "UPDATE ocpi_parties SET token_a=? WHERE party_key=?", (token, party_key)
                ).rowcount
                if not updated:
                    conn.execute(
                        "INSERT INTO ocpi_parties (party_key, token_a, endpoints, roles) VALUES (?, ?, '[]', '[]')",
                        (party_key, token),
                    )
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            self._tokens.clear()
        return token

    def party_by_token(self, token: str) -> tuple[Party, Literal["A", "C"]] | None:
        """Every request asks this: rows are kept for ``TOKEN_CACHE_SECONDS`` (a fresh Party is built
        from the row each time). Our own writes to parties clear the cache at once; a change made by
        another process (another worker) is seen within that time."""
        if not token:
            return None
        now = time.monotonic()
        hit = self._tokens.get(token)
        if hit is not None and now - hit[0] < TOKEN_CACHE_SECONDS:
            row = hit[1]
        else:
            with self._lock:
                row = self._conn.execute(
                    f"SELECT {_PARTY_COLUMNS} FROM ocpi_parties WHERE token_c=? OR token_a=? LIMIT 1", (token, token)
                ).fetchone()
                if len(self._tokens) >= 1024:
                    self._tokens.clear()
                self._tokens[token] = (now, row)
        if row is None:
            return None
        party = self._party_from_row(row)
        return party, ("C" if party.token_c == token else "A")

    def save_party(self, party: Party) -> None:
        _check_key("party_key", party.party_key)
        with self._lock:
            self._conn.execute(
                # An upsert, not INSERT OR REPLACE: that would silently delete another party whose
                # token collides with this one (UNIQUE columns); here the collision raises instead.
                f"INSERT INTO ocpi_parties ({_PARTY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (party_key) DO UPDATE SET token_a=excluded.token_a, token_b=excluded.token_b,"
                " token_c=excluded.token_c, versions_url=excluded.versions_url, version=excluded.version,"
                " endpoints=excluded.endpoints, credentials=excluded.credentials, roles=excluded.roles",
                (
                    party.party_key,
                    party.token_a,
                    party.token_b,
                    party.token_c,
                    party.versions_url,
                    party.version,
                    dumps(party.endpoints),
                    None if party.credentials is None else dumps(party.credentials),
                    dumps(party.roles),
                ),
            )
            self._tokens.clear()

    def delete_party(self, party_key: str) -> bool:
        with self._lock:
            cursor = self._conn.execute("DELETE FROM ocpi_parties WHERE party_key=?", (party_key,))
            self._tokens.clear()
        return cursor.rowcount > 0

    def parties(self) -> list[Party]:
        with self._lock:
            rows = self._conn.execute(f"SELECT {_PARTY_COLUMNS} FROM ocpi_parties ORDER BY party_key").fetchall()
        return [self._party_from_row(row) for row in rows]
