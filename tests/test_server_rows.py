"""Issue 11, rows 1-17: each wrong behaviour of the generated servers, now as the spec says.

In-process (Starlette TestClient) against the committed generated servers; each test names its row.
"""

from __future__ import annotations

import base64
import functools
import json
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from generator.ir import ObjectType, Spec
from generator.paths import SPEC_ROOT, available_versions
from generator.pipeline import load_spec as _load_spec
from tests.blocking import blocking, sync
from tests.conftest import ROOT
from tests.samples import dumps, obj
from tests.server_support import server_package

VERSIONS = available_versions(SPEC_ROOT)
load_spec = functools.cache(_load_spec)
OWNER = ("NL", "CPO")


class Server:
    """One generated server of a version and role, in-process, with a registered peer."""

    def __init__(
        self, version: str, role: str, handlers: Any = None, extensions: tuple[str, ...] = (), **settings: Any
    ) -> None:
        self.version, self.role = version, role
        self.spec: Spec = load_spec(SPEC_ROOT, version, extensions=extensions or None)
        self.pkg = server_package(version, role, extensions)
        self.settings = self.pkg.ServerSettings(
            base_url="http://testserver/ocpi",
            country_code="DE",
            party_id="SRV",
            token_base64=self.spec.token_base64,
            **settings,
        )
        self.store = self.pkg.SqliteStore(":memory:")
        sync(self.store).save_party(self.pkg.Party("peer", token_b="their-token", token_c="our-token", version=version))
        self.client = TestClient(
            self.pkg.create_app(self.settings, store=self.store, handlers=handlers), raise_server_exceptions=False
        )
        self.auth = self.token("our-token")

    def token(self, token: str) -> dict[str, str]:
        value = base64.b64encode(token.encode()).decode() if self.spec.token_base64 else token
        return {"Authorization": f"Token {value}"}

    def url(self, path: str) -> str:
        return f"/ocpi/{self.version}{path}"

    def sample(self, type_name: str, **values: Any) -> dict[str, Any]:
        t = self.spec.type(type_name)
        assert isinstance(t, ObjectType)
        data = obj(self.spec, t)
        data.update(values)
        return data

    def mount(self, module: str, role: str) -> str:
        """URL prefix of a module interface (``/locations`` or ``/locations/receiver`` on a hub)."""
        both = sum(1 for i in self.spec.interfaces if i.module_id == module) > 1 and self.role == "hub"
        return f"/{module}/{role.lower()}" if both else f"/{module}"

    def request(self, method: str, path: str, body: Any = None, **headers: str) -> Any:
        content = None if body is None else dumps(body)
        return self.client.request(method, self.url(path), content=content, headers={**self.auth, **headers})


def receiver(version: str) -> str:
    return "RECEIVER" if load_spec(SPEC_ROOT, version).routing_headers else "EMSP"


# -- row 1: DELETE on the Tariffs receiver removes the tariff --------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_row1_tariff_delete_removes_the_tariff(version: str) -> None:
    s = Server(version, "emsp")
    path = "/tariffs/NL/CPO/T1"
    assert s.request("PUT", path, s.sample("Tariff", country_code="NL", party_id="CPO", id="T1")).status_code == 201
    gone = s.request("DELETE", path)
    assert gone.status_code == 200 and gone.json()["status_code"] == 1000
    after = s.request("GET", path)
    assert after.status_code == 404 and after.json()["status_code"] == 2000
    assert sync(s.store).get_object("Tariff", "NL", "CPO", "T1") is None


# -- row 2: a Session PATCH adds charging periods (2.2 on) ----------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_row2_session_patch_appends_charging_periods(version: str) -> None:
    s = Server(version, "emsp")
    path = "/sessions/NL/CPO/S1"
    session = s.sample("Session", country_code="NL", party_id="CPO", id="S1", last_updated="2024-01-01T00:00:00Z")
    first = session["charging_periods"][0]
    assert s.request("PUT", path, session).status_code == 201
    second = {**first, "start_date_time": "2024-01-01T01:00:00Z"}
    patch = {"charging_periods": [second], "last_updated": "2024-01-01T02:00:00Z"}
    assert s.request("PATCH", path, patch).status_code == 200
    periods = s.request("GET", path).json()["data"]["charging_periods"]
    starts = [p["start_date_time"] for p in periods]
    if version == "2.1.1":  # no add rule in 2.1.1: a PATCH field replaces
        assert starts == ["2024-01-01T01:00:00Z"]
    else:
        assert starts == [first["start_date_time"], "2024-01-01T01:00:00Z"]


