"""The OCPI response envelope, OCPI errors and the FastAPI error handlers that produce envelopes.

Static: copied verbatim into every generated server package; names no OCPI version's models.

Every response of a generated server, errors included, is an envelope
``{"data": ..., "status_code": 1000, "status_message": "Success", "timestamp": "...Z"}``.
``data`` is always present (``null`` when there is nothing to return: the spec allows null).

Error mapping installed by ``install_error_handlers``:

==========================================  =====  =====  =========================================
cause                                       HTTP   OCPI   status_message
==========================================  =====  =====  =========================================
request validation (body, query, path)      400    2001   ``body.last_updated: Field required``
malformed JSON body                         400    2001   ``Malformed JSON body: ...``
body over ``max_body_bytes`` (limits)       413    2001   ``Request body larger than N bytes``
JSON nested over ``max_json_depth``         400    2001   ``JSON nested deeper than N levels``
pydantic ``ValidationError`` in a handler   400    2001   ``last_updated: Field required``
``OcpiHTTPError``                           own    own    own
unknown URL                                 404    2000   ``Unknown URL``
method not allowed                          405    2000   ``Method not allowed``
other Starlette ``HTTPException``           own    2000/3000 (4xx/5xx)  its detail
any other exception                         500    3000   ``Internal server error`` (logged, no
                                                          traceback in the body)
client gone in the middle of its request    none   none   one log line, no traceback
==========================================  =====  =====  =========================================

The two limits are checked by ``_middleware.InputLimitMiddleware`` (``install_input_limits``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._json import RawJSON, RawJSONArray, dumps_bytes, loads
from ._time import now_timestamp

__all__ = [
    "OcpiHTTPError",
    "RawJSON",
    "crash_response",
    "envelope",
    "envelope_bytes",
    "error_response",
    "install_error_handlers",
    "ocpi_json_response",
    "read_json_body",
    "validation_message",
]

logger = logging.getLogger("ocpi.server")

SUCCESS = 1000
GENERIC_CLIENT_ERROR = 2000
INVALID_PARAMETERS = 2001
NOT_ENOUGH_INFORMATION = 2002
UNKNOWN_LOCATION = 2003
UNKNOWN_TOKEN = 2004
GENERIC_SERVER_ERROR = 3000
UNABLE_TO_USE_CLIENT_API = 3001
UNSUPPORTED_VERSION = 3002
NO_MATCHING_ENDPOINTS = 3003

_MAX_MESSAGE = 500
"""status_message is a debugging aid: long validation reports are cut to this many characters."""


def envelope(data: Any = None, *, status_code: int = SUCCESS, status_message: str = "Success") -> dict[str, Any]:
    """The OCPI response envelope with the current UTC time (``2015-06-30T21:59:59Z``)."""
    return {"data": data, "status_code": status_code, "status_message": status_message, "timestamp": now_timestamp()}


class OcpiHTTPError(Exception):
    """Raise from a handler to answer with an error envelope.

    ``OcpiHTTPError(404, 2000, "Unknown location")``; ``headers`` are added to the response.
    """

    def __init__(
        self,
        http_status: int,
        status_code: int,
        status_message: str,
        *,
        headers: Mapping[str, str] | None = None,
        data: Any = None,
    ) -> None:
        super().__init__(f"HTTP {http_status}, OCPI {status_code}: {status_message}")
        self.http_status = http_status
        self.status_code = status_code
        self.status_message = status_message
        self.headers: dict[str, str] = dict(headers or {})
        self.data = data


def ocpi_json_response(
    data: Any = None,
    *,
    status_code: int = SUCCESS,
    status_message: str = "Success",
    http_status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A JSON response holding ``data`` in an envelope.

    ``data`` may be JSON-ready values, pydantic models (written by alias, None fields left out),
    lists/dicts of those, ``Decimal`` values (written as exact JSON numbers) and ``RawJSON``
    fragments (pre-serialised bytes, e.g. from a model's ``to_json()``).
    """
    return Response(
        content=envelope_bytes(data, status_code, status_message),
        status_code=http_status,
        headers=dict(headers) if headers else None,
        media_type="application/json",
    )


def envelope_bytes(data: Any, status_code: int = SUCCESS, status_message: str = "Success") -> bytes:
    """``dumps_bytes(envelope(...))``, byte for byte, written without the general encoder's walk
    over the envelope: stored JSON (``RawJSON``, a ``RawJSONArray`` page) goes in as it is and the
    whole body is joined once."""
    success = type(status_code) is int and status_code == SUCCESS and status_message == "Success"
    head = _SUCCESS_HEAD if success else None
    if head is None:
        head = b"".join(
            (b',"status_code":', dumps_bytes(status_code), b',"status_message":', dumps_bytes(status_message))
        )
        head += b',"timestamp":"'
    tail = now_timestamp().encode("ascii") + b'"}'
    if isinstance(data, RawJSON):
        return b"".join((b'{"data":', data.data, head, tail))
    if isinstance(data, RawJSONArray):
        items = data.items
        if not items:
            return b"".join((b'{"data":[]', head, tail))
        parts = [b","] * (2 * len(items) - 1)
        parts[::2] = items
        return b"".join((b'{"data":[', *parts, b"]", head, tail))
    return b"".join((b'{"data":', dumps_bytes(data), head, tail))


