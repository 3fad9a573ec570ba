"""A generated server meets hostile input: oversized and deeply nested bodies get 4xx envelopes."""

from __future__ import annotations

import base64
import functools
import logging

import pytest
from fastapi.testclient import TestClient

from tests.blocking import blocking, sync
from tests.server_support import server_package

V = "2.2.1"
DEEP = b'{"country_code": "NL", "party_id": "CPO", "id": "L1", "x": ' + b"[" * 1200 + b"]" * 1200 + b"}"


@functools.cache
def setup() -> tuple[TestClient, dict[str, str], str]:
    pkg = server_package(V, "emsp")
    settings = pkg.ServerSettings(base_url="http://testserver/ocpi", country_code="NL", party_id="SRV")
    store = pkg.SqliteStore(":memory:")
    sync(store).save_party(pkg.Party("peer", token_b="their-token", token_c="our-token", version=V))
    token_a = blocking(pkg.issue_token_a(settings, "newcomer", store))
    client = TestClient(pkg.create_app(settings, store=store), raise_server_exceptions=False)
    auth = {"Authorization": "Token " + base64.b64encode(b"our-token").decode()}
    return client, auth, token_a


def test_deeply_nested_put_body_is_400_2001_without_traceback(caplog: pytest.LogCaptureFixture) -> None:
    client, auth, _ = setup()
    with caplog.at_level(logging.INFO, logger="ocpi"):
        r = client.put(f"/ocpi/{V}/locations/NL/CPO/L1", content=DEEP, headers={**auth, "X-Request-ID": "deep"})
    assert r.status_code == 400 and r.json()["status_code"] == 2001 and "nested deeper" in r.json()["status_message"]
    assert r.headers["X-Request-ID"] == "deep"
    assert not any(record.exc_info for record in caplog.records)


def test_deeply_nested_credentials_body_is_400_2001() -> None:
    client, _, token_a = setup()
    body = b'{"token": "t", "url": "http://peer/versions", "roles": ' + b"[" * 1200 + b"]" * 1200 + b"}"
    auth_a = {"Authorization": "Token " + base64.b64encode(token_a.encode()).decode()}
    r = client.post(f"/ocpi/{V}/credentials", content=body, headers=auth_a)
    assert r.status_code == 400 and r.json()["status_code"] == 2001


def test_oversized_body_is_413_2001_and_not_stored() -> None:
    client, auth, _ = setup()
    big = b'{"country_code": "NL", "party_id": "CPO", "id": "L2", "junk": "' + b"x" * (1_048_576 + 10) + b'"}'
    r = client.put(f"/ocpi/{V}/locations/NL/CPO/L2", content=big, headers=auth)
    assert r.status_code == 413 and r.json()["status_code"] == 2001
    assert client.get(f"/ocpi/{V}/locations/NL/CPO/L2", headers=auth).status_code == 404