# -- row 3: the 2.3.0 hub's credentials are valid 2.3.0 -------------------------------------------


def test_row3_hub_credentials_are_valid_in_2_3_0() -> None:
    s = Server("2.3.0", "hub")
    data = s.request("GET", "/credentials").json()["data"]
    role_enum = s.spec.type("Role")
    assert data["hub_party_id"] == "DESRV"
    assert [r["role"] for r in data["roles"]] == ["OTHER"]
    assert all(r["role"] in {v.value for v in role_enum.values} for r in data["roles"])  # type: ignore[union-attr]
    s.pkg.client.models.Credentials.model_validate(data)  # our own 2.3.0 client accepts it


@pytest.mark.parametrize("version", ["2.2", "2.2.1"])
def test_row3_hub_keeps_its_role_where_the_enum_has_it(version: str) -> None:
    data = Server(version, "hub").request("GET", "/credentials").json()["data"]
    assert [r["role"] for r in data["roles"]] == ["HUB"] and "hub_party_id" not in data


# -- row 4: defaults never invent data ------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_row4_bare_cdr_get_answers_no_invented_cdr(version: str) -> None:
    s = Server(version, "emsp")
    r = s.request("GET", "/cdrs")
    assert r.status_code == 404 and r.json()["data"] is None and "Location" in r.json()["status_message"]


def test_row4_booking_post_is_the_operators_decision() -> None:
    s = Server("2.3.0", "cpo", extensions=("bookings",))
    body = s.sample("BookingRequest")
    r = s.request("POST", "/bookings", body)
    assert r.status_code == 501 and r.json()["status_code"] == 3000 and r.json()["data"] is None
    assert "BookingsSenderHandlers.post" in r.json()["status_message"]


@pytest.mark.parametrize("version", VERSIONS)
def test_row4_authorize_answers_from_the_stored_token(version: str) -> None:
    s = Server(version, "emsp")
    unknown = s.request("POST", "/tokens/NOPE/authorize")
    assert unknown.status_code == 404 and unknown.json()["data"] is None
    assert unknown.json()["status_code"] == (2004 if s.spec.routing_headers else 2000)
    for uid, valid, allowed in (("T-OK", True, "ALLOWED"), ("T-BAD", False, "BLOCKED")):
        token = s.sample("Token", uid=uid, valid=valid, country_code="DE", party_id="SRV")
        if "type" in token:
            token["type"] = "RFID"
        sync(s.store).put_object("Token", "DE", "SRV", uid, token, "2024-01-01T00:00:00Z")
        info = s.request("POST", f"/tokens/{uid}/authorize").json()["data"]
        assert info["allowed"] == allowed
        if s.spec.routing_headers:
            assert info["token"]["uid"] == uid
    if s.spec.routing_headers:  # another token type is another token
        assert s.request("POST", "/tokens/T-OK/authorize?type=APP_USER").status_code == 404


