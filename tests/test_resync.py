"""Resync by pull (issue 15): a receiver that was down GETs the current state from its sender.

Two generated servers of every version on 127.0.0.1, registered through the real handshake. The
CPO changes 100 objects while the eMSP is down; the eMSP's start-up resync (in the background of
its lifespan) brings its store level with the CPO's. A second pass asks only for what changed since
the last complete one (minus the overlap); a pass that fails marks the peer out of sync; one pass
per peer at a time (the lease).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import uvicorn

from generator.paths import SPEC_ROOT, available_versions
from tests.blocking import blocking, sync
from tests.server_support import RunningServer
from tests.test_e2e import Pair, sample

VERSIONS = available_versions(SPEC_ROOT)


class LifespanServer(RunningServer):
    """A RunningServer whose application lifespan runs (start-up resync, schedule)."""

    def __init__(self, app: Any, port: int) -> None:
        super().__init__(app, port)
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)


def everything(store: Any, collection: str) -> list[dict[str, Any]]:
    items, total = sync(store).list_objects(collection, date_from=None, date_to=None, offset=0, limit=10_000)
    assert len(items) == total
    return sorted(items, key=lambda item: repr(sorted(item.items())))


def sent_collections(pair: Pair) -> list[tuple[str, str]]:
    """(collection, id field) of every module the eMSP receives and the CPO sends (generated table)."""
    cpo_modules = {
        e["identifier"] for e in sync(pair.stores["emsp"]).party("NL/CPO").endpoints if e.get("role") != "RECEIVER"
    }
    out = []
    for r in pair.emsp_pkg.RECEIVES:
        if r.module_id in cpo_modules:
            out.append((r.collection, r.key))
    return out


def change(pair: Pair, count: int, base: datetime) -> dict[str, list[str]]:
    """The CPO changes ``count`` objects spread over its sender collections (newer last_updated)."""
    targets = sent_collections(pair)
    ids: dict[str, list[str]] = {c: [] for c, _ in targets}
    for n in range(count):
        collection, key = targets[n % len(targets)]
        oid = f"{collection[:3].upper()}{n // len(targets):03d}"
        data = sample(pair.spec, collection, ("NL", "CPO"), oid)
        stamp = (base + timedelta(seconds=n)).strftime("%Y-%m-%dT%H:%M:%SZ")
        data["last_updated"] = stamp
        sync(pair.stores["cpo"]).put_object(collection, "NL", "CPO", oid, data, stamp)
        ids[collection].append(oid)
    return ids


def wait_in_sync(store: Any, peer: str, since: float, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        state = sync(store).peer_state(peer) or {}
        if state.get("in_sync") is True and state.get("last_resync") and "lease_until" not in state:
            return state
        assert time.monotonic() < deadline, f"no complete resync of {peer}: {state}"
        time.sleep(0.05)


@pytest.fixture(scope="module", params=VERSIONS)
def pair(request: pytest.FixtureRequest) -> Any:
    """A CPO and an eMSP registered with each other (the eMSP registered with the CPO); the CPO runs."""
    p = Pair(request.param)
    cpo, emsp = p.servers()
    with cpo, emsp:
        p.register("emsp", "cpo")
    p.cpo_server = p.servers()[0]
    p.cpo_server.__enter__()
    try:
        yield p
    finally:
        p.cpo_server.__exit__(None, None, None)


def test_table_of_received_modules_comes_from_the_declarations(pair: Pair) -> None:
    emsp = {r.module_id: r for r in pair.emsp_pkg.RECEIVES}
    cpo = {r.module_id: r for r in pair.cpo_pkg.RECEIVES}
    assert {"locations", "sessions", "cdrs", "tariffs"} <= set(emsp) and "tokens" not in emsp
    assert "tokens" in cpo and "locations" not in cpo
    assert emsp["locations"].collection == "Location" and emsp["locations"].key == "id"
    assert cpo["tokens"].collection == "Token" and cpo["tokens"].key == "uid"
    assert emsp["cdrs"].owner == ("self" if pair.version == "2.1.1" else "body")
    assert emsp["locations"].peer_role == (None if pair.version == "2.1.1" else "SENDER")


def test_emsp_down_while_cpo_changes_100_objects_then_its_startup_resync_levels_it(pair: Pair) -> None:
    emsp_store = pair.stores["emsp"]
    # The eMSP holds older versions of some of the objects (they must be replaced).
    older = change(pair, 8, datetime(2023, 1, 1, tzinfo=UTC))
    for collection, oids in older.items():
        for item in everything(pair.stores["cpo"], collection):
            key = next(k for c, k in sent_collections(pair) if c == collection)
            owner = ("DE", "EMS") if pair.version == "2.1.1" and collection == "CDR" else ("NL", "CPO")
            sync(emsp_store).put_object(collection, *owner, item[key], item, item["last_updated"])
    # With the eMSP down, the CPO changes 100 objects.
    ids = change(pair, 100, datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC))
    assert sum(len(v) for v in ids.values()) == 100
    # The eMSP comes back: its start-up resync runs in the background.
    settings = dataclasses.replace(pair.settings["emsp"], resync_seconds=900)
    started = time.monotonic()
    app = pair.emsp_pkg.create_app(settings, store=emsp_store)
    with LifespanServer(app, pair.ports["emsp"]):
        state = wait_in_sync(emsp_store, "NL/CPO", started)
    took = time.monotonic() - started
    for collection, _ in sent_collections(pair):
        assert everything(emsp_store, collection) == everything(pair.stores["cpo"], collection), collection
    assert state["last_resync"] and "resync_error" not in state
    assert took < 30

    # A second pass asks only for what changed since the last complete pass, minus the overlap.
    result = blocking(pair.emsp_pkg.resync(settings, emsp_store, "NL/CPO"))
    assert result.complete and result.received == 0 and result.stored == 0
    last = datetime.fromisoformat(state["last_resync"].replace("Z", "+00:00"))
    assert result.date_from is not None
    assert datetime.fromisoformat(result.date_from.replace("Z", "+00:00")) == last - timedelta(seconds=60)

    # An object changed again is fetched and replaced; an older copy at the CPO changes nothing.
    collection, key = sent_collections(pair)[0]
    oid = ids[collection][0]
    item = sync(pair.stores["cpo"]).get_object(collection, "NL", "CPO", oid)
    fresh = dict(item, last_updated=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    sync(pair.stores["cpo"]).put_object(collection, "NL", "CPO", oid, fresh, fresh["last_updated"])
    result = blocking(pair.emsp_pkg.resync(settings, emsp_store, "NL/CPO"))
    assert result.complete and result.received == 1 and result.stored == 1
    owner = ("DE", "EMS") if pair.version == "2.1.1" and collection == "CDR" else ("NL", "CPO")
    assert sync(emsp_store).get_object(collection, *owner, oid)["last_updated"] == fresh["last_updated"]
    result = blocking(pair.emsp_pkg.resync(settings, emsp_store, "NL/CPO"))
    assert result.received == 1 and result.stored == 0  # the overlap fetches it again: same object


def test_failed_pass_marks_the_peer_out_of_sync_and_a_lease_keeps_a_second_pass_out(pair: Pair) -> None:
    emsp_store = pair.stores["emsp"]
    settings = pair.settings["emsp"]
    party = sync(emsp_store).party("NL/CPO")
    # Another worker holds the lease: this pass skips and changes nothing.
    until = (datetime.now(UTC) + timedelta(seconds=120)).strftime("%Y-%m-%dT%H:%M:%SZ")
    sync(emsp_store).update_peer_state("NL/CPO", lambda s: dict(s or {}, lease_until=until, lease_holder="other"))
    result = blocking(pair.emsp_pkg.resync(settings, emsp_store, "NL/CPO"))
    assert result.skipped and "another worker" in result.skipped and not result.modules
    sync(emsp_store).update_peer_state("NL/CPO", lambda s: {k: v for k, v in (s or {}).items() if "lease" not in k})
    # The CPO is unreachable (its endpoints point at a closed port): the pass is incomplete.
    dead = dataclasses.replace(
        party, endpoints=[dict(e, url=e["url"].replace(str(pair.ports["cpo"]), "9")) for e in party.endpoints]
    )
    before = sync(emsp_store).peer_state("NL/CPO")
    result = blocking(pair.emsp_pkg.resync(settings, emsp_store, dead))
    assert not result.complete and result.modules[0].error
    assert len(result.modules) == 1  # an unreachable peer is not asked once per module
    state = sync(emsp_store).peer_state("NL/CPO")
    assert state["in_sync"] is False and state["resync_error"] and "lease_until" not in state
    assert state.get("last_resync") == (before or {}).get("last_resync")  # only a complete pass moves it
    assert party.token_b not in state["resync_error"]
    # The retry brings it back in sync.
    result = blocking(pair.emsp_pkg.resync(settings, emsp_store, "NL/CPO"))
    assert result.complete and sync(emsp_store).peer_state("NL/CPO")["in_sync"] is True


def test_peer_that_comes_back_after_a_failed_pass_is_resynced_by_the_retry(pair: Pair) -> None:
    emsp_store = pair.stores["emsp"]
    pair.cpo_server.__exit__(None, None, None)  # the CPO is down
    collection, _ = sent_collections(pair)[-1]
    data = sample(pair.spec, collection, ("NL", "CPO"), "RETRY1")
    data["last_updated"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    sync(pair.stores["cpo"]).put_object(collection, "NL", "CPO", "RETRY1", data, data["last_updated"])
    settings = dataclasses.replace(pair.settings["emsp"], resync_seconds=900, resync_retry_seconds=1)
    app = pair.emsp_pkg.create_app(settings, store=emsp_store)
    with LifespanServer(app, pair.ports["emsp"]):
        deadline = time.monotonic() + 20
        while (sync(emsp_store).peer_state("NL/CPO") or {}).get("in_sync") is not False:
            assert time.monotonic() < deadline, "the start-up pass did not fail"
            time.sleep(0.05)
        pair.cpo_server = pair.servers()[0]  # the CPO comes back
        pair.cpo_server.__enter__()
        wait_in_sync(emsp_store, "NL/CPO", time.monotonic())
    assert everything(emsp_store, collection) == everything(pair.stores["cpo"], collection)


def test_received_objects_are_validated_and_stored_as_the_model_writes_them(pair: Pair) -> None:
    """A peer's object is kept as a pushed one is: times in UTC ``Z``, no nulls; an invalid one is
    counted and not kept (spec ``transport_and_format_offline_behaviour``: resync is a pull of the
    sender's objects, which must be valid ones)."""
    emsp_store, cpo_store = pair.stores["emsp"], pair.stores["cpo"]
    settings = pair.settings["emsp"]
    stamp = "2030-01-01T10:00:00Z"
    zoneless = sample(pair.spec, "Location", ("NL", "CPO"), "ZONELESS")
    zoneless.update(last_updated="2030-01-01T10:00:00", operator=None)  # no zone, a null field
    broken = dict(sample(pair.spec, "Location", ("NL", "CPO"), "BROKEN"), last_updated=stamp, evses="none")
    sync(cpo_store).put_object("Location", "NL", "CPO", "ZONELESS", zoneless, stamp)
    sync(cpo_store).put_object("Location", "NL", "CPO", "BROKEN", broken, stamp)
    try:
        result = blocking(pair.emsp_pkg.resync(settings, emsp_store, "NL/CPO"))
        locations = next(m for m in result.modules if m.module_id == "locations")
        assert result.complete and locations.invalid == 1
        kept = sync(emsp_store).get_object("Location", "NL", "CPO", "ZONELESS")
        assert kept is not None and kept["last_updated"] == stamp and "operator" not in kept
        assert sync(emsp_store).get_object("Location", "NL", "CPO", "BROKEN") is None
        assert "invalid" in result.summary()
    finally:
        for oid in ("ZONELESS", "BROKEN"):
            sync(cpo_store).delete_object("Location", "NL", "CPO", oid)
            sync(emsp_store).delete_object("Location", "NL", "CPO", oid)
