"""Single-object GETs of the generated servers (issue #16): plain routes, stored bytes sent as stored.

What the fast path must keep: the path parameter rules and the 400/2001 answer FastAPI gave for a
bad one, 404 with the module's OCPI code, auth before anything else, HEAD and the trailing slash,
the headers middleware (request ids and routing headers from 2.2 on, none in 2.1.1), an override
that returns a model, the application's exception handlers, and the stored JSON byte for byte.
"""

from __future__ import annotations

import base64
import functools
import importlib
from decimal import Decimal
from typing import Any

import pytest
from fastapi import Request
from fastapi.testclient import TestClient
from starlette.responses import JSONResponse

from generator.paths import SPEC_ROOT
from generator.pipeline import load_spec
from tests.blocking import blocking, sync
from tests.samples import dumps, loads, obj
from tests.server_support import server_package

OWN = ("NL", "SRV")
TOKEN = "our-token"
#: The exact number a binary float would change; the stored text must come back with its digits.
EXACT = "0.1000000000000000055511151231257827"


class Setup:
    """One generated server (version, role) on an in-memory store, with a stored Location."""

    def __init__(self, version: str, role: str) -> None:
        self.version = version
        self.pkg = server_package(version, role)
        self.spec = load_spec(SPEC_ROOT, version)
        self.models = importlib.import_module(self.pkg.__name__ + ".client.models")
        self.settings = self.pkg.ServerSettings(base_url="http://testserver/ocpi", country_code=OWN[0], party_id=OWN[1])
        self.store = self.pkg.SqliteStore(":memory:")
        sync(self.store).save_party(self.pkg.Party("peer", token_b="their-token", token_c=TOKEN, version=version))
        token = base64.b64encode(TOKEN.encode()).decode() if self.spec.token_base64 else TOKEN
        self.auth = {"Authorization": "Token " + token}
        self.client = self.app()
        location = obj(self.spec, self.spec.type("Location"), extra=True)  # type: ignore[arg-type]
        location.update(country_code=OWN[0], party_id=OWN[1], id="LOC1", last_updated="2024-01-02T03:04:05Z")
        location["x_vendor_extension"]["n"] = Decimal(EXACT)
        evse = location["evses"][0]
        evse.update(uid="EVSE1", x_evse_extra={"n": Decimal(EXACT)})
        evse["connectors"][0]["id"] = "C1"
        self.location = location
        # Stored with its keys in reverse order: a model would write them in field order, so only
        # the stored bytes themselves come out in this order.
        backwards = dict(reversed(list(loads(dumps(location)).items())))
        sync(self.store).put_object("Location", *OWN, "LOC1", backwards, location["last_updated"])

    def app(self, handlers: Any = None) -> TestClient:
        app = self.pkg.create_app(self.settings, store=self.store, handlers=handlers)
        return TestClient(app, raise_server_exceptions=False)

    def url(self, path: str) -> str:
        return f"/ocpi/{self.version}{path}"

    def stored(self, collection: str, owner: tuple[str, str], oid: str) -> bytes:
        raw = blocking(self.store.get_object_json(collection, *owner, oid))
        assert raw is not None
        return bytes(raw)


@functools.cache
def setup(version: str, role: str = "cpo") -> Setup:
    return Setup(version, role)


def data_bytes(body: bytes) -> bytes:
    """The ``data`` member of an envelope as sent: the bytes between ``{"data":`` and the status."""
    assert body.startswith(b'{"data":'), body[:40]
    end = body.rindex(b',"status_code":')
    return body[len(b'{"data":') : end]


VERSIONS = ("2.1.1", "2.2.1")


@pytest.mark.parametrize("version", VERSIONS)
def test_stored_location_is_sent_byte_for_byte_with_exact_numbers_and_unknown_fields(version: str) -> None:
    s = setup(version)
    r = s.client.get(s.url("/locations/LOC1"), headers=s.auth)
    assert r.status_code == 200 and r.json()["status_code"] == 1000
    assert data_bytes(r.content) == s.stored("Location", OWN, "LOC1")
    data = loads(r.content)["data"]
    assert list(data) == list(reversed(list(loads(dumps(s.location)))))  # as stored, not re-encoded
    assert data["x_vendor_extension"]["n"] == Decimal(EXACT) and EXACT.encode() in r.content
    assert data == loads(dumps(s.location))


