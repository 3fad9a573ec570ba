"""Envelope shape, exact JSON serialisation and the error handlers of a wired app."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

import pytest
from fastapi import FastAPI, Response
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

from ocpi_runtime.server._envelope import (
    OcpiHTTPError,
    RawJSON,
    envelope,
    install_error_handlers,
    ocpi_json_response,
    validation_message,
)
from ocpi_runtime.server._json import RawJSONArray, dumps, dumps_bytes, loads
from ocpi_runtime.server._settings import ServerSettings
from ocpi_runtime.server._store import Party, SqliteStore
from tests.blocking import sync
from tests.server_runtime.wiring import build_app

TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")


@pytest.fixture
def client(settings: ServerSettings, store: SqliteStore) -> TestClient:
    token = "function-token-c"
    sync(store).save_party(Party(party_key="peer", token_b="b", token_c=token))
    return TestClient(build_app(settings, store), headers={"Authorization": "Token " + token})


def assert_envelope(body: dict[str, object], status_code: int) -> None:
    assert set(body) == {"data", "status_code", "status_message", "timestamp"}
    assert body["status_code"] == status_code
    assert isinstance(body["status_message"], str)
    assert isinstance(body["timestamp"], str) and TIMESTAMP.fullmatch(body["timestamp"])


# -- envelope and JSON ------------------------------------------------------------------------------


def test_envelope_shape_and_timestamp() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    body = envelope({"a": 1})
    after = datetime.now(UTC)
    assert_envelope(body, 1000)
    assert body["data"] == {"a": 1} and body["status_message"] == "Success"
    stamp = datetime.strptime(str(body["timestamp"]), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert before <= stamp <= after
    error = envelope(status_code=2001, status_message="bad")
    assert (error["data"], error["status_code"], error["status_message"]) == (None, 2001, "bad")


class Kind(str, Enum):
    AC = "AC_1_PHASE"


class Price(BaseModel):
    excl_vat: Decimal
    incl_vat: Decimal | None = None
    kind: Kind = Kind.AC
    valid_from: datetime | None = Field(default=None, alias="start")


def test_json_writes_decimals_as_exact_numbers() -> None:
    text = dumps({"a": Decimal("0.10"), "b": [Decimal("1E+2"), Decimal("-0.000001")], "c": 1.5, "d": 3})
    assert text == '{"a":0.10,"b":[1E+2,-0.000001],"c":1.5,"d":3}'
    assert loads(text) == {
        "a": Decimal("0.10"),
        "b": [Decimal("100"), Decimal("-0.000001")],
        "c": Decimal("1.5"),
        "d": 3,
    }
    with pytest.raises(ValueError):
        dumps({"x": Decimal("NaN")})
    with pytest.raises(ValueError):
        dumps(float("inf"))
    with pytest.raises(ValueError):
        loads('{"x": NaN}')


def test_json_writes_models_by_alias_without_nones_and_numbers_exact() -> None:
    price = Price(excl_vat=Decimal("1.2300"), start=datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC))
    assert json.loads(dumps(price), parse_float=Decimal) == {
        "excl_vat": Decimal("1.2300"),
        "kind": "AC_1_PHASE",
        "start": "2024-05-06T07:08:09Z",
    }
    assert '"excl_vat":1.2300' in dumps([price])  # a number, not "1.2300", also inside lists
    # A numeric-looking string stays a string.
    assert dumps({"m": Price(excl_vat=Decimal("1"), kind=Kind.AC)}) == '{"m":{"excl_vat":1,"kind":"AC_1_PHASE"}}'


def test_raw_json_is_spliced_verbatim() -> None:
    assert dumps({"data": [RawJSON(b'{"x": 1.10}'), RawJSON('"s"')]}) == '{"data":[{"x": 1.10},"s"]}'
    with pytest.raises(ValueError):
        RawJSON(b"{broken", validate=True)
    with pytest.raises(ValueError):
        RawJSON(b"  ")
    with pytest.raises(TypeError):
        dumps(b"raw bytes")


def test_raw_json_array_reads_as_raw_items_and_is_spliced_whole() -> None:
    page = RawJSONArray([b'{"id":"1","v":1.10}', b'{"id":"2"}'])
    assert len(page) == 2 and page[0] == RawJSON(b'{"id":"1","v":1.10}') and page[-1:] == [RawJSON(b'{"id":"2"}')]
    body = dumps_bytes(envelope(page))
    assert body.startswith(b'{"data":[{"id":"1","v":1.10},{"id":"2"}],"status_code":1000,')
    assert loads(body)["data"][0]["v"] == Decimal("1.10")
    assert dumps({"data": RawJSONArray([])}) == '{"data":[]}' and dumps({}) == "{}" and dumps([]) == "[]"


def test_json_knows_datetimes_enums_and_rejects_unknown_types() -> None:
    naive = datetime(2024, 1, 1, 12, 0, 0, 250000)
    shifted = datetime(2024, 1, 1, 13, 0, 0, tzinfo=UTC) + timedelta(hours=0)
    assert dumps([naive, shifted, Kind.AC]) == '["2024-01-01T12:00:00.25Z","2024-01-01T13:00:00Z","AC_1_PHASE"]'
    with pytest.raises(TypeError):
        dumps(object())
    assert dumps({"é": "ü\n"}) == '{"é":"ü\\n"}'


def test_ocpi_json_response_status_and_headers() -> None:
    response = ocpi_json_response(
        [Price(excl_vat=Decimal("2.50"))], status_code=1000, http_status=201, headers={"X-Total-Count": "1"}
    )
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-total-count"] == "1"
    body = loads(bytes(response.body))
    assert_envelope(body, 1000)
    assert body["data"] == [{"excl_vat": Decimal("2.50"), "kind": "AC_1_PHASE"}]
    assert b'"excl_vat":2.50' in bytes(response.body)


def test_validation_message_names_fields_and_never_quotes_input() -> None:
    errors: list[dict[str, Any]] = [
        {"type": "missing", "loc": ("body", "last_updated"), "msg": "Field required", "input": {"token": "SECRET"}},
        {"type": "string_type", "loc": ("query", "limit"), "msg": "Input should be a valid string", "input": "SECRET"},
    ]
    message = validation_message(errors)
    assert message == "body.last_updated: Field required; query.limit: Input should be a valid string"
    assert "SECRET" not in message
    many = validation_message([{"loc": ("body", f"f{i}"), "msg": "bad"} for i in range(9)], limit=2)
    assert many.endswith("(+7 more)")


# -- error handlers on a wired app ------------------------------------------------------------------


def test_success_through_the_app_with_models_and_raw_json(client: TestClient) -> None:
    response = client.get("/ocpi/2.2.1/test/model")
    assert response.status_code == 200
    assert b'"max_power":22.10' in response.content and b'{"pre": 1.50}' in response.content
    body = response.json()
    assert_envelope(body, 1000)
    assert body["data"][0] == {
        "country_code": "NL",
        "party_id": "EXA",
        "id": "LOC1",
        "max_power": 22.1,
        "last_updated": "2024-01-02T03:04:05Z",
    }


def test_malformed_json_is_400_2001(client: TestClient) -> None:
    response = client.put(
        "/ocpi/emsp/2.2.1/locations/NL/EXA/LOC1",
        content=b'{"id": "LOC1",',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    body = response.json()
    assert_envelope(body, 2001)
    assert "Malformed JSON" in body["status_message"]


def test_malformed_json_read_by_hand_is_400_2001(client: TestClient) -> None:
    response = client.post("/ocpi/2.2.1/test/raw-json", content=b"{not json")
    assert response.status_code == 400
    assert_envelope(response.json(), 2001)
    assert response.json()["status_message"].startswith("Malformed JSON body")
    response = client.post("/ocpi/2.2.1/test/raw-json", content=b"")
    assert (response.status_code, response.json()["status_code"]) == (400, 2001)
    ok = client.post("/ocpi/2.2.1/test/raw-json", content=b'{"n": 0.30}')
    assert ok.status_code == 200 and b'"n":0.30' in ok.content


def test_missing_field_is_400_2001_naming_the_field(client: TestClient) -> None:
    response = client.put(
        "/ocpi/emsp/2.2.1/locations/NL/EXA/LOC1", json={"country_code": "NL", "party_id": "EXA", "id": "LOC1"}
    )
    assert response.status_code == 400
    body = response.json()
    assert_envelope(body, 2001)
    assert body["status_message"] == "body.last_updated: Field required"


def test_nested_invalid_field_is_named_with_its_path(client: TestClient) -> None:
    response = client.put(
        "/ocpi/emsp/2.2.1/locations/NL/EXA/LOC1",
        json={
            "country_code": "NL",
            "party_id": "EXA",
            "id": "LOC1",
            "last_updated": "2024-01-01T00:00:00Z",
            "coordinates": {"latitude": "52.1"},
        },
    )
    assert response.status_code == 400
    assert response.json()["status_message"] == "body.coordinates.longitude: Field required"


def test_validation_error_raised_in_a_handler_is_400_2001(client: TestClient) -> None:
    response = client.post("/ocpi/2.2.1/test/validate-in-handler", json={"country_code": "NL", "party_id": "EXA"})
    assert response.status_code == 400
    body = response.json()
    assert_envelope(body, 2001)
    assert "id: Field required" in body["status_message"]
    assert "last_updated: Field required" in body["status_message"]


def test_unknown_route_is_404_envelope(client: TestClient) -> None:
    response = client.get("/ocpi/2.2.1/nowhere")
    assert response.status_code == 404
    body = response.json()
    assert_envelope(body, 2000)
    assert body["status_message"] == "Unknown URL"


def test_wrong_method_is_405_envelope_with_allow(client: TestClient) -> None:
    response = client.patch("/ocpi/2.2.1/test/boom")
    assert response.status_code == 405
    body = response.json()
    assert_envelope(body, 2000)
    assert body["status_message"] == "Method not allowed"
    assert "GET" in response.headers["allow"]


def test_ocpi_http_error_keeps_its_codes_and_headers(client: TestClient) -> None:
    response = client.get("/ocpi/2.2.1/test/http-error")
    assert response.status_code == 409
    assert response.headers["x-extra"] == "1"
    body = response.json()
    assert_envelope(body, 2000)
    assert body["status_message"] == "Conflict here"
    error = OcpiHTTPError(404, 2003, "Unknown location")
    assert (error.http_status, error.status_code, error.status_message, error.headers) == (
        404,
        2003,
        "Unknown location",
        {},
    )


@pytest.mark.parametrize("path", ["/ocpi/2.2.1/test/boom", "/ocpi/2.2.1/test/boom-sync"])
def test_crash_is_500_3000_without_traceback(client: TestClient, path: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="ocpi.server"):
        response = client.get(path, headers={"X-Request-ID": "req-crash"})
    assert response.status_code == 500
    body = response.json()
    assert_envelope(body, 3000)
    assert body["status_message"] == "Internal server error" and body["data"] is None
    text = response.text
    assert "Traceback" not in text and "detail" not in text and "Error" not in text.replace("Internal server error", "")
    assert response.headers["x-request-id"] == "req-crash"
    # ...but the traceback is logged for the operator.
    assert any(record.exc_info for record in caplog.records)
    assert "must not leak" in caplog.text or "sync detail" in caplog.text


def test_crash_envelope_does_not_depend_on_middleware_order(settings: ServerSettings, store: SqliteStore) -> None:
    sync(store).save_party(Party(party_key="peer", token_c="tok"))
    app = build_app(settings, store, headers_first=True)
    client = TestClient(app, headers={"Authorization": "Token tok"})
    response = client.get("/ocpi/2.2.1/test/boom", headers={"X-Correlation-ID": "corr-1"})
    assert response.status_code == 500
    assert_envelope(response.json(), 3000)
    assert response.headers["x-correlation-id"] == "corr-1"
    unknown = client.get("/ocpi/nowhere", headers={"X-Request-ID": "r-404"})
    assert unknown.status_code == 404 and unknown.headers["x-request-id"] == "r-404"


def test_crash_is_answered_without_the_header_middleware() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    async def boom() -> Response:
        raise ValueError("hidden")

    # TestClient re-raises exceptions that reach Starlette's outermost middleware: this passes only
    # because the runtime answered the crash itself.
    response = TestClient(app).get("/boom")
    assert response.status_code == 500
    assert_envelope(response.json(), 3000)
    assert "hidden" not in response.text


def test_an_ocpi_model_is_written_by_pydantic_core_as_the_field_by_field_encoder_would() -> None:
    from ocpi_runtime.client._types import DateTime, Number, OcpiModel

    class Part(OcpiModel):
        amount: Number
        note: str | None = None

    class Whole(OcpiModel):
        id: str
        at: DateTime
        parts: list[Part]
        text: str | None = None
        gone: str | None = None

    raw = (
        '{"id":"é\\u0001\\n\\"\\\\</x>","at":"2020-01-02T03:04:05.120Z","parts":[{"amount":1.50,"note":null},'
        '{"amount":12345678901234567890.123456789}],"text":"\\ud83d\\ude00 \\u007f","extra":{"rate":0.10,"n":[1,null]}}'
    )
    model = Whole.model_validate_json(raw)
    model.gone = None  # set on purpose: still left out (None fields are left out on the server)
    old = dumps_bytes(model.exact_json_values(by_alias=True, exclude_unset=False, exclude_none=True))
    assert dumps_bytes(model) == old
    assert dumps_bytes({"data": [model, model]}) == b'{"data":[' + old + b"," + old + b"]}"
    assert b'"amount":1.50' in old and b"12345678901234567890.123456789" in old and b'"rate":0.10' in old
    assert b'"at":"2020-01-02T03:04:05.12Z"' in old and b"gone" not in old and b'"note"' not in old


@pytest.mark.parametrize(
    ("data", "status_code", "message"),
    [
        (RawJSON(b'{"id":"1","n":0.1000000000000000055511151231257827}'), 1000, "Success"),
        (RawJSONArray([b'{"id":"1"}', b'{"id":"2","x":[1,2]}']), 1000, "Success"),
        (RawJSONArray([]), 1000, "Success"),
        (None, 2003, 'Unknown Location "L\u00e9"'),
        ({"n": Decimal("1.50"), "when": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), "list": [1, "a"]}, 1000, "Success"),
        ([], 1000, "Accepted"),
    ],
)
def test_envelope_bytes_are_the_general_encoders_bytes(
    data: Any, status_code: int, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ocpi_runtime.server._envelope as envelope_module

    monkeypatch.setattr(envelope_module, "now_timestamp", lambda: "2024-05-06T07:08:09Z")
    expected = dumps_bytes(envelope_module.envelope(data, status_code=status_code, status_message=message))
    assert envelope_module.envelope_bytes(data, status_code, message) == expected
    response = ocpi_json_response(data, status_code=status_code, status_message=message)
    assert response.body == expected and response.headers["content-type"] == "application/json"
