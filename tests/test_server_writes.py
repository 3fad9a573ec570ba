"""The write side of a generated server (2.2.1 eMSP, SQLite file: the writer thread's path): what a
PUT body becomes in the store, the error envelopes of bad bodies, and write admission (writes take
turns through ``Engine.write_slot``; reads never wait for it). These pin what the write path's
shortcuts must keep: the stored text is the body's JSON as the model writes it (no second encoding)."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from generator.paths import SPEC_ROOT
from generator.pipeline import load_spec
from tests.blocking import blocking, sync
from tests.samples import obj
from tests.server_support import server_package

V = "2.2.1"
PKG = server_package(V, "emsp")
AUTH = {"Authorization": "Token " + base64.b64encode(b"our-token").decode()}
BASE = f"/ocpi/{V}/locations/NL/CPO/"


def _settings() -> Any:
    return PKG.ServerSettings(base_url="http://testserver/ocpi", country_code="NL", party_id="SRV")


def _store(folder: str) -> Any:
    store = PKG.SqliteStore(str(Path(folder) / "ocpi.sqlite"))
    sync(store).save_party(PKG.Party("peer", token_b="their-token", token_c="our-token", version=V))
    return store


def location(oid: str, **fields: Any) -> dict[str, Any]:
    spec = load_spec(SPEC_ROOT, V)
    data = obj(spec, spec.type("Location"))  # type: ignore[arg-type]
    data.update({"country_code": "NL", "party_id": "CPO", "id": oid, "last_updated": "2030-01-01T00:00:00Z", **fields})
    return data


def body(data: dict[str, Any]) -> bytes:
    return PKG._json.dumps_bytes(data)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[TestClient, Any]]:
    with tempfile.TemporaryDirectory(prefix="ocpi-writes-") as folder:
        store = _store(folder)
        with TestClient(PKG.create_app(_settings(), store=store), raise_server_exceptions=False) as client:
            yield client, store
        blocking(store.close())


def test_numbers_and_unknown_fields_of_a_put_body_are_stored_with_their_digits(
    server: tuple[TestClient, Any],
) -> None:
    client, store = server
    data = location(
        "NUM",
        energy_mix={"is_green_energy": True, "energy_sources": [{"source": "SOLAR", "percentage": Decimal("12.50")}]},
        x_vendor={
            "rate": Decimal("0.1000000000000000055511151231257827"),
            "big": Decimal("1E+2"),
            "s": "\u00e9 \u2028",
        },
    )
    r = client.put(BASE + "NUM", content=body(data), headers=AUTH)
    assert r.status_code == 201, r.text
    stored = sync(store).get_object_json("Location", "NL", "CPO", "NUM")
    assert b'"percentage":12.50' in stored
    assert b'"x_vendor":{"rate":0.1000000000000000055511151231257827,"big":1E+2,"s":"\xc3\xa9 \xe2\x80\xa8"}' in stored
    # The stored text is what the store's own encoder writes for the object it decodes to.
    assert PKG._json.dumps_bytes(PKG._json.loads(stored)) == stored
    got = client.get(BASE + "NUM", headers=AUTH)
    assert (
        got.status_code == 200
        and b'"percentage":12.50' in got.content
        and b'"rate":0.10000000000000000555' in got.content
    )


@pytest.mark.parametrize(
    ("n", "sent"),
    list(
        enumerate(
            ["2030-01-02T05:04:05+02:00", "2030-01-02T03:04:05", "2030-01-02T03:04:05Z", "2030-01-02T03:04:05.000Z"]
        )
    ),
)
def test_a_datetime_with_an_offset_or_without_a_zone_is_stored_as_utc_z(
    server: tuple[TestClient, Any], n: int, sent: str
) -> None:
    client, store = server
    oid = f"DT{n}"
    r = client.put(BASE + oid, content=body(location(oid, last_updated=sent)), headers=AUTH)
    assert r.status_code == 201, r.text
    stored = sync(store).get_object_json("Location", "NL", "CPO", oid)
    assert b'"last_updated":"2030-01-02T03:04:05Z"' in stored


def test_bad_bodies_keep_their_error_envelopes(server: tuple[TestClient, Any]) -> None:
    client, store = server
    cases = [
        (
            b"{not json",
            "Malformed JSON body: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        ),
        (b"", "Missing JSON body"),
        (b"  \n", "Missing JSON body"),
    ]
    for sent, message in cases:
        r = client.put(BASE + "BAD", content=sent, headers=AUTH)
        assert r.status_code == 400, r.text
        envelope = r.json()
        assert (envelope["data"], envelope["status_code"], envelope["status_message"]) == (None, 2001, message)
    r = client.put(BASE + "BAD", content=b"[1]", headers=AUTH)
    assert r.status_code == 400 and r.json()["status_code"] == 2001
    r = client.put(BASE + "BAD", content=body(location("OTHER")), headers=AUTH)  # id differs from the URL's
    assert (r.status_code, r.json()["status_code"], r.json()["status_message"]) == (
        400,
        2001,
        "body.id does not match the URL",
    )
    assert sync(store).get_object("Location", "NL", "CPO", "BAD") is None


def test_an_older_put_is_acknowledged_and_not_stored_a_newer_one_replaces(server: tuple[TestClient, Any]) -> None:
    client, store = server
    assert client.put(BASE + "AGE", content=body(location("AGE", name="first")), headers=AUTH).status_code == 201
    older = location("AGE", name="older", last_updated="2029-01-01T00:00:00Z")
    assert client.put(BASE + "AGE", content=body(older), headers=AUTH).status_code == 200
    assert sync(store).get_object("Location", "NL", "CPO", "AGE")["name"] == "first"
    newer = location("AGE", name="newer", last_updated="2031-01-01T00:00:00Z")
    assert client.put(BASE + "AGE", content=body(newer), headers=AUTH).status_code == 200
    assert sync(store).get_object("Location", "NL", "CPO", "AGE")["name"] == "newer"


class _Gated(PKG.handlers.LocationsReceiverHandlers):  # type: ignore[name-defined, misc]
    """PUT Location waits at a gate inside the handler and counts the writes inside at once."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.inside = 0
        self.most = 0
        self.entered = 0

    async def put_location(self, ctx: Any, country_code: str, party_id: str, location_id: str, body: Any) -> bool:
        self.inside += 1
        self.entered += 1
        self.most = max(self.most, self.inside)
        try:
            await self.gate.wait()
            return await super().put_location(ctx, country_code, party_id, location_id, body)  # type: ignore[no-any-return]
        finally:
            self.inside -= 1


