"""The credentials handshake: register (POST, token A -> token C), update (PUT), unregister (DELETE)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from ocpi_runtime.client._credentials import Registration, register, unregister, update
from ocpi_runtime.client._discovery import Discovery
from ocpi_runtime.client._transport import Settings, SyncTransport
from ocpi_runtime.client._types import OcpiModel, parse_one
from ocpi_runtime.client.errors import AuthenticationError, ModuleNotOfferedError

from ._helpers import Recorder, envelope

VERSIONS_URL = "https://peer.example.com/ocpi/versions"
DETAILS_URL = "https://peer.example.com/ocpi/2.2.1"
CREDENTIALS_URL = "https://peer.example.com/ocpi/2.2.1/credentials"
TOKEN_A, TOKEN_B, TOKEN_C, TOKEN_C2 = "token-A", "token-B", "token-C", "token-C2"


class Role(OcpiModel):
    role: str
    party_id: str
    country_code: str


class Credentials(OcpiModel):
    token: str
    url: str
    roles: list[Role]


OWN = Credentials(
    token=TOKEN_B,
    url="https://me.example.org/ocpi/versions",
    roles=[Role(role="EMSP", party_id="EMS", country_code="NL")],
)


def parse_credentials(raw: Any) -> Credentials:
    return parse_one(Credentials, raw)


def token_of(credentials: Credentials) -> str:
    return credentials.token


class Peer:
    """A fake OCPI peer: knows token A before registration and hands out token C (then C2)."""

    def __init__(self) -> None:
        self.valid = {TOKEN_A}
        self.issued = [TOKEN_C, TOKEN_C2]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        token = request.headers["Authorization"].removeprefix("Token ")
        if token not in self.valid:
            return httpx.Response(401, json=envelope(None, 2000, "unknown token"))
        url = str(request.url)
        if url == VERSIONS_URL:
            return httpx.Response(200, json=envelope([{"version": "2.2.1", "url": DETAILS_URL}]))
        if url == DETAILS_URL:
            endpoints = [{"identifier": "credentials", "role": "RECEIVER", "url": CREDENTIALS_URL}]
            return httpx.Response(200, json=envelope({"version": "2.2.1", "endpoints": endpoints}))
        if url == CREDENTIALS_URL and request.method in ("POST", "PUT"):
            new = self.issued.pop(0)
            self.valid = {new}
            body = {
                "token": new,
                "url": VERSIONS_URL,
                "roles": [{"role": "CPO", "party_id": "CPO", "country_code": "DE"}],
            }
            return httpx.Response(200, json=envelope(body))
        if url == CREDENTIALS_URL and request.method == "DELETE":
            self.valid = set()
            return httpx.Response(200, json=envelope(None))
        return httpx.Response(404, json=envelope(None, 2000, "no such endpoint"))


def transport_for(recorder: Recorder, token: str) -> SyncTransport:
    return SyncTransport(Settings(token=token, token_encoding="raw"), http=recorder.client())


def tokens(recorder: Recorder) -> list[tuple[str, str, str]]:
    return [(r.method, str(r.url), r.headers["Authorization"]) for r in recorder.requests]


def test_register_uses_token_a_and_returns_token_c() -> None:
    rec = Recorder(Peer())
    reg = register(transport_for(rec, TOKEN_A), VERSIONS_URL, OWN, parse_credentials, ["2.2.1"], token_of=token_of)
    assert isinstance(reg, Registration)
    assert tokens(rec) == [
        ("GET", VERSIONS_URL, f"Token {TOKEN_A}"),
        ("GET", DETAILS_URL, f"Token {TOKEN_A}"),
        ("POST", CREDENTIALS_URL, f"Token {TOKEN_A}"),
    ]
    assert json.loads(rec.requests[2].content) == json.loads(OWN.to_json())
    assert rec.requests[2].headers["Content-Type"] == "application/json"
    assert reg.token == TOKEN_C and reg.credentials.token == TOKEN_C
    assert reg.credentials.roles[0].party_id == "CPO"
    assert reg.discovery.version == "2.2.1" and reg.discovery.url_for("credentials", None) == CREDENTIALS_URL
    assert TOKEN_C not in repr(reg) and TOKEN_B not in repr(reg)


def test_update_with_put_and_token_c_then_unregister_with_delete() -> None:
    peer = Peer()
    rec = Recorder(peer)
    transport = transport_for(rec, TOKEN_A)
    reg = register(transport, VERSIONS_URL, OWN, parse_credentials, ["2.2.1"], token_of=token_of)
    with_c = transport.with_settings(transport.settings.with_token(reg.token))
    rec.requests.clear()

    new_own = OWN.model_copy(update={"token": "token-B2"})
    updated = update(with_c, reg.discovery, new_own, parse_credentials, token_of=token_of)
    assert tokens(rec) == [("PUT", CREDENTIALS_URL, f"Token {TOKEN_C}")]
    assert json.loads(rec.requests[0].content)["token"] == "token-B2"
    assert updated.token == TOKEN_C2 and updated.discovery is reg.discovery

    with_c2 = with_c.with_settings(with_c.settings.with_token(updated.token))
    rec.requests.clear()
    unregister(with_c2, updated.discovery)
    assert tokens(rec) == [("DELETE", CREDENTIALS_URL, f"Token {TOKEN_C2}")]
    assert peer.valid == set()


def test_update_can_discover_again_with_token_c() -> None:
    rec = Recorder(Peer())
    transport = transport_for(rec, TOKEN_A)
    reg = register(transport, VERSIONS_URL, OWN, parse_credentials, ["2.2.1"], token_of=token_of)
    rec.requests.clear()
    with_c = transport.with_settings(transport.settings.with_token(reg.token))
    updated = update(with_c, VERSIONS_URL, OWN, parse_credentials, ["2.2.1"], "2.2.1", token_of=token_of)
    assert [m for m, _, _ in tokens(rec)] == ["GET", "GET", "PUT"]
    assert {auth for _, _, auth in tokens(rec)} == {f"Token {TOKEN_C}"}
    assert updated.token == TOKEN_C2


def test_update_with_the_old_token_fails() -> None:
    rec = Recorder(Peer())
    transport = transport_for(rec, TOKEN_A)
    reg = register(transport, VERSIONS_URL, OWN, parse_credentials, ["2.2.1"], token_of=token_of)
    with pytest.raises(AuthenticationError):
        update(transport, reg.discovery, OWN, parse_credentials, token_of=token_of)  # still token A


def test_register_without_credentials_module() -> None:
    def no_credentials(request: httpx.Request) -> httpx.Response:
        if str(request.url) == VERSIONS_URL:
            return httpx.Response(200, json=envelope([{"version": "2.2.1", "url": DETAILS_URL}]))
        return httpx.Response(200, json=envelope({"version": "2.2.1", "endpoints": []}))

    rec = Recorder(no_credentials)
    with pytest.raises(ModuleNotOfferedError):
        register(transport_for(rec, TOKEN_A), VERSIONS_URL, OWN, parse_credentials, ["2.2.1"], token_of=token_of)
    assert [r.method for r in rec.requests] == ["GET", "GET"]


def test_registration_repr_hides_tokens() -> None:
    found = Discovery(version="2.2.1", versions_url=VERSIONS_URL, details_url=DETAILS_URL, endpoints={})
    reg = Registration(discovery=found, credentials=OWN, token="secret-C")
    assert "secret-C" not in repr(reg) and TOKEN_B not in repr(reg)
