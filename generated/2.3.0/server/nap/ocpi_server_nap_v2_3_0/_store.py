"""Storage of a generated OCPI server: module objects, the credentials state of connected parties
and each peer's synchronisation state.

Static: copied verbatim into every generated server package; names no OCPI version's models.

``Store`` is the asynchronous protocol the generated handlers and the runtime use. ``open_store(url)``
picks the implementation from ``OCPI_DATABASE``: ``SqliteStore`` (embedded, the default) or
``PostgresStore`` (several workers and hosts on one database).

* Objects are keyed by ``(module, country_code, party_id, object_id)``. The last three are OCPI
  CiStrings: they are stored ASCII-upper-cased in the key columns, so keys compare
  case-insensitively while the object's JSON keeps the spelling it was given.
* ``last_updated`` is stored in one fixed-precision UTC form (``...T20:39:09.000000Z``) whatever
  form it came in (``Z``, an offset or no zone), so that text comparison is time comparison.
* Object JSON is stored with exact numbers: ``Decimal`` values come back as ``Decimal``.
* A change of part of an object (a nested PUT, a PATCH, a nested DELETE) is one ``update_object``
  call: read, change and write in one transaction, so that two writers (two workers, two hosts, two
  requests on one event loop) never lose each other's update.
"""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal, NotRequired, Protocol, TypedDict, TypeVar, Unpack, runtime_checkable
from urllib.parse import parse_qs, urlsplit

from ._json import dumps, loads
from ._time import canonical_datetime, now_timestamp
from .client._wire import ci_key

__all__ = [
    "Mutation",
    "Party",
    "PartyMutation",
    "RawJSONStore",
    "SqliteStore",
    "Store",
    "StoredJSON",
    "ci_key",
    "new_token",
    "open_store",
]

T = TypeVar("T")


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


#: The change of one stored object, run inside the store's transaction: it gets the stored object
#: (a fresh ``dict`` it may change in place; None when there is none) and returns the object to
#: store, or None to leave the store as it was. It may raise (nothing is written then), and a store
#: may call it more than once (when it retries a transaction), so it must not change anything else.
Mutation = Callable[[dict[str, Any] | None], dict[str, Any] | None]
#: The change of one party, run inside the store's transaction like a ``Mutation``: it gets the stored
#: party (None when there is none) and returns the party to save, or None to leave it as it was.
PartyMutation = Callable[["Party | None"], "Party | None"]


@runtime_checkable
class Store(Protocol):
    """What the runtime and the generated handlers need from storage. Every method is a coroutine."""

    async def get_object(self, module: str, country_code: str, party_id: str, object_id: str) -> dict[str, Any] | None:
        """The stored JSON object, or None."""
        ...

    async def put_object(
        self, module: str, country_code: str, party_id: str, object_id: str, data: dict[str, Any], last_updated: str
    ) -> bool:
        """Create or replace; True when created, False when an existing object was replaced."""
        ...

    async def update_object(
        self, module: str, country_code: str, party_id: str, object_id: str, mutate: Mutation
    ) -> dict[str, Any] | None:
        """Read, change (``mutate``) and write one object in one transaction; returns what was
        stored, or None when ``mutate`` left it unchanged. The stored ``last_updated`` is the new
        object's own (the time of the call when it has none)."""
        ...

    async def delete_object(self, module: str, country_code: str, party_id: str, object_id: str) -> bool:
        """True when an object was deleted."""
        ...

    async def list_objects(self, module: str, **query: Unpack[ListQuery]) -> tuple[list[dict[str, Any]], int]:
        """One page ordered by last_updated then key, and the count of all matching objects."""
        ...

    async def create_token_a(self, party_key: str) -> str:
        """Issue a fresh token A for a party (created when new); returns the token."""
        ...

    async def party(self, party_key: str) -> Party | None:
        """The party with this key, or None."""
        ...

    async def party_by_token(self, token: str) -> tuple[Party, Literal["A", "C"]] | None:
        """The party that holds this token as its token A or token C, and which of the two. A token
        saved by any process works at once, and one removed stops working at once."""
        ...

    async def save_party(self, party: Party) -> None:
        """Insert or replace the party's row."""
        ...

    async def update_party(self, party_key: str, mutate: PartyMutation) -> Party | None:
        """Read, change (``mutate``) and save one party in one transaction; returns the saved party,
        or None when ``mutate`` left it unchanged. A registration checks its token A this way, so
        that two registrations with one token A (two workers) cannot both succeed."""
        ...

    async def delete_party(self, party_key: str) -> bool:
        """True when a party was deleted (its peer state goes with it)."""
        ...

    async def parties(self) -> list[Party]:
        """Every party, ordered by key."""
        ...

    async def peer_state(self, party_key: str) -> dict[str, Any] | None:
        """What we keep about our exchanges with a peer (push and resync times...), or None."""
        ...

    async def save_peer_state(self, party_key: str, state: dict[str, Any]) -> None:
        """Replace the peer state of a party."""
        ...

    async def update_peer_state(self, party_key: str, mutate: Mutation) -> dict[str, Any] | None:
        """Read, change and write a party's peer state in one transaction (as ``update_object``):
        two workers (a push and a resync) never lose each other's keys."""
        ...

    async def close(self) -> None:
        """Release the database."""
        ...