@pytest.mark.parametrize("slots", [1, 2, 0])
def test_writes_take_turns_and_a_read_never_waits_for_them(tmp_path: Path, slots: int) -> None:
    """``write_slots`` writes at once (0: no limit); a read is answered while they hold the slots."""
    store = _store(str(tmp_path))
    sync(store).put_object("Location", "NL", "CPO", "READ", location("READ"), "2030-01-01T00:00:00Z")
    handlers = _Gated()
    settings = dataclasses.replace(_settings(), write_slots=slots)
    app = PKG.create_app(settings, store=store, handlers=PKG.Handlers(locations_receiver=handlers))
    at_once = slots or 4

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=10) as client:
            puts = [
                asyncio.create_task(client.put(BASE + f"W{n}", content=body(location(f"W{n}")), headers=AUTH))
                for n in range(4)
            ]
            while handlers.entered == 0:
                await asyncio.sleep(0.005)
            await asyncio.sleep(0.1)  # time for the other writes to pile up at the slot
            assert (handlers.entered, handlers.inside) == (at_once, at_once)
            # Writes hold the slots: a read is answered all the same.
            r = await asyncio.wait_for(client.get(BASE + "READ", headers=AUTH), 5)
            assert r.status_code == 200 and r.json()["data"]["id"] == "READ"
            handlers.gate.set()
            done = await asyncio.wait_for(asyncio.gather(*puts), 10)
            assert [r.status_code for r in done] == [201] * 4
            assert handlers.most == at_once and handlers.entered == 4
            bad = await asyncio.wait_for(client.put(BASE + "W9", content=b"{", headers=AUTH), 5)
            assert bad.status_code == 400  # an error inside the slot frees it
            again = await asyncio.wait_for(client.put(BASE + "W9", content=body(location("W9")), headers=AUTH), 5)
            assert again.status_code == 201

    try:
        blocking(scenario())
        assert sorted(
            o["id"] for o in sync(store).list_objects("Location", date_from=None, date_to=None, offset=0, limit=10)[0]
        ) == [
            "READ",
            "W0",
            "W1",
            "W2",
            "W3",
            "W9",
        ]
    finally:
        blocking(store.close())
