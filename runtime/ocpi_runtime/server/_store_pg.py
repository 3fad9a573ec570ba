"""PostgreSQL storage of a generated OCPI server (``OCPI_DATABASE=postgresql://...``).

Static: copied verbatim into every generated server package. Needs ``psycopg`` 3 with its pool
(``pip install 'psycopg[binary,pool]'``), imported only when a PostgreSQL URL is used, so the
package imports without it.

Several workers (``uvicorn --workers N``) and several hosts share one database; nothing is cached
in a process, so what one worker commits is what the next request sees on any other:

* Token lookups read the database every time: a token revoked or replaced by any worker stops
  working for the next request that starts after the commit (no delay, no per-process cache).
* ``update_object`` (every nested PUT, PATCH and nested DELETE) runs in one transaction holding the
  row's lock (``SELECT ... FOR UPDATE``); a key not stored yet is claimed first by inserting a
  placeholder row that only this transaction sees, so two first writers queue on the key as well.
  Serialization failures and deadlocks are retried (the mutation may then be called again).
* Documents are kept as PostgreSQL ``json`` (validated JSON text), not ``jsonb``: ``jsonb``
  reorders keys, adds spaces and rewrites number text, so what we send would no longer be the
  bytes we were given; ``json`` gives them back verbatim, so a page is sent without parsing.
* Key columns, ``last_updated`` and party keys use the ``"C"`` collation: ordering is by bytes, as
  in SQLite, whatever the database's locale.
* The schema is created on first use (``CREATE ... IF NOT EXISTS`` under an advisory lock, so
  workers starting together do not race).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Literal, Unpack
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ._json import dumps, loads
from ._store import (
    PARTY_COLUMNS,
    ListQuery,
    Mutation,
    Party,
    PartyMutation,
    RawJSONStore,
    Store,
    StoredJSON,
    check_key,
    list_condition,
    new_token,
    object_key,
    object_text,
    party_columns,
    party_from_row,
    stored_stamp,
)
from ._time import canonical_datetime

if TYPE_CHECKING:
    from psycopg import AsyncConnection
    from psycopg_pool import AsyncConnectionPool

__all__ = ["PostgresStore"]

_SCHEMA_LOCK = 0x4F435049  # "OCPI": the advisory lock taken while the schema is created

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ocpi_objects (
    module TEXT COLLATE "C" NOT NULL,
    country_code TEXT COLLATE "C" NOT NULL,
    party_id TEXT COLLATE "C" NOT NULL,
    object_id TEXT COLLATE "C" NOT NULL,
    last_updated TEXT COLLATE "C" NOT NULL,
    data JSON NOT NULL,
    PRIMARY KEY (module, country_code, party_id, object_id)
);
DO $$ BEGIN
    -- Documents out of line but not compressed: a page of 50 reads about twice as fast as with
    -- pglz (measured with 7 KB Locations), for about 4x the space of compressed documents.
    IF (SELECT attstorage FROM pg_attribute WHERE attrelid = 'ocpi_objects'::regclass AND attname = 'data') <> 'e'
    THEN ALTER TABLE ocpi_objects ALTER COLUMN data SET STORAGE EXTERNAL;
    END IF;
END $$;
CREATE INDEX IF NOT EXISTS ocpi_objects_by_time
    ON ocpi_objects (module, last_updated, country_code, party_id, object_id);
CREATE INDEX IF NOT EXISTS ocpi_objects_by_owner
    ON ocpi_objects (module, country_code, party_id, last_updated, object_id);
CREATE TABLE IF NOT EXISTS ocpi_parties (
    party_key TEXT COLLATE "C" PRIMARY KEY,
    token_a TEXT UNIQUE,
    token_b TEXT,
    token_c TEXT UNIQUE,
    versions_url TEXT,
    version TEXT,
    endpoints JSON NOT NULL,
    credentials JSON,
    roles JSON NOT NULL
);
CREATE TABLE IF NOT EXISTS ocpi_peer_state (
    party_key TEXT COLLATE "C" PRIMARY KEY,
    data JSON NOT NULL
);
"""

_KEY = "module=%s AND country_code=%s AND party_id=%s AND object_id=%s"
_OBJECT_COLUMNS = "module, country_code, party_id, object_id, last_updated, data"
_RETRIES = 10


