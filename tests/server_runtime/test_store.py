"""Every store (SQLite in memory, SQLite file, PostgreSQL): objects (CRUD, CiString keys, time
filters, paging), atomic updates, the parties' credentials state and peer state. One suite, run on
each store; the tests of one store's own machinery are in their sections at the end."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ocpi_runtime.server._json import dumps, loads
from ocpi_runtime.server._store import (
    EncodedObject,
    Party,
    RawJSONStore,
    SqliteStore,
    Store,
    ci_key,
    object_text,
    open_store,
)
from tests import pg_support
from tests.blocking import blocking, sync

STORES = ["sqlite-memory", "sqlite-file", "postgresql"]
SHARED = ["sqlite-file", "postgresql"]  # stores several processes (workers) can share


@dataclass
class Backend:
    """One kind of store and a database of it: ``open()`` gives another store on that database."""

    kind: str
    url: str

    def open(self) -> Store:
        return open_store(self.url)


def _backend(kind: str, tmp_path: Path) -> Backend:
    if kind == "sqlite-memory":
        return Backend(kind, ":memory:")
    if kind == "sqlite-file":
        return Backend(kind, f"sqlite:///{tmp_path / 'store.sqlite'}")
    url = pg_support.postgres_url()  # skips (with the reason) when there is no server
    pg_support.empty_tables(url)
    return Backend(kind, url)


@pytest.fixture(params=STORES)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    return _backend(request.param, tmp_path)


@pytest.fixture(params=SHARED)
def shared(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    return _backend(request.param, tmp_path)


@pytest.fixture
def store(backend: Backend) -> Iterator[Store]:
    db = backend.open()
    yield db
    blocking(db.close())


def _unique_violation() -> tuple[type[BaseException], ...]:
    kinds: list[type[BaseException]] = [sqlite3.IntegrityError]
    try:
        import psycopg

        kinds.append(psycopg.IntegrityError)
    except ImportError:
        pass
    return tuple(kinds)


def put(store: Store, oid: str, stamp: str, *, cc: str = "NL", pid: str = "EXA", module: str = "locations") -> bool:
    return sync(store).put_object(module, cc, pid, oid, {"id": oid, "last_updated": stamp}, stamp)


def ids(items: list[dict[str, object]]) -> list[object]:
    return [item["id"] for item in items]


# -- objects -----------------------------------------------------------------------------------------


def test_every_store_satisfies_the_protocols(store: Store) -> None:
    as_protocol: Store = store
    assert isinstance(store, Store) and isinstance(store, RawJSONStore)
    assert sync(as_protocol).get_object("locations", "NL", "EXA", "nope") is None


def test_put_reports_created_then_replaced_and_get_returns_latest(store: Store) -> None:
    assert sync(store).put_object(
        "locations", "NL", "EXA", "LOC1", {"id": "LOC1", "name": "first"}, "2024-01-01T00:00:00Z"
    )
    assert not sync(store).put_object(
        "locations", "NL", "EXA", "LOC1", {"id": "LOC1", "name": "second"}, "2024-01-02T00:00:00Z"
    )
    assert sync(store).get_object("locations", "NL", "EXA", "LOC1") == {"id": "LOC1", "name": "second"}
    _, total = sync(store).list_objects("locations", date_from=None, date_to=None, offset=0, limit=10)
    assert total == 1


def test_keys_are_case_insensitive_but_data_keeps_its_spelling(store: Store) -> None:
    assert sync(store).put_object("locations", "nl", "exa", "Loc-1", {"id": "Loc-1"}, "2024-01-01T00:00:00Z")
    assert sync(store).get_object("locations", "NL", "EXA", "LOC-1") == {"id": "Loc-1"}
    assert sync(store).get_object("locations", "Nl", "eXa", "loc-1") == {"id": "Loc-1"}
    assert not sync(store).put_object("locations", "NL", "EXA", "LOC-1", {"id": "LOC-1"}, "2024-01-01T00:00:00Z")
    assert sync(store).get_object("locations", "nl", "exa", "loc-1") == {"id": "LOC-1"}
    assert sync(store).delete_object("locations", "nL", "ExA", "lOc-1")
    assert sync(store).get_object("locations", "NL", "EXA", "LOC-1") is None


def test_ci_key_upper_cases_ascii_only() -> None:
    assert ci_key("abc-Ä-é") == "ABC-Ä-é"


def test_modules_and_owners_are_separate_namespaces(store: Store) -> None:
    put(store, "X", "2024-01-01T00:00:00Z", module="locations")
    put(store, "X", "2024-01-01T00:00:00Z", module="tariffs")
    put(store, "X", "2024-01-01T00:00:00Z", cc="DE")
    assert sync(store).delete_object("tariffs", "NL", "EXA", "X")
    assert sync(store).get_object("locations", "NL", "EXA", "X") is not None
    assert sync(store).get_object("locations", "DE", "EXA", "X") is not None
    assert sync(store).get_object("tariffs", "NL", "EXA", "X") is None


def test_delete_reports_whether_something_was_deleted(store: Store) -> None:
    assert not sync(store).delete_object("locations", "NL", "EXA", "LOC1")
    put(store, "LOC1", "2024-01-01T00:00:00Z")
    assert sync(store).delete_object("locations", "NL", "EXA", "LOC1")
    assert not sync(store).delete_object("locations", "NL", "EXA", "LOC1")


def test_numbers_come_back_exact(store: Store) -> None:
    data = {"id": "T1", "price": Decimal("0.1000"), "big": Decimal("12345678901234567890.123456789"), "n": 7}
    sync(store).put_object("tariffs", "NL", "EXA", "T1", data, "2024-01-01T00:00:00Z")
    got = sync(store).get_object("tariffs", "NL", "EXA", "T1")
    assert got is not None
    assert got["price"] == Decimal("0.1000") and str(got["price"]) == "0.1000"
    assert str(got["big"]) == "12345678901234567890.123456789"
    assert got["n"] == 7 and isinstance(got["n"], int)


def test_bad_input_is_rejected(store: Store) -> None:
    with pytest.raises(ValueError):
        sync(store).put_object("locations", "NL", "EXA", "L", {"id": "L"}, "yesterday")
    with pytest.raises(ValueError):
        sync(store).put_object("locations", "NL", "EXA", "", {"id": "L"}, "2024-01-01T00:00:00Z")
    with pytest.raises(ValueError):
        sync(store).list_objects("locations", date_from=None, date_to=None, offset=-1, limit=10)
    assert sync(store).get_object("locations", "NL", "EXA", "L") is None


# -- listing -----------------------------------------------------------------------------------------


@pytest.fixture
def timeline(store: Store) -> Store:
    # Deliberately mixed input forms: Z, no zone, offsets, fractions.
    put(store, "A", "2024-01-01T00:00:00Z")
    put(store, "B", "2024-01-01T12:00:00")  # no zone = UTC
    put(store, "C", "2024-01-02T01:00:00+01:00")  # = 2024-01-02T00:00:00Z
    put(store, "D", "2024-01-02T00:00:00.5Z")
    put(store, "E", "2024-01-03T00:00:00.000001Z")
    return store


def test_list_is_ordered_by_time_whatever_the_input_form(timeline: Store) -> None:
    items, total = sync(timeline).list_objects("locations", date_from=None, date_to=None, offset=0, limit=100)
    assert ids(items) == ["A", "B", "C", "D", "E"]
    assert total == 5


def test_date_from_is_inclusive(timeline: Store) -> None:
    items, total = sync(timeline).list_objects(
        "locations", date_from="2024-01-02T00:00:00Z", date_to=None, offset=0, limit=100
    )
    assert ids(items) == ["C", "D", "E"]  # C is exactly date_from (written with an offset)
    assert total == 3


def test_date_to_is_exclusive(timeline: Store) -> None:
    items, total = sync(timeline).list_objects(
        "locations", date_from=None, date_to="2024-01-02T00:00:00Z", offset=0, limit=100
    )
    assert ids(items) == ["A", "B"]  # C is exactly date_to: left out
    assert total == 2


def test_filter_bounds_accept_every_datetime_form(timeline: Store) -> None:
    forms = ["2024-01-02T00:00:00", "2024-01-02T00:00:00Z", "2024-01-02T02:00:00+02:00", "2024-01-01T19:00:00-05:00"]
    for form in forms:
        items, _ = sync(timeline).list_objects("locations", date_from=form, date_to=None, offset=0, limit=100)
        assert ids(items) == ["C", "D", "E"], form
    # Fractions are compared as time, not as text: .5 is after .000001 is after .0
    items, _ = sync(timeline).list_objects(
        "locations", date_from="2024-01-02T00:00:00.000001Z", date_to="2024-01-03T00:00:00.000001", offset=0, limit=100
    )
    assert ids(items) == ["D"]


def test_offset_limit_and_total(timeline: Store) -> None:
    page, total = sync(timeline).list_objects("locations", date_from=None, date_to=None, offset=1, limit=2)
    assert ids(page) == ["B", "C"] and total == 5
    page, total = sync(timeline).list_objects("locations", date_from=None, date_to=None, offset=4, limit=2)
    assert ids(page) == ["E"] and total == 5
    page, total = sync(timeline).list_objects("locations", date_from=None, date_to=None, offset=10, limit=2)
    assert page == [] and total == 5
    page, total = sync(timeline).list_objects(
        "locations", date_from="2024-01-01T06:00:00Z", date_to=None, offset=1, limit=1
    )
    assert ids(page) == ["C"] and total == 4  # the total counts the filtered set, not the page


def test_equal_timestamps_are_ordered_by_key(store: Store) -> None:
    for oid in ["c", "A", "b"]:
        put(store, oid, "2024-01-01T00:00:00Z")
    put(store, "Z", "2024-01-01T00:00:00Z", cc="BE")
    items, _ = sync(store).list_objects("locations", date_from=None, date_to=None, offset=0, limit=10)
    assert ids(items) == ["Z", "A", "b", "c"]  # BE before NL, then object id (upper-cased)


def test_list_filters_by_owner_case_insensitively(store: Store) -> None:
    put(store, "A", "2024-01-01T00:00:00Z", cc="NL", pid="EXA")
    put(store, "B", "2024-01-01T00:00:00Z", cc="NL", pid="OTH")
    put(store, "C", "2024-01-01T00:00:00Z", cc="DE", pid="EXA")
    items, total = sync(store).list_objects(
        "locations", date_from=None, date_to=None, offset=0, limit=10, country_code="nl"
    )
    assert ids(items) == ["A", "B"] and total == 2
    items, total = sync(store).list_objects(
        "locations", date_from=None, date_to=None, offset=0, limit=10, country_code="nl", party_id="exa"
    )
    assert ids(items) == ["A"] and total == 1


def test_replacing_moves_an_object_in_time(store: Store) -> None:
    put(store, "A", "2024-01-01T00:00:00Z")
    put(store, "B", "2024-01-02T00:00:00Z")
    put(store, "A", "2024-01-03T00:00:00Z")
    items, _ = sync(store).list_objects("locations", date_from="2024-01-02T12:00:00Z", date_to=None, offset=0, limit=10)
    assert ids(items) == ["A"]


# -- parties -----------------------------------------------------------------------------------------


def test_token_a_lifecycle(store: Store) -> None:
    token_a = sync(store).create_token_a("NL/ABC")
    assert len(token_a) >= 32 and all("\x21" <= ch <= "\x7e" for ch in token_a)
    found = sync(store).party_by_token(token_a)
    assert found is not None
    party, kind = found
    assert (party.party_key, kind, party.registered) == ("NL/ABC", "A", False)
    again = sync(store).create_token_a("NL/ABC")
    assert again != token_a
    assert sync(store).party_by_token(token_a) is None  # a new token A replaces the old one
    assert [p.party_key for p in sync(store).parties()] == ["NL/ABC"]


def test_save_party_round_trip_and_token_kinds(store: Store) -> None:
    token_a = sync(store).create_token_a("NL/ABC")
    party = sync(store).party("NL/ABC")
    assert party is not None
    party.token_a = None
    party.token_b = "peer-token-b"
    party.token_c = "our-token-c"
    party.versions_url = "https://peer.example/versions"
    party.version = "2.2.1"
    party.endpoints = [{"identifier": "cdrs", "role": "RECEIVER", "url": "https://peer.example/cdrs"}]
    party.credentials = {"token": "peer-token-b", "url": "https://peer.example/versions", "roles": []}
    party.roles = [{"role": "CPO", "country_code": "NL", "party_id": "ABC"}]
    sync(store).save_party(party)
    assert sync(store).party_by_token(token_a) is None
    assert sync(store).party_by_token("peer-token-b") is None  # token B is ours to use, not to accept
    found = sync(store).party_by_token("our-token-c")
    assert found is not None and found[1] == "C"
    assert found[0] == party
    assert found[0].registered


def test_delete_party_and_listing(store: Store) -> None:
    sync(store).create_token_a("b")
    sync(store).create_token_a("a")
    assert [p.party_key for p in sync(store).parties()] == ["a", "b"]
    assert sync(store).delete_party("a")
    assert not sync(store).delete_party("a")
    assert [p.party_key for p in sync(store).parties()] == ["b"]
    assert sync(store).party("a") is None


def test_tokens_never_show_in_party_repr(store: Store) -> None:
    token_a = sync(store).create_token_a("NL/ABC")
    party = sync(store).party("NL/ABC")
    assert party is not None
    party.token_c = "secret-token-c"
    party.credentials = {"token": "secret-token-b"}
    text = repr(party)
    assert "NL/ABC" in text
    assert token_a not in text and "secret-token-c" not in text and "secret-token-b" not in text


def test_unknown_and_empty_tokens_find_nothing(store: Store) -> None:
    sync(store).create_token_a("x")
    assert sync(store).party_by_token("") is None
    assert sync(store).party_by_token("not-a-token") is None


def test_two_parties_cannot_share_a_token_c(store: Store) -> None:
    sync(store).save_party(Party(party_key="p1", token_c="same"))
    with pytest.raises(_unique_violation()):
        sync(store).save_party(Party(party_key="p2", token_c="same"))
    found = sync(store).party_by_token("same")
    assert found is not None and found[0].party_key == "p1"  # the first party was not replaced
    assert [p.party_key for p in sync(store).parties()] == ["p1"]


# -- database ----------------------------------------------------------------------------------------


def test_a_shared_database_persists_across_instances(shared: Backend) -> None:
    first = shared.open()
    sync(first).put_object("locations", "NL", "EXA", "L1", {"id": "L1"}, "2024-01-01T00:00:00Z")
    token = sync(first).create_token_a("peer")
    blocking(first.close())
    second = shared.open()
    try:
        assert sync(second).get_object("locations", "nl", "exa", "l1") == {"id": "L1"}
        found = sync(second).party_by_token(token)
        assert found is not None and found[0].party_key == "peer"
    finally:
        blocking(second.close())


def test_closed_store_refuses_work(backend: Backend) -> None:
    db = backend.open()
    blocking(db.close())
    blocking(db.close())  # idempotent
    with pytest.raises(RuntimeError):
        sync(db).get_object("locations", "NL", "EXA", "L")


def test_concurrent_writers_from_threads(store: Store) -> None:
    results: list[bool] = []
    lock = threading.Lock()

    def writer(n: int) -> None:
        for i in range(50):
            created = sync(store).put_object(
                "sessions", "NL", "EXA", f"S{i}", {"id": f"S{i}", "n": n}, f"2024-01-01T00:00:{i:02d}Z"
            )
            with lock:
                results.append(created)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    _, total = sync(store).list_objects("sessions", date_from=None, date_to=None, offset=0, limit=1)
    assert total == 50
    assert results.count(True) == 50  # each key created exactly once, however the threads interleave


# -- caches: list counts and token lookups ----------------------------------------------------------


def _full_page_total(store: Store) -> int:
    # A full page (limit 1 of several objects) makes the store count instead of inferring the total.
    _, total = sync(store).list_objects("locations", date_from=None, date_to=None, offset=0, limit=1)
    return total


def test_list_totals_follow_our_own_writes(timeline: Store) -> None:
    assert _full_page_total(timeline) == 5
    put(timeline, "F", "2024-01-04T00:00:00Z")
    assert _full_page_total(timeline) == 6
    assert sync(timeline).delete_object("locations", "NL", "EXA", "A")
    assert _full_page_total(timeline) == 5


def test_list_totals_follow_another_connections_writes(shared: Backend) -> None:
    reader, writer = shared.open(), shared.open()  # two workers on one database
    try:
        put(writer, "A", "2024-01-01T00:00:00Z")
        put(writer, "B", "2024-01-02T00:00:00Z")
        assert _full_page_total(reader) == 2
        put(writer, "C", "2024-01-03T00:00:00Z")
        assert _full_page_total(reader) == 3  # not a stale count (SQLite: PRAGMA data_version)
    finally:
        blocking(reader.close())
        blocking(writer.close())


def test_the_last_page_total_needs_no_count(timeline: Store) -> None:
    page, total = sync(timeline).list_objects("locations", date_from=None, date_to=None, offset=3, limit=5)
    assert ids(page) == ["D", "E"] and total == 5


def test_token_lookups_follow_our_own_writes_at_once(store: Store) -> None:
    sync(store).save_party(Party(party_key="peer", token_c="old"))
    assert sync(store).party_by_token("old") is not None and sync(store).party_by_token("new") is None
    sync(store).save_party(Party(party_key="peer", token_c="new"))
    assert sync(store).party_by_token("old") is None
    found = sync(store).party_by_token("new")
    assert found is not None and found[0].party_key == "peer"
    assert sync(store).delete_party("peer")
    assert sync(store).party_by_token("new") is None


def test_token_lookups_see_another_connections_writes_at_once(shared: Backend) -> None:
    reader, writer = shared.open(), shared.open()  # two workers on one database
    try:
        assert sync(reader).party_by_token("tok") is None  # a miss is not kept once the token exists
        sync(writer).save_party(Party(party_key="peer", token_c="tok"))
        assert sync(reader).party_by_token("tok") is not None
        sync(writer).delete_party("peer")  # in another worker
        assert sync(reader).party_by_token("tok") is None
    finally:
        blocking(reader.close())
        blocking(writer.close())


def test_each_lookup_gets_its_own_party_object(store: Store) -> None:
    sync(store).save_party(Party(party_key="peer", token_c="tok", roles=[{"role": "EMSP"}]))
    first, second = sync(store).party_by_token("tok"), sync(store).party_by_token("tok")
    assert first is not None and second is not None
    first[0].roles.append({"role": "CPO"})  # a handler changing its copy changes nothing stored
    assert second[0].roles == [{"role": "EMSP"}] and sync(store).party_by_token("tok")[0].roles == [{"role": "EMSP"}]  # type: ignore[index]


# -- atomic updates ---------------------------------------------------------------------------------


def test_update_object_creates_changes_keeps_and_rolls_back(store: Store) -> None:
    s = sync(store)
    assert s.update_object("locations", "NL", "EXA", "U1", lambda cur: {"id": "U1", "n": 1 if cur is None else 0})
    assert s.get_object("locations", "nl", "exa", "u1") == {"id": "U1", "n": 1}
    assert s.update_object("locations", "NL", "EXA", "U1", lambda cur: None) is None  # left as it was
    assert s.get_object("locations", "NL", "EXA", "U1") == {"id": "U1", "n": 1}

    def broken(cur: dict[str, object] | None) -> dict[str, object]:
        assert cur is not None
        cur["n"] = 99
        raise ValueError("refused")

    with pytest.raises(ValueError):
        s.update_object("locations", "NL", "EXA", "U1", broken)
    assert s.get_object("locations", "NL", "EXA", "U1") == {"id": "U1", "n": 1}  # nothing written


def test_update_object_stamps_the_row_with_the_objects_own_time(store: Store) -> None:
    s = sync(store)
    s.update_object("locations", "NL", "EXA", "T", lambda cur: {"id": "T", "last_updated": "2024-03-01T10:00:00+01:00"})
    inside, _ = s.list_objects("locations", date_from="2024-03-01T09:00:00Z", date_to=None, offset=0, limit=5)
    later, _ = s.list_objects("locations", date_from="2024-03-01T09:00:01Z", date_to=None, offset=0, limit=5)
    assert ids(inside) == ["T"] and later == []


def test_concurrent_updates_of_one_object_from_two_processes_lose_nothing(shared: Backend) -> None:
    """Two stores on one file (two workers) and many tasks each add an item to one object's list:
    every item is there afterwards, because each read-change-write is one transaction."""
    first, second = shared.open(), shared.open()

    def adder(tag: str) -> Callable[[dict[str, Any] | None], dict[str, Any]]:
        def mutate(cur: dict[str, Any] | None) -> dict[str, Any]:
            cur = cur or {"id": "L", "evses": []}
            cur["evses"] = [*cur["evses"], tag]
            return cur

        return mutate

    async def run() -> None:
        await asyncio.gather(
            *(
                (first if n % 2 else second).update_object("locations", "NL", "EXA", "L", adder(f"E{n}"))
                for n in range(60)
            )
        )

    try:
        blocking(run())
        stored = sync(first).get_object("locations", "NL", "EXA", "L")
        assert sorted(stored["evses"]) == sorted(f"E{n}" for n in range(60))
    finally:
        blocking(first.close())
        blocking(second.close())


def test_peer_state_is_kept_and_goes_with_its_party(store: Store) -> None:
    s = sync(store)
    s.save_party(Party(party_key="peer", token_c="tok"))
    assert s.peer_state("peer") is None
    s.save_peer_state("peer", {"last_resync": "2024-01-01T00:00:00Z", "in_sync": True})
    assert s.peer_state("peer") == {"last_resync": "2024-01-01T00:00:00Z", "in_sync": True}
    s.delete_party("peer")
    assert s.peer_state("peer") is None
    s.save_party(Party(party_key="peer", token_c="tok"))
    assert s.update_peer_state("peer", lambda cur: {**(cur or {}), "in_sync": False}) == {"in_sync": False}
    assert s.update_peer_state("peer", lambda cur: None) is None
    assert s.update_peer_state("peer", lambda cur: {**(cur or {}), "last_push": "x"}) == {
        "in_sync": False,
        "last_push": "x",
    }


def test_stored_json_comes_back_byte_for_byte(store: Store) -> None:
    """What a handler sends is the JSON it stored: key order, spacing and number text unchanged."""
    data = {"z": 1, "id": "L1", "a": Decimal("1.50"), "n": 10, "s": "\u00e9\u20ac", "e": [], "o": {"b": None, "a": 1}}
    raw = dumps(data).encode()
    sync(store).put_object("locations", "NL", "EXA", "L1", data, "2024-01-01T00:00:00Z")
    assert isinstance(store, RawJSONStore)
    assert sync(store).get_object_json("locations", "nl", "exa", "l1") == raw
    assert sync(store).get_object_json("locations", "NL", "EXA", "L2") is None
    rows, total = sync(store).list_objects_json("locations", date_from=None, date_to=None, offset=0, limit=5)
    assert rows == [raw] and total == 1
    got = sync(store).get_object("locations", "NL", "EXA", "L1")
    assert list(got) == ["z", "id", "a", "n", "s", "e", "o"] and str(got["a"]) == "1.50"
    sync(store).update_object("locations", "NL", "EXA", "L1", lambda cur: {**(cur or {}), "k": Decimal("0.10")})
    assert sync(store).get_object_json("locations", "NL", "EXA", "L1") == dumps({**data, "k": Decimal("0.10")}).encode()


def test_an_encoded_object_is_stored_as_its_own_text_and_a_plain_dict_is_encoded(store: Store) -> None:
    """The Engine hands over a body with the JSON text it was read from (``EncodedObject``): the
    store writes that text as it is, by ``put_object`` and by ``update_object``; a plain dict (a
    changed copy) is encoded by ``dumps``."""
    text = '{"id":"L1","a":1.50,"x":{"deep":0.1000000000000000055511151231257827},"s":"\u00e9"}'
    data = loads(text)
    s = sync(store)
    s.put_object("locations", "NL", "EXA", "L1", EncodedObject(data, text), "2024-01-01T00:00:00Z")
    assert s.get_object_json("locations", "NL", "EXA", "L1") == text.encode()  # type: ignore[attr-defined]
    assert object_text(EncodedObject(data, text)) == text and object_text(data) == dumps(data)
    other = '{"id":"L1","b":2.0}'
    s.update_object("locations", "NL", "EXA", "L1", lambda cur: EncodedObject(loads(other), other))
    assert s.get_object_json("locations", "NL", "EXA", "L1") == other.encode()  # type: ignore[attr-defined]
    s.update_object("locations", "NL", "EXA", "L1", lambda cur: {**(cur or {}), "c": Decimal("3.10")})
    assert s.get_object_json("locations", "NL", "EXA", "L1") == b'{"id":"L1","b":2.0,"c":3.10}'  # type: ignore[attr-defined]
    changed = EncodedObject(loads(other), other)
    assert type({**changed}) is dict  # a changed copy is a plain dict again, encoded afresh


def test_an_update_that_changes_nothing_leaves_no_trace(store: Store) -> None:
    s = sync(store)
    assert s.update_object("locations", "NL", "EXA", "NEW", lambda cur: None) is None
    assert s.get_object("locations", "NL", "EXA", "NEW") is None

    def refuse(cur: dict[str, Any] | None) -> dict[str, Any]:
        raise ValueError("no")

    with pytest.raises(ValueError):
        s.update_object("locations", "NL", "EXA", "NEW", refuse)
    assert s.get_object("locations", "NL", "EXA", "NEW") is None
    assert s.list_objects("locations", date_from=None, date_to=None, offset=0, limit=5) == ([], 0)
    assert s.update_peer_state("nobody", lambda cur: None) is None and s.peer_state("nobody") is None
    with pytest.raises(TypeError):
        s.update_object("locations", "NL", "EXA", "NEW", lambda cur: [1])  # type: ignore[arg-type, return-value]


def test_an_update_follows_a_delete_by_another_store(shared: Backend) -> None:
    first, second = shared.open(), shared.open()
    try:
        sync(first).put_object("locations", "NL", "EXA", "L", {"id": "L", "n": 1}, "2024-01-01T00:00:00Z")
        assert sync(second).delete_object("locations", "NL", "EXA", "L")
        seen: list[object] = []

        def mutate(cur: dict[str, Any] | None) -> dict[str, Any]:
            seen.append(cur)
            return {"id": "L", "n": 2}

        sync(first).update_object("locations", "NL", "EXA", "L", mutate)
        assert seen == [None]  # the mutation saw the object gone, not the copy before the delete
        assert sync(second).get_object("locations", "NL", "EXA", "L") == {"id": "L", "n": 2}
    finally:
        blocking(first.close())
        blocking(second.close())


# -- SQLite only -------------------------------------------------------------------------------------


def test_file_database_runs_in_wal_mode_and_takes_a_durability_setting(tmp_path: Path) -> None:
    from ocpi_runtime.server._store import open_store

    path = tmp_path / "d.sqlite"
    store = open_store(f"sqlite:///{path}?synchronous=full")
    try:
        assert isinstance(store, SqliteStore) and store.database == str(path)
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        blocking(store.close())
    with pytest.raises(ValueError, match="synchronous"):
        open_store(f"sqlite:///{path}?synchronous=sometimes")
    with pytest.raises(ValueError, match="unknown option"):
        open_store(f"sqlite:///{path}?journal=off")
    with pytest.raises(ValueError, match="unsupported database URL"):
        open_store("mysql://x")
    assert isinstance(open_store(":memory:"), SqliteStore)


# -- PostgreSQL only ---------------------------------------------------------------------------------


def test_a_postgresql_url_selects_the_postgres_store_without_connecting() -> None:
    pytest.importorskip("psycopg")
    from ocpi_runtime.server._store_pg import PostgresStore

    for url in ("postgresql://ocpi@127.0.0.1:9/none", "postgres://ocpi@127.0.0.1:9/none"):
        store = open_store(url)
        assert isinstance(store, PostgresStore) and isinstance(store, Store) and store.url == url
        blocking(store.close())  # nothing was opened: nothing to wait for
    sized = PostgresStore("postgresql://ocpi@127.0.0.1:9/db?sslmode=disable&pool_max_size=20&pool_min_size=2")
    assert (sized._min_size, sized._max_size) == (2, 20)
    assert sized._conninfo == "postgresql://ocpi@127.0.0.1:9/db?sslmode=disable"  # what libpq gets
    for bad in ("pool_max_size=x", "pool_max_size=0", "pool_min_size=5&pool_max_size=2"):
        with pytest.raises(ValueError, match="pool_"):
            PostgresStore(f"postgresql://ocpi@127.0.0.1:9/db?{bad}")


def test_postgres_workers_starting_together_create_the_schema_once() -> None:
    url = pg_support.fresh_database("schema")
    stores = [open_store(url) for _ in range(6)]

    async def first_requests() -> list[bool]:
        return list(
            await asyncio.gather(
                *(
                    s.put_object("locations", "NL", "EXA", f"L{n}", {"id": f"L{n}"}, "2024-01-01T00:00:00Z")
                    for n, s in enumerate(stores)
                )
            )
        )

    try:
        assert blocking(first_requests()) == [True] * 6
        _, total = sync(stores[0]).list_objects("locations", date_from=None, date_to=None, offset=0, limit=1)
        assert total == 6
    finally:
        for s in stores:
            blocking(s.close())


def test_postgres_orders_by_bytes_whatever_the_database_locale() -> None:
    """In a database whose default collation is ICU's en-US (which puts ``_`` before ``-`` before
    digits, and ``a`` before ``B``), keys and party keys still sort by bytes, as in SQLite."""
    import psycopg

    base = pg_support.postgres_url()
    name = f"ocpi_icu_{threading.get_ident() % 100000}"
    try:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"'.encode())
            conn.execute(
                f"CREATE DATABASE \"{name}\" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'"
                " LOCALE 'C.UTF-8'".encode()
            )
    except psycopg.Error as exc:
        pytest.skip(f"no ICU collation on this server: {exc}")
    store = open_store(pg_support.with_database(base, name))
    try:
        for oid in ["A_1", "A0", "A-1"]:
            put(store, oid, "2024-01-01T00:00:00Z")
        items, _ = sync(store).list_objects("locations", date_from=None, date_to=None, offset=0, limit=10)
        assert ids(items) == ["A-1", "A0", "A_1"]
        for key in ["a", "B"]:
            sync(store).create_token_a(key)
        assert [p.party_key for p in sync(store).parties()] == ["B", "a"]
    finally:
        blocking(store.close())


def test_update_party_checks_and_saves_in_one_transaction(shared: Backend) -> None:
    """Two stores on one database (two workers) each try to turn the same token A into their own
    token C, the way a registration does: exactly one succeeds, and the other sees the new state."""
    first, second = shared.open(), shared.open()

    def register(token_c: str) -> Callable[[Party | None], Party | None]:
        def mutate(current: Party | None) -> Party | None:
            if current is None or current.token_a is None:
                raise PermissionError("already registered")
            current.token_a, current.token_c = None, token_c
            return current

        return mutate

    async def race() -> list[Any]:
        await first.create_token_a("P")
        return await asyncio.gather(
            first.update_party("P", register("c1")), second.update_party("P", register("c2")), return_exceptions=True
        )

    try:
        results = blocking(race())
        winners = [r for r in results if isinstance(r, Party)]
        assert len(winners) == 1 and sum(isinstance(r, PermissionError) for r in results) == 1
        stored = sync(second).party("P")
        assert stored is not None and stored.token_a is None and stored.token_c == winners[0].token_c
        assert sync(first).update_party("P", lambda current: None) is None
        assert sync(first).update_party("nobody", lambda current: None) is None
    finally:
        blocking(first.close())
        blocking(second.close())
