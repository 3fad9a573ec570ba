"""Credentials module: POST/PUT/DELETE/GET flows over CredentialsService with a fake fetch_peer."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ocpi_runtime.server._auth import AuthContext
from ocpi_runtime.server._envelope import OcpiHTTPError
from ocpi_runtime.server._registration import (
    CredentialsService,
    NoMatchingEndpoints,
    NoMutualVersion,
    PeerInfo,
    PeerUnreachable,
)
from ocpi_runtime.server._settings import ServerSettings
from ocpi_runtime.server._store import SqliteStore
from tests.blocking import blocking, sync
from tests.server_runtime.wiring import FakePeer, build_app, own_credentials_for

CREDENTIALS = "/ocpi/2.2.1/credentials"
LIST = "/ocpi/cpo/2.2.1/locations"
PEER_VERSIONS = "https://peer.example.com/ocpi/versions"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": "Token " + base64.b64encode(token.encode()).decode()}


def peer_credentials(token_b: str = "peer-token-b", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "token": token_b,
        "url": PEER_VERSIONS,
        "roles": [{"role": "CPO", "party_id": "ABC", "country_code": "DE", "business_details": {"name": "Peer"}}],
    }
    body.update(extra)
    return body


@pytest.fixture
def peer() -> FakePeer:
    return FakePeer()


@pytest.fixture
def client(settings: ServerSettings, store: SqliteStore, peer: FakePeer) -> TestClient:
    return TestClient(build_app(settings, store, peer))


@pytest.fixture
def token_a(store: SqliteStore) -> str:
    return sync(store).create_token_a("DE/ABC")


def register(client: TestClient, token_a: str) -> str:
    response = client.post(CREDENTIALS, json=peer_credentials(), headers=auth(token_a))
    assert response.status_code == 200, response.text
    assert response.json()["status_code"] == 1000
    token_c: str = response.json()["data"]["token"]
    return token_c


def test_post_registers_and_swaps_token_a_for_token_c(
    client: TestClient, store: SqliteStore, peer: FakePeer, token_a: str
) -> None:
    response = client.post(CREDENTIALS, json=peer_credentials(), headers=auth(token_a))
    assert response.status_code == 200
    body = response.json()
    assert body["status_code"] == 1000
    data = body["data"]
    token_c = data["token"]
    assert token_c not in (token_a, "peer-token-b") and len(token_c) <= 64
    assert data["url"] == "http://testserver/ocpi/versions"
    assert data["roles"][0]["party_id"] == "EXA"
    # The peer was called back at its versions URL with ITS token B.
    assert peer.calls == [(PEER_VERSIONS, "peer-token-b")]
    # Everything is stored.
    party = sync(store).party("DE/ABC")
    assert party is not None and party.registered
    assert (party.token_a, party.token_b, party.token_c) == (None, "peer-token-b", token_c)
    assert (party.versions_url, party.version, party.endpoints) == (PEER_VERSIONS, "2.2.1", [{"identifier": "cdrs"}])
    assert party.credentials == peer_credentials()
    assert party.roles == peer_credentials()["roles"]
    # Token A is invalidated; token C opens the function modules.
    assert client.get(CREDENTIALS, headers=auth(token_a)).status_code == 401
    assert client.get(LIST, headers=auth(token_a)).status_code == 401
    assert client.get(LIST, headers=auth(token_c)).status_code == 200
    assert client.get(LIST, headers={"Authorization": "Token " + token_c}).status_code == 200  # raw form too


def test_second_post_is_405(client: TestClient, token_a: str, store: SqliteStore) -> None:
    token_c = register(client, token_a)
    response = client.post(CREDENTIALS, json=peer_credentials(), headers=auth(token_c))
    assert response.status_code == 405
    assert response.json()["status_code"] == 2000
    # A token A re-issued to an already registered party cannot register it again either.
    fresh_a = sync(store).create_token_a("DE/ABC")
    again = client.post(CREDENTIALS, json=peer_credentials(), headers=auth(fresh_a))
    assert again.status_code == 405
    assert client.get(LIST, headers=auth(token_c)).status_code == 200  # nothing changed


def test_put_issues_a_new_token_c_and_the_old_one_stops(
    client: TestClient, token_a: str, store: SqliteStore, peer: FakePeer
) -> None:
    old_c = register(client, token_a)
    peer.result = PeerInfo(version="2.2.1", endpoints=[{"identifier": "tokens"}])
    response = client.put(CREDENTIALS, json=peer_credentials("peer-token-b2"), headers=auth(old_c))
    assert response.status_code == 200
    assert response.json()["status_code"] == 1000
    new_c = response.json()["data"]["token"]
    assert new_c != old_c
    assert peer.calls[-1] == (PEER_VERSIONS, "peer-token-b2")
    party = sync(store).party("DE/ABC")
    assert party is not None
    assert (party.token_b, party.token_c, party.endpoints) == ("peer-token-b2", new_c, [{"identifier": "tokens"}])
    assert client.get(LIST, headers=auth(old_c)).status_code == 401
    assert client.get(LIST, headers=auth(new_c)).status_code == 200
    get = client.get(CREDENTIALS, headers=auth(new_c))
    assert get.status_code == 200 and get.json()["data"]["token"] == new_c


def test_put_before_registration_is_405(client: TestClient, token_a: str, peer: FakePeer) -> None:
    response = client.put(CREDENTIALS, json=peer_credentials(), headers=auth(token_a))
    assert response.status_code == 405
    assert response.json()["status_code"] == 2000
    assert peer.calls == []


def test_delete_unregisters(client: TestClient, token_a: str, store: SqliteStore) -> None:
    token_c = register(client, token_a)
    response = client.delete(CREDENTIALS, headers=auth(token_c))
    assert response.status_code == 200
    assert response.json()["status_code"] == 1000
    assert sync(store).party("DE/ABC") is None
    assert client.get(LIST, headers=auth(token_c)).status_code == 401
    assert client.delete(CREDENTIALS, headers=auth(token_c)).status_code == 401


def test_delete_before_registration_is_405(client: TestClient, token_a: str, store: SqliteStore) -> None:
    response = client.delete(CREDENTIALS, headers=auth(token_a))
    assert response.status_code == 405
    assert sync(store).party("DE/ABC") is not None


@pytest.mark.parametrize(
    "error,code",
    [
        (PeerUnreachable("versions endpoint answered HTTP 503"), 3001),
        (NoMutualVersion(), 3002),
        (NoMatchingEndpoints("no cdrs receiver"), 3003),
        (RuntimeError("socket exploded"), 3001),
    ],
)
def test_peer_errors_map_to_3xxx_and_change_nothing(
    client: TestClient, store: SqliteStore, peer: FakePeer, token_a: str, error: Exception, code: int
) -> None:
    peer.error = error
    response = client.post(CREDENTIALS, json=peer_credentials(), headers=auth(token_a))
    assert response.status_code == 200  # the OCPI layer was reached: the status code tells
    body = response.json()
    assert body["status_code"] == code and body["data"] is None
    if isinstance(error, (PeerUnreachable, NoMatchingEndpoints)):
        assert body["status_message"] == str(error)
    assert "socket exploded" not in body["status_message"]
    party = sync(store).party("DE/ABC")
    assert party is not None and not party.registered and party.token_a == token_a
    # Token A still works: the peer can fix its side and retry.
    peer.error = None
    assert register(client, token_a)


def test_peer_error_on_put_keeps_the_old_token_c(client: TestClient, token_a: str, peer: FakePeer) -> None:
    token_c = register(client, token_a)
    peer.error = NoMutualVersion()
    response = client.put(CREDENTIALS, json=peer_credentials("other-b"), headers=auth(token_c))
    assert response.json()["status_code"] == 3002
    assert client.get(LIST, headers=auth(token_c)).status_code == 200


@pytest.mark.parametrize(
    "body,field",
    [
        ({"url": PEER_VERSIONS}, "body.token"),
        ({"token": "b"}, "body.url"),
        ({"token": "", "url": PEER_VERSIONS}, "body.token"),
        ({"token": "has space", "url": PEER_VERSIONS}, "body.token"),
        ({"token": "x" * 65, "url": PEER_VERSIONS}, "body.token"),
        ({"token": 42, "url": PEER_VERSIONS}, "body.token"),
        ({"token": "b", "url": "not a url"}, "body.url"),
    ],
)
def test_post_with_bad_body_is_400_2001(
    client: TestClient, token_a: str, peer: FakePeer, body: dict[str, Any], field: str
) -> None:
    response = client.post(CREDENTIALS, json=body, headers=auth(token_a))
    assert response.status_code == 400
    assert response.json()["status_code"] == 2001
    assert response.json()["status_message"].startswith(field)
    assert "has space" not in response.json()["status_message"]  # token values are not echoed
    assert peer.calls == []


def test_post_with_non_json_body_is_400(client: TestClient, token_a: str) -> None:
    response = client.post(
        CREDENTIALS, content=b"token=x", headers={**auth(token_a), "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["status_code"] == 2001


def test_credentials_need_a_known_token(client: TestClient) -> None:
    assert client.post(CREDENTIALS, json=peer_credentials()).status_code == 401
    assert client.post(CREDENTIALS, json=peer_credentials(), headers=auth("guess")).status_code == 401


def test_2_1_1_style_body_gives_one_role(client: TestClient, token_a: str, store: SqliteStore) -> None:
    body = {
        "token": "b211",
        "url": PEER_VERSIONS,
        "party_id": "ABC",
        "country_code": "DE",
        "business_details": {"name": "Old peer"},
    }
    response = client.post(CREDENTIALS, json=body, headers=auth(token_a))
    assert response.status_code == 200 and response.json()["status_code"] == 1000
    party = sync(store).party("DE/ABC")
    assert party is not None
    assert party.roles == [{"party_id": "ABC", "country_code": "DE", "business_details": {"name": "Old peer"}}]


def test_concurrent_posts_with_one_token_a_register_once(settings: ServerSettings, store: SqliteStore) -> None:
    """Two POSTs with the same token A whose peer calls overlap: only the first one completes."""
    asyncio.run(_concurrent_posts(settings, store))


async def _concurrent_posts(settings: ServerSettings, store: SqliteStore) -> None:
    gate = asyncio.Event()

    async def slow_peer(url: str, token: str) -> PeerInfo:
        await gate.wait()
        return PeerInfo(version="2.2.1", endpoints=[])

    service = CredentialsService(store, settings, own_credentials_for(settings), slow_peer)
    token_a = sync(store).create_token_a("P")
    found = sync(store).party_by_token(token_a)
    assert found is not None
    context = AuthContext(party=found[0], token_kind=found[1])
    first = asyncio.ensure_future(service.post(context, peer_credentials("b1")))
    second = asyncio.ensure_future(service.post(context, peer_credentials("b2")))
    await asyncio.sleep(0)
    gate.set()
    results = await asyncio.gather(first, second, return_exceptions=True)
    winners = [r for r in results if isinstance(r, dict)]
    losers = [r for r in results if isinstance(r, OcpiHTTPError)]
    assert len(winners) == 1 and len(losers) == 1 and losers[0].http_status == 405
    party = sync(store).party("P")
    assert party is not None and party.token_c == winners[0]["token"]


def test_two_workers_registering_one_token_a_register_once(settings: ServerSettings, tmp_path: Path) -> None:
    """The same race across two workers (two stores on one file, writes in their writer threads):
    the token A check and the save are one transaction, so exactly one registration wins."""
    path = str(tmp_path / "shared.sqlite")
    first_store, second_store = SqliteStore(path), SqliteStore(path)
    try:
        asyncio.run(_two_workers(settings, first_store, second_store))
    finally:
        blocking(first_store.close())
        blocking(second_store.close())


async def _two_workers(settings: ServerSettings, first_store: SqliteStore, second_store: SqliteStore) -> None:
    gate = asyncio.Event()

    async def slow_peer(url: str, token: str) -> PeerInfo:
        await gate.wait()
        return PeerInfo(version="2.2.1", endpoints=[])

    token_a = await first_store.create_token_a("P")
    results: list[Any] = []
    tasks = []
    for n, store in enumerate((first_store, second_store)):
        found = await store.party_by_token(token_a)
        assert found is not None
        service = CredentialsService(store, settings, own_credentials_for(settings), slow_peer)
        tasks.append(asyncio.ensure_future(service.post(AuthContext(found[0], found[1]), peer_credentials(f"b{n}"))))
    await asyncio.sleep(0)
    gate.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    winners = [r for r in results if isinstance(r, dict)]
    losers = [r for r in results if isinstance(r, OcpiHTTPError)]
    assert len(winners) == 1 and len(losers) == 1 and losers[0].http_status == 405
    party = await second_store.party("P")
    assert party is not None and party.token_c == winners[0]["token"] and party.token_a is None