@pytest.mark.parametrize("version", VERSIONS)
def test_nested_evse_and_connector_are_the_stored_children_written_once(version: str) -> None:
    s = setup(version)
    evse = s.client.get(s.url("/locations/LOC1/EVSE1"), headers=s.auth)
    assert evse.status_code == 200
    stored = loads(s.stored("Location", OWN, "LOC1"))
    assert loads(data_bytes(evse.content)) == stored["evses"][0]
    assert b'"x_evse_extra":{"n":' + EXACT.encode() + b"}" in evse.content  # an exact number, no float
    assert s.client.get(s.url("/locations/loc1/evse1"), headers=s.auth).json()["data"]["uid"] == "EVSE1"  # CiString
    connector = s.client.get(s.url("/locations/LOC1/EVSE1/C1/"), headers=s.auth)
    assert connector.status_code == 200
    assert loads(data_bytes(connector.content)) == stored["evses"][0]["connectors"][0]


@pytest.mark.parametrize("version", VERSIONS)
def test_unknown_objects_are_404_with_the_modules_code(version: str) -> None:
    s = setup(version)
    for path, message in (
        ("/locations/NOPE", "Unknown Location NOPE"),
        ("/locations/LOC1/NOPE", "Unknown Location LOC1 evse NOPE"),
        ("/locations/LOC1/EVSE1/NOPE", "Unknown Location LOC1 connector NOPE"),
    ):
        r = s.client.get(s.url(path), headers=s.auth)
        assert r.status_code == 404, path
        assert r.json() == {**r.json(), "data": None, "status_code": 2003, "status_message": message}


@pytest.mark.parametrize("version", VERSIONS)
def test_bad_path_parameters_are_400_2001_as_fastapi_answered_after_auth(version: str) -> None:
    s = setup(version)
    longest = 39 if version == "2.1.1" else 36
    too_long = s.client.get(s.url("/locations/" + "x" * (longest + 1)), headers=s.auth)
    assert too_long.status_code == 400 and too_long.json()["status_code"] == 2001
    assert too_long.json()["status_message"] == f"path.location_id: String should have at most {longest} characters"
    assert s.client.get(s.url("/locations/" + "x" * longest), headers=s.auth).status_code == 404  # the limit is fine
    control = s.client.get(s.url("/locations/LOC1/a%09b"), headers=s.auth)
    assert control.status_code == 400
    assert control.json()["status_message"] == "path.evse_uid: String should match pattern '^[ -~]+$'"
    accented = s.client.get(s.url("/locations/%C3%A9"), headers=s.auth)
    assert accented.json()["status_message"] == "path.location_id: String should match pattern '^[ -~]+$'"
    # Every bad parameter, in URL order (a receiver's URL names the owner first).
    emsp = setup(version, "emsp")
    both = emsp.client.get(emsp.url("/locations/NLX/CPOX/" + "y" * 50), headers=emsp.auth)
    assert both.status_code == 400
    assert both.json()["status_message"] == (
        "path.country_code: String should have at most 2 characters; "
        "path.party_id: String should have at most 3 characters; "
        f"path.location_id: String should have at most {longest} characters"
    )
    # Auth is checked first, as FastAPI solved the token dependency before validating the path.
    anonymous = s.client.get(s.url("/locations/" + "x" * 50))
    assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("version", VERSIONS)
def test_head_and_trailing_slash_answer_like_get(version: str) -> None:
    s = setup(version)
    get = s.client.get(s.url("/locations/LOC1"), headers=s.auth, follow_redirects=False)
    slash = s.client.get(s.url("/locations/LOC1/"), headers=s.auth, follow_redirects=False)
    assert slash.status_code == 200 and data_bytes(slash.content) == data_bytes(get.content)
    head = s.client.head(s.url("/locations/LOC1"), headers=s.auth)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]
    assert s.client.head(s.url("/locations/NOPE/"), headers=s.auth).status_code == 404
    not_allowed = s.client.delete(s.url("/locations/LOC1"), headers=s.auth)
    assert not_allowed.status_code == 405 and not_allowed.headers["Allow"] == "GET, HEAD"


