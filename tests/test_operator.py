"""The operator API (issue 15): the admin HTTP app (own token, never an OCPI token), what each change
pushes (method, URL, routing headers, body, order), the push table computed from the declarations,
shutdown, and the log handler set up only when logging is not configured."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from generator.paths import SPEC_ROOT
from generator.pipeline import load_spec
from generator.server import push_view
from tests.blocking import blocking, sync
from tests.conftest import ROOT
from tests.server_support import RunningServer, free_port, server_package
from tests.test_e2e import sample

ADMIN = "admin-secret-0123456789"
PEER_B = "peer-token-b-0123456789"  # we call the peer with it
PEER_C = "peer-token-c-0123456789"  # the peer calls us with it


class Peer:
    """A receiver on 127.0.0.1 that records every request (answering 1000, a little late at random)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.seen: list[dict[str, Any]] = []

        async def receive(request: Request) -> JSONResponse:
            await asyncio.sleep(random.random() / 200)
            body = await request.body()
            self.seen.append(
                {
                    "method": request.method,
                    "path": request.url.path,
                    "headers": dict(request.headers),
                    "body": json.loads(body) if body else None,
                }
            )
            headers = {"Location": f"{self.base}/cdrs/stored/1"} if request.method == "POST" else {}
            return JSONResponse(
                {"status_code": 1000, "timestamp": "2024-01-01T00:00:00Z", "data": None}, headers=headers
            )

        methods = ["GET", "PUT", "PATCH", "POST", "DELETE"]
        self.app = Starlette(routes=[Route("/{path:path}", receive, methods=methods)])

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/ocpi"


def make(version: str, role: str, peer: Peer, modules: list[str]) -> tuple[Any, Any, TestClient]:
    pkg = server_package(version, role)
    settings = pkg.ServerSettings(
        base_url="http://testserver/ocpi", country_code="NL", party_id="EXA", allow_private_peers=True
    )
    store = pkg.SqliteStore(":memory:")
    iface = {"role": "RECEIVER"} if version != "2.1.1" else {}
    sync(store).save_party(
        pkg.Party(
            "FR/RCV",
            token_b=PEER_B,
            token_c=PEER_C,
            versions_url=f"{peer.base}/versions",
            version=version,
            endpoints=[{"identifier": m, **iface, "url": f"{peer.base}/{m}"} for m in modules],
            roles=[{"role": "EMSP", "country_code": "FR", "party_id": "RCV"}],
        )
    )
    with mock.patch.dict(os.environ, {"OCPI_ADMIN_TOKEN": ADMIN}):
        app = pkg.create_app(settings, store=store)
    return pkg, app, TestClient(app)


@pytest.fixture(scope="module")
def cpo() -> Iterator[tuple[Any, Any, TestClient, Peer]]:
    peer = Peer()
    with RunningServer(peer.app, peer.port):
        pkg, app, client = make("2.2.1", "cpo", peer, ["locations", "sessions", "cdrs", "tariffs"])
        with client:
            yield pkg, app, client, peer


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def drain(client: TestClient) -> None:
    assert client.post("/admin/drain", headers=bearer(ADMIN)).status_code == 200


def test_admin_app_needs_its_own_token(cpo: tuple[Any, Any, TestClient, Peer]) -> None:
    _, _, client, _ = cpo
    assert client.get("/admin/modules").status_code == 401
    assert client.get("/admin/modules", headers=bearer("wrong")).status_code == 401
    ocpi_c = {"Authorization": "Token " + base64.b64encode(PEER_C.encode()).decode()}
    assert client.get("/ocpi/2.2.1/locations", headers=ocpi_c).status_code == 200  # a good OCPI token...
    assert client.get("/admin/modules", headers=ocpi_c).status_code == 401  # ...is no admin token
    assert client.get("/admin/modules", headers=bearer(PEER_C)).status_code == 401
    admin_as_ocpi = {"Authorization": "Token " + base64.b64encode(ADMIN.encode()).decode()}
    assert client.get("/ocpi/2.2.1/locations", headers=admin_as_ocpi).status_code == 401
    modules = client.get("/admin/modules", headers=bearer(ADMIN)).json()
    assert [m["module"] for m in modules] == ["locations", "sessions", "cdrs", "tariffs"]


