"""Input limits of the server runtime: body size, JSON nesting depth, a client gone mid-body."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from starlette.responses import Response
from starlette.types import Message

from ocpi_runtime.server._envelope import install_error_handlers, ocpi_json_response, read_json_body
from ocpi_runtime.server._middleware import install_header_middleware, install_input_limits
from ocpi_runtime.server._settings import ServerSettings

DEEP = b"[" * 1500 + b"]" * 1500


def _app(settings: ServerSettings, *, limits: bool = True) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    if limits:
        install_input_limits(app, settings)
    install_header_middleware(app, request_id_headers=True, routing_headers=False, routed_prefixes=())

    async def echo(request: Request) -> Response:
        return ocpi_json_response(await read_json_body(request))

    app.add_api_route("/echo", echo, methods=["PUT", "POST"])
    return app


@pytest.fixture
def small() -> ServerSettings:
    return ServerSettings(
        base_url="http://testserver/ocpi", country_code="NL", party_id="EXA", max_body_bytes=100, max_json_depth=4
    )


def test_defaults_are_one_mebibyte_and_64_levels_and_come_from_the_environment() -> None:
    default = ServerSettings.from_env(environ={})
    assert (default.max_body_bytes, default.max_json_depth) == (1_048_576, 64)
    tuned = ServerSettings.from_env(environ={"OCPI_MAX_BODY_BYTES": "2048", "OCPI_MAX_JSON_DEPTH": "10"})
    assert (tuned.max_body_bytes, tuned.max_json_depth) == (2048, 10)
    with pytest.raises(ValueError):
        ServerSettings(base_url="http://h/ocpi", country_code="NL", party_id="EXA", max_json_depth=0)


def test_body_within_the_limits_reaches_the_handler(small: ServerSettings) -> None:
    r = TestClient(_app(small)).put("/echo", content=b'{"a": [[1.50]]}')
    assert r.status_code == 200 and r.content.startswith(b'{"data":{"a":[[1.50]]}')


def test_body_over_the_size_limit_is_413_2001_with_envelope_and_ids(small: ServerSettings) -> None:
    client = TestClient(_app(small), raise_server_exceptions=False)
    r = client.put("/echo", content=b'{"a": "' + b"x" * 200 + b'"}', headers={"X-Request-ID": "r1"})
    assert r.status_code == 413
    assert r.json()["status_code"] == 2001 and "100 bytes" in r.json()["status_message"]
    assert r.headers["X-Request-ID"] == "r1"


def test_body_streamed_over_the_size_limit_without_content_length_is_413(small: ServerSettings) -> None:
    sent: list[Message] = []
    chunks = [b"[" + b"1," * 30, b"1," * 30, b"1]"]

    async def receive() -> Message:
        chunk = chunks.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: dict[str, Any] = {"type": "http", "method": "POST", "path": "/echo", "headers": [], "query_string": b""}
    app = _app(small)
    asyncio.run(app.build_middleware_stack()(scope | {"app": app}, receive, send))
    assert sent[0]["status"] == 413


def test_json_nested_deeper_than_the_limit_is_400_2001(small: ServerSettings) -> None:
    client = TestClient(_app(small), raise_server_exceptions=False)
    r = client.put("/echo", content=b'{"a": [[[[1]]]]}')
    assert r.status_code == 400 and r.json()["status_code"] == 2001 and "4 levels" in r.json()["status_message"]
    assert client.put("/echo", content=b'{"a": ["[[[[[[[[", {"b": 1}]}').status_code == 200  # strings do not nest


def test_very_deep_json_is_400_even_without_the_limits_middleware(
    settings: ServerSettings, caplog: pytest.LogCaptureFixture
) -> None:
    client = TestClient(_app(settings, limits=False), raise_server_exceptions=False)
    with caplog.at_level(logging.INFO, logger="ocpi"):
        r = client.put("/echo", content=DEEP)
    assert r.status_code == 400 and r.json()["status_code"] == 2001  # was 500 / 3000 with a RecursionError
    assert not any(record.exc_info for record in caplog.records)


def test_client_gone_mid_body_is_one_log_line_without_traceback(
    small: ServerSettings, caplog: pytest.LogCaptureFixture
) -> None:
    for limits in (True, False):
        caplog.clear()
        messages: list[Message] = [
            {"type": "http.request", "body": b'{"a": ', "more_body": True},
            {"type": "http.disconnect"},
        ]
        sent: list[Message] = []

        async def receive() -> Message:
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            sent.append(message)

        app = _app(small, limits=limits)
        scope: dict[str, Any] = {
            "type": "http",
            "method": "PUT",
            "path": "/echo",
            "headers": [],
            "query_string": b"",
            "app": app,
        }
        with caplog.at_level(logging.INFO, logger="ocpi"):
            asyncio.run(app.build_middleware_stack()(scope, receive, send))
        lines = [record for record in caplog.records if record.name.startswith("ocpi")]
        assert len(lines) == 1 and "went away" in lines[0].getMessage(), (limits, lines)
        assert lines[0].exc_info is None
        assert not sent  # nothing to answer
