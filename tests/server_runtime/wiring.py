"""A tiny OCPI server wired from the runtime the way generated routers will wire it.

* ``/ocpi/versions`` and ``/ocpi/2.2.1``: versions list and details (token A or C, or anonymous).
* ``/ocpi/2.2.1/credentials``: the credentials module over ``CredentialsService``.
* ``/ocpi/emsp/2.2.1/locations/{country_code}/{party_id}/{location_id}``: a receiver interface
  (GET/PUT/DELETE, client-owned objects) validated with a pydantic model.
* ``/ocpi/cpo/2.2.1/locations``: a sender interface (paginated GET list).
* ``/ocpi/2.2.1/test/...``: routes that exercise error paths and serialisation.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Body, Depends, FastAPI, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from ocpi_runtime.server._auth import AuthContext, Authenticator
from ocpi_runtime.server._envelope import (
    OcpiHTTPError,
    RawJSON,
    install_error_handlers,
    ocpi_json_response,
    read_json_body,
)
from ocpi_runtime.server._middleware import install_header_middleware, request_ids
from ocpi_runtime.server._pagination import page_params, paginated_response
from ocpi_runtime.server._registration import CredentialsService, PeerInfo
from ocpi_runtime.server._settings import ServerSettings
from ocpi_runtime.server._store import Party, Store

VERSION = "2.2.1"
LOCATIONS_RECEIVER = "/ocpi/emsp/2.2.1/locations"
LOCATIONS_SENDER = "/ocpi/cpo/2.2.1/locations"


class Coordinates(BaseModel):
    latitude: str
    longitude: str


class Location(BaseModel):
    """A cut-down Location: enough fields to exercise validation and aliases."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    country_code: str
    party_id: str
    id: str
    name: str | None = None
    coordinates: Coordinates | None = None
    power: Decimal | None = Field(default=None, alias="max_power")
    last_updated: datetime


@dataclass
class FakePeer:
    """``fetch_peer`` stand-in: records its calls, then returns ``result`` or raises ``error``."""

    result: PeerInfo = field(default_factory=lambda: PeerInfo(version=VERSION, endpoints=[{"identifier": "cdrs"}]))
    error: BaseException | None = None
    calls: list[tuple[str, str]] = field(default_factory=list)

    async def __call__(self, versions_url: str, token_b: str) -> PeerInfo:
        self.calls.append((versions_url, token_b))
        if self.error is not None:
            raise self.error
        return self.result


def own_credentials_for(settings: ServerSettings) -> Callable[[Party, str], dict[str, Any]]:
    def own_credentials(party: Party, token: str) -> dict[str, Any]:
        return {
            "token": token,
            "url": settings.base_url + "/versions",
            "roles": [
                {
                    "role": "EMSP",
                    "country_code": settings.country_code,
                    "party_id": settings.party_id,
                    "business_details": {"name": settings.business_name},
                }
            ],
        }

    return own_credentials


