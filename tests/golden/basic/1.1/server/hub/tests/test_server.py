"""Smoke tests of your server; they pass right after scaffolding. This file is yours."""

from __future__ import annotations

import asyncio
import base64

from fastapi.testclient import TestClient

from handlers import HANDLERS
from ocpi_server_hub_v1_1 import ServerSettings, SqliteStore, create_app, issue_token_a


def make_client() -> tuple[TestClient, str]:
    settings = ServerSettings(base_url="http://testserver/ocpi", country_code="NL", party_id="EXA")
    store = SqliteStore(":memory:")
    token = asyncio.run(issue_token_a(settings, "peer", store))
    return TestClient(create_app(settings, handlers=HANDLERS, store=store)), token


def auth(token: str) -> dict[str, str]:
    return {"Authorization": "Token " + base64.b64encode(token.encode()).decode()}


def test_versions_and_details_answer_with_an_envelope() -> None:
    client, token = make_client()
    versions = client.get("/ocpi/versions", headers=auth(token))
    assert versions.status_code == 200 and versions.json()["status_code"] == 1000
    assert versions.json()["data"][0]["version"] == "1.1"
    details = client.get("/ocpi/1.1", headers=auth(token)).json()["data"]
    assert {e["identifier"] for e in details["endpoints"]} >= {"credentials", "stations", "stations"}


def test_requests_without_a_token_are_refused() -> None:
    client, _ = make_client()
    response = client.get("/ocpi/versions")
    assert response.status_code == 401 and response.json()["status_code"] == 2000


def test_unknown_urls_get_an_ocpi_envelope() -> None:
    client, token = make_client()
    response = client.get("/ocpi/1.1/no-such-module", headers=auth(token))
    assert response.status_code == 404 and "status_code" in response.json()
