"""The operator API over HTTP: a separate ASGI app with its own token (``OCPI_ADMIN_TOKEN``).

Static: copied verbatim into every generated server. It never accepts an OCPI token: the only
credential is the admin token, sent as ``Authorization: Bearer <token>`` (or ``Token <token>``).
Without an admin token there is no admin app. Plain JSON in and out (no OCPI envelope)::

    GET    /modules                        the modules this role sends
    GET    /{module}/{id}[/{nested}...]    a stored own object (hub client info: /{module}/{cc}/{party_id})
    POST   /{module}                       create or replace the object in the body (its key field)
    PUT    /{module}/{id}[/{nested}...]    create or replace the object at those ids
    PATCH  /{module}/{id}[/{nested}...]    change some fields
    DELETE /{module}/{id}[/{nested}...]    delete
    POST   /drain                          wait for the pushes in flight

``create_app`` mounts it under ``/admin`` when ``OCPI_ADMIN_TOKEN`` is set; ``create_admin_app``
makes it on its own, to serve on another port (``uvicorn app:admin --port 8001``).
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ._json import dumps_bytes, loads
from ._party import OcpiParty, OperatorError
from ._push import Pusher, configure_logging, install_push

#: Where ``create_app`` mounts the admin app when ``OCPI_ADMIN_TOKEN`` is set.
ADMIN_PREFIX = "/admin"


def admin_token_from_env(environ: dict[str, str] | None = None) -> str | None:
    """``OCPI_ADMIN_TOKEN``, or None when unset or empty (then there is no admin app)."""
    value = (os.environ if environ is None else environ).get("OCPI_ADMIN_TOKEN", "").strip()
    return value or None


def _authorized(request: Request, token: str) -> bool:
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() not in ("bearer", "token") or not given.strip():
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def _json(data: Any, status: int = 200) -> Response:
    return Response(dumps_bytes(data), status_code=status, media_type="application/json")


def create_admin_app(party: OcpiParty, token: str) -> Starlette:
    """The admin ASGI app of ``party``, answering only requests with ``token``."""
    if not token:
        raise ValueError("an admin token is required")

    Handler = Callable[[Request], Awaitable[Response]]

    def guarded(handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            if not _authorized(request, token):
                return JSONResponse({"error": "admin token required"}, status_code=401)
            try:
                return await handler(request)
            except OperatorError as exc:
                return _json({"error": str(exc)}, 404 if str(exc).startswith("unknown") else 400)

        return endpoint

    async def body(request: Request) -> Any:
        raw = await request.body()
        try:
            return loads(raw)
        except ValueError:
            raise OperatorError("the body is not JSON") from None

    def ids(request: Request) -> list[str]:
        return [p for p in str(request.path_params.get("ids", "")).split("/") if p]

    async def modules(request: Request) -> Response:
        return _json(
            [
                {"module": m.module_id, "collection": m.collection, "key": m.key, "nested": [n[0] for n in m.nesting]}
                for m in party.modules
            ]
        )

    async def drain(request: Request) -> Response:
        await party.drain()
        return _json({"drained": True})

    async def create(request: Request) -> Response:
        data = await body(request)
        if not isinstance(data, dict):
            raise OperatorError("the body must be a JSON object")
        created = await party.put(request.path_params["module"], data)
        return _json({"created": created}, 201 if created else 200)

    async def one(request: Request) -> Response:
        module, at = request.path_params["module"], ids(request)
        owner: tuple[str, str] | None = None
        if party.module(module).single:  # one object per owner: addressed by its owner's ids
            if len(at) < 2:
                raise OperatorError(f"unknown {module}: /{module}/{{country_code}}/{{party_id}} expected")
            owner, at = (at[0], at[1]), at[2:]
        if request.method == "GET":
            found = await party.get(module, *at, owner=owner)
            if found is None:
                raise OperatorError(f"unknown {module} {'/'.join(at)}")
            return _json(found)
        if request.method == "DELETE":
            if not await party.delete(module, *at, owner=owner):
                raise OperatorError(f"unknown {module} {'/'.join(at)}")
            return _json({"deleted": True})
        data = await body(request)
        if not isinstance(data, dict):
            raise OperatorError("the body must be a JSON object")
        if request.method == "PUT":
            if owner is not None:
                data = {**data, "country_code": owner[0], "party_id": owner[1]}
            created = await party.put(module, data, *at)
            return _json({"created": created}, 201 if created else 200)
        return _json(await party.patch(module, data, *at, owner=owner))

    return Starlette(
        routes=[
            Route("/modules", guarded(modules), methods=["GET"]),
            Route("/drain", guarded(drain), methods=["POST"]),
            Route("/{module}", guarded(create), methods=["POST"]),
            Route("/{module}/{ids:path}", guarded(one), methods=["GET", "PUT", "PATCH", "DELETE"]),
        ]
    )


def install_party(
    app: Any,
    store: Any,
    settings: Any,
    version: str,
    routing_headers: bool,
    modules: Any,
    environ: dict[str, str] | None = None,
) -> OcpiParty:
    """Give ``app`` its operator API (``app.state.party``) and pushes: the pushes in flight are
    cancelled at shutdown, the ``ocpi`` log lines are printed when logging is not configured, and
    the admin app is mounted under ``/admin`` when ``OCPI_ADMIN_TOKEN`` is set."""
    pusher = Pusher(store, settings, version, routing_headers, tuple(modules))
    party = OcpiParty(store, settings, pusher)
    app.state.party = party
    install_push(app, pusher)
    configure_logging()
    token = admin_token_from_env(environ)
    if token is not None:
        app.mount(ADMIN_PREFIX, create_admin_app(party, token))
    return party