def test_row4_generated_handlers_construct_no_answers() -> None:
    """No handler builds a model from literal values (the old defaults answered ``"OK"``)."""
    import ast

    for path in sorted((ROOT / "generated").glob("*/server/*/ocpi_server_*/handlers.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id[:1].isupper():
                assert node.func.id in ("ObjectPath",) or not node.keywords, f"{path}: {ast.unparse(node)}"
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert node.value not in ("OK", "ACCEPTED", "ALLOWED"), f"{path}: literal {node.value!r}"


# -- row 5: 2.3.0 payment terminals with optional owner fields -----------------------------------


def test_row5_terminal_post_without_owner_is_stored_and_read_back() -> None:
    s = Server("2.3.0", "cpo", extensions=("payments",))
    terminal = s.sample("Terminal", terminal_id="TERM1")
    del terminal["country_code"], terminal["party_id"]
    assert s.request("POST", "/payments/terminals", terminal).status_code == 200
    got = s.request("GET", "/payments/terminals/TERM1")
    assert got.status_code == 200 and got.json()["data"]["terminal_id"] == "TERM1"
    other = s.sample("Terminal", terminal_id="TERM2", country_code="FR", party_id="XYZ")
    assert s.request("POST", "/payments/terminals", other).status_code == 200
    assert s.request("GET", "/payments/terminals/TERM2").json()["data"]["party_id"] == "XYZ"


# -- row 6: not-found status per module -----------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_row6_unknown_objects_get_their_modules_status(version: str) -> None:
    emsp, cpo = Server(version, "emsp"), Server(version, "cpo")
    expect = {
        (emsp, "/locations/NL/CPO/NOPE"): 2003,
        (emsp, "/sessions/NL/CPO/NOPE"): 2000,
        (emsp, "/tariffs/NL/CPO/NOPE"): 2000,
        (cpo, "/tokens/NL/EMS/NOPE"): 2004 if cpo.spec.routing_headers else 2000,
        (cpo, "/locations/NOPE"): 2003,
    }
    for (server, path), code in expect.items():
        r = server.request("GET", path)
        assert (r.status_code, r.json()["status_code"]) == (404, code), path


# -- row 7: a PUT whose body id differs from the URL's is refused ---------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_row7_put_with_another_id_is_refused(version: str) -> None:
    s = Server(version, "emsp")
    r = s.request("PUT", "/locations/NL/CPO/LOC8", s.sample("Location", country_code="NL", party_id="CPO", id="LOC9"))
    assert r.status_code == 400 and r.json()["status_code"] == 2001 and "body.id" in r.json()["status_message"]
    assert sync(s.store).get_object("Location", "NL", "CPO", "LOC8") is None
    token = s.sample("Token", uid="OTHER", country_code="NL", party_id="EMS")
    cpo = Server(version, "cpo")
    assert cpo.request("PUT", "/tokens/NL/EMS/T1", token).status_code == 400


# -- row 8: asynchronous results carry the routing headers back ------------------------------------


def test_row8_command_result_is_routed_back_to_the_requester() -> None:
    version = "2.2.1"
    pkg = server_package(version, "cpo")
    models = pkg.handlers

    class Commands(pkg.handlers.CommandsReceiverHandlers):  # type: ignore[misc,name-defined]
        async def start_session(self, ctx: Any, body: Any) -> Any:
            return models.CommandResponse.model_validate({"result": "ACCEPTED", "timeout": 30})

        async def start_session_result(self, ctx: Any, body: Any) -> Any:
            return models.CommandResult.model_validate({"result": "ACCEPTED"})

    sent: list[dict[str, Any]] = []

    class FakeTransport:
        def __init__(self, settings: Any) -> None:
            self.settings = settings

        async def __aenter__(self) -> FakeTransport:
            return self

        async def __aexit__(self, *exc: object) -> None:
            return None

        async def request(self, method: str, url: str, **kwargs: Any) -> None:
            sent.append({"url": url, **kwargs})

    original = pkg._defaults.AsyncTransport
    pkg._defaults.AsyncTransport = FakeTransport
    try:
        # The peer's result URL passes the outbound policy (no DNS here, hence allow_private_peers).
        handlers = pkg.Handlers(commands_receiver=Commands())
        s = Server(version, "cpo", handlers=handlers, peer_hosts=("emsp.example.com",), allow_private_peers=True)
        body = s.sample("StartSession", response_url="https://emsp.example.com/cmd/1")
        routing = {
            "OCPI-from-country-code": "NL",
            "OCPI-from-party-id": "EMS",
            "OCPI-to-country-code": "DE",
            "OCPI-to-party-id": "SRV",
        }
        r = s.request("POST", "/commands/START_SESSION", body, **routing)
        assert r.status_code == 200 and r.json()["data"]["result"] == "ACCEPTED"
    finally:
        pkg._defaults.AsyncTransport = original
    (call,) = sent
    assert call["url"] == "https://emsp.example.com/cmd/1"
    assert call["routing"].headers() == {
        "OCPI-from-country-code": "DE",
        "OCPI-from-party-id": "SRV",
        "OCPI-to-country-code": "NL",
        "OCPI-to-party-id": "EMS",
    }


# -- row 9: credentials need at least one role (2.2 on) -------------------------------------------


@pytest.mark.parametrize("version", [v for v in VERSIONS if v != "2.1.1"])
def test_row9_registration_without_roles_is_refused(version: str) -> None:
    s = Server(version, "cpo")
    token_a = blocking(s.pkg.issue_token_a(s.settings, "newcomer", s.store))
    body = {"token": "b-token", "url": "http://127.0.0.1:9/versions", "roles": []}
    r = s.client.post(s.url("/credentials"), content=json.dumps(body), headers=s.token(token_a))
    assert r.status_code == 400 and r.json()["status_code"] == 2001 and "roles" in r.json()["status_message"]
    assert not sync(s.store).party("newcomer").registered  # type: ignore[union-attr]


# -- row 10: a POSTed CDR is created: 201 and Location, in the server and in the documents --------


@pytest.mark.parametrize("version", VERSIONS)
def test_row10_cdr_post_answers_201_with_location(version: str) -> None:
    s = Server(version, "emsp")
    cdr = s.sample("CDR", id="CDR1")
    if "country_code" in cdr:
        cdr.update(country_code="NL", party_id="CPO")
    r = s.request("POST", "/cdrs", cdr)
    assert r.status_code == 201 and r.json()["status_code"] == 1000
    location = r.headers["Location"]
    got = s.client.get(location, headers=s.auth)
    assert got.status_code == 200 and got.json()["data"]["id"] == "CDR1"
    doc = yaml.safe_load((ROOT / "generated" / version / "openapi" / "roles" / "emsp.yaml").read_text())
    post = doc["paths"]["/cdrs"]["post"]["responses"]
    assert "200" not in post and post["201"]["headers"]["Location"]["required"] is True


# -- row 11: PUT /credentials with an unregistered token A is 405, body or not ---------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_row11_put_credentials_unregistered_is_405_even_without_body(version: str) -> None:
    s = Server(version, "cpo")
    token_a = blocking(s.pkg.issue_token_a(s.settings, "newcomer", s.store))
    r = s.client.put(s.url("/credentials"), headers=s.token(token_a))
    assert r.status_code == 405 and r.json()["status_code"] == 2000
    again = s.client.post(s.url("/credentials"), headers=s.auth)  # registered party, no body: 405 too
    assert again.status_code == 405


# -- row 12: the newest data wins; a Location's last_updated covers its EVSEs ------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_row12_older_updates_do_not_overwrite_newer_data(version: str) -> None:
    s = Server(version, "emsp")
    path = "/locations/NL/CPO/L1"
    loc = s.sample("Location", country_code="NL", party_id="CPO", id="L1", last_updated="2024-05-01T00:00:00Z")
    loc["evses"][0]["last_updated"] = "2024-05-01T00:00:00Z"
    uid = loc["evses"][0]["uid"]
    assert s.request("PUT", path, loc).status_code == 201
    older = {**loc, "name": "OLD NAME", "last_updated": "2024-04-01T00:00:00Z"}
    s.request("PUT", path, older)
    assert s.request("GET", path).json()["data"].get("name") != "OLD NAME"
    s.request("PATCH", path, {"name": "OLD PATCH", "last_updated": "2024-04-02T00:00:00Z"})
    assert s.request("GET", path).json()["data"].get("name") != "OLD PATCH"
    evse = {**loc["evses"][0], "status": "CHARGING", "last_updated": "2024-06-01T00:00:00Z"}
    assert s.request("PUT", f"{path}/{uid}", evse).status_code == 200
    stored = s.request("GET", path).json()["data"]
    assert stored["last_updated"].startswith("2024-06-01T00:00:00") and stored["evses"][0]["status"] == "CHARGING"
    s.request("PATCH", f"{path}/{uid}", {"status": "AVAILABLE", "last_updated": "2024-05-15T00:00:00Z"})
    assert s.request("GET", f"{path}/{uid}").json()["data"]["status"] == "CHARGING"


# -- row 13: key fields are immutable ------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_row13_patch_cannot_change_key_fields(version: str) -> None:
    s = Server(version, "emsp")
    path = "/locations/NL/CPO/L1"
    loc = s.sample("Location", country_code="NL", party_id="CPO", id="L1")
    assert s.request("PUT", path, loc).status_code == 201
    for change in ({"id": "HIJACK"}, {"country_code": "XX"}, {"party_id": "YYY"}):
        r = s.request("PATCH", path, {**change, "last_updated": "2030-01-01T00:00:00Z"})
        assert r.status_code == 400 and r.json()["status_code"] == 2001, change
    stored = sync(s.store).get_object("Location", "NL", "CPO", "L1")
    assert (stored["country_code"], stored["party_id"], stored["id"]) == ("NL", "CPO", "L1")
    uid = loc["evses"][0]["uid"]
    r = s.request("PATCH", f"{path}/{uid}", {"uid": "OTHER", "last_updated": "2030-01-01T00:00:00Z"})
    assert r.status_code == 400


# -- rows 14 and 15: ids and routing headers are CiStrings -----------------------------------------


@pytest.mark.parametrize("bad", ["a%00b", "%C3%A9", "%FF", "x" * 37, "tab%09"])
def test_row14_ids_are_printable_ascii_within_their_length(bad: str) -> None:
    s = Server("2.2.1", "emsp")
    r = s.request("GET", f"/locations/NL/CPO/{bad}")
    assert r.status_code == 400 and r.json()["status_code"] == 2001


def test_row14_an_id_with_a_space_is_printable_ascii() -> None:
    s = Server("2.2.1", "emsp")
    assert s.request("GET", "/locations/NL/CPO/a%20b").status_code == 404


@pytest.mark.parametrize("header", ["OCPI-to-party-id", "OCPI-from-country-code"])
def test_row15_overlong_routing_headers_are_refused(header: str) -> None:
    s = Server("2.2.1", "emsp")
    r = s.request("GET", "/locations/NL/CPO/L1", **{header: "TOOLONG"})
    assert r.status_code == 400 and r.json()["status_code"] == 2001 and header.lower() in r.json()["status_message"]
    ok = s.request("GET", "/locations/NL/CPO/L1", **{header: "NL"})
    assert ok.status_code == 404


def test_row15_invalid_routing_headers_are_not_echoed() -> None:
    s = Server("2.2.1", "emsp")
    r = s.request("GET", "/locations/NL/CPO/L1", **{"OCPI-from-party-id": "TOOLONG", "OCPI-to-party-id": "XXXX"})
    assert r.status_code == 400
    assert "TOOLONG" not in r.headers.get("OCPI-to-party-id", "")
    assert r.headers.get("OCPI-from-party-id") == "SRV"  # our own id, not the invalid value


# -- row 16: 405 lists every method served at the URL ----------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_row16_allow_lists_every_method(version: str) -> None:
    s = Server(version, "emsp")
    r = s.request("POST", "/locations/NL/CPO/L1/E1")
    assert r.status_code == 405 and r.json()["status_code"] == 2000
    allowed = {m.strip() for m in r.headers["Allow"].split(",")}
    assert {"GET", "PUT", "PATCH"} <= allowed and "POST" not in allowed


# -- row 17: documents and server agree on page parameters and ids ----------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_row17_documents_declare_what_the_server_accepts(version: str) -> None:
    doc = yaml.safe_load((ROOT / "generated" / version / "openapi" / "roles" / "cpo.yaml").read_text())
    params = {p["name"]: p["schema"] for p in doc["paths"]["/locations"]["get"]["parameters"] if "name" in p}
    assert params["limit"]["minimum"] == 1 and params["offset"]["minimum"] == 0
    (location_id,) = [
        p for p in doc["paths"]["/locations/{location_id}"]["get"]["parameters"] if p.get("name") == "location_id"
    ]
    assert location_id["schema"]["minLength"] == 1 and location_id["schema"]["pattern"] == "^[ -~]+$"
    s = Server(version, "cpo")
    assert s.request("GET", "/locations?limit=0").status_code == 400
    assert s.request("GET", "/locations?offset=-1").status_code == 400
    assert s.request("GET", "/locations?offset=0&limit=1").status_code == 200
