"""Peer management with ``python -m <package> ...`` (issue 15), on file databases shared with the
running servers, for every version: issue-token, register, peers, resync, add-peer (a pull-only
peer pages every sender module at once), update-credentials and unregister; and the token cache
across two store instances on one file."""

from __future__ import annotations

import base64
import importlib
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from generator.ir_build import BOTH
from generator.paths import SPEC_ROOT, available_versions
from tests.blocking import sync
from tests.server_support import RunningServer, free_port, server_package
from tests.test_e2e import load_spec, sample

VERSIONS = available_versions(SPEC_ROOT)
IDS = {"cpo": ("NL", "CPO"), "emsp": ("DE", "EMS")}


class Side:
    """One server (CPO or eMSP) on a file database, and its CLI with the same OCPI_* settings."""

    def __init__(self, version: str, role: str, folder: Path) -> None:
        self.pkg = server_package(version, role)
        self.cli = importlib.import_module(f"{self.pkg.__name__}.__main__")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}/ocpi"
        self.versions = f"{self.base}/versions"
        self.env = {
            "OCPI_BASE_URL": self.base,
            "OCPI_DATABASE": f"sqlite:///{folder / (role + '.db')}",
            "OCPI_COUNTRY_CODE": IDS[role][0],
            "OCPI_PARTY_ID": IDS[role][1],
            "OCPI_ALLOW_PRIVATE_PEERS": "true",
            "OCPI_TOKEN_BASE64": "true" if load_spec(SPEC_ROOT, version).token_base64 else "false",
            "OCPI_MAX_LIMIT": "3",
            "OCPI_RESYNC_SECONDS": "0",
        }
        self.settings = self.pkg.ServerSettings.from_env(environ=self.env)
        self.store = self.pkg.open_store(self.env["OCPI_DATABASE"])
        self.server = RunningServer(self.pkg.create_app(self.settings, store=self.store), self.port)

    def run(self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
        with monkeypatch.context() as m:
            for name, value in self.env.items():
                m.setenv(name, value)
            code = self.cli.main(list(argv))
        out = capsys.readouterr()
        return code, out.out + out.err


def auth(token: str, version: str) -> dict[str, str]:
    raw = base64.b64encode(token.encode()).decode() if load_spec(SPEC_ROOT, version).token_base64 else token
    return {"Authorization": f"Token {raw}"}


def token_in(output: str) -> str:
    match = re.search(r": ([A-Za-z0-9_-]{40,})$", output.splitlines()[0])
    assert match, output
    return match.group(1)


@pytest.fixture(scope="module", params=VERSIONS)
def sides(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp(f"cli-{request.param}")
    cpo, emsp = Side(request.param, "cpo", folder), Side(request.param, "emsp", folder)
    with cpo.server, emsp.server:
        yield request.param, cpo, emsp


def test_peer_lifecycle_through_the_cli(
    sides: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    version, cpo, emsp = sides
    spec = load_spec(SPEC_ROOT, version)
    # The eMSP issues a token A; the CPO registers with it (both CLIs on the servers' files).
    code, out = emsp.run(monkeypatch, capsys, "issue-token", "NL/CPO")
    assert code == 0 and emsp.versions in out
    token_a = token_in(out)
    code, out = cpo.run(monkeypatch, capsys, "register", "DE/EMS", emsp.versions, token_a)
    assert code == 0 and f"OCPI {version}" in out, out
    cpo_side, emsp_side = sync(cpo.store).party("DE/EMS"), sync(emsp.store).party("NL/CPO")
    assert cpo_side.token_b == emsp_side.token_c and cpo_side.token_c == emsp_side.token_b

    # The CPO pulls the eMSP's tokens now.
    for n in range(5):
        data = sample(spec, "Token", IDS["emsp"], f"TOK{n}")
        data["last_updated"] = f"2025-01-0{n + 1}T00:00:00Z"
        sync(emsp.store).put_object("Token", *IDS["emsp"], f"TOK{n}", data, data["last_updated"])
    code, out = cpo.run(monkeypatch, capsys, "resync", "DE/EMS")
    assert code == 0 and "complete" in out and "tokens 5/5" in out, out
    assert sync(cpo.store).list_objects("Token", date_from=None, date_to=None, offset=0, limit=10)[1] == 5

    # The peers table: roles, version, endpoints, which tokens are set, resync state; never a token.
    code, out = cpo.run(monkeypatch, capsys, "peers")
    row = next(line for line in out.splitlines() if line.startswith("DE/EMS"))
    role = "EMSP DE/EMS" if spec.routing_headers else "? DE/EMS"  # 2.1.1 credentials name no role
    assert code == 0 and role in row and version in row and "-BC" in row and row.rstrip().endswith("yes")
    assert cpo_side.token_b not in out and cpo_side.token_c not in out

    # update-credentials: both sides get new tokens; the old ones stop working at once.
    old_b = cpo_side.token_b
    code, out = cpo.run(monkeypatch, capsys, "update-credentials", "DE/EMS")
    assert code == 0, out
    cpo_side, emsp_side = sync(cpo.store).party("DE/EMS"), sync(emsp.store).party("NL/CPO")
    assert cpo_side.token_b == emsp_side.token_c and cpo_side.token_c == emsp_side.token_b
    assert cpo_side.token_b != old_b
    assert httpx.get(emsp.versions, headers=auth(old_b, version)).status_code == 401
    assert httpx.get(emsp.versions, headers=auth(cpo_side.token_b, version)).status_code == 200
    assert httpx.get(cpo.versions, headers=auth(emsp_side.token_b, version)).status_code == 200

    # unregister: DELETE at the eMSP, then both sides have forgotten the registration.
    code, out = cpo.run(monkeypatch, capsys, "unregister", "DE/EMS")
    assert code == 0 and "forgotten" in out, out
    assert sync(cpo.store).party("DE/EMS") is None and sync(emsp.store).party("NL/CPO") is None
    assert httpx.get(cpo.versions, headers=auth(emsp_side.token_b, version)).status_code == 401
    code, out = cpo.run(monkeypatch, capsys, "unregister", "DE/EMS")
    assert code == 1 and "no peer" in out


def test_pull_only_peer_pages_every_sender_module(
    sides: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    version, cpo, _ = sides
    spec = load_spec(SPEC_ROOT, version)
    role = next(r for r in spec.roles if r.name == "CPO")
    lists = {
        iface.module_id: ep.server.object
        for iface in role.interfaces
        if iface.role != BOTH
        for ep in iface.endpoints
        if ep.server is not None and ep.server.kind == "list" and ep.server.object
    }
    assert {"locations", "sessions", "cdrs", "tariffs"} <= set(lists)
    for collection in lists.values():
        for n in range(7):
            data = sample(spec, collection, IDS["cpo"], f"OBJ{n}")
            data["last_updated"] = f"2025-02-0{n + 1}T00:00:00Z"
            sync(cpo.store).put_object(collection, *IDS["cpo"], f"OBJ{n}", data, data["last_updated"])

    code, out = cpo.run(
        monkeypatch, capsys, "add-peer", "EXPORT", "--role", "EMSP", "--country-code", "BE", "--party-id", "EXP"
    )
    assert code == 0, out
    token = token_in(out)
    party = sync(cpo.store).party("EXPORT")
    assert party.token_c == token and party.token_a is None and party.roles[0]["role"] == "EMSP"

    # The token works at once, on every sender module, page by page (3 per page).
    client = cpo.pkg.client
    settings = client.Settings(
        token=token, token_encoding="base64" if spec.token_base64 else "raw", request_id_headers=spec.routing_headers
    )
    details = httpx.get(f"{cpo.base}/{version}", headers=auth(token, version)).json()["data"]["endpoints"]
    urls = {e["identifier"]: e["url"] for e in details if e.get("role") in (None, "SENDER")}
    with importlib.import_module(f"{client.__name__}._transport").SyncTransport(settings) as transport:
        for module, collection in lists.items():
            pages = transport.paginate(urls[module], parse=lambda raw: raw)
            got = [item["uid" if collection == "Token" else "id"] for item in pages]
            assert got == [f"OBJ{n}" for n in range(7)], module
            assert pages.pages_fetched == 3
    code, out = cpo.run(monkeypatch, capsys, "peers")
    row = next(line for line in out.splitlines() if line.startswith("EXPORT"))
    assert "EMSP BE/EXP" in row and "--C" in row and token not in out
    code, out = cpo.run(
        monkeypatch, capsys, "add-peer", "EXPORT", "--role", "EMSP", "--country-code", "BE", "--party-id", "EXP"
    )
    assert code == 1 and "exists" in out


def test_issue_token_refuses_a_memory_database(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cli = importlib.import_module(f"{server_package('2.2.1', 'cpo').__name__}.__main__")
    monkeypatch.setenv("OCPI_DATABASE", ":memory:")
    assert cli.main(["issue-token", "X"]) == 2
    assert "sqlite:///ocpi.db" in capsys.readouterr().err


def test_token_saved_by_another_store_on_the_same_file_works_at_once(tmp_path: Path) -> None:
    pkg = server_package("2.2.1", "cpo")
    first, second = pkg.SqliteStore(str(tmp_path / "one.db")), pkg.SqliteStore(str(tmp_path / "one.db"))
    assert sync(first).party_by_token("tok-1") is None  # a miss, cached
    sync(second).save_party(pkg.Party("P", token_c="tok-1"))
    found = sync(first).party_by_token("tok-1")
    assert found is not None and found[0].party_key == "P" and found[1] == "C"
    rotated = sync(second).party("P")
    rotated.token_c = "tok-2"
    sync(second).save_party(rotated)
    assert sync(first).party_by_token("tok-1") is None  # the old token stops at once
    assert sync(first).party_by_token("tok-2") is not None
    sync(second).delete_party("P")
    assert sync(first).party_by_token("tok-2") is None
    sync(first).close()
    sync(second).close()