@runtime_checkable
class RawJSONStore(Protocol):
    """An optional capability: objects handed over as their stored JSON text (compact, UTF-8
    bytes), nothing parsed. The default handlers then write a page or an object without decoding."""

    async def list_objects_json(self, module: str, **query: Unpack[ListQuery]) -> tuple[list[bytes], int]:
        """Like ``Store.list_objects``, each object as stored JSON bytes."""
        ...

    async def get_object_json(self, module: str, country_code: str, party_id: str, object_id: str) -> bytes | None:
        """Like ``Store.get_object``, as stored JSON bytes."""
        ...


def open_store(url: str) -> Store:
    """The store a database URL names (``OCPI_DATABASE``).

    * ``:memory:``, ``sqlite://`` or ``sqlite:///:memory:``: SQLite in this process only;
    * ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` or a plain file path: an SQLite
      file; ``?synchronous=full`` makes every commit wait for the disk (the default, ``normal``,
      survives a crash of the process but may lose the last commits if the machine loses power);
    * ``postgresql://user:password@host:port/dbname`` (or ``postgres://``): PostgreSQL, for several
      workers or hosts (``pip install 'psycopg[binary,pool]'``).
    """
    text = url.strip()
    scheme = text.split("://", 1)[0].lower() if "://" in text else ""
    if scheme in ("postgresql", "postgres"):
        from ._store_pg import PostgresStore

        return PostgresStore(text)
    if scheme == "":
        return SqliteStore(text or ":memory:")
    if scheme != "sqlite":
        raise ValueError(f"unsupported database URL {url!r}: use sqlite:///PATH or postgresql://...")
    parts = urlsplit(text)
    path = parts.path[1:] if parts.path.startswith("/") else parts.path
    options = {k.lower(): v[-1].lower() for k, v in parse_qs(parts.query).items()}
    synchronous = options.pop("synchronous", "normal")
    if options:
        raise ValueError(f"unknown option(s) {', '.join(sorted(options))} in database URL {url!r}")
    return SqliteStore(path or ":memory:", synchronous=synchronous)


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
CREATE TABLE IF NOT EXISTS ocpi_peer_state (
    party_key TEXT PRIMARY KEY,
    data TEXT NOT NULL
);
"""

PARTY_COLUMNS = "party_key, token_a, token_b, token_c, versions_url, version, endpoints, credentials, roles"
_OBJECT_KEY = "module=? AND country_code=? AND party_id=? AND object_id=?"
_SYNCHRONOUS = ("off", "normal", "full", "extra")


def check_key(name: str, value: str) -> str:
    """A key part must be a non-empty string (ValueError otherwise)."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string")
    return value


