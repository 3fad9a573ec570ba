"""Header middleware: X-Request-ID / X-Correlation-ID echo and swapped routing headers."""

from __future__ import annotations

import uuid

import pytest
from fastapi import FastAPI, Response
from fastapi.testclient import TestClient

from ocpi_runtime.server._envelope import install_error_handlers, ocpi_json_response
from ocpi_runtime.server._middleware import install_header_middleware
from ocpi_runtime.server._settings import ServerSettings
from ocpi_runtime.server._store import Party, SqliteStore
from tests.blocking import sync
from tests.server_runtime.wiring import build_app

ROUTING = {
    "OCPI-from-country-code": "DE",
    "OCPI-from-party-id": "ABC",
    "OCPI-to-country-code": "NL",
    "OCPI-to-party-id": "EXA",
}
ROUTING_NAMES = [name.lower() for name in ROUTING]


@pytest.fixture
def client(settings: ServerSettings, store: SqliteStore) -> TestClient:
    sync(store).save_party(Party(party_key="peer", token_c="tok-c"))
    return TestClient(build_app(settings, store), headers={"Authorization": "Token tok-c"})


def test_ids_are_echoed(client: TestClient) -> None:
    response = client.get("/ocpi/versions", headers={"X-Request-ID": "req-1", "X-Correlation-ID": "corr-1"})
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "req-1"
    assert response.headers["X-Correlation-ID"] == "corr-1"


def test_header_names_are_case_insensitive_on_input(client: TestClient) -> None:
    response = client.get("/ocpi/versions", headers={"x-request-id": "lower", "X-CORRELATION-ID": "upper"})
    assert (response.headers["x-request-id"], response.headers["x-correlation-id"]) == ("lower", "upper")


def test_missing_ids_are_generated_and_visible_to_handlers(client: TestClient) -> None:
    response = client.get("/ocpi/2.2.1/test/ids")
    request_id = response.headers["X-Request-ID"]
    correlation_id = response.headers["X-Correlation-ID"]
    assert uuid.UUID(request_id).version == 4 and uuid.UUID(correlation_id).version == 4
    assert request_id != correlation_id
    assert response.json()["data"] == {"request_id": request_id, "correlation_id": correlation_id}
    other = client.get("/ocpi/2.2.1/test/ids")
    assert other.headers["X-Request-ID"] != request_id


@pytest.mark.parametrize(
    "method,path,content,status",
    [
        ("GET", "/ocpi/unknown", None, 404),
        ("PATCH", "/ocpi/versions", None, 405),
        ("PUT", "/ocpi/emsp/2.2.1/locations/NL/EXA/L1", b"{bad", 400),
        ("GET", "/ocpi/2.2.1/test/boom", None, 500),
        ("GET", "/ocpi/2.2.1/test/http-error", None, 409),
    ],
)
def test_ids_are_echoed_on_errors(
    client: TestClient, method: str, path: str, content: bytes | None, status: int
) -> None:
    headers = {"X-Request-ID": "err-req", "X-Correlation-ID": "err-corr"}
    response = client.request(method, path, headers=headers, content=content)
    assert response.status_code == status
    assert response.headers["X-Request-ID"] == "err-req"
    assert response.headers["X-Correlation-ID"] == "err-corr"


def test_ids_are_echoed_on_401(settings: ServerSettings, store: SqliteStore) -> None:
    client = TestClient(build_app(settings, store))
    response = client.get("/ocpi/cpo/2.2.1/locations", headers={"X-Request-ID": "r401", **ROUTING})
    assert response.status_code == 401
    assert response.headers["X-Request-ID"] == "r401"
    assert response.headers["OCPI-to-party-id"] == "ABC"  # routed even when refused


def test_routing_headers_are_swapped_for_function_modules(client: TestClient) -> None:
    response = client.get("/ocpi/cpo/2.2.1/locations", headers=ROUTING)
    assert response.status_code == 200
    assert response.headers["OCPI-to-country-code"] == "DE"
    assert response.headers["OCPI-to-party-id"] == "ABC"
    assert response.headers["OCPI-from-country-code"] == "NL"
    assert response.headers["OCPI-from-party-id"] == "EXA"


def test_routing_header_names_are_case_insensitive(client: TestClient) -> None:
    response = client.get(
        "/ocpi/emsp/2.2.1/locations/NL/EXA/NOPE",
        headers={
            "ocpi-from-country-code": "BE",
            "OCPI-FROM-PARTY-ID": "XYZ",
            "Ocpi-To-Country-Code": "FR",
            "ocpi-to-party-id": "HUB",
        },
    )
    assert response.status_code == 404  # also on errors
    assert response.headers["ocpi-to-country-code"] == "BE"
    assert response.headers["ocpi-to-party-id"] == "XYZ"
    assert response.headers["ocpi-from-country-code"] == "FR"
    assert response.headers["ocpi-from-party-id"] == "HUB"


def test_no_to_headers_in_request_means_we_are_the_sender(client: TestClient) -> None:
    response = client.get(
        "/ocpi/cpo/2.2.1/locations", headers={"OCPI-from-country-code": "DE", "OCPI-from-party-id": "ABC"}
    )
    assert response.headers["OCPI-from-country-code"] == "NL"
    assert response.headers["OCPI-from-party-id"] == "EXA"
    assert response.headers["OCPI-to-party-id"] == "ABC"


@pytest.mark.parametrize("path", ["/ocpi/versions", "/ocpi/2.2.1/credentials", "/ocpi/cpo/2.2.1/locationsx"])
def test_no_routing_headers_outside_routed_prefixes(client: TestClient, path: str) -> None:
    response = client.get(path, headers={**ROUTING, "X-Request-ID": "r"})
    assert response.headers["X-Request-ID"] == "r"
    for name in ROUTING_NAMES:
        assert name not in response.headers, (path, name)


def test_disabled_features_add_nothing() -> None:
    app = FastAPI()
    install_error_handlers(app)
    install_header_middleware(app, request_id_headers=False, routing_headers=False, routed_prefixes=["/ocpi"])

    @app.get("/ocpi/x")
    async def x() -> Response:
        return ocpi_json_response("ok")

    response = TestClient(app).get("/ocpi/x", headers={**ROUTING, "X-Request-ID": "r"})
    assert response.status_code == 200
    assert "x-request-id" not in response.headers and "x-correlation-id" not in response.headers
    for name in ROUTING_NAMES:
        assert name not in response.headers


def test_handler_routing_headers_win_and_ids_are_not_duplicated() -> None:
    app = FastAPI()
    install_error_handlers(app)
    install_header_middleware(app, request_id_headers=True, routing_headers=True, routed_prefixes=["/ocpi/tokens"])

    @app.get("/ocpi/tokens")
    async def tokens() -> Response:
        return ocpi_json_response([], headers={"OCPI-to-party-id": "HUB", "X-Request-ID": "handler-made"})

    response = TestClient(app).get("/ocpi/tokens", headers={**ROUTING, "X-Request-ID": "req"})
    assert response.headers["OCPI-to-party-id"] == "HUB"
    assert response.headers["OCPI-to-country-code"] == "DE"
    assert response.headers.get_list("X-Request-ID") == ["req"]


def test_generated_request_ids_are_distinct_uuid4s() -> None:
    from ocpi_runtime.server._middleware import new_uuid4

    ids = {new_uuid4() for _ in range(2000)}
    assert len(ids) == 2000
    for value in list(ids)[:200]:
        parsed = uuid.UUID(value)
        assert str(parsed) == value and parsed.version == 4 and parsed.variant == uuid.RFC_4122
