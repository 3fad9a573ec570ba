"""OCPI transport headers on every response: request/correlation ids and swapped routing headers.

Static: copied verbatim into every generated server package; names no OCPI version's models.

* ``X-Request-ID`` and ``X-Correlation-ID`` (OCPI 2.2+) are echoed on every response, errors
  included; a request without one gets a fresh uuid4, which the handler can read with
  ``request_ids(request)``.
* For requests to function modules (paths under one of ``routed_prefixes``) the response carries
  the routing headers swapped: its ``OCPI-to-*`` are the request's ``OCPI-from-*`` and its
  ``OCPI-from-*`` the request's ``OCPI-to-*`` (or our own ids when the request named no receiver).
  Routing headers a handler set itself are left alone.

Header names are matched case-insensitively. The middleware is pure ASGI (no response buffering)
and also turns an exception that escaped every handler into the 500 envelope, so that even that
response carries the ids.

``InputLimitMiddleware`` reads the body of a POST, PUT, PATCH or DELETE before any handler does:
larger than ``max_body_bytes`` (by its Content-Length or as it arrives) is HTTP 413 / OCPI 2001;
arrays and objects nested deeper than ``max_json_depth`` are 400 / 2001; a client that goes away
in the middle of its body is one log line, and no handler runs.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

from fastapi import FastAPI, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._envelope import INVALID_PARAMETERS, OcpiHTTPError, error_response, guarded_call
from ._settings import ServerSettings
from .client._wire import json_too_deep, printable_ascii

__all__ = [
    "InputLimitMiddleware",
    "OcpiHeaderMiddleware",
    "install_header_middleware",
    "install_input_limits",
    "request_ids",
]

logger = logging.getLogger("ocpi.server")

REQUEST_ID = "x-request-id"
CORRELATION_ID = "x-correlation-id"
FROM_COUNTRY = "ocpi-from-country-code"
FROM_PARTY = "ocpi-from-party-id"
TO_COUNTRY = "ocpi-to-country-code"
TO_PARTY = "ocpi-to-party-id"

_OUT_NAMES = {
    REQUEST_ID: b"X-Request-ID",
    CORRELATION_ID: b"X-Correlation-ID",
    FROM_COUNTRY: b"OCPI-from-country-code",
    FROM_PARTY: b"OCPI-from-party-id",
    TO_COUNTRY: b"OCPI-to-country-code",
    TO_PARTY: b"OCPI-to-party-id",
}
_STATE_KEY = "ocpi_request_ids"


_IN_NAMES = {name.encode("latin-1"): name for name in _OUT_NAMES}


def _routing_value(value: str | None, length: int) -> str | None:
    """A routing header value fit to echo: non-empty printable ASCII of at most ``length`` characters
    (CiString(2) country code, CiString(3) party id; transport_and_format_message_routing)."""
    if value and len(value) <= length and printable_ascii(value):
        return value
    return None


def new_uuid4() -> str:
    """``str(uuid.uuid4())`` (16 random bytes from ``os.urandom``, version 4, RFC 4122 variant),
    formatted without building a ``UUID``: every response carries one or two."""
    n = int.from_bytes(os.urandom(16), "big") & _UUID4_CLEAR | _UUID4_SET
    h = "%032x" % n
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_UUID4_CLEAR = 0xFFFFFFFF_FFFF_0FFF_3FFF_FFFFFFFFFFFF  # the version nibble and the variant's two bits
_UUID4_SET = 0x00000000_0000_4000_8000_000000000000  # version 4, variant 10


def request_ids(request: Request) -> tuple[str, str]:
    """``(X-Request-ID, X-Correlation-ID)`` of this request, as the response will carry them.

    Without the middleware (or for a request without the headers) the values are read from the
    request, or are empty strings.
    """
    state = request.scope.get("state")
    if isinstance(state, dict):
        ids = state.get(_STATE_KEY)
        if isinstance(ids, tuple) and len(ids) == 2:
            return str(ids[0]), str(ids[1])
    return request.headers.get(REQUEST_ID, ""), request.headers.get(CORRELATION_ID, "")


class OcpiHeaderMiddleware:
    """Pure ASGI middleware; use ``install_header_middleware`` to add it."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        request_id_headers: bool,
        routing_headers: bool,
        routed_prefixes: Sequence[str] = (),
        own_country_code: str | None = None,
        own_party_id: str | None = None,
    ) -> None:
        self.app = app
        self.request_id_headers = request_id_headers
        self.routing_headers = routing_headers
        self.routed_prefixes = tuple(routed_prefixes)
        bases = [prefix.rstrip("/") for prefix in self.routed_prefixes]
        self._routed_all = "" in bases
        self._routed_exact = frozenset(bases)
        self._routed_under = tuple(base + "/" for base in bases)
        self.own_country_code = own_country_code
        self.own_party_id = own_party_id

    def _routed(self, path: str) -> bool:
        if not self.routing_headers:
            return False
        return self._routed_all or path in self._routed_exact or path.startswith(self._routed_under)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming: dict[str, str] = {}
        for raw_name, raw_value in scope.get("headers", ()):
            name = _IN_NAMES.get(raw_name.lower())
            if name is not None and name not in incoming:
                incoming[name] = raw_value.decode("latin-1").strip()

        extra: dict[str, str] = {}
        if self.request_id_headers:
            request_id = incoming.get(REQUEST_ID) or new_uuid4()
            correlation_id = incoming.get(CORRELATION_ID) or new_uuid4()
            extra[REQUEST_ID] = request_id
            extra[CORRELATION_ID] = correlation_id
            scope.setdefault("state", {})[_STATE_KEY] = (request_id, correlation_id)
        routing: dict[str, str] = {}
        if self._routed(str(scope.get("path", ""))):
            # Only values that are valid CiString(2)/(3) go back; the handler answers 400 for the rest.
            swapped = {
                TO_COUNTRY: _routing_value(incoming.get(FROM_COUNTRY), 2),
                TO_PARTY: _routing_value(incoming.get(FROM_PARTY), 3),
                FROM_COUNTRY: _routing_value(incoming.get(TO_COUNTRY), 2) or self.own_country_code,
                FROM_PARTY: _routing_value(incoming.get(TO_PARTY), 3) or self.own_party_id,
            }
            routing = {name: value for name, value in swapped.items() if value}

        if not extra and not routing:
            await guarded_call(self.app, scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[tuple[bytes, bytes]] = []
                present: set[str | None] = set()
                for name, value in message.get("headers", []):
                    known = _IN_NAMES.get(name.lower())
                    if known not in extra:
                        headers.append((name, value))
                        present.add(known)
                for key, value in extra.items():
                    headers.append((_OUT_NAMES[key], value.encode("latin-1")))
                for key, value in routing.items():
                    if key not in present:  # a handler's own routing headers win
                        headers.append((_OUT_NAMES[key], value.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        await guarded_call(self.app, scope, receive, send_with_headers)


def install_header_middleware(
    app: FastAPI,
    *,
    request_id_headers: bool,
    routing_headers: bool,
    routed_prefixes: Sequence[str],
    own_country_code: str | None = None,
    own_party_id: str | None = None,
) -> None:
    """Add ``OcpiHeaderMiddleware`` to ``app``.

    ``routed_prefixes`` are the path prefixes of function modules (e.g.
    ``/ocpi/cpo/2.2.1/locations``); configuration modules (versions, credentials, hubclientinfo)
    carry no routing headers. ``own_country_code``/``own_party_id`` fill the response's
    ``OCPI-from-*`` headers when the request had no ``OCPI-to-*`` headers.
    """
    app.add_middleware(
        OcpiHeaderMiddleware,
        request_id_headers=request_id_headers,
        routing_headers=routing_headers,
        routed_prefixes=tuple(routed_prefixes),
        own_country_code=own_country_code,
        own_party_id=own_party_id,
    )


_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class InputLimitMiddleware:
    """Pure ASGI middleware; use ``install_input_limits`` to add it (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_json_depth: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_json_depth = max_json_depth

    def _too_large(self) -> OcpiHTTPError:
        return OcpiHTTPError(413, INVALID_PARAMETERS, f"Request body larger than {self.max_body_bytes} bytes")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name.lower() == b"content-length" and value.strip().isdigit() and int(value) > self.max_body_bytes:
                await error_response(self._too_large())(scope, receive, send)
                return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                logger.info("client went away while sending the body of %s %s", scope.get("method"), scope.get("path"))
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await error_response(self._too_large())(scope, receive, send)
                return
            chunks.append(chunk)
            more = bool(message.get("more_body", False))
        body = b"".join(chunks)
        if json_too_deep(body, self.max_json_depth):
            error = OcpiHTTPError(400, INVALID_PARAMETERS, f"JSON nested deeper than {self.max_json_depth} levels")
            await error_response(error)(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # after the body: wait for the disconnect, as the server says
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def install_input_limits(app: FastAPI, settings: ServerSettings) -> None:
    """Add ``InputLimitMiddleware`` with the settings' ``max_body_bytes`` and ``max_json_depth``.

    Install it after ``install_error_handlers`` and before ``install_header_middleware``, so that
    its answers carry the request ids."""
    app.add_middleware(
        InputLimitMiddleware, max_body_bytes=settings.max_body_bytes, max_json_depth=settings.max_json_depth
    )