def test_no_admin_app_without_its_token() -> None:
    pkg = server_package("2.2.1", "cpo")
    with mock.patch.dict(os.environ, {"OCPI_ADMIN_TOKEN": ""}):
        app = pkg.create_app(pkg.ServerSettings.from_env(environ={}), store=pkg.SqliteStore(":memory:"))
    assert TestClient(app).get("/admin/modules", headers=bearer("")).status_code == 404


def test_admin_changes_are_pushed_with_url_headers_and_token(cpo: tuple[Any, Any, TestClient, Peer]) -> None:
    pkg, app, client, peer = cpo
    spec = load_spec(SPEC_ROOT, "2.2.1")
    loc = sample(spec, "Location", ("NL", "EXA"), "LOC9")
    peer.seen.clear()
    answer = client.post("/admin/locations", json=json.loads(json.dumps(loc, default=float)), headers=bearer(ADMIN))
    assert answer.status_code == 201, answer.text
    drain(client)
    (put,) = peer.seen
    assert put["method"] == "PUT" and put["path"] == "/ocpi/locations/NL/EXA/LOC9"
    assert put["headers"]["authorization"] == "Token " + base64.b64encode(PEER_B.encode()).decode()
    assert (put["headers"]["ocpi-to-country-code"], put["headers"]["ocpi-to-party-id"]) == ("FR", "RCV")
    assert (put["headers"]["ocpi-from-country-code"], put["headers"]["ocpi-from-party-id"]) == ("NL", "EXA")
    assert put["body"]["id"] == "LOC9"

    uid = loc["evses"][0]["uid"]
    answer = client.patch(f"/admin/locations/LOC9/{uid}", json={"status": "CHARGING"}, headers=bearer(ADMIN))
    assert answer.status_code == 200 and answer.json()["status"] == "CHARGING"
    drain(client)
    patch = peer.seen[-1]
    assert patch["method"] == "PATCH" and patch["path"] == f"/ocpi/locations/NL/EXA/LOC9/{uid}"
    assert set(patch["body"]) == {"status", "last_updated"}
    stored = client.get(f"/admin/locations/LOC9/{uid}", headers=bearer(ADMIN)).json()
    assert stored["status"] == "CHARGING" and stored["last_updated"] == patch["body"]["last_updated"]
    assert client.get("/admin/locations/NOPE", headers=bearer(ADMIN)).status_code == 404
    bad = client.patch(f"/admin/locations/LOC9/{uid}", json={"status": "FLYING"}, headers=bearer(ADMIN))
    assert bad.status_code == 400 and len(peer.seen) == 2  # refused, nothing stored nor pushed


def test_modules_without_patch_or_delete(cpo: tuple[Any, Any, TestClient, Peer]) -> None:
    pkg, app, client, peer = cpo
    spec = load_spec(SPEC_ROOT, "2.2.1")
    party = pkg.party_of(app)
    peer.seen.clear()
    tariff = sample(spec, "Tariff", ("NL", "EXA"), "T1")
    blocking(party.put("tariffs", tariff))
    blocking(party.patch("tariffs", {"currency": "USD"}, "T1"))  # 2.2.1 tariffs have no PATCH
    blocking(party.delete("tariffs", "T1"))
    session = sample(spec, "Session", ("NL", "EXA"), "S1")
    blocking(party.put("sessions", session))
    assert blocking(party.delete("sessions", "S1")) is True  # sessions have no DELETE: not pushed
    blocking(party.drain())
    tariffs = [s for s in peer.seen if "tariffs" in s["path"]]  # one object's changes: in order
    assert [(s["method"], s["path"]) for s in tariffs] == [
        ("PUT", "/ocpi/tariffs/NL/EXA/T1"),
        ("PUT", "/ocpi/tariffs/NL/EXA/T1"),
        ("DELETE", "/ocpi/tariffs/NL/EXA/T1"),
    ]
    assert [(s["method"], s["path"]) for s in peer.seen if "sessions" in s["path"]] == [
        ("PUT", "/ocpi/sessions/NL/EXA/S1")
    ]
    assert tariffs[1]["body"]["currency"] == "USD" and tariffs[1]["body"]["id"] == "T1"  # the whole tariff
    assert blocking(party.get("sessions", "S1")) is None


