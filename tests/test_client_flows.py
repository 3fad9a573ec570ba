"""Whole flows through the generated role clients against a fake peer (httpx.MockTransport):
discovery, the credentials handshake, pagination, errors."""

from __future__ import annotations

import functools
import json
from typing import Any

import httpx
import pytest

from generator.paths import SPEC_ROOT
from generator.pipeline import load_spec as _load_spec
from tests.client_support import client_package, envelope, expected_auth, json_response
from tests.samples import obj

load_spec = functools.cache(_load_spec)
PEER = "https://cpo.example.com/ocpi"


class FakeCpo:
    """A CPO peer: versions, details, credentials and a paginated locations list."""

    def __init__(self, version: str, *, locations: int = 5, page: int = 2, link_host: str | None = None) -> None:
        self.version = version
        self.spec = load_spec(SPEC_ROOT, version)
        self.requests: list[httpx.Request] = []
        self.tokens = {"token-a": "A"}
        self.locations = [obj(self.spec, self.spec.type("Location")) for _ in range(locations)]  # type: ignore[arg-type]
        for n, loc in enumerate(self.locations):
            loc["id"] = f"LOC{n}"
        self.page = page
        self.link_host = link_host
        self.registered: dict[str, Any] | None = None

    def endpoints(self) -> list[dict[str, Any]]:
        base = f"{PEER}/{self.version}"
        if self.spec.routing_headers:
            return [
                {"identifier": "credentials", "role": "RECEIVER", "url": f"{base}/credentials"},
                {"identifier": "locations", "role": "SENDER", "url": f"{base}/locations"},
            ]
        return [
            {"identifier": "credentials", "url": f"{base}/credentials"},
            {"identifier": "locations", "url": f"{base}/locations"},
        ]

    def token_of(self, request: httpx.Request) -> str | None:
        import base64

        value = request.headers.get("authorization", "")[len("Token ") :]
        if self.spec.token_base64:
            value = base64.b64decode(value).decode()
        return self.tokens.get(value) and value

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        token = self.token_of(request)
        if token is None:
            return json_response(envelope(status_code=2000), 401)
        path = request.url.path
        if path == "/ocpi/versions":
            return json_response(
                envelope(
                    [
                        {"version": "2.1.1", "url": f"{PEER}/2.1.1"},
                        {"version": self.version, "url": f"{PEER}/{self.version}"},
                        {"version": "9.9", "url": f"{PEER}/9.9"},
                    ]
                )
            )
        if path == f"/ocpi/{self.version}":
            return json_response(envelope({"version": self.version, "endpoints": self.endpoints()}))
        if path.endswith("/credentials"):
            if request.method in ("POST", "PUT"):
                self.registered = json.loads(request.content)
                new = "token-c2" if request.method == "PUT" else "token-c"
                self.tokens = {new: "C"}
                creds = obj(self.spec, self.spec.type("Credentials"))  # type: ignore[arg-type]
                creds["token"] = new
                return json_response(envelope(creds))
            if request.method == "GET":
                creds = obj(self.spec, self.spec.type("Credentials"))  # type: ignore[arg-type]
                return json_response(envelope(creds | {"token": token}))
            if request.method == "DELETE":
                self.tokens = {}
                return json_response(envelope())
        if path.endswith("/locations"):
            offset = int(request.url.params.get("offset", "0"))
            limit = int(request.url.params.get("limit", str(self.page)))
            items = self.locations[offset : offset + limit]
            headers = {"X-Total-Count": str(len(self.locations)), "X-Limit": str(self.page)}
            if offset + limit < len(self.locations):
                host = self.link_host or "cpo.example.com"
                params = dict(request.url.params) | {"offset": str(offset + limit)}
                query = "&".join(f"{k}={v}" for k, v in params.items())
                headers["Link"] = f'<https://{host}{path}?{query}>; rel="next"'
            return json_response(envelope(items), headers=headers)
        return json_response(envelope(status_code=2000), 404)


def http(fake: FakeCpo) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(fake))


@pytest.mark.parametrize("version", ["2.1.1", "2.2.1", "2.3.0"])
def test_register_pull_update_unregister(version: str) -> None:
    pkg = client_package(load_spec(SPEC_ROOT, version))
    spec = load_spec(SPEC_ROOT, version)
    fake = FakeCpo(version)
    own = pkg.models.Credentials.model_validate(obj(spec, spec.type("Credentials")) | {"token": "token-b"})  # type: ignore[arg-type]
    cpo = pkg.CpoClient.register(f"{PEER}/versions", "token-a", own, http=http(fake))
    # Token A for versions, details and the POST; the peer got our token B; we now hold token C.
    assert [r.url.path for r in fake.requests] == ["/ocpi/versions", f"/ocpi/{version}", f"/ocpi/{version}/credentials"]
    assert all(r.headers["authorization"] == expected_auth("token-a", raw=not spec.token_base64) for r in fake.requests)
    assert fake.registered is not None and fake.registered["token"] == "token-b"
    assert cpo.discovery.version == version and cpo.peer_credentials.token == "token-c"
    locations = cpo.locations.list(limit=2)
    ids = [loc.id for loc in locations]
    assert ids == ["LOC0", "LOC1", "LOC2", "LOC3", "LOC4"]
    assert locations.total_count == 5 and locations.limit == 2
    pulls = [r for r in fake.requests if r.url.path.endswith("/locations")]
    assert len(pulls) == 3 and all(
        r.headers["authorization"] == expected_auth("token-c", raw=not spec.token_base64) for r in pulls
    )
    assert all(r.url.params["limit"] == "2" for r in pulls)
    new = cpo.update_credentials(own.model_copy(update={"token": "token-b2"}))
    assert new.token == "token-c2" and fake.registered["token"] == "token-b2"
    assert cpo.credentials.get().token  # uses token C2 now
    cpo.unregister()
    assert fake.requests[-1].method == "DELETE"


