"""The outbound URL policy: which URLs a peer names this server calls, and the call sites using it."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import types
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pydantic import BaseModel

from ocpi_runtime.client._settings import Routing
from ocpi_runtime.client._transport import AsyncTransport
from ocpi_runtime.server import _defaults
from ocpi_runtime.server._app import _fetch_peer, register_with_peer
from ocpi_runtime.server._defaults import Engine
from ocpi_runtime.server._outbound import OutboundPolicy, RefusedURL, allowed, check_endpoints
from ocpi_runtime.server._settings import ServerSettings
from ocpi_runtime.server._store import Party, SqliteStore
from tests.blocking import sync

PEER = "https://peer.example.com/ocpi/versions"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://peer.example.com/x", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("https://user:pw@peer.example.com/x", "user info"),
        ("https:///x", "no host"),
        ("https://internal.example.org/x", "neither the peer's"),
        ("http://93.184.216.34/x", "neither the peer's"),
    ],
)
def test_static_refusals(url: str, reason: str) -> None:
    policy = OutboundPolicy(allow_private=True)
    refusal = policy.static_refusal(url, PEER)
    assert refusal is not None and reason in refusal


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/x",
        "http://10.1.2.3/x",
        "http://192.168.0.1/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://100.64.0.1/x",
        "http://0.0.0.0/x",
    ],
)
def test_private_addresses_are_refused_unless_allowed(url: str) -> None:
    peer = url  # the peer's own host: only the address rule can refuse it
    refusal = OutboundPolicy().static_refusal(url, peer)
    assert refusal is not None and "not public" in refusal
    assert OutboundPolicy(allow_private=True).static_refusal(url, peer) is None


def test_names_are_resolved_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    refusal = asyncio.run(OutboundPolicy().refusal("http://localhost:8000/x", "http://localhost/versions"))
    assert refusal is not None and "127.0.0.1" in refusal or "::1" in str(refusal)
    assert asyncio.run(OutboundPolicy(allow_private=True).refusal("http://localhost/x", "http://localhost/")) is None

    def no_dns(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror("no such host")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)  # no real DNS in tests
    unresolvable = asyncio.run(
        OutboundPolicy().refusal("http://no-such-host.invalid/x", "http://no-such-host.invalid/")
    )
    assert unresolvable is not None and "does not resolve" in unresolvable


def test_peer_hosts_allow_list_and_public_literals() -> None:
    policy = OutboundPolicy(peer_hosts=("*.cdn.example.net", "results.example.org"))
    assert policy.static_refusal("https://a.b.cdn.example.net/x", PEER) is None
    assert policy.static_refusal("https://cdn.example.net/x", PEER) is None
    assert policy.static_refusal("https://results.example.org/x", PEER) is None
    assert policy.static_refusal("https://evilcdn.example.net/x", PEER) is not None
    assert policy.static_refusal("https://PEER.example.com:8443/other", PEER) is None  # any port, any case
    assert asyncio.run(OutboundPolicy().refusal("http://93.184.216.34/x", "http://93.184.216.34/v")) is None
    assert policy.static_refusal("https://results.example.org/x", "") is None  # peer unknown: list only
    assert policy.static_refusal("https://peer.example.com/x", "") is not None


def test_settings_from_environment() -> None:
    settings = ServerSettings.from_env(
        environ={"OCPI_ALLOW_PRIVATE_PEERS": "true", "OCPI_PEER_HOSTS": " a.example.com, *.B.example.com ,"}
    )
    assert settings.allow_private_peers and settings.peer_hosts == ("a.example.com", "*.b.example.com")
    default = ServerSettings.from_env(environ={})
    assert not default.allow_private_peers and default.peer_hosts == ()


# -- call sites -------------------------------------------------------------------------------------


class Result(BaseModel):
    result: str


def _ctx(party: Any) -> Any:
    """What ``Engine.send_result`` reads of a request context: the party and the routing back."""
    routing = Routing(from_country_code="NL", from_party_id="EXA")
    return types.SimpleNamespace(party=party, routing_back=lambda: routing)


def _engine(settings: ServerSettings) -> Engine:
    return Engine(SqliteStore(":memory:"), settings, not_found_codes={}, routing_headers=True, request_id_headers=True)


@pytest.fixture
def posts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []

    async def request(self: AsyncTransport, method: str, url: str, **kwargs: Any) -> None:
        calls.append(url)

    monkeypatch.setattr(_defaults.AsyncTransport, "request", request)
    return calls


def test_a_result_for_a_refused_response_url_is_not_sent_and_logged(
    settings: ServerSettings, posts: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    party = Party("peer", token_b="b", token_c="c", versions_url="https://peer.example.com/ocpi/versions")
    engine = _engine(settings)
    with caplog.at_level(logging.WARNING, logger="ocpi"):
        asyncio.run(engine.send_result(_ctx(party), "http://169.254.169.254/latest", Result(result="ACCEPTED")))
        asyncio.run(engine.send_result(_ctx(party), "http://127.0.0.1:8000/ocpi/2.2.1/commands", Result(result="X")))
    assert posts == []
    lines = [r.getMessage() for r in caplog.records if "response_url" in r.getMessage()]
    assert len(lines) == 2 and "169.254.169.254" in lines[0] and "not calling" in lines[0]


def test_a_result_for_the_peers_own_host_is_sent(settings: ServerSettings, posts: list[str]) -> None:
    party = Party("peer", token_b="b", token_c="c", versions_url="http://127.0.0.1:9000/ocpi/versions")
    engine = _engine(replace(settings, allow_private_peers=True))
    asyncio.run(
        engine.send_result(_ctx(party), "http://127.0.0.1:9001/ocpi/2.2.1/commands/START/1", Result(result="A"))
    )
    assert posts == ["http://127.0.0.1:9001/ocpi/2.2.1/commands/START/1"]
    asyncio.run(engine.send_result(_ctx(party), "http://127.0.0.2/x", Result(result="A")))  # another host
    assert len(posts) == 1


# -- registration ----------------------------------------------------------------------------------


class _Peer(BaseHTTPRequestHandler):
    details_url = ""
    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        _Peer.seen.append(self.path)
        data: Any
        if self.path.endswith("/versions"):
            data = [{"version": "2.2.1", "url": _Peer.details_url}]
        else:
            data = {"version": "2.2.1", "endpoints": []}
        body = json.dumps({"data": data, "status_code": 1000, "timestamp": "2020-01-01T00:00:00Z"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def peer() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Peer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Peer.seen = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class _Spec:
    version = "2.2.1"
    routing_headers = True


def test_registration_does_not_call_a_private_versions_url(settings: ServerSettings, peer: str) -> None:
    fetch = _fetch_peer(_Spec(), settings)  # type: ignore[arg-type]
    with pytest.raises(RefusedURL):
        asyncio.run(fetch(f"{peer}/ocpi/versions", "token-b"))
    assert _Peer.seen == []


def test_registration_does_not_follow_version_details_to_another_host(settings: ServerSettings, peer: str) -> None:
    _Peer.details_url = peer.replace("127.0.0.1", "127.0.0.2") + "/ocpi/2.2.1"
    fetch = _fetch_peer(_Spec(), replace(settings, allow_private_peers=True))  # type: ignore[arg-type]
    with pytest.raises(RefusedURL):
        asyncio.run(fetch(f"{peer}/ocpi/versions", "token-b"))
    assert _Peer.seen == ["/ocpi/versions"]  # the details URL on 127.0.0.2 was never called


def test_registration_refuses_endpoints_on_foreign_hosts(settings: ServerSettings) -> None:
    lab = replace(settings, allow_private_peers=True)
    ok = [{"identifier": "locations", "url": "http://127.0.0.1:9/ocpi/2.2.1/locations"}]
    asyncio.run(check_endpoints(lab, "http://127.0.0.1:9/ocpi/versions", ok))
    bad = ok + [{"identifier": "tokens", "url": "http://10.0.0.5/ocpi/2.2.1/tokens"}]
    with pytest.raises(RefusedURL, match="outbound URL policy"):
        asyncio.run(check_endpoints(lab, "http://127.0.0.1:9/ocpi/versions", bad))
    assert asyncio.run(allowed(lab, "http://10.0.0.5/x", peer_url=None, what="endpoint")) is False


class _Credentials(BaseModel):
    token: str
    url: str


class _RegSpec(_Spec):
    credentials_model = _Credentials

    @staticmethod
    def own_credentials(settings: ServerSettings, party: Party, token: str) -> dict[str, Any]:
        return {"token": token, "url": f"{settings.base_url}/versions"}


def test_registration_we_start_does_not_call_a_private_peer(settings: ServerSettings, peer: str) -> None:
    store = SqliteStore(":memory:")
    with pytest.raises(RefusedURL):
        asyncio.run(register_with_peer(_RegSpec(), settings, store, "peer", f"{peer}/ocpi/versions", "a"))  # type: ignore[arg-type]
    assert _Peer.seen == [] and sync(store).party("peer") is None  # nothing called, nothing kept