def build_app(
    settings: ServerSettings,
    store: Store,
    fetch_peer: Callable[[str, str], Awaitable[PeerInfo]] | None = None,
    *,
    headers_first: bool = False,
) -> FastAPI:
    """The test server. ``headers_first`` installs the header middleware before the error
    handlers (the other order), to show that the result does not depend on it."""
    app = FastAPI()
    auth = Authenticator(store, settings)
    service = CredentialsService(store, settings, own_credentials_for(settings), fetch_peer or FakePeer())
    function_auth = auth.dependency()
    credentials_auth = auth.dependency(allow_token_a=True)

    def install_headers() -> None:
        install_header_middleware(
            app,
            request_id_headers=True,
            routing_headers=True,
            routed_prefixes=[LOCATIONS_RECEIVER, LOCATIONS_SENDER],
            own_country_code=settings.country_code,
            own_party_id=settings.party_id,
        )

    if headers_first:
        install_headers()
        install_error_handlers(app)
    else:
        install_error_handlers(app)
        install_headers()

    # -- versions ----------------------------------------------------------------------------------
    versions = APIRouter(prefix="/ocpi")

    @versions.get("/versions")
    async def get_versions(caller: AuthContext | None = Depends(auth.versions_dependency())) -> Response:
        return ocpi_json_response([{"version": VERSION, "url": settings.base_url + "/" + VERSION}])

    @versions.get("/" + VERSION)
    async def get_details(caller: AuthContext | None = Depends(auth.versions_dependency())) -> Response:
        return ocpi_json_response({"version": VERSION, "endpoints": []})

    # -- credentials -------------------------------------------------------------------------------
    credentials = APIRouter(prefix=f"/ocpi/{VERSION}/credentials")

    @credentials.get("")
    async def credentials_get(caller: AuthContext = Depends(credentials_auth)) -> Response:
        return ocpi_json_response(await service.get(caller))

    @credentials.post("")
    async def credentials_post(
        body: dict[str, Any] = Body(...), caller: AuthContext = Depends(credentials_auth)
    ) -> Response:
        return ocpi_json_response(await service.post(caller, body))

    @credentials.put("")
    async def credentials_put(
        body: dict[str, Any] = Body(...), caller: AuthContext = Depends(credentials_auth)
    ) -> Response:
        return ocpi_json_response(await service.put(caller, body))

    @credentials.delete("")
    async def credentials_delete(caller: AuthContext = Depends(credentials_auth)) -> Response:
        await service.delete(caller)
        return ocpi_json_response(None)

    # -- locations, receiver interface (client owned objects) -------------------------------------
    receiver = APIRouter(prefix=LOCATIONS_RECEIVER, dependencies=[Depends(function_auth)])

    @receiver.get("/{country_code}/{party_id}/{location_id}")
    async def receiver_get(country_code: str, party_id: str, location_id: str) -> Response:
        found = await store.get_object("locations", country_code, party_id, location_id)
        if found is None:
            raise OcpiHTTPError(404, 2003, "Unknown location")
        return ocpi_json_response(found)

    @receiver.put("/{country_code}/{party_id}/{location_id}")
    async def receiver_put(country_code: str, party_id: str, location_id: str, location: Location) -> Response:
        if location.id.upper() != location_id.upper():
            raise OcpiHTTPError(400, 2001, "id in the body differs from the URL")
        data = location.model_dump(mode="json", by_alias=True, exclude_none=True)
        data["max_power"] = location.power  # keep the Decimal exact in storage
        if location.power is None:
            del data["max_power"]
        created = await store.put_object(
            "locations", country_code, party_id, location_id, data, location.last_updated.isoformat()
        )
        return ocpi_json_response(None, http_status=201 if created else 200)

    @receiver.delete("/{country_code}/{party_id}/{location_id}")
    async def receiver_delete(country_code: str, party_id: str, location_id: str) -> Response:
        if not await store.delete_object("locations", country_code, party_id, location_id):
            raise OcpiHTTPError(404, 2003, "Unknown location")
        return ocpi_json_response(None)

    # -- locations, sender interface (paginated list) ---------------------------------------------
    sender = APIRouter(prefix=LOCATIONS_SENDER, dependencies=[Depends(function_auth)])

    @sender.get("")
    async def sender_list(request: Request) -> Response:
        page = page_params(request, settings)
        items, total = await store.list_objects(
            "locations", date_from=page.date_from, date_to=page.date_to, offset=page.offset, limit=page.limit
        )
        return paginated_response(request, settings, page, items, total)

    # -- error paths and serialisation -------------------------------------------------------------
    test = APIRouter(prefix=f"/ocpi/{VERSION}/test")

    @test.get("/boom")
    async def boom() -> Response:
        raise RuntimeError("kaboom: internal detail that must not leak")

    @test.get("/boom-sync")
    def boom_sync() -> Response:
        raise KeyError("sync detail that must not leak")

    @test.post("/raw-json")
    async def raw_json(request: Request) -> Response:
        body = await read_json_body(request)
        return ocpi_json_response(body)

    @test.post("/validate-in-handler")
    async def validate_in_handler(request: Request) -> Response:
        body = await read_json_body(request)
        location = Location.model_validate(body)
        return ocpi_json_response(location)

    @test.get("/model")
    async def model() -> Response:
        location = Location(
            country_code="NL",
            party_id="EXA",
            id="LOC1",
            max_power=Decimal("22.10"),
            last_updated=datetime(2024, 1, 2, 3, 4, 5),
        )
        return ocpi_json_response([location, RawJSON(b'{"pre": 1.50}')])

    @test.get("/ids")
    async def ids(request: Request) -> Response:
        request_id, correlation_id = request_ids(request)
        return ocpi_json_response({"request_id": request_id, "correlation_id": correlation_id})

    @test.get("/http-error")
    async def http_error() -> Response:
        raise OcpiHTTPError(409, 2000, "Conflict here", headers={"X-Extra": "1"})

    app.include_router(versions)
    app.include_router(credentials)
    app.include_router(receiver)
    app.include_router(sender)
    app.include_router(test)
    return app