def object_key(module: str, country_code: str, party_id: str, object_id: str) -> tuple[str, str, str, str]:
    """The key columns of an object: the module as given, the CiStrings folded to ASCII upper case."""
    return (
        check_key("module", module),
        ci_key(check_key("country_code", country_code)),
        ci_key(check_key("party_id", party_id)),
        ci_key(check_key("object_id", object_id)),
    )


class EncodedObject(dict[str, Any]):
    """A JSON object that comes with its compact JSON text (``text``, what ``dumps`` would write),
    so that a store writes that text instead of encoding the object again. Made by the Engine from
    a body it has just written as JSON, at the moment it hands the object to the store; nothing
    changes it afterwards (a changed copy is a plain dict again)."""

    __slots__ = ("text",)

    def __init__(self, data: dict[str, Any], text: str) -> None:
        super().__init__(data)
        self.text = text


def object_text(data: dict[str, Any]) -> str:
    """The JSON text a store writes for an object: an ``EncodedObject``'s own, else ``dumps``."""
    return data.text if type(data) is EncodedObject else dumps(data)


def stored_stamp(data: dict[str, Any]) -> str:
    """The ``last_updated`` column of an object: its own, in the comparable form (now if missing)."""
    value = data.get("last_updated")
    return canonical_datetime(value if isinstance(value, str) and value else now_timestamp())


def party_from_row(row: tuple[Any, ...] | list[Any]) -> Party:
    """A Party from the columns of ``PARTY_COLUMNS`` (JSON columns as text, or already decoded)."""

    def json(value: Any) -> Any:
        return loads(value) if isinstance(value, (str, bytes)) else value

    return Party(
        party_key=row[0],
        token_a=row[1],
        token_b=row[2],
        token_c=row[3],
        versions_url=row[4],
        version=row[5],
        endpoints=json(row[6]),
        credentials=None if row[7] is None else json(row[7]),
        roles=json(row[8]),
    )


def party_columns(party: Party) -> tuple[Any, ...]:
    """The values of ``PARTY_COLUMNS`` for a party, JSON columns as text."""
    return (
        party.party_key,
        party.token_a,
        party.token_b,
        party.token_c,
        party.versions_url,
        party.version,
        dumps(party.endpoints),
        None if party.credentials is None else dumps(party.credentials),
        dumps(party.roles),
    )


def list_condition(module: str, query: ListQuery, placeholder: str = "?") -> tuple[str, list[Any]]:
    """The WHERE clause and its arguments of a list query (date_from inclusive, date_to exclusive)."""
    offset, limit = query["offset"], query["limit"]
    if offset < 0:
        raise ValueError(f"offset must be >= 0, got {offset}")
    if limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    where = [f"module={placeholder}"]
    args: list[Any] = [module]
    date_from, date_to = query["date_from"], query["date_to"]
    if date_from is not None:
        where.append(f"last_updated >= {placeholder}")
        args.append(canonical_datetime(date_from))
    if date_to is not None:
        where.append(f"last_updated < {placeholder}")
        args.append(canonical_datetime(date_to))
    country_code, party_id = query.get("country_code"), query.get("party_id")
    if country_code is not None:
        where.append(f"country_code = {placeholder}")
        args.append(ci_key(country_code))
    if party_id is not None:
        where.append(f"party_id = {placeholder}")
        args.append(ci_key(party_id))
    return " AND ".join(where), args


class StoredJSON:
    """``get_object`` and ``list_objects`` of a store that keeps each object as JSON text: its raw
    reads (``RawJSONStore``), decoded with exact numbers. Both stores of this runtime use it."""

    async def get_object_json(self, module: str, country_code: str, party_id: str, object_id: str) -> bytes | None:
        raise NotImplementedError

    async def list_objects_json(self, module: str, **query: Unpack[ListQuery]) -> tuple[list[bytes], int]:
        raise NotImplementedError

    async def get_object(self, module: str, country_code: str, party_id: str, object_id: str) -> dict[str, Any] | None:
        raw = await self.get_object_json(module, country_code, party_id, object_id)
        if raw is None:
            return None
        data: dict[str, Any] = loads(raw)
        return data

    async def list_objects(self, module: str, **query: Unpack[ListQuery]) -> tuple[list[dict[str, Any]], int]:
        rows, total = await self.list_objects_json(module, **query)
        return [loads(row) for row in rows], total