_SUCCESS_HEAD = b',"status_code":1000,"status_message":"Success","timestamp":"'


def error_response(exc: OcpiHTTPError) -> Response:
    """The envelope response for an ``OcpiHTTPError``."""
    return ocpi_json_response(
        exc.data,
        status_code=exc.status_code,
        status_message=exc.status_message,
        http_status=exc.http_status,
        headers=exc.headers,
    )


def crash_response() -> Response:
    """The 500 envelope for an unexpected exception: nothing about the exception is in it."""
    return ocpi_json_response(
        None, status_code=GENERIC_SERVER_ERROR, status_message="Internal server error", http_status=500
    )


def _location(loc: Sequence[Any]) -> str:
    return ".".join(str(part) for part in loc)


def validation_message(errors: Sequence[Mapping[str, Any]], *, limit: int = 5) -> str:
    """``body.last_updated: Field required; query.limit: ...`` from pydantic/FastAPI error details.

    Input values are never quoted (they might hold a token); only locations and pydantic's messages.
    """
    parts: list[str] = []
    for error in errors[:limit]:
        loc = error.get("loc") or ()
        if error.get("type") == "json_invalid":
            ctx = error.get("ctx") or {}
            reason = ctx.get("error") if isinstance(ctx, Mapping) else None
            parts.append("Malformed JSON body" + (f": {reason}" if reason else ""))
            continue
        where = _location(loc)
        msg = str(error.get("msg") or "invalid value")
        parts.append(f"{where}: {msg}" if where else msg)
    if len(errors) > limit:
        parts.append(f"(+{len(errors) - limit} more)")
    message = "; ".join(parts) or "Invalid or missing parameters"
    return message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 3] + "..."


async def read_json_body(request: Request) -> Any:
    """The request body as JSON (numbers exact); OcpiHTTPError 400/2001 when it is not JSON."""
    raw = await request.body()
    if not raw.strip():
        raise OcpiHTTPError(400, INVALID_PARAMETERS, "Missing JSON body")
    try:
        return loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise OcpiHTTPError(400, INVALID_PARAMETERS, f"Malformed JSON body: {reason}") from None


# -- handlers ----------------------------------------------------------------------------------------


async def _on_ocpi_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OcpiHTTPError)
    return error_response(exc)


async def _on_request_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return ocpi_json_response(
        None, status_code=INVALID_PARAMETERS, status_message=validation_message(list(exc.errors())), http_status=400
    )


async def _on_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ValidationError)
    errors: list[Mapping[str, Any]] = list(exc.errors(include_url=False))
    return ocpi_json_response(
        None, status_code=INVALID_PARAMETERS, status_message=validation_message(errors), http_status=400
    )


async def _on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    headers = dict(exc.headers or {})
    if status in (204, 304) or status < 200:
        return Response(status_code=status, headers=headers)
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    detail = exc.detail if isinstance(exc.detail, str) else ""
    custom = bool(detail) and detail != phrase
    if status == 404 and not custom:
        message = "Unknown URL"
    elif status == 405 and not custom:
        message = "Method not allowed"
    else:
        message = detail or phrase or "Error"
    ocpi_code = GENERIC_SERVER_ERROR if status >= 500 else GENERIC_CLIENT_ERROR
    return ocpi_json_response(None, status_code=ocpi_code, status_message=message, http_status=status, headers=headers)


async def _on_exception(request: Request, exc: Exception) -> Response:
    # Reached only when an exception escapes every middleware (CrashGuard normally answers first).
    logger.error("Unhandled error in %s %s", request.method, request.url.path, exc_info=exc)
    return crash_response()


class CrashGuard:
    """Pure ASGI middleware: an exception that no handler took becomes the 500 envelope.

    Starlette would answer it in its outermost middleware, past every other middleware (so the
    response would miss X-Request-ID) and then re-raise it; here it is logged with its traceback
    and answered in place. An exception after the response has started is re-raised.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await guarded_call(self.app, scope, receive, send)


async def guarded_call(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Run ``app``; answer an escaping exception with the 500 envelope when nothing was sent yet."""
    started = False

    async def tracking_send(message: Message) -> None:
        nonlocal started
        if message["type"] == "http.response.start":
            started = True
        await send(message)

    try:
        await app(scope, receive, tracking_send)
    except ClientDisconnect:  # nobody is left to answer: one line, no traceback
        logger.info("client went away during %s %s", scope.get("method", "?"), scope.get("path", "?"))
    except Exception:
        logger.exception("Unhandled error in %s %s", scope.get("method", "?"), scope.get("path", "?"))
        if started:
            raise
        await crash_response()(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """Make every error of ``app`` an OCPI envelope (see the module docstring for the mapping)."""
    app.add_exception_handler(OcpiHTTPError, _on_ocpi_error)
    app.add_exception_handler(RequestValidationError, _on_request_validation)
    app.add_exception_handler(ValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_exception_handler(Exception, _on_exception)
    app.add_middleware(CrashGuard)
