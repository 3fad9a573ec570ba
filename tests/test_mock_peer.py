"""``ocpi-codegen mock-peer``: the command line, the faults (switched from a test, over HTTP and with
flags), the sample data (valid against the generated client's models) and the pytest plugin."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from generator.mockpeer import MockPeer, build_mock_peer
from generator.paths import SPEC_ROOT
from generator.pipeline import load_spec
from tests.client_support import client_package
from tests.conftest import ROOT
from tests.server_support import server_package

SPEC = load_spec(SPEC_ROOT, "2.2.1")


@pytest.fixture(scope="module")
def peer() -> Iterator[MockPeer]:
    with build_mock_peer(SPEC, "cpo", package=server_package("2.2.1", "cpo")).serve() as running:
        yield running


def auth(peer: MockPeer, *, raw: bool = False) -> dict[str, str]:
    token = peer.token if raw else base64.b64encode(peer.token.encode()).decode()
    return {"Authorization": f"Token {token}"}


def locations(peer: MockPeer) -> str:
    return f"{peer.base_url}/2.2.1/locations"


@pytest.fixture(autouse=True)
def _clear(peer: MockPeer) -> Iterator[None]:
    peer.faults.clear()
    yield
    peer.faults.clear()


def test_seeded_lists_page_through_and_parse_with_the_generated_models(peer: MockPeer) -> None:
    models = client_package(SPEC).models
    url: str | None = locations(peer)
    seen = []
    while url:
        r = httpx.get(url, headers=auth(peer))
        assert r.status_code == 200 and r.headers["X-Total-Count"] == "12" and r.headers["X-Limit"] == "5"
        seen += [models.Location.model_validate(o).id for o in r.json()["data"]]
        url = r.links.get("next", {}).get("url")
    assert len(seen) == len(set(seen)) == 12
    assert peer.seeded == {"Location": 12, "Session": 12, "CDR": 12, "Tariff": 12}
    for collection, model in (("sessions", models.Session), ("cdrs", models.CDR), ("tariffs", models.Tariff)):
        r = httpx.get(f"{peer.base_url}/2.2.1/{collection}", headers=auth(peer))
        assert [model.model_validate(o) for o in r.json()["data"]]


def test_slow_answers(peer: MockPeer) -> None:
    peer.faults.set(delay=0.4)
    began = time.perf_counter()
    assert httpx.get(peer.versions_url, headers=auth(peer)).status_code == 200
    assert time.perf_counter() - began >= 0.4
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(peer.versions_url, headers=auth(peer), timeout=0.1)
    time.sleep(0.5)  # the peer still answers the abandoned request; let it finish


def test_5xx_and_429_with_retry_after_on_every_nth_request(peer: MockPeer) -> None:
    peer.faults.set(status_5xx=502, every=2)
    assert [httpx.get(locations(peer), headers=auth(peer)).status_code for _ in range(4)] == [200, 502, 200, 502]
    peer.faults.clear()
    peer.faults.set(rate_limit=7)
    r = httpx.get(locations(peer), headers=auth(peer))
    assert r.status_code == 429 and r.headers["Retry-After"] == "7"


def test_wrong_token_encoding_accepts_only_the_other_form(peer: MockPeer) -> None:
    peer.faults.set(wrong_token_encoding=True)
    assert httpx.get(locations(peer), headers=auth(peer)).status_code == 401
    assert httpx.get(locations(peer), headers=auth(peer, raw=True)).status_code == 200


def test_broken_links_lead_nowhere(peer: MockPeer) -> None:
    peer.faults.set(broken_links=True)
    r = httpx.get(locations(peer), headers=auth(peer))
    assert r.status_code == 200 and "no-such-page" in r.links["next"]["url"]
    assert httpx.get(r.links["next"]["url"], headers=auth(peer)).status_code == 404


def test_dropped_connections(peer: MockPeer) -> None:
    peer.faults.set(drop_connection=True)
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(locations(peer), headers=auth(peer))
    peer.faults.clear()
    assert httpx.get(locations(peer), headers=auth(peer)).status_code == 200


def test_admin_route_switches_faults_at_run_time(peer: MockPeer) -> None:
    r = httpx.put(peer.admin_url, json={"status_5xx": 500, "misbehave": ["no_x_limit"]})
    assert r.status_code == 200 and r.json()["status_5xx"] == 500 and "no_total_count" in r.json()["misbehaviours"]
    assert peer.faults.status_5xx == 500 and peer.faults.on("no_x_limit")
    assert httpx.get(locations(peer), headers=auth(peer)).status_code == 500
    assert httpx.put(peer.admin_url, json={"status_5xx": 0}).json()["misbehave"] == ["no_x_limit"]
    assert "x-limit" not in httpx.get(locations(peer), headers=auth(peer)).headers
    bad = httpx.put(peer.admin_url, json={"no_such_fault": 1})
    assert bad.status_code == 400 and "no_such_fault" in bad.json()["error"]
    assert httpx.delete(peer.admin_url).json()["misbehave"] == []
    assert httpx.get(locations(peer), headers=auth(peer)).headers["x-limit"] == "5"


def test_cli_generates_serves_and_takes_fault_flags(tmp_path: Path) -> None:
    """The command generates the 2.1.1 eMSP on the fly, prints its URL and tokens, and serves with the
    faults of its flags until it is stopped."""
    process = subprocess.Popen(
        [sys.executable, "-m", "generator", "mock-peer", "2.1.1", "--role", "emsp", "--port", "0"]
        + ["--faults", "rate_limit=3", "--faults", "no_total_count", "--token", "abc", "--objects", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(6)]
        url = next(line.split()[-1] for line in lines if line.startswith("versions URL"))
        assert any("token (C):    abc" in line for line in lines) and "3 Token" in lines[0]
        assert any("rate_limit': 3" in line and "no_total_count" in line for line in lines)
        r = httpx.get(url, headers={"Authorization": "Token abc"})
        assert r.status_code == 429 and r.headers["Retry-After"] == "3"
        admin = url.replace("/ocpi/versions", "/_mock/faults")
        httpx.put(admin, json={"rate_limit": 0})
        r = httpx.get(url.replace("versions", "2.1.1/tokens"), headers={"Authorization": "Token abc"})
        assert r.status_code == 200 and len(r.json()["data"]) == 3 and "x-total-count" not in r.headers
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_cli_usage_errors() -> None:
    from generator.cli import main

    assert main(["mock-peer", "2.2.1", "--role", "nobody"]) == 2
    assert main(["mock-peer", "2.2.1", "--role", "cpo", "--faults", "no_such_fault"]) == 2
    assert main(["mock-peer", "--list-faults", "2.2.1", "--role", "cpo"]) == 0


def test_pytest_plugin_fixture(tmp_path: Path) -> None:
    """A user's test suite enables the plugin with -p (or pytest_plugins) and gets ``ocpi_mock_peer``."""
    (tmp_path / "test_user.py").write_text(
        "import httpx\n"
        "def test_peer(ocpi_mock_peer):\n"
        "    peer = ocpi_mock_peer('2.2.1', 'cpo', count=2)\n"
        "    peer.faults.set(status_5xx=503)\n"
        "    assert httpx.get(peer.versions_url).status_code == 503\n"
        "    peer.faults.clear()\n"
        "    r = httpx.get(peer.base_url + '/2.2.1/tariffs', headers={'Authorization': 'Token ' + peer.token})\n"
        "    assert r.json()['status_code'] == 1000 and len(r.json()['data']) == 2\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "generator.mockpeer.pytest_plugin", "-p", "no:cacheprovider"]
        + ["--rootdir", str(tmp_path), str(tmp_path / "test_user.py")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-2000:]
    assert "1 passed" in result.stdout
