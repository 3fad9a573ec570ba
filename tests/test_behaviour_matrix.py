"""Behaviour matrix: every version x server role x module interface, driven by the IR's server
declarations, against the generated scaffold in-process.

Per declared kind: PUT then GET gives back what was put; PATCH merges by the declared rule (lists
in ``append`` grow, other fields are replaced); DELETE removes and a later GET is 404 with the
module's declared status; lists page (``limit``, ``X-Total-Count``, ``Link``) and filter by date;
an unknown object, an owner mismatch and an id mismatch each get their HTTP code and OCPI status;
the operator's decisions answer 501 naming the handler to override.
"""

from __future__ import annotations

import base64
import copy
import functools
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from generator.ir import Endpoint, ObjectType, Spec
from generator.paths import SPEC_ROOT, available_versions
from generator.pipeline import load_spec as _load_spec
from generator.server import ServerInterface, roles_with_servers, server_view
from tests.blocking import sync
from tests.samples import dumps, loads, obj, primitive
from tests.server_support import server_package

load_spec = functools.cache(_load_spec)
OWNER = ("NL", "CPO")
OWN = ("DE", "SRV")
LATER = "2030-01-02T03:04:05Z"


def _cases() -> list[tuple[str, str, str]]:
    out = []
    for version in available_versions(SPEC_ROOT):
        spec = load_spec(SPEC_ROOT, version)
        for role in roles_with_servers(spec):
            for iface in server_view(spec, role):
                out.append((version, role.slug, iface.attr))
    return out


@functools.cache
def _app(version: str, role: str) -> tuple[Any, Any, Any]:
    """One app per version and role (building a hub's app takes most of a second), its store and
    package; each interface's case starts from an empty object table."""
    spec = load_spec(SPEC_ROOT, version)
    pkg = server_package(version, role)
    settings = pkg.ServerSettings(
        base_url="http://testserver/ocpi", country_code=OWN[0], party_id=OWN[1], token_base64=spec.token_base64
    )
    store = pkg.SqliteStore(":memory:")
    sync(store).save_party(pkg.Party("peer", token_b="their-token", token_c="our-token", version=version))
    return pkg, store, TestClient(pkg.create_app(settings, store=store), raise_server_exceptions=False)


class Harness:
    def __init__(self, version: str, role_slug: str, attr: str) -> None:
        self.spec: Spec = load_spec(SPEC_ROOT, version)
        self.version = version
        role = next(r for r in self.spec.roles if r.slug == role_slug)
        self.view: ServerInterface = next(i for i in server_view(self.spec, role) if i.attr == attr)
        self.iface = next(i for i in role.interfaces if i.module_id == self.view.module_id and i.role == self.view.role)
        self.pkg, self.store, self.client = _app(version, role_slug)
        self.store._conn.execute("DELETE FROM ocpi_objects")  # a fresh start for this interface
        self.store._counts.clear()
        token = base64.b64encode(b"our-token").decode() if self.spec.token_base64 else "our-token"
        self.headers = {"Authorization": f"Token {token}"}

    # -- helpers ---------------------------------------------------------------------------------

    def sample(self, type_name: str) -> dict[str, Any]:
        t = self.spec.type(type_name)
        assert isinstance(t, ObjectType)
        return obj(self.spec, t)

    def url(self, ep: Endpoint, values: dict[str, str]) -> str:
        path = ep.path
        for p in ep.path_params:
            path = path.replace("{" + p.name + "}", values[p.name])
        return f"/ocpi/{self.version}{self.view.mount}{path}"

    def call(self, method: str, url: str, body: Any = None) -> Any:
        response = self.client.request(method, url, content=None if body is None else dumps(body), headers=self.headers)
        return response, loads(response.content)

    def root(self, ep: Endpoint) -> tuple[dict[str, Any], dict[str, str]]:
        """A sample root object for ``ep``'s declaration and the path values that address it (and
        its first nested items)."""
        b = ep.server
        assert b is not None and b.object is not None
        data = self.sample(b.object)
        owner = OWNER if b.owner == "url" else OWN
        if "country_code" in data and b.owner in ("url", "body"):
            data["country_code"], data["party_id"] = owner
        values = {"country_code": owner[0], "party_id": owner[1]}
        if b.id is not None:
            values[b.id] = "OBJ1"
            key = b.key or next((k for k in ("id", "uid") if k in data), None)
            if key:
                data[key] = "OBJ1"
        node = data
        for step in b.nested:
            node = node[step.field][0]
            values[step.param] = str(node[step.key])
        return data, values

    def seed(self, ep: Endpoint) -> tuple[dict[str, Any], dict[str, str]]:
        b = ep.server
        assert b is not None and b.object is not None
        data, values = self.root(ep)
        owner = OWNER if b.owner == "url" else OWN
        sync(self.store).put_object(
            b.object,
            owner[0],
            owner[1],
            values.get(b.id or "", "-") if b.id else "-",
            data,
            data.get("last_updated", LATER),
        )
        return data, values

    def target(self, data: dict[str, Any], ep: Endpoint) -> dict[str, Any]:
        node = data
        assert ep.server is not None
        for step in ep.server.nested:
            node = node[step.field][0]
        return node


