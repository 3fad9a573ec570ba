"""Path parameters of plain routes: the rules and the words of FastAPI's ``Path()`` validation."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from fastapi import FastAPI, Path, Request
from fastapi.testclient import TestClient
from pydantic import StringConstraints, TypeAdapter, ValidationError
from starlette.responses import Response

from ocpi_runtime.server._envelope import OcpiHTTPError, install_error_handlers, ocpi_json_response
from ocpi_runtime.server._params import PRINTABLE_PATTERN, PathParam, check_path_value, path_args

VALUES = ["a", "x" * 36, "x" * 37, "é", "é" * 40, "a\tb", "a b", "~", "\x7f", "日本", "NL", "ABCD", ""]


def pydantic_message(value: str, max_length: int | None, printable: bool) -> str | None:
    """What pydantic (FastAPI's validator) says of ``value`` under the same constraints."""
    adapter: TypeAdapter[Any] = TypeAdapter(
        Annotated[
            str,
            StringConstraints(min_length=1, max_length=max_length, pattern=PRINTABLE_PATTERN if printable else None),
        ]
    )
    try:
        adapter.validate_python(value)
    except ValidationError as exc:
        return str(exc.errors()[0]["msg"])
    return None


@pytest.mark.parametrize("value", VALUES)
@pytest.mark.parametrize(("max_length", "printable"), [(36, True), (2, True), (1, True), (None, True), (3, False)])
def test_check_path_value_says_what_pydantic_says(value: str, max_length: int | None, printable: bool) -> None:
    param = PathParam("id", max_length, printable)
    assert check_path_value(param, value) == pydantic_message(value, max_length, printable)


def _app() -> FastAPI:
    """The same URL served by a FastAPI route with ``Path()`` and by a plain route with ``path_args``."""
    app = FastAPI()
    install_error_handlers(app)
    checks = (PathParam("country_code", 2), PathParam("object_id", 36))

    @app.get("/fastapi/{country_code}/{object_id}")
    async def with_fastapi(
        country_code: Annotated[str, Path(min_length=1, max_length=2, pattern=r"^[ -~]+$")],
        object_id: Annotated[str, Path(min_length=1, max_length=36, pattern=r"^[ -~]+$")],
    ) -> Response:
        return ocpi_json_response([country_code, object_id])

    async def plain(request: Request) -> Response:
        return ocpi_json_response(path_args(request, checks))

    app.add_route("/plain/{country_code}/{object_id}", plain)
    return app


@pytest.mark.parametrize(
    "tail", ["NL/LOC1", "NLD/LOC1", "NL/" + "x" * 37, "NLD/" + "x" * 37, "N%09/%C3%A9", "%20/~", "NL/a%2Fb"]
)
def test_plain_route_answers_exactly_as_fastapi_did(tail: str) -> None:
    client = TestClient(_app())
    fastapi, plain = client.get("/fastapi/" + tail), client.get("/plain/" + tail)
    assert (plain.status_code, plain.json()["status_code"]) == (fastapi.status_code, fastapi.json()["status_code"])
    assert plain.json()["status_message"] == fastapi.json()["status_message"]
    assert plain.json()["data"] == fastapi.json()["data"]


def test_path_args_raises_one_error_naming_every_bad_parameter() -> None:
    scope = {"type": "http", "path_params": {"a": "toolong", "b": "ok", "c": "bad\n"}, "headers": []}
    request = Request(scope)
    with pytest.raises(OcpiHTTPError) as caught:
        path_args(request, (PathParam("a", 3), PathParam("b", 3), PathParam("c", 9)))
    assert (caught.value.http_status, caught.value.status_code) == (400, 2001)
    assert caught.value.status_message == (
        "path.a: String should have at most 3 characters; path.c: String should match pattern '^[ -~]+$'"
    )
    assert path_args(request, (PathParam("b", 2),)) == ["ok"]