def test_changes_of_one_object_arrive_in_order(cpo: tuple[Any, Any, TestClient, Peer]) -> None:
    pkg, app, client, peer = cpo
    party = pkg.party_of(app)
    uid = blocking(party.get("locations", "LOC9"))["evses"][0]["uid"]
    peer.seen.clear()
    statuses = ["AVAILABLE", "CHARGING", "BLOCKED", "INOPERATIVE", "OUTOFORDER", "RESERVED"] * 4

    async def burst() -> None:
        for status in statuses:
            await party.patch("locations", {"status": status}, "LOC9", uid)

    blocking(burst())
    blocking(party.drain())
    assert [s["body"]["status"] for s in peer.seen] == statuses


def test_cdr_post_keeps_location_in_peer_state(cpo: tuple[Any, Any, TestClient, Peer]) -> None:
    pkg, app, client, peer = cpo
    spec = load_spec(SPEC_ROOT, "2.2.1")
    party = pkg.party_of(app)
    blocking(party.put("cdrs", sample(spec, "CDR", ("NL", "EXA"), "CDR7")))
    blocking(party.drain())
    assert peer.seen[-1]["method"] == "POST" and peer.seen[-1]["path"] == "/ocpi/cdrs"
    state = sync(party.store).peer_state("FR/RCV")
    assert state["cdr_locations"]["CDR7"] == f"{peer.base}/cdrs/stored/1" and state["last_push"]


def test_hub_pushes_client_info_and_emsp_2_1_1_pushes_tokens() -> None:
    peer = Peer()
    with RunningServer(peer.app, peer.port):
        pkg, app, client = make("2.2.1", "hub", peer, ["hubclientinfo"])
        party = pkg.party_of(app)
        assert [m.module_id for m in party.modules] == ["hubclientinfo"]
        info = {"party_id": "ABC", "country_code": "BE", "role": "CPO", "status": "CONNECTED"}
        blocking(party.put("hubclientinfo", info))
        blocking(party.drain())
        assert peer.seen[-1]["method"] == "PUT" and peer.seen[-1]["path"] == "/ocpi/hubclientinfo/BE/ABC"
        assert peer.seen[-1]["body"]["last_updated"]
        assert blocking(party.get("hubclientinfo", owner=("BE", "ABC")))["status"] == "CONNECTED"
        with client:
            answer = client.patch("/admin/hubclientinfo/BE/ABC", json={"status": "SUSPENDED"}, headers=bearer(ADMIN))
            assert answer.status_code == 200 and answer.json()["status"] == "SUSPENDED"
            assert client.get("/admin/hubclientinfo/BE/ABC", headers=bearer(ADMIN)).json()["status"] == "SUSPENDED"
            drain(client)
        assert peer.seen[-1]["path"] == "/ocpi/hubclientinfo/BE/ABC" and peer.seen[-1]["body"]["status"] == "SUSPENDED"

        pkg, app, client = make("2.1.1", "emsp", peer, ["tokens"])
        party = pkg.party_of(app)
        token = sample(load_spec(SPEC_ROOT, "2.1.1"), "Token", ("NL", "EXA"), "TOK5")
        blocking(party.put("tokens", token))
        blocking(party.drain())
        got = peer.seen[-1]
        assert got["method"] == "PUT" and got["path"] == "/ocpi/tokens/NL/EXA/TOK5"
        assert "ocpi-to-party-id" not in got["headers"]  # 2.1.1 has no routing headers