def test_pagination_refuses_a_link_to_another_host() -> None:
    pkg = client_package(load_spec(SPEC_ROOT, "2.2.1"))
    fake = FakeCpo("2.2.1", link_host="evil.example.net")
    fake.tokens = {"token-c": "C"}
    cpo = pkg.CpoClient.connect(f"{PEER}/versions", "token-c", http=http(fake), strict=True)
    pages = cpo.locations.list()
    got = [next(pages).id]  # the page's objects come out before the error about its link
    with pytest.raises(pkg.UnsafeLinkError, match="evil.example.net"):
        got.extend(loc.id for loc in pages)
    assert got == ["LOC0", "LOC1"]
    assert len([r for r in fake.requests if r.url.path.endswith("/locations")]) == 1
    # Lenient (the default): the unsafe link is not followed; paging goes on by offset on the published URL.
    lenient = pkg.CpoClient.connect(f"{PEER}/versions", "token-c", http=http(fake))
    assert [loc.id for loc in lenient.locations.list()] == [f"LOC{i}" for i in range(5)]
    assert "link_repaired" in {d.kind for d in lenient.deviations} and lenient.profile.link_repair
    assert not any(r.url.host == "evil.example.net" for r in fake.requests)


def test_lenient_pagination_keeps_valid_objects_and_reports_the_rest() -> None:
    pkg = client_package(load_spec(SPEC_ROOT, "2.2.1"))
    fake = FakeCpo("2.2.1")
    fake.tokens = {"token-c": "C"}
    del fake.locations[1]["coordinates"]
    cpo = pkg.CpoClient.connect(f"{PEER}/versions", "token-c", http=http(fake))
    pages = cpo.locations.list()
    assert [loc.id for loc in pages] == ["LOC0", "LOC2", "LOC3", "LOC4"]
    assert [d.index for d in pages.deviations] == [1]
    strict = pkg.CpoClient.connect(f"{PEER}/versions", "token-c", http=http(fake), lenient=False)
    with pytest.raises(Exception, match="coordinates"):
        list(strict.locations.list())


def test_module_not_offered_and_version_negotiation() -> None:
    pkg = client_package(load_spec(SPEC_ROOT, "2.2.1"))
    fake = FakeCpo("2.2.1")
    fake.tokens = {"token-c": "C"}
    cpo = pkg.CpoClient.connect(f"{PEER}/versions", "token-c", http=http(fake))
    with pytest.raises(pkg.ModuleNotOfferedError, match="tariffs"):
        cpo.tariffs
    old = FakeCpo("2.2.1")
    old.version = "2.0"  # the peer lists versions we do not speak as 2.2.1 client ... and lacks 2.2.1
    old.tokens = {"token-c": "C"}

    def only_old(request: httpx.Request) -> httpx.Response:
        return json_response(envelope([{"version": "2.1.1", "url": f"{PEER}/2.1.1"}]))

    with pytest.raises(pkg.VersionNegotiationError):
        pkg.CpoClient.connect(f"{PEER}/versions", "token-c", http=httpx.Client(transport=httpx.MockTransport(only_old)))


@pytest.mark.parametrize(
    "status,body,error",
    [
        (401, envelope(status_code=2000), "AuthenticationError"),
        (404, envelope(status_code=2004), "NotFoundError"),
        (500, envelope(status_code=3000), "ServerError"),
        (200, envelope(status_code=2001), "OcpiClientError"),
        (200, envelope(status_code=3001), "OcpiServerError"),
        (200, envelope(status_code=4001), "OcpiHubError"),
    ],
)
def test_error_mapping_carries_codes_and_request_id(status: int, body: dict[str, Any], error: str) -> None:
    pkg = client_package(load_spec(SPEC_ROOT, "2.2.1"))
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return json_response(body, status)

    transport = pkg._transport.SyncTransport(
        pkg.OcpiClient.settings("t", max_retries=0), http=httpx.Client(transport=httpx.MockTransport(handler))
    )
    api = pkg.interfaces.TariffsReceiver(transport, "https://peer.example.com/tariffs")
    with pytest.raises(getattr(pkg, error)) as info:
        api.get("NL", "ABC", "T1")
    assert info.value.request_id == seen[-1].headers["x-request-id"]
    assert getattr(info.value, "http_status", status) == status
    assert str(info.value)


def test_non_json_body_is_a_typed_error() -> None:
    pkg = client_package(load_spec(SPEC_ROOT, "2.2.1"))
    transport = pkg._transport.SyncTransport(
        pkg.OcpiClient.settings("t"),
        http=httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, text="<html>oops</html>"))),
    )
    with pytest.raises(pkg.InvalidResponseError):
        pkg.interfaces.TariffsReceiver(transport, "https://peer.example.com/tariffs").get("NL", "ABC", "T1")
