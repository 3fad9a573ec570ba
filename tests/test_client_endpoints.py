"""Every endpoint of every generated client sends the right method, path, query, headers and body,
and parses the response into the right type (httpx.MockTransport, no sockets)."""

from __future__ import annotations

import functools
import uuid
from typing import Any

import httpx
import pytest

from generator.client import PyMethod, view
from generator.ir import Endpoint, ObjectType, Spec
from generator.paths import SPEC_ROOT, available_versions
from generator.pipeline import load_spec as _load_spec
from tests.client_support import BASE, client_package, envelope, expected_auth, json_response, transport
from tests.samples import loads, value

VERSIONS = available_versions(SPEC_ROOT)
load_spec = functools.cache(_load_spec)


def _cases() -> list[tuple[str, str, str]]:
    out = []
    for v in VERSIONS:
        spec = load_spec(SPEC_ROOT, v)
        interfaces, _ = view(spec)
        for iface in interfaces:
            for m in iface.methods:
                out.append((v, iface.class_name, m.name))
    return out


CASES = _cases()


def _endpoint(spec: Spec, module_id: str, role: str, name: str) -> Endpoint:
    (iface,) = [i for i in spec.interfaces if i.module_id == module_id and i.role == role]
    (ep,) = [e for e in iface.endpoints if e.operation == name]
    return ep


def _query_value(spec: Spec, p: Any) -> tuple[Any, str]:
    """(argument, expected wire text) for a query parameter."""
    if p.type.name == "DateTime":
        from datetime import UTC, datetime

        return datetime(2024, 3, 4, 5, 6, 7, tzinfo=UTC), "2024-03-04T05:06:07Z"
    if p.type.name == "int":
        return 25, "25"
    if p.type.name == "URL":
        return "https://me.example.com/cb", "https://me.example.com/cb"
    raw = value(spec, p.type, p.name)
    return raw, str(raw)


@pytest.mark.parametrize("version,class_name,method_name", CASES, ids=[f"{v}-{c}.{m}" for v, c, m in CASES])
def test_endpoint_request_and_response(version: str, class_name: str, method_name: str) -> None:
    spec = load_spec(SPEC_ROOT, version)
    pkg = client_package(spec)
    cls = getattr(pkg.interfaces, class_name)
    ep = _endpoint(spec, cls.module_id, cls.role, method_name)
    seen: list[httpx.Request] = []
    response_data: Any = None
    if ep.response is not None:
        one = value(spec, ep.response.type, "resp")
        response_data = [one] if ep.response.is_list else one

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return json_response(envelope(response_data))

    routing = pkg.Routing(from_country_code="NL", from_party_id="AAA", to_country_code="DE", to_party_id="BBB")
    api = cls(transport(pkg, handler, routing=routing), f"{BASE}/{ep.module_id}")
    args: list[Any] = []
    path = ep.path
    for p in ep.path_params:
        v = f"{p.name.upper()[:3]}1"
        args.append(v)
        path = path.replace("{" + p.name + "}", v)
    body_json: Any = None
    if ep.body is not None:
        model_name = ep.body.type.name
        target = spec.type(model_name) if not ep.body.type.primitive else None
        if ep.is_patch and isinstance(target, ObjectType):
            patch_cls = getattr(pkg.models, f"{model_name}Patch")
            body_json = {"last_updated": "2024-03-04T05:06:07Z"} if target.field_named("last_updated") else {}
            first = next(f for f in target.fields if f.name != "last_updated")
            body_json[first.name] = value(spec, first.type, first.name)
            if first.is_list:
                body_json[first.name] = [body_json[first.name]]
            args.append(patch_cls.model_validate(body_json))
        else:
            raw = value(spec, ep.body.type, "body")
            model = getattr(pkg.models, model_name)
            body_json = [raw] if ep.body.is_list else raw
            args.append([model.model_validate(raw)] if ep.body.is_list else model.model_validate(raw))
    kwargs: dict[str, Any] = {}
    expected_query: dict[str, str] = {}
    for p in ep.query_params:
        if ep.paginated and p.name in ("offset", "date_to"):
            continue  # exercise "unset parameters are not sent"
        arg, wire = _query_value(spec, p)
        kwargs[p.name] = arg
        expected_query[p.name] = wire

    result = getattr(api, method_name)(*args, **kwargs)
    if ep.paginated:
        result = list(result)
    assert len(seen) == 1
    request = seen[0]
    assert request.method == ep.method
    assert request.url.path == f"/ocpi/2x/{ep.module_id}{path}"
    assert dict(request.url.params) == expected_query
    assert request.headers["authorization"] == expected_auth(raw=not spec.token_base64)
    if spec.routing_headers:
        uuid.UUID(request.headers["x-request-id"])
        if ep.routed:
            assert request.headers["ocpi-to-party-id"] == "BBB" and request.headers["ocpi-from-country-code"] == "NL"
        else:
            assert "ocpi-to-party-id" not in request.headers
    else:
        assert "x-request-id" not in request.headers and "ocpi-to-party-id" not in request.headers
    if body_json is None:
        assert request.content == b""
    else:
        assert request.headers["content-type"] == "application/json"
        assert loads(request.content) == loads_json(body_json)
    if ep.response is None:
        assert result.status_code == 1000
    elif ep.paginated or ep.response.is_list:
        assert len(result) == 1
    else:
        assert result is not None


def loads_json(data: Any) -> Any:
    from tests.samples import dumps

    return loads(dumps(data))


def test_every_endpoint_has_a_client_method() -> None:
    for v in VERSIONS:
        spec = load_spec(SPEC_ROOT, v)
        interfaces, _ = view(spec)
        methods = {(i.module_id, i.role, m.name) for i in interfaces for m in i.methods}
        expected = {
            (i.module_id, i.role, e.operation)
            for i in spec.interfaces
            if i.module_id != "versions"
            for e in i.endpoints
        }
        assert methods == expected, v
        assert all(isinstance(m, PyMethod) for i in interfaces for m in i.methods)