def test_push_table_is_the_receiver_interface_of_every_sent_module() -> None:
    for version in ("2.1.1", "2.2", "2.2.1", "2.3.0"):
        spec = load_spec(SPEC_ROOT, version)
        sent = {r.name: {p.collection for p in push_view(spec, r)} for r in spec.roles}
        assert sent["CPO"] >= {"Location", "Session", "CDR", "Tariff"} and "Token" not in sent["CPO"]
        assert sent["EMSP"] >= {"Token"} and "Location" not in sent["EMSP"]
        if "HUB" in sent:
            assert sent["HUB"] == {"ClientInfo"}
        for role in spec.roles:
            for p in push_view(spec, role):
                module = next(m for m in spec.modules if m.id == p.module_id)
                calls = {
                    (ep.method, ep.path)
                    for i in module.interfaces
                    if i.role in ("RECEIVER", "EMSP", "CPO")
                    and role.name not in i.implemented_by
                    or i.role == "RECEIVER"
                    for ep in i.endpoints
                    if ep.server
                    and ep.server.kind in ("put", "patch", "delete", "post")
                    and ep.server.object == p.collection
                }
                assert {(m, path) for m, path, _ in p.ops} == calls, (version, role.name, p.module_id)


def test_shutdown_closes_the_pusher(cpo: tuple[Any, Any, TestClient, Peer]) -> None:
    peer = Peer()
    with RunningServer(peer.app, peer.port):
        pkg, app, client = make("2.2.1", "cpo", peer, ["tariffs"])
        party = pkg.party_of(app)
        with client:
            client.put(
                "/admin/tariffs/T2",
                json=json.loads(
                    json.dumps(sample(load_spec(SPEC_ROOT, "2.2.1"), "Tariff", ("NL", "EXA"), "T2"), default=float)
                ),
                headers=bearer(ADMIN),
            )
            drain(client)
            assert party.pusher._peers  # an HTTP client to the peer, kept between pushes
        assert not party.pusher._peers and not party.pusher._tasks  # closed by the lifespan


def test_log_handler_only_when_logging_is_not_configured() -> None:
    folder = ROOT / "generated" / "2.2.1" / "server" / "cpo"
    code = (
        "import logging\n"
        "from ocpi_server_cpo_v2_2_1 import create_app\n"
        "ocpi = logging.getLogger('ocpi')\n"
        "create_app()\n"
        "print(len(ocpi.handlers))\n"
        "logging.getLogger('ocpi.push').info('push delivered: hello')\n"
        "ocpi.handlers.clear(); ocpi.setLevel(logging.NOTSET)\n"
        "logging.basicConfig(level=logging.WARNING)\n"
        "create_app()\n"
        "print(len(ocpi.handlers))\n"
        "logging.getLogger('ocpi.push').info('push delivered: unseen')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(folder)}
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert run.stdout.split() == ["1", "0"]  # a handler only while logging is not configured
    assert "INFO ocpi.push: push delivered: hello" in run.stderr
    assert "unseen" not in run.stderr  # the user's WARNING level wins


def test_shutdown_cancels_a_hanging_push_and_marks_the_peer() -> None:
    peer = Peer()

    async def hang(request: Request) -> JSONResponse:
        await asyncio.sleep(1.0)  # longer than the grace given below
        return JSONResponse({"status_code": 1000, "timestamp": "2024-01-01T00:00:00Z"})

    peer.app = Starlette(routes=[Route("/{path:path}", hang, methods=["PUT"])])
    with RunningServer(peer.app, peer.port):
        pkg, app, _ = make("2.2.1", "cpo", peer, ["tariffs"])
        party = pkg.party_of(app)
        blocking(party.put("tariffs", sample(load_spec(SPEC_ROOT, "2.2.1"), "Tariff", ("NL", "EXA"), "T3")))
        blocking(asyncio.sleep(0.2))
        assert len(party.pusher._tasks) == 1
        blocking(party.pusher.close(grace=0.2))
        assert not party.pusher._tasks
        state = sync(party.store).peer_state("FR/RCV")
        assert state["in_sync"] is False and "cancelled" in state["last_push_error"]
