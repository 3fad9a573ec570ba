"""Assemble the FastAPI application of a generated server: versions, credentials, module routers.

Static: copied verbatim into every generated server. The generated ``__init__`` describes the
version and role (``AppSpec``) and calls :func:`build_app`.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from ._admin import install_party
from ._auth import AuthContext, Authenticator
from ._defaults import Engine, as_json
from ._docs import install_docs
from ._envelope import install_error_handlers, ocpi_json_response, read_json_body
from ._middleware import install_header_middleware, install_input_limits
from ._outbound import check_endpoints, peer_transport
from ._registration import CredentialsService, NoMatchingEndpoints, NoMutualVersion, PeerInfo, PeerUnreachable
from ._resync import Receiving, Resyncer
from ._settings import ServerSettings
from ._store import Party, Store, new_token, open_store
from .client._credentials import aregister, aunregister, aupdate
from .client._discovery import Discovery, adiscover
from .client.errors import OcpiError, VersionNegotiationError

logger = logging.getLogger("ocpi.server")


Endpoint = Callable[[Request], Awaitable[Response]]


class ModuleRouter(APIRouter):
    """The routes of one module interface: FastAPI routes, plus plain GET routes.

    A plain route's endpoint gets the bare ``Request`` (``_PlainEndpoint``); FastAPI parses nothing
    for it. The list endpoints, which read their query with ``page_params``, are served this way:
    they carry the most traffic.
    """

    def __init__(self) -> None:
        super().__init__()
        self.plain_routes: list[tuple[str, Endpoint]] = []

    def plain_get(self, path: str, endpoint: Endpoint) -> None:
        """Serve GET (and HEAD) ``path``, relative to where the router is mounted."""
        self.plain_routes.append((path, endpoint))


class _PlainEndpoint:
    """The ASGI app of a plain route: a Request in, the endpoint's Response out. An exception goes
    to the application's handlers (Starlette's per-route wrapper would only do the same again)."""

    __slots__ = ("endpoint",)

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.endpoint(Request(scope, receive, send))
        await response(scope, receive, send)


def _exception_handler(handlers: Mapping[Any, Any], exc: Exception) -> Any:
    """The handler Starlette's ExceptionMiddleware would pick for ``exc`` (a status handler for an
    HTTPException, else the nearest class in the exception's MRO), or None where it would pick
    none: ``Exception`` itself and 500 belong to the crash guard."""
    if isinstance(exc, StarletteHTTPException) and exc.status_code != 500 and exc.status_code in handlers:
        return handlers[exc.status_code]
    for cls in type(exc).__mro__:
        if cls is Exception:
            return None
        if cls in handlers:
            return handlers[cls]
    return None


#: The methods a plain route serves (Starlette adds HEAD to a GET route).
_PLAIN_METHODS = frozenset({"GET", "HEAD"})


class PlainRoutes:
    """Pure ASGI middleware just inside the headers middleware: a request that a plain route takes
    (GET or HEAD; the path and method fully match) is served here, past the layers it does not need:
    the input limits (no body), the crash guard (the headers middleware guards too), Starlette's
    exception middleware and FastAPI's exit stack and router. An exception of the endpoint is
    answered by the application's exception handler for it, as the exception middleware would; one
    without a handler goes up to the crash guard (500 envelope). Everything else goes on down.

    ``routes`` are the plain routes in the order the application's router holds them: they come
    first in it, so the first full match here is the one the router would take. With FastAPI's
    native telemetry on, requests go the long way (its router names the span).
    """

    def __init__(self, app: ASGIApp, *, routes: Sequence[Route], owner: FastAPI) -> None:
        self.app = app
        self.routes = routes
        self.owner = owner
        self._table: list[tuple[str, bool, Route]] | None = None

    def _prefixed(self) -> list[tuple[str, bool, Route]]:
        """Each route with the literal start of its path (before the first parameter) and whether
        that is the whole path: a cheap test before the route's own match. Built at the first
        request (the routes are complete by then)."""
        if self._table is None:
            self._table = [(route.path.split("{", 1)[0], "{" not in route.path, route) for route in self.routes]
        return self._table

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in _PLAIN_METHODS and scope.get("fastapi.telemetry") is None:
            # Behind a root_path, routes match the path without it: then no prefix test.
            path = "" if scope.get("root_path") else scope["path"]
            for prefix, whole, route in self._table or self._prefixed():
                if path and (path != prefix if whole else not path.startswith(prefix)):
                    continue
                match, child = route.matches(scope)
                if match is Match.FULL:
                    scope.update(child)
                    scope.setdefault("router", self.owner.router)
                    await self._serve(route.app, scope, receive, send)
                    return
        await self.app(scope, receive, send)

    async def _serve(self, app: Any, scope: Scope, receive: Receive, send: Send) -> None:
        if not isinstance(app, _PlainEndpoint):
            await app(scope, receive, send)
            return
        request = Request(scope, receive, send)
        try:
            response = await app.endpoint(request)
        except Exception as exc:
            handler = _exception_handler(self.owner.exception_handlers, exc)
            if handler is None:
                raise
            if inspect.iscoroutinefunction(handler):
                answer = await handler(request, exc)
            else:  # as Starlette calls a plain function: in a worker thread
                answer = await run_in_threadpool(handler, request, exc)
                if inspect.isawaitable(answer):
                    answer = await answer
            response = answer
        await response(scope, receive, send)


@dataclass(frozen=True)
class Mount:
    """Where one module interface is served and how it is listed in version details."""

    module_id: str
    role: str | None  # InterfaceRole in version details (None in 2.1.1)
    path: str  # below the version base, e.g. "/locations"
    routed: bool
    router: APIRouter


@dataclass(frozen=True)
class AppSpec:
    """What the generated package knows about its version and role."""

    version: str
    role: str
    routing_headers: bool
    not_found_codes: Mapping[str, int]
    own_credentials: Callable[[ServerSettings, Party, str], dict[str, Any]]
    build_routers: Callable[[Any, Engine, Authenticator], Sequence[Mount]]
    make_handlers: Callable[[], Any]
    credentials_model: Any
    receives: Sequence[Receiving] = ()
    """The modules we receive and resync by pulling (``_resync``), from the generated table."""
    push_modules: Sequence[Any] = ()
    """The modules this role sends (``_push.PushModule``), computed by the generator."""


def _fetch_peer(spec: AppSpec, settings: ServerSettings) -> Callable[[str, str], Awaitable[PeerInfo]]:
    async def fetch(versions_url: str, token_b: str) -> PeerInfo:
        try:
            async with peer_transport(settings, versions_url, token_b, ocpi_headers=spec.routing_headers) as transport:
                found = await adiscover(transport, versions_url, [spec.version], spec.version)
        except VersionNegotiationError as exc:
            raise NoMutualVersion(str(exc)) from None
        except OcpiError as exc:
            raise PeerUnreachable(str(exc)) from None
        endpoints = [
            {"identifier": identifier, **({"role": role} if role else {}), "url": url}
            for (identifier, role), url in found.endpoints.items()
        ]
        await check_endpoints(settings, versions_url, endpoints)
        if not any(e["identifier"] != "credentials" for e in endpoints):
            raise NoMatchingEndpoints("the peer offers no module besides credentials")
        return PeerInfo(version=found.version, endpoints=endpoints)

    return fetch


def build_app(
    spec: AppSpec,
    settings: ServerSettings | None = None,
    *,
    handlers: Any = None,
    store: Store | None = None,
) -> FastAPI:
    """The OCPI server: ``{base}/versions``, ``{base}/{version}`` (details), credentials, modules.

    The versions list and details are also served at ``{base}/{version}/versions[/{version}]``,
    where the generated OpenAPI document places them.
    """
    settings = settings or ServerSettings.from_env()
    owns_store = store is None
    store = store or open_store(settings.database)
    engine = Engine(
        store,
        settings,
        not_found_codes=spec.not_found_codes,
        routing_headers=spec.routing_headers,
        request_id_headers=spec.routing_headers,
    )
    auth = Authenticator(store, settings)
    handlers = handlers if handlers is not None else spec.make_handlers()
    mounts = list(spec.build_routers(handlers, engine, auth))
    base = settings.base_path
    version_base = f"{base}/{spec.version}"

    resyncer = Resyncer(spec, settings, store)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Resync by pull in the background: start-up is not held up by a peer that is down.
        resyncer.start()
        try:
            yield
        finally:
            await resyncer.stop()
            if owns_store:  # a store the caller passed in is the caller's to close
                await store.close()

    app = FastAPI(
        title=f"OCPI {spec.version} {spec.role} server",
        redirect_slashes=False,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.store = store
    app.state.engine = engine
    app.state.settings = settings
    app.state.handlers = handlers
    app.state.resyncer = resyncer
    install_error_handlers(app)
    install_input_limits(app, settings)
    plain_routes: list[Route] = []  # filled below, before the first request builds the stack
    app.add_middleware(PlainRoutes, routes=plain_routes, owner=app)
    install_header_middleware(
        app,
        request_id_headers=spec.routing_headers,
        routing_headers=spec.routing_headers,
        routed_prefixes=[version_base + m.path for m in mounts if m.routed],
        own_country_code=settings.country_code,
        own_party_id=settings.party_id,
    )

    # Module routes first: they carry nearly all the traffic, and no path of theirs can be taken by
    # the versions or credentials routes below (the route table is searched in order). The plain
    # routes of every module come before the FastAPI routes (PlainRoutes serves them in this order);
    # no two modules' paths overlap (each module has its own mount path).
    for m in mounts:
        if isinstance(m.router, ModuleRouter):
            for path, endpoint in m.router.plain_routes:
                route = Route(
                    version_base + m.path + path, _PlainEndpoint(endpoint), methods=["GET"], include_in_schema=False
                )
                plain_routes.append(route)
    app.router.routes.extend(plain_routes)
    for m in mounts:
        app.include_router(m.router, prefix=version_base + m.path)

    versions_access = auth.versions_dependency()

    def versions_list() -> list[dict[str, str]]:
        return [{"version": spec.version, "url": f"{settings.base_url}/{spec.version}"}]

    def details() -> dict[str, Any]:
        endpoints: list[dict[str, Any]] = [
            {
                "identifier": "credentials",
                **({"role": "SENDER"} if spec.routing_headers else {}),
                "url": f"{settings.base_url}/{spec.version}/credentials",
            }
        ]
        for m in mounts:
            endpoints.append(
                {
                    "identifier": m.module_id,
                    **({"role": m.role} if m.role else {}),
                    "url": f"{settings.base_url}/{spec.version}{m.path}",
                }
            )
        return {"version": spec.version, "endpoints": endpoints}

    async def get_versions(_: AuthContext | None = Depends(versions_access)) -> Response:
        return ocpi_json_response(versions_list())

    async def get_details(_: AuthContext | None = Depends(versions_access)) -> Response:
        return ocpi_json_response(details())

    async def get_details_of(version: str, _: AuthContext | None = Depends(versions_access)) -> Response:
        if version != spec.version:
            return ocpi_json_response(
                None, status_code=2001, status_message=f"Unknown version {version}", http_status=404
            )
        return ocpi_json_response(details())

    for path in (f"{base}/versions", f"{version_base}/versions"):
        for p in (path, path + "/"):
            app.add_api_route(p, get_versions, methods=["GET"], include_in_schema=False)
    for p in (version_base, version_base + "/"):
        app.add_api_route(p, get_details, methods=["GET"], include_in_schema=False)
    for p in (f"{version_base}/versions/{{version}}", f"{version_base}/versions/{{version}}/"):
        app.add_api_route(p, get_details_of, methods=["GET"], include_in_schema=False)

    service = CredentialsService(
        store, settings, lambda party, token: spec.own_credentials(settings, party, token), _fetch_peer(spec, settings)
    )
    credentials_auth = auth.dependency(allow_token_a=True)

    async def credentials_get(ctx: AuthContext = Depends(credentials_auth)) -> Response:
        return ocpi_json_response(await service.get(ctx))

    async def credentials_post(request: Request, ctx: AuthContext = Depends(credentials_auth)) -> Response:
        service.check_post(ctx)  # 405 before the body is read: an empty body is no reason for 400
        return ocpi_json_response(await service.post(ctx, await read_json_body(request)))

    async def credentials_put(request: Request, ctx: AuthContext = Depends(credentials_auth)) -> Response:
        service.check_put(ctx)
        return ocpi_json_response(await service.put(ctx, await read_json_body(request)))

    async def credentials_delete(ctx: AuthContext = Depends(credentials_auth)) -> Response:
        await service.delete(ctx)
        return ocpi_json_response(None)

    cred = f"{version_base}/credentials"
    for p in (cred, cred + "/"):
        app.add_api_route(p, credentials_get, methods=["GET"], include_in_schema=False)
        app.add_api_route(p, credentials_post, methods=["POST"], include_in_schema=False)
        app.add_api_route(p, credentials_put, methods=["PUT"], include_in_schema=False)
        app.add_api_route(p, credentials_delete, methods=["DELETE"], include_in_schema=False)

    _add_method_not_allowed(app, [(version_base + m.path, m.router) for m in mounts])
    install_docs(app, settings, spec.version)  # /openapi.json, /docs, /redoc (OCPI_DOCS=0: off)
    install_party(app, store, settings, spec.version, spec.routing_headers, spec.push_modules)  # operator API, push
    return app


_HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT")


def _add_method_not_allowed(app: FastAPI, routers: Sequence[tuple[str, APIRouter]]) -> None:
    """After the module routes: one route per module path that takes every other method and
    answers 405 with an ``Allow`` header listing every method served at that path. (Starlette
    would answer with the methods of the first route whose path matched, e.g. ``Allow: GET`` on an
    EVSE URL where PUT and PATCH are served too.)"""
    methods: dict[str, set[str]] = {}
    routes = [("", route) for route in app.router.routes]
    routes += [(prefix, route) for prefix, router in routers for route in router.routes]
    for prefix, route in routes:
        if isinstance(route, Route) and route.methods:
            methods.setdefault(prefix + route.path, set()).update(route.methods)
    for path, served in methods.items():
        allow = ", ".join(sorted(served))

        async def not_allowed(request: Request, allow: str = allow) -> Response:
            raise StarletteHTTPException(405, headers={"Allow": allow})

        others = [m for m in _HTTP_METHODS if m not in served]
        app.router.routes.append(Route(path, not_allowed, methods=others, include_in_schema=False))


async def register_with_peer(
    spec: AppSpec, settings: ServerSettings, store: Store, party_key: str, versions_url: str, token_a: str
) -> Party:
    """Our side of a registration we start: the peer gave us its versions URL and a token A.

    We make a token B and store it first (the peer calls our versions endpoint with it while it
    handles our POST), POST our credentials, and keep the peer's token C for calling it.
    """
    previous = await store.party(party_key)
    party = Party(party_key)
    token_b = new_token()
    party.token_c = token_b  # the token the peer calls us with
    await store.save_party(party)
    own = spec.credentials_model.model_validate(spec.own_credentials(settings, party, token_b))
    try:
        async with peer_transport(settings, versions_url, token_a, ocpi_headers=spec.routing_headers) as transport:
            reg = await aregister(
                transport,
                versions_url,
                own,
                spec.credentials_model.model_validate,
                [spec.version],
                spec.version,
                token_of=lambda c: str(c.token),
            )
    except BaseException:
        if previous is not None:
            await store.save_party(previous)
        else:
            await store.delete_party(party_key)
        raise
    party.token_b = reg.token
    party.versions_url = versions_url
    party.version = reg.discovery.version
    party.endpoints = [
        {"identifier": identifier, **({"role": role} if role else {}), "url": url}
        for (identifier, role), url in reg.discovery.endpoints.items()
    ]
    party.credentials = as_json(reg.credentials)
    roles = party.credentials.get("roles")
    party.roles = roles if isinstance(roles, list) else [party.credentials]
    await store.save_party(party)
    logger.info("registered with party %s (%s) for version %s", party_key, versions_url, party.version)
    return party


async def issue_token_a(settings: ServerSettings, party_key: str, store: Store | None = None) -> str:
    """Create a token A for a new peer (give it, with our versions URL, to the peer out of band)."""
    if store is not None:
        return await store.create_token_a(party_key)
    own = open_store(settings.database)
    try:
        return await own.create_token_a(party_key)
    finally:
        await own.close()


def _discovery_of(party: Party) -> Discovery:
    """The Discovery of a registration, from what we stored (no new discovery)."""
    if not party.versions_url or not party.version:
        raise ValueError(f"peer {party.party_key} has no versions URL: it never registered with us")
    endpoints = {(str(e["identifier"]), e.get("role")): str(e["url"]) for e in party.endpoints if "url" in e}
    return Discovery(party.version, party.versions_url, "", endpoints)


def _registered(party: Party | None, party_key: str) -> Party:
    if party is None:
        raise LookupError(f"no peer {party_key!r} in the store")
    if not party.registered or not party.token_b:
        raise ValueError(f"peer {party_key} is not registered (no token to call it with)")
    return party


async def update_credentials_with_peer(spec: AppSpec, settings: ServerSettings, store: Store, party_key: str) -> Party:
    """PUT our credentials with a new token to a registered peer and keep the token it answers with.

    The new token (the one the peer calls us with) is stored first, as in a registration, and the
    old state comes back if the update fails."""
    previous = _registered(await store.party(party_key), party_key)
    discovery = _discovery_of(previous)
    party = replace(previous, token_c=new_token())
    assert party.token_c is not None and previous.token_b is not None
    await store.save_party(party)
    own = spec.credentials_model.model_validate(spec.own_credentials(settings, party, party.token_c))
    try:
        async with peer_transport(
            settings, discovery.versions_url, previous.token_b, ocpi_headers=spec.routing_headers
        ) as transport:
            reg = await aupdate(
                transport, discovery, own, spec.credentials_model.model_validate, token_of=lambda c: str(c.token)
            )
    except BaseException:
        await store.save_party(previous)
        raise
    party.token_b = reg.token
    party.credentials = as_json(reg.credentials)
    roles = party.credentials.get("roles")
    party.roles = roles if isinstance(roles, list) else [party.credentials]
    await store.save_party(party)
    logger.info("credentials updated with %s", party_key)
    return party


async def unregister_from_peer(
    spec: AppSpec, settings: ServerSettings, store: Store, party_key: str, *, force: bool = False
) -> bool:
    """DELETE our credentials at a registered peer, then forget the party (its tokens stop working
    at once, its peer state goes; objects it sent stay). With ``force`` the party is forgotten even
    when the peer cannot be reached; returns whether the peer confirmed."""
    party = _registered(await store.party(party_key), party_key)
    assert party.token_b is not None
    confirmed = False
    try:
        discovery = _discovery_of(party)
        async with peer_transport(
            settings, discovery.versions_url, party.token_b, ocpi_headers=spec.routing_headers
        ) as transport:
            await aunregister(transport, discovery)
        confirmed = True
    except Exception:
        if not force:
            raise
        logger.warning("unregistering at %s failed; forgetting the party anyway", party_key)
    await store.delete_party(party_key)
    logger.info("party %s unregistered by us", party_key)
    return confirmed