def _same_json(a: Any, b: Any) -> bool:
    return loads(dumps(a)) == loads(dumps(b))


@pytest.mark.parametrize(("version", "role", "attr"), _cases())
def test_interface_behaves_as_declared(version: str, role: str, attr: str) -> None:
    h = Harness(version, role, attr)
    checked = 0
    for ep in h.iface.endpoints:
        b = ep.server
        assert b is not None, ep.operation_id
        code = ep.not_found
        if b.kind == "get":
            data, values = h.seed(ep)
            r, body = h.call("GET", h.url(ep, values))
            assert r.status_code == 200 and _same_json(body["data"], h.target(data, ep)), ep.operation_id
            r, body = h.call(
                "GET", h.url(ep, {**values, (b.nested[-1].param if b.nested else b.id or "party_id"): "NOP"})
            )
            assert (r.status_code, body["status_code"]) == (404, code), ep.operation_id
        elif b.kind == "put":
            data, values = h.root(ep)
            if b.nested:
                h.seed(ep)
            payload = copy.deepcopy(h.target(data, ep))
            r, _ = h.call("PUT", h.url(ep, values), payload)
            assert r.status_code in (200, 201), (ep.operation_id, r.text)
            getter = next((g for g in h.iface.endpoints if g.method == "GET" and g.path == ep.path), None)
            if getter is not None:
                r, body = h.call("GET", h.url(getter, values))
                assert _same_json(body["data"], payload), ep.operation_id
            if b.key and not b.nested:
                r, body = h.call("PUT", h.url(ep, values), {**payload, b.key: "OTHER"})
                assert (r.status_code, body["status_code"]) == (400, 2001), f"{ep.operation_id}: id mismatch"
            if b.owner == "url" and "country_code" in payload:
                r, body = h.call("PUT", h.url(ep, values), {**payload, "country_code": "XX"})
                assert (r.status_code, body["status_code"]) == (400, 2001), f"{ep.operation_id}: owner mismatch"
            if b.owner == "url" and not b.nested:
                r, body = h.call("PUT", h.url(ep, {**values, "party_id": "ZZZ"}), payload)
                assert (
                    r.status_code == 400 or "party_id" not in payload
                ), f"{ep.operation_id}: URL owner differs from body"
        elif b.kind == "patch":
            data, values = h.seed(ep)
            target = h.target(data, ep)
            patch: dict[str, Any] = {"last_updated": LATER}
            for name in b.append:
                patch[name] = copy.deepcopy(target[name][:1])
            r, _ = h.call("PATCH", h.url(ep, values), patch)
            assert r.status_code == 200, (ep.operation_id, r.text)
            getter = (
                next(g for g in h.iface.endpoints if g.method == "GET" and g.path == ep.path)
                if any(g.method == "GET" and g.path == ep.path for g in h.iface.endpoints)
                else None
            )
            stored = sync(h.store).get_object(
                b.object, *(OWNER if b.owner == "url" else OWN), values.get(b.id or "", "-")
            )
            node = stored
            for step in b.nested:
                node = node[step.field][0]
            assert node["last_updated"].startswith("2030-01-02T03:04:05"), ep.operation_id
            for name in b.append:
                assert len(node[name]) == len(target[name]) + 1, f"{ep.operation_id}: {name} appended"
            if getter is not None:
                r, body = h.call("GET", h.url(getter, values))
                assert r.status_code == 200
            r, body = h.call("PATCH", h.url(ep, {**values, b.id or "party_id": "NOP"}), patch)
            assert (r.status_code, body["status_code"]) == (404, code), ep.operation_id
        elif b.kind == "delete":
            data, values = h.seed(ep)
            r, _ = h.call("DELETE", h.url(ep, values))
            assert r.status_code == 200, ep.operation_id
            r, body = h.call("DELETE", h.url(ep, values))
            assert (r.status_code, body["status_code"]) == (404, code), f"{ep.operation_id}: gone"
        elif b.kind == "list":
            stamps = ["2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z"]
            for n, stamp in enumerate(stamps):
                data = h.sample(b.object or "")
                sync(h.store).put_object(b.object, *OWNER, f"L{n}", data, stamp)
            r, body = h.call("GET", h.url(ep, {}) + "?limit=2")
            assert r.status_code == 200 and len(body["data"]) == 2 and r.headers["X-Total-Count"] == "3"
            assert "offset=2" in r.headers["Link"], ep.operation_id
            r, body = h.call("GET", h.url(ep, {}) + "?date_from=2024-01-02T00:00:00Z&date_to=2024-01-03T00:00:00Z")
            assert len(body["data"]) == 1 and r.headers["X-Total-Count"] == "1", ep.operation_id
        elif b.kind == "post":
            data = h.sample(b.object or "")
            data[b.key or "id"] = "POSTED1"
            if b.owner == "body":
                data["country_code"], data["party_id"] = OWNER
            r, _ = h.call("POST", h.url(ep, {}), data)
            assert r.status_code == b.status, (ep.operation_id, r.text)
            assert ("Location" in r.headers) == b.location
            owner = OWNER if b.owner == "body" else OWN
            assert sync(h.store).get_object(b.object, *owner, "POSTED1") is not None, ep.operation_id
        elif b.kind == "receive":
            data = h.sample(b.object or "")
            r, _ = h.call("POST", h.url(ep, {}), data)
            assert r.status_code == 200
            assert sync(h.store).list_objects(b.object, date_from=None, date_to=None, offset=0, limit=5)[1] == 1
        elif b.kind == "created":
            r, body = h.call("GET", h.url(ep, {}))
            assert (r.status_code, body["status_code"]) == (404, code) and body["data"] is None
        elif b.kind == "authorize":
            r, body = h.call("POST", h.url(ep, {"token_uid": "NOPE"}))
            assert (r.status_code, body["status_code"], body["data"]) == (404, code, None), ep.operation_id
        elif b.kind in ("command", "decision"):
            values = {p.name: "X" for p in ep.path_params}
            payload = h.sample(ep.body.type.name) if ep.body is not None and not ep.body.type.primitive else None
            query = "&".join(
                f"{q.name}={primitive(q.type, q.name)}"
                for q in ep.query_params
                if q.required or q.name == "response_url"
            )
            query = f"?{query}" if query else ""
            r, body = h.call(ep.method, h.url(ep, values) + query, payload)
            assert (r.status_code, body["status_code"]) == (501, 3000), (ep.operation_id, r.text)
            assert f".{ep.operation} " in body["status_message"]
        else:  # pragma: no cover - the schema allows no other kind
            raise AssertionError(b.kind)
        checked += 1
    assert checked == len(h.iface.endpoints)


def test_matrix_covers_every_interface_and_role() -> None:
    cases = _cases()
    for version in available_versions(SPEC_ROOT):
        spec = load_spec(SPEC_ROOT, version)
        for role in roles_with_servers(spec):
            served = {(i.module_id, i.role) for i in role.interfaces if i.module_id not in ("versions", "credentials")}
            assert len([c for c in cases if c[:2] == (version, role.slug)]) == len(served), (version, role.name)
    assert len({c[0] for c in cases}) == 4 and Decimal(len(cases)) > 50