def _psycopg() -> Any:
    try:
        import psycopg
        import psycopg_pool  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError(
            "OCPI_DATABASE names PostgreSQL, but psycopg is not installed: pip install 'psycopg[binary,pool]'"
            " (or the scaffold's extra: pip install '.[postgres]')"
        ) from exc
    return psycopg


def _raw_json_loader() -> type[Any]:
    """A psycopg loader giving ``json`` columns as the stored bytes (psycopg would parse them)."""
    from psycopg.adapt import Loader

    class RawJSONLoader(Loader):
        def load(self, data: Any) -> bytes:
            return bytes(data)

    return RawJSONLoader


#: Insert or update a party; a token that collides with another party's raises (UNIQUE), replacing nobody.
_SAVE_PARTY = (
    f"INSERT INTO ocpi_parties ({PARTY_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s::json, %s::json, %s::json)"
    " ON CONFLICT (party_key) DO UPDATE SET token_a=EXCLUDED.token_a, token_b=EXCLUDED.token_b,"
    " token_c=EXCLUDED.token_c, versions_url=EXCLUDED.versions_url, version=EXCLUDED.version,"
    " endpoints=EXCLUDED.endpoints, credentials=EXCLUDED.credentials, roles=EXCLUDED.roles RETURNING 1"
)


