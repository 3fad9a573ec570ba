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
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from fastapi import FastAPI, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._envelope import guarded_call

__all__ = ["OcpiHeaderMiddleware", "install_header_middleware", "request_ids"]

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
            request_id = incoming.get(REQUEST_ID) or str(uuid.uuid4())
            correlation_id = incoming.get(CORRELATION_ID) or str(uuid.uuid4())
            extra[REQUEST_ID] = request_id
            extra[CORRELATION_ID] = correlation_id
            scope.setdefault("state", {})[_STATE_KEY] = (request_id, correlation_id)
        routing: dict[str, str] = {}
        if self._routed(str(scope.get("path", ""))):
            swapped = {
                TO_COUNTRY: incoming.get(FROM_COUNTRY),
                TO_PARTY: incoming.get(FROM_PARTY),
                FROM_COUNTRY: incoming.get(TO_COUNTRY) or self.own_country_code,
                FROM_PARTY: incoming.get(TO_PARTY) or self.own_party_id,
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