def test_2_1_1_sends_no_routing_or_request_id_headers() -> None:
    s = setup("2.1.1")
    r = s.client.get(s.url("/locations/LOC1"), headers={**s.auth, "X-Request-ID": "req-1"})
    assert r.status_code == 200
    assert not [name for name in r.headers if name.lower().startswith(("ocpi-", "x-request", "x-correlation"))]


def test_2_2_1_echoes_request_ids_swaps_routing_headers_and_refuses_bad_ones() -> None:
    s = setup("2.2.1")
    headers = {**s.auth, "X-Request-ID": "req-1", "OCPI-from-country-code": "DE", "OCPI-from-party-id": "EMS"}
    r = s.client.get(s.url("/locations/LOC1"), headers=headers)
    assert r.status_code == 200 and r.headers["X-Request-ID"] == "req-1"
    assert r.headers["OCPI-to-country-code"] == "DE" and r.headers["OCPI-to-party-id"] == "EMS"
    assert r.headers["OCPI-from-country-code"] == "NL" and r.headers["OCPI-from-party-id"] == "SRV"
    generated = s.client.get(s.url("/locations/NOPE"), headers=s.auth).headers["X-Correlation-ID"]
    assert len(generated) == 36 and generated[14] == "4"  # a fresh uuid4 on an error too
    bad = s.client.get(s.url("/locations/LOC1"), headers={**s.auth, "OCPI-from-party-id": "TOOLONG"})
    assert bad.status_code == 400 and bad.json()["status_message"].startswith("Invalid header ocpi-from-party-id")


def test_token_get_reads_its_query_and_a_removed_token_is_refused_at_once() -> None:
    s = setup("2.2.1")
    token = obj(s.spec, s.spec.type("Token"))  # type: ignore[arg-type]
    token.update(country_code="DE", party_id="EMS", uid="TOK1", last_updated="2024-01-01T00:00:00Z")
    sync(s.store).put_object("Token", "DE", "EMS", "TOK1", loads(dumps(token)), token["last_updated"])
    r = s.client.get(s.url("/tokens/DE/EMS/TOK1?type=RFID"), headers=s.auth)
    assert r.status_code == 200 and data_bytes(r.content) == s.stored("Token", ("DE", "EMS"), "TOK1")
    unknown = s.client.get(s.url("/tokens/DE/EMS/NOPE"), headers=s.auth)
    assert unknown.status_code == 404 and unknown.json()["status_code"] == 2004
    sync(s.store).save_party(s.pkg.Party("gone", token_b="x", token_c="gone-token", version="2.2.1"))
    gone = {"Authorization": "Token " + base64.b64encode(b"gone-token").decode()}
    assert s.client.get(s.url("/tokens/DE/EMS/TOK1"), headers=gone).status_code == 200
    sync(s.store).delete_party("gone")
    assert s.client.get(s.url("/tokens/DE/EMS/TOK1"), headers=gone).status_code == 401


def test_posted_cdr_is_read_back_as_stored_at_its_location_url() -> None:
    s = setup("2.2.1", "emsp")
    cdr = obj(s.spec, s.spec.type("CDR"))  # type: ignore[arg-type]
    cdr.update(country_code="BE", party_id="CPO", id="CDR1", total_cost={"excl_vat": Decimal(EXACT)})
    posted = s.client.post(s.url("/cdrs"), headers={**s.auth, "Content-Type": "application/json"}, content=dumps(cdr))
    assert posted.status_code == 201, posted.text
    url = posted.headers["Location"].removeprefix("http://testserver")
    r = s.client.get(url, headers=s.auth)
    assert r.status_code == 200 and data_bytes(r.content) == s.stored("CDR", ("BE", "CPO"), "CDR1")
    assert EXACT.encode() in r.content
    bad = s.client.get(s.url("/cdrs/BEL/CPO/CDR1"), headers=s.auth)
    assert bad.status_code == 400 and bad.json()["status_message"].startswith("path.country_code: ")


class Unavailable(Exception):
    """An exception of the user's, with a handler of the user's."""


