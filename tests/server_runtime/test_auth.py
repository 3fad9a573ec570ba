"""Authorization: Base64 and raw tokens, token kinds, 401s, anonymous versions access."""

from __future__ import annotations

import base64
import logging

import pytest
from fastapi.testclient import TestClient

from ocpi_runtime.server._auth import Authenticator, encode_authorization, parse_authorization
from ocpi_runtime.server._settings import ServerSettings
from ocpi_runtime.server._store import Party, SqliteStore
from tests.blocking import sync
from tests.server_runtime.wiring import build_app

TOKEN_C = "ebf3b399-779f-4497-9b9d-ac6ad3cc44d2"
LIST = "/ocpi/cpo/2.2.1/locations"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture
def token_a(store: SqliteStore) -> str:
    return sync(store).create_token_a("pending")


@pytest.fixture
def client(settings: ServerSettings, store: SqliteStore, token_a: str) -> TestClient:
    sync(store).save_party(Party(party_key="peer", token_b="b", token_c=TOKEN_C))
    return TestClient(build_app(settings, store))


# -- parse_authorization -----------------------------------------------------------------------------


def test_parse_base64_gives_decoded_then_raw() -> None:
    assert parse_authorization("Token " + b64("example-token")) == ["example-token", b64("example-token")]


def test_parse_spec_example_with_trailing_newline() -> None:
    # The 2.2.1 spec's own example encodes the token followed by "\n".
    assert parse_authorization("Token ZWJmM2IzOTktNzc5Zi00NDk3LTliOWQtYWM2YWQzY2M0NGQyCg==")[0] == TOKEN_C


def test_parse_raw_token_that_is_not_base64() -> None:
    assert parse_authorization("Token " + TOKEN_C) == [TOKEN_C]


def test_parse_base64_of_binary_is_only_raw() -> None:
    binary = base64.b64encode(b"\xff\xfe\x00\x01").decode()
    assert parse_authorization("Token " + binary) == [binary]


def test_parse_missing_padding_and_scheme_case() -> None:
    encoded = b64("abcde").rstrip("=")
    assert parse_authorization("token " + encoded)[0] == "abcde"


@pytest.mark.parametrize("header", [None, "", "Token", "Token   ", "Bearer abc", "Basic " + b64("u:p"), "abc"])
def test_parse_rejects_other_forms(header: str | None) -> None:
    assert parse_authorization(header) == []


def test_encode_authorization_both_styles() -> None:
    assert encode_authorization("tok", base64_encode=True) == "Token " + b64("tok")
    assert encode_authorization("tok", base64_encode=False) == "Token tok"
    for flag in (True, False):
        assert "tok" in parse_authorization(encode_authorization("tok", base64_encode=flag))


# -- on the wired app --------------------------------------------------------------------------------


@pytest.mark.parametrize("style", ["base64", "raw"])
def test_token_c_is_accepted_in_both_forms(client: TestClient, style: str) -> None:
    value = b64(TOKEN_C) if style == "base64" else TOKEN_C
    response = client.get(LIST, headers={"Authorization": "Token " + value})
    assert response.status_code == 200
    assert response.json()["status_code"] == 1000


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Token unknown-token"},
        {"Authorization": "Token " + b64("unknown-token")},
        {"Authorization": "Bearer " + TOKEN_C},
        {"Authorization": TOKEN_C},
    ],
)
def test_missing_or_unknown_is_401(client: TestClient, headers: dict[str, str]) -> None:
    response = client.get(LIST, headers=headers)
    assert response.status_code == 401
    body = response.json()
    assert (body["status_code"], body["status_message"]) == (2000, "Unauthorized")
    assert response.headers["www-authenticate"] == "Token"


def test_token_a_is_refused_outside_credentials_and_versions(client: TestClient, token_a: str) -> None:
    headers = {"Authorization": "Token " + b64(token_a)}
    assert client.get(LIST, headers=headers).status_code == 401
    assert client.get("/ocpi/emsp/2.2.1/locations/NL/EXA/L1", headers=headers).status_code == 401
    assert client.get("/ocpi/versions", headers=headers).status_code == 200
    credentials = client.get("/ocpi/2.2.1/credentials", headers=headers)
    assert credentials.status_code == 200
    assert credentials.json()["data"]["token"] == token_a


def test_versions_require_a_token_by_default(client: TestClient) -> None:
    assert client.get("/ocpi/versions").status_code == 401
    assert client.get("/ocpi/2.2.1").status_code == 401
    assert client.get("/ocpi/2.2.1", headers={"Authorization": "Token " + TOKEN_C}).status_code == 200


def test_versions_can_be_anonymous(store: SqliteStore) -> None:
    settings = ServerSettings(
        base_url="http://testserver/ocpi", country_code="NL", party_id="EXA", versions_require_token=False
    )
    sync(store).save_party(Party(party_key="peer", token_c=TOKEN_C))
    client = TestClient(build_app(settings, store))
    assert client.get("/ocpi/versions").status_code == 200
    assert client.get("/ocpi/2.2.1").status_code == 200
    # A token that is sent must still be valid; function modules still need one.
    assert client.get("/ocpi/versions", headers={"Authorization": "Token nope"}).status_code == 401
    assert client.get(LIST).status_code == 401


def test_authenticator_identifies_kinds(settings: ServerSettings, store: SqliteStore, token_a: str) -> None:
    auth = Authenticator(store, settings)
    sync(store).save_party(Party(party_key="peer", token_c=TOKEN_C))
    found_a = sync(auth).identify("Token " + token_a)
    found_c = sync(auth).identify("Token " + b64(TOKEN_C))
    assert found_a is not None and (found_a.party.party_key, found_a.token_kind) == ("pending", "A")
    assert found_c is not None and (found_c.party.party_key, found_c.token_kind) == ("peer", "C")
    assert sync(auth).identify("Token " + b64("nobody")) is None


def test_tokens_are_never_logged(client: TestClient, token_a: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        client.get(LIST, headers={"Authorization": "Token " + token_a})
        client.get(LIST, headers={"Authorization": "Token wrong-secret"})
        client.get("/ocpi/2.2.1/test/boom", headers={"Authorization": "Token " + TOKEN_C})
    assert caplog.records  # the crash was logged...
    for secret in (token_a, "wrong-secret", TOKEN_C, b64(TOKEN_C)):
        assert secret not in caplog.text  # ...without any token