class PostgresStore(StoredJSON, Store, RawJSONStore):
    """``Store`` on PostgreSQL: ``PostgresStore("postgresql://user:password@host:5432/dbname")``.

    The connection pool (``min_size`` to ``max_size`` connections per process; in the URL also
    ``?pool_min_size=2&pool_max_size=20``, taken out before the URL goes to libpq) opens on first
    use, inside the running event loop, and closes with ``close()``. Other query parameters are
    libpq's, e.g. ``?sslmode=require`` or ``?options=-csynchronous_commit%3Doff``.
    """

    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 10, timeout: float = 30.0) -> None:
        _psycopg()
        self.url = url
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True)
        sizes = {k: v for k, v in query if k in ("pool_min_size", "pool_max_size")}
        try:
            min_size = int(sizes.get("pool_min_size", min_size))
            max_size = int(sizes.get("pool_max_size", max_size))
        except ValueError:
            raise ValueError(f"pool_min_size and pool_max_size must be integers in {url!r}") from None
        if not 0 <= min_size <= max_size or max_size < 1:
            raise ValueError(f"need 0 <= pool_min_size <= pool_max_size and pool_max_size >= 1 in {url!r}")
        rest = [(k, v) for k, v in query if k not in sizes]
        self._conninfo = urlunsplit(parts._replace(query=urlencode(rest)))
        self._min_size = min_size
        self._max_size = max_size
        self._timeout = timeout
        self._pool: AsyncConnectionPool[Any] | None = None
        self._opening: asyncio.Lock | None = None
        self._closed = False

    # -- plumbing ----------------------------------------------------------------------------------

    async def _get_pool(self) -> AsyncConnectionPool[Any]:
        pool = self._pool
        if pool is not None:
            return pool
        if self._closed:
            raise RuntimeError("the store is closed")
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._pool is None:
                if self._closed:
                    raise RuntimeError("the store is closed")
                from psycopg_pool import AsyncConnectionPool

                loader = _raw_json_loader()

                async def configure(conn: AsyncConnection[Any]) -> None:
                    conn.adapters.register_loader("json", loader)

                new_pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
                    self._conninfo,
                    min_size=self._min_size,
                    max_size=self._max_size,
                    timeout=self._timeout,
                    kwargs={"autocommit": True},
                    configure=configure,
                    open=False,
                    name="ocpi-store",
                )
                await new_pool.open(wait=True, timeout=self._timeout)
                try:
                    async with new_pool.connection() as conn:
                        async with conn.transaction():
                            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                            await conn.execute(_SCHEMA)
                except BaseException:
                    await new_pool.close()
                    raise
                self._pool = new_pool
        assert self._pool is not None
        return self._pool

    async def close(self) -> None:
        self._closed = True
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def __aenter__(self) -> PostgresStore:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _fetch(self, sql: str, args: tuple[Any, ...] | list[Any] = ()) -> list[tuple[Any, ...]]:
        pool = await self._get_pool()
        async with pool.connection() as conn:
            cur = await conn.execute(sql, args)
            rows: list[tuple[Any, ...]] = await cur.fetchall()
            return rows

    async def _read_change_write(
        self,
        lock_sql: str,
        claim_sql: str,
        key: tuple[Any, ...],
        mutate: Mutation,
        write: Any,
    ) -> dict[str, Any] | None:
        """Lock the row (``lock_sql``; or claim the key with ``claim_sql`` when there is no row),
        call ``mutate`` and ``write(conn, new)`` in one transaction; retried on lost races."""
        psycopg = _psycopg()
        pool = await self._get_pool()
        for attempt in range(_RETRIES):
            try:
                async with pool.connection() as conn:
                    result: dict[str, Any] | None = None
                    async with conn.transaction():
                        while True:
                            row = await (await conn.execute(lock_sql, key)).fetchone()
                            if row is not None:
                                current: dict[str, Any] | None = loads(row[0])
                                break
                            claimed = await (await conn.execute(claim_sql, key)).fetchone()
                            if claimed is not None:
                                current = None  # ours alone until commit; rolled back if unchanged
                                break
                            # Another transaction created the row since our SELECT: lock that one.
                        new = mutate(current)
                        if new is None:
                            raise psycopg.Rollback()
                        if not isinstance(new, dict):
                            raise TypeError("a mutation must return a JSON object (dict) or None")
                        await write(conn, new)
                        result = new
                    return result
            except (psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected):
                if attempt == _RETRIES - 1:
                    raise
                await asyncio.sleep(0.001 * (attempt + 1))
        raise AssertionError("unreachable")  # pragma: no cover

    # -- objects -----------------------------------------------------------------------------------

    async def get_object_json(self, module: str, country_code: str, party_id: str, object_id: str) -> bytes | None:
        key = object_key(module, country_code, party_id, object_id)
        rows = await self._fetch(f"SELECT data FROM ocpi_objects WHERE {_KEY}", key)
        return bytes(rows[0][0]) if rows else None

    async def put_object(
        self, module: str, country_code: str, party_id: str, object_id: str, data: dict[str, Any], last_updated: str
    ) -> bool:
        key = object_key(module, country_code, party_id, object_id)
        if not isinstance(data, dict):
            raise TypeError("data must be a JSON object (dict)")
        stamp = canonical_datetime(last_updated)
        rows = await self._fetch(
            f"INSERT INTO ocpi_objects ({_OBJECT_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s::json)"
            " ON CONFLICT (module, country_code, party_id, object_id)"
            " DO UPDATE SET last_updated=EXCLUDED.last_updated, data=EXCLUDED.data"
            " RETURNING (xmax = 0)",  # xmax is 0 on a row this statement inserted, not on an updated one
            (*key, stamp, object_text(data)),
        )
        return bool(rows[0][0])

    async def update_object(
        self, module: str, country_code: str, party_id: str, object_id: str, mutate: Mutation
    ) -> dict[str, Any] | None:
        key = object_key(module, country_code, party_id, object_id)

        async def write(conn: AsyncConnection[Any], new: dict[str, Any]) -> None:
            await conn.execute(
                f"UPDATE ocpi_objects SET last_updated=%s, data=%s::json WHERE {_KEY}",
                (stored_stamp(new), object_text(new), *key),
            )

        return await self._read_change_write(
            f"SELECT data FROM ocpi_objects WHERE {_KEY} FOR UPDATE",
            f"INSERT INTO ocpi_objects ({_OBJECT_COLUMNS}) VALUES (%s, %s, %s, %s, '', 'null')"
            " ON CONFLICT DO NOTHING RETURNING 1",
            key,
            mutate,
            write,
        )

    async def delete_object(self, module: str, country_code: str, party_id: str, object_id: str) -> bool:
        key = object_key(module, country_code, party_id, object_id)
        rows = await self._fetch(f"DELETE FROM ocpi_objects WHERE {_KEY} RETURNING 1", key)
        return bool(rows)

    async def list_objects_json(self, module: str, **query: Unpack[ListQuery]) -> tuple[list[bytes], int]:
        """Like ``list_objects``, each object as its stored JSON bytes, nothing parsed."""
        condition, args = list_condition(module, query, "%s")
        offset, limit = query["offset"], query["limit"]
        pool = await self._get_pool()
        async with pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT data FROM ocpi_objects WHERE {condition}"
                " ORDER BY last_updated, country_code, party_id, object_id LIMIT %s OFFSET %s",
                [*args, limit, offset],
            )
            rows = await cur.fetchall()
            if rows and len(rows) < limit:
                total = offset + len(rows)  # the last page: no need to count
            else:
                cur = await conn.execute(f"SELECT count(*) FROM ocpi_objects WHERE {condition}", args)
                counted = await cur.fetchone()
                total = int(counted[0]) if counted else 0
        return [row[0] for row in rows], total

    # -- parties -----------------------------------------------------------------------------------

    async def party(self, party_key: str) -> Party | None:
        rows = await self._fetch(f"SELECT {PARTY_COLUMNS} FROM ocpi_parties WHERE party_key=%s", (party_key,))
        return party_from_row(rows[0]) if rows else None

    async def create_token_a(self, party_key: str) -> str:
        check_key("party_key", party_key)
        token = new_token()
        await self._fetch(
            "INSERT INTO ocpi_parties (party_key, token_a, endpoints, roles) VALUES (%s, %s, '[]', '[]')"
            " ON CONFLICT (party_key) DO UPDATE SET token_a=EXCLUDED.token_a RETURNING 1",
            (party_key, token),
        )
        return token

    async def party_by_token(self, token: str) -> tuple[Party, Literal["A", "C"]] | None:
        """Every request asks this, and every time the database answers: a token saved or removed
        by any worker on any host counts from the next request on."""
        if not token:
            return None
        rows = await self._fetch(
            f"SELECT {PARTY_COLUMNS} FROM ocpi_parties WHERE token_c=%s OR token_a=%s LIMIT 1", (token, token)
        )
        if not rows:
            return None
        party = party_from_row(rows[0])
        return party, ("C" if party.token_c == token else "A")

    async def save_party(self, party: Party) -> None:
        check_key("party_key", party.party_key)
        await self._fetch(_SAVE_PARTY, party_columns(party))

    async def update_party(self, party_key: str, mutate: PartyMutation) -> Party | None:
        check_key("party_key", party_key)
        pool = await self._get_pool()
        async with pool.connection() as conn:
            async with conn.transaction():
                cur = await conn.execute(
                    f"SELECT {PARTY_COLUMNS} FROM ocpi_parties WHERE party_key=%s FOR UPDATE", (party_key,)
                )
                row = await cur.fetchone()
                new = mutate(None if row is None else party_from_row(row))
                if new is None:
                    return None
                if new.party_key != party_key:
                    raise ValueError("a party mutation cannot change the party key")
                await conn.execute(_SAVE_PARTY, party_columns(new))
                return new

    async def delete_party(self, party_key: str) -> bool:
        pool = await self._get_pool()
        async with pool.connection() as conn:
            async with conn.transaction():
                await conn.execute("DELETE FROM ocpi_peer_state WHERE party_key=%s", (party_key,))
                cur = await conn.execute("DELETE FROM ocpi_parties WHERE party_key=%s RETURNING 1", (party_key,))
                return bool(await cur.fetchall())

    async def parties(self) -> list[Party]:
        rows = await self._fetch(f"SELECT {PARTY_COLUMNS} FROM ocpi_parties ORDER BY party_key")
        return [party_from_row(row) for row in rows]

    # -- peer state --------------------------------------------------------------------------------

    async def peer_state(self, party_key: str) -> dict[str, Any] | None:
        rows = await self._fetch("SELECT data FROM ocpi_peer_state WHERE party_key=%s", (party_key,))
        if not rows:
            return None
        state: dict[str, Any] = loads(rows[0][0])
        return state

    async def save_peer_state(self, party_key: str, state: dict[str, Any]) -> None:
        check_key("party_key", party_key)
        await self._fetch(
            "INSERT INTO ocpi_peer_state (party_key, data) VALUES (%s, %s::json)"
            " ON CONFLICT (party_key) DO UPDATE SET data=EXCLUDED.data RETURNING 1",
            (party_key, dumps(state)),
        )

    async def update_peer_state(self, party_key: str, mutate: Mutation) -> dict[str, Any] | None:
        check_key("party_key", party_key)

        async def write(conn: AsyncConnection[Any], new: dict[str, Any]) -> None:
            await conn.execute("UPDATE ocpi_peer_state SET data=%s::json WHERE party_key=%s", (dumps(new), party_key))

        return await self._read_change_write(
            "SELECT data FROM ocpi_peer_state WHERE party_key=%s FOR UPDATE",
            "INSERT INTO ocpi_peer_state (party_key, data) VALUES (%s, 'null') ON CONFLICT DO NOTHING RETURNING 1",
            (party_key,),
            mutate,
            write,
        )