def _override_app(s: Setup) -> TestClient:
    """Handlers that override the Location read three ways: a model, the stored model, an exception."""
    models = s.models
    attr = "locations_cpo" if s.version == "2.1.1" else "locations_sender"  # 2.1.1 names interfaces by role
    base = type(getattr(s.pkg.handlers.Handlers(), attr))

    class Overridden(base):  # type: ignore[misc,valid-type]
        async def get_location(self, ctx: Any, location_id: str) -> Any:
            if location_id == "MODEL":
                return models.Location.model_validate({**loads(dumps(s.location)), "name": "From a model"})
            if location_id == "SUPER":
                stored = await super().get_location(ctx, "LOC1")
                return stored.model().model_copy(update={"name": "Through model()"})
            if location_id == "MINE":
                raise Unavailable("try later")
            if location_id == "CRASH":
                raise RuntimeError("a bug")
            return await super().get_location(ctx, location_id)

    client = s.app(s.pkg.handlers.Handlers(**{attr: Overridden()}))

    async def unavailable(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"mine": str(exc)}, status_code=503)

    client.app.add_exception_handler(Unavailable, unavailable)  # type: ignore[attr-defined]
    return client


@pytest.mark.parametrize("version", VERSIONS)
def test_an_overridden_handler_returning_a_model_or_raising_still_works(version: str) -> None:
    s = setup(version)
    client = _override_app(s)
    model = client.get(s.url("/locations/MODEL"), headers=s.auth)
    assert model.status_code == 200 and model.json()["data"]["name"] == "From a model"
    assert loads(model.content)["data"]["x_vendor_extension"]["n"] == Decimal(EXACT)  # unknown field, exact
    again = client.get(s.url("/locations/SUPER"), headers=s.auth)
    assert again.status_code == 200 and again.json()["data"]["name"] == "Through model()"
    assert data_bytes(client.get(s.url("/locations/LOC1"), headers=s.auth).content) == s.stored("Location", OWN, "LOC1")
    mine = client.get(s.url("/locations/MINE"), headers=s.auth)
    assert mine.status_code == 503 and mine.json() == {"mine": "try later"}  # the app's own handler answered
    crash = client.get(s.url("/locations/CRASH"), headers=s.auth)
    assert crash.status_code == 500 and crash.json()["status_message"] == "Internal server error"
    if version != "2.1.1":
        assert crash.headers["X-Request-ID"]


def test_get_stored_of_a_store_without_raw_reads_writes_the_object_once() -> None:
    s = setup("2.2.1")
    defaults = importlib.import_module(s.pkg.__name__ + "._defaults")

    class DictOnly:  # get_object only: no RawJSONStore capability
        async def get_object(self, *key: str) -> dict[str, Any] | None:
            return await s.store.get_object(*key)

    engine = defaults.Engine(
        DictOnly(), s.settings, not_found_codes={"Location": 2003}, routing_headers=True, request_id_headers=True
    )
    path = defaults.ObjectPath("Location", OWN, "LOC1")
    stored = blocking(engine.get_stored(path, s.models.Location))
    assert stored.data == s.stored("Location", OWN, "LOC1")  # the same compact JSON the store keeps
    assert stored.model().id == "LOC1" and isinstance(stored.model(), s.models.Location)
    with pytest.raises(defaults.OcpiHTTPError) as unknown:
        blocking(engine.get_stored(defaults.ObjectPath("Location", OWN, "NOPE"), s.models.Location))
    assert (unknown.value.http_status, unknown.value.status_code) == (404, 2003)


def test_plain_routes_behind_a_root_path_and_writes_beside_them() -> None:
    s = setup("2.2.1")
    behind = TestClient(s.client.app, root_path="/api", raise_server_exceptions=False)
    r = behind.get("/api" + s.url("/locations/LOC1"), headers=s.auth)
    assert r.status_code == 200 and data_bytes(r.content) == s.stored("Location", OWN, "LOC1")
    page = behind.get("/api" + s.url("/locations?limit=1"), headers=s.auth)
    assert page.status_code == 200 and page.headers["X-Total-Count"] == "1"
    # A write to a path that a plain GET also serves goes on to its FastAPI route.
    emsp = setup("2.2.1", "emsp")
    put = emsp.client.put(
        emsp.url("/locations/NL/CPO/L9"), headers={**emsp.auth, "Content-Type": "application/json"}, content="{}"
    )
    assert put.status_code == 400 and put.json()["status_code"] == 2001  # validated by the PUT route