class SqliteStore(StoredJSON, Store, RawJSONStore):
    """``Store`` on sqlite3: ``SqliteStore(":memory:")`` or ``SqliteStore("/path/to/db.sqlite")``.

    A file database runs in WAL mode. Reads use one connection on the caller's thread: they take
    microseconds and never wait for a write. Every write is one transaction on a second connection in
    a writer thread, so that a commit's wait for the disk never holds up the event loop; other
    processes on the same file (``uvicorn --workers N``) take turns through SQLite's write lock
    (``BEGIN IMMEDIATE``, waiting up to ``busy_timeout`` seconds). ``synchronous``: ``normal`` (a
    commit survives a crash of the process; the machine losing power may lose the last commits) or
    ``full`` (every commit waits for the disk). In memory, one connection does everything.
    """

    def __init__(self, database: str = ":memory:", *, synchronous: str = "normal", busy_timeout: float = 30.0) -> None:
        if synchronous.lower() not in _SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {', '.join(_SYNCHRONOUS)}, got {synchronous!r}")
        self.database = database
        self._synchronous = synchronous.upper()
        self._busy_ms = int(busy_timeout * 1000)
        self._memory = database == ":memory:" or database.startswith("file::memory:")
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = self._connect()
        # Counts of list queries and token lookups, valid while the database is unchanged: our own
        # writes clear them, and PRAGMA data_version tells when another connection has committed.
        self._counts: dict[tuple[Any, ...], int] = {}
        self._tokens: dict[str, tuple[Any, ...] | None] = {}
        self._seen_version: int | None = None
        self._writer = None if self._memory else ThreadPoolExecutor(1, thread_name_prefix="ocpi-store-writer")
        self._wdb: sqlite3.Connection | None = None
        with self._lock:
            if not self._memory:
                self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.database, check_same_thread=False, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout={self._busy_ms}")
        conn.execute(f"PRAGMA synchronous={self._synchronous}")
        conn.execute("PRAGMA cache_size=-16000")  # 16 MiB of pages: a list page never re-reads the file
        return conn

    # -- plumbing ----------------------------------------------------------------------------------

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("the store is closed")
        return self._db

    async def close(self) -> None:
        if self._writer is not None:
            writer, self._writer = self._writer, None
            await asyncio.get_running_loop().run_in_executor(writer, self._close_writer)
            writer.shutdown(wait=True)
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def _close_writer(self) -> None:
        if self._wdb is not None:
            self._wdb.close()
            self._wdb = None

    async def __aenter__(self) -> SqliteStore:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def _fresh(self, conn: sqlite3.Connection) -> None:
        """Forget the caches when another connection (writer thread, another worker) committed."""
        version = int(conn.execute("PRAGMA data_version").fetchone()[0])
        if version != self._seen_version:
            self._counts.clear()
            self._tokens.clear()
            self._seen_version = version

    def _read(self, sql: str, args: tuple[Any, ...] | list[Any] = ()) -> list[Any]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    async def _write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work`` in one write transaction: in the writer thread for a file database."""
        if self._writer is None:
            with self._lock:
                result = self._transaction(self._conn, work)
        else:
            result = await asyncio.get_running_loop().run_in_executor(self._writer, self._in_writer, work)
        with self._lock:
            self._counts.clear()
            self._tokens.clear()
        return result

    def _in_writer(self, work: Callable[[sqlite3.Connection], T]) -> T:
        if self._db is None:
            raise RuntimeError("the store is closed")
        if self._wdb is None:
            self._wdb = self._connect()
        return self._transaction(self._wdb, work)

    @staticmethod
    def _transaction(conn: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = work(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return result

    # -- objects -----------------------------------------------------------------------------------

    async def get_object_json(self, module: str, country_code: str, party_id: str, object_id: str) -> bytes | None:
        key = object_key(module, country_code, party_id, object_id)
        rows = self._read(f"SELECT CAST(data AS BLOB) FROM ocpi_objects WHERE {_OBJECT_KEY}", key)
        return bytes(rows[0][0]) if rows else None

    async def put_object(
        self, module: str, country_code: str, party_id: str, object_id: str, data: dict[str, Any], last_updated: str
    ) -> bool:
        key = object_key(module, country_code, party_id, object_id)
        if not isinstance(data, dict):
            raise TypeError("data must be a JSON object (dict)")
        stamp = canonical_datetime(last_updated)
        text = object_text(data)

        def work(conn: sqlite3.Connection) -> bool:
            existed = conn.execute(f"SELECT 1 FROM ocpi_objects WHERE {_OBJECT_KEY}", key).fetchone() is not None
            conn.execute(
                "INSERT OR REPLACE INTO ocpi_objects (module, country_code, party_id, object_id, last_updated, data)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (*key, stamp, text),
            )
            return not existed

        return await self._write(work)

    async def update_object(
        self, module: str, country_code: str, party_id: str, object_id: str, mutate: Mutation
    ) -> dict[str, Any] | None:
        key = object_key(module, country_code, party_id, object_id)

        def work(conn: sqlite3.Connection) -> dict[str, Any] | None:
            row = conn.execute(f"SELECT data FROM ocpi_objects WHERE {_OBJECT_KEY}", key).fetchone()
            new = mutate(None if row is None else loads(row[0]))
            if new is None:
                return None
            if not isinstance(new, dict):
                raise TypeError("a mutation must return a JSON object (dict) or None")
            conn.execute(
                "INSERT OR REPLACE INTO ocpi_objects (module, country_code, party_id, object_id, last_updated, data)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (*key, stored_stamp(new), object_text(new)),
            )
            return new

        return await self._write(work)

    async def delete_object(self, module: str, country_code: str, party_id: str, object_id: str) -> bool:
        key = object_key(module, country_code, party_id, object_id)

        def work(conn: sqlite3.Connection) -> bool:
            return conn.execute(f"DELETE FROM ocpi_objects WHERE {_OBJECT_KEY}", key).rowcount > 0

        return await self._write(work)

    async def list_objects_json(self, module: str, **query: Unpack[ListQuery]) -> tuple[list[bytes], int]:
        """Like ``list_objects``, but each object as its stored JSON, UTF-8 bytes, nothing parsed
        or decoded: the default list handlers send these as they are."""
        condition, args = list_condition(module, query)
        offset, limit = query["offset"], query["limit"]
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
                self._fresh(conn)
                cache_key = (condition, *args)
                cached = self._counts.get(cache_key)
                if cached is None:
                    cached = int(
                        conn.execute(f"SELECT COUNT(*) FROM ocpi_objects WHERE {condition}", args).fetchone()[0]
                    )
                    if len(self._counts) >= 1024:
                        self._counts.clear()
                    self._counts[cache_key] = cached
                total = cached
        return [row[0] for row in rows], total

    # -- parties -----------------------------------------------------------------------------------

    async def party(self, party_key: str) -> Party | None:
        rows = self._read(f"SELECT {PARTY_COLUMNS} FROM ocpi_parties WHERE party_key=?", (party_key,))
        return party_from_row(rows[0]) if rows else None

    async def create_token_a(self, party_key: str) -> str:
        check_key("party_key", party_key)
        token = new_token()

        def work(conn: sqlite3.Connection) -> None:
            updated = conn.execute("UPDATE ocpi_parties SET token_a=? WHERE party_key=?", (token, party_key)).rowcount
            if not updated:
                conn.execute(
                    "INSERT INTO ocpi_parties (party_key, token_a, endpoints, roles) VALUES (?, ?, '[]', '[]')",
                    (party_key, token),
                )

        await self._write(work)
        return token

    async def party_by_token(self, token: str) -> tuple[Party, Literal["A", "C"]] | None:
        """Every request asks this. Rows (and misses) are kept only while the database is unchanged
        (``PRAGMA data_version``, our own writes): a token saved or removed by any process is seen
        by the next request."""
        if not token:
            return None
        with self._lock:
            conn = self._conn
            self._fresh(conn)
            if token in self._tokens:
                row = self._tokens[token]
            else:
                row = conn.execute(
                    f"SELECT {PARTY_COLUMNS} FROM ocpi_parties WHERE token_c=? OR token_a=? LIMIT 1", (token, token)
                ).fetchone()
                if len(self._tokens) >= 1024:
                    self._tokens.clear()
                self._tokens[token] = row
        if row is None:
            return None
        party = party_from_row(row)
        return party, ("C" if party.token_c == token else "A")

    async def save_party(self, party: Party) -> None:
        check_key("party_key", party.party_key)
        values = party_columns(party)
        await self._write(lambda conn: self._save_party(conn, values))

    @staticmethod
    def _save_party(conn: sqlite3.Connection, values: tuple[Any, ...]) -> None:
        conn.execute(
            # An upsert, not INSERT OR REPLACE: that would silently delete another party whose
            # token collides with this one (UNIQUE columns); here the collision raises instead.
            f"INSERT INTO ocpi_parties ({PARTY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (party_key) DO UPDATE SET token_a=excluded.token_a, token_b=excluded.token_b,"
            " token_c=excluded.token_c, versions_url=excluded.versions_url, version=excluded.version,"
            " endpoints=excluded.endpoints, credentials=excluded.credentials, roles=excluded.roles",
            values,
        )

    async def update_party(self, party_key: str, mutate: PartyMutation) -> Party | None:
        check_key("party_key", party_key)

        def work(conn: sqlite3.Connection) -> Party | None:
            row = conn.execute(f"SELECT {PARTY_COLUMNS} FROM ocpi_parties WHERE party_key=?", (party_key,)).fetchone()
            new = mutate(None if row is None else party_from_row(row))
            if new is None:
                return None
            if new.party_key != party_key:
                raise ValueError("a party mutation cannot change the party key")
            self._save_party(conn, party_columns(new))
            return new

        return await self._write(work)

    async def delete_party(self, party_key: str) -> bool:
        def work(conn: sqlite3.Connection) -> bool:
            conn.execute("DELETE FROM ocpi_peer_state WHERE party_key=?", (party_key,))
            return conn.execute("DELETE FROM ocpi_parties WHERE party_key=?", (party_key,)).rowcount > 0

        return await self._write(work)

    async def parties(self) -> list[Party]:
        rows = self._read(f"SELECT {PARTY_COLUMNS} FROM ocpi_parties ORDER BY party_key")
        return [party_from_row(row) for row in rows]

    # -- peer state --------------------------------------------------------------------------------

    async def peer_state(self, party_key: str) -> dict[str, Any] | None:
        rows = self._read("SELECT data FROM ocpi_peer_state WHERE party_key=?", (party_key,))
        if not rows:
            return None
        state: dict[str, Any] = loads(rows[0][0])
        return state

    async def save_peer_state(self, party_key: str, state: dict[str, Any]) -> None:
        check_key("party_key", party_key)
        text = dumps(state)

        def work(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO ocpi_peer_state (party_key, data) VALUES (?, ?)"
                " ON CONFLICT (party_key) DO UPDATE SET data=excluded.data",
                (party_key, text),
            )

        await self._write(work)

    async def update_peer_state(self, party_key: str, mutate: Mutation) -> dict[str, Any] | None:
        check_key("party_key", party_key)

        def work(conn: sqlite3.Connection) -> dict[str, Any] | None:
            row = conn.execute("SELECT data FROM ocpi_peer_state WHERE party_key=?", (party_key,)).fetchone()
            new = mutate(None if row is None else loads(row[0]))
            if new is None:
                return None
            conn.execute(
                "INSERT INTO ocpi_peer_state (party_key, data) VALUES (?, ?)"
                " ON CONFLICT (party_key) DO UPDATE SET data=excluded.data",
                (party_key, dumps(new)),
            )
            return new

        return await self._write(work)
