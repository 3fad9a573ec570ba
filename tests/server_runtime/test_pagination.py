"""Pagination: parameter parsing/capping/errors and the Link / X-Total-Count / X-Limit headers."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request

from ocpi_runtime.server._envelope import OcpiHTTPError
from ocpi_runtime.server._pagination import PageParams, _query, page_params, pagination_headers
from ocpi_runtime.server._settings import ServerSettings
from ocpi_runtime.server._store import Party, SqliteStore
from tests.blocking import sync
from tests.server_runtime.wiring import build_app

LIST = "/ocpi/cpo/2.2.1/locations"
LINK = re.compile(r'<(?P<url>[^>]+)>; rel="next"')


def make_request(query: str, path: str = LIST, host: str = "internal:8080", scheme: str = "http") -> Request:
    return Request(
        {
            "type": "http",
            "method": "GET",
            "scheme": scheme,
            "server": (host.split(":")[0], int(host.split(":")[1]) if ":" in host else 80),
            "path": path,
            "root_path": "",
            "query_string": query.encode(),
            "headers": [(b"host", host.encode())],
        }
    )


def link_of(headers: dict[str, str] | object) -> str | None:
    value = headers.get("Link") if isinstance(headers, dict) else headers.get("link")  # type: ignore[attr-defined]
    if value is None:
        return None
    match = LINK.fullmatch(value)
    assert match, value
    return match["url"]


# -- page_params -------------------------------------------------------------------------------------


def test_defaults(settings: ServerSettings) -> None:
    assert page_params(make_request(""), settings) == PageParams(offset=0, limit=5, date_from=None, date_to=None)


def test_values_and_dates_are_normalised(settings: ServerSettings) -> None:
    page = page_params(
        make_request("offset=3&limit=7&date_from=2024-01-01T01:00:00%2B01:00&date_to=2024-02-01T00:00:00"), settings
    )
    assert page == PageParams(
        offset=3, limit=7, date_from="2024-01-01T00:00:00.000000Z", date_to="2024-02-01T00:00:00.000000Z"
    )


def test_unencoded_plus_in_offset_is_understood(settings: ServerSettings) -> None:
    # '+' in a raw query string decodes to a space: "…T02:00:00 02:00" still means +02:00.
    page = page_params(make_request("date_from=2024-01-01T02:00:00+02:00"), settings)
    assert page.date_from == "2024-01-01T00:00:00.000000Z"


def test_large_limit_is_capped_not_refused(settings: ServerSettings) -> None:
    assert page_params(make_request("limit=2000"), settings).limit == 10
    assert page_params(make_request("limit=10"), settings).limit == 10


@pytest.mark.parametrize(
    "query,name",
    [
        ("offset=-1", "offset"),
        ("offset=abc", "offset"),
        ("offset=1.5", "offset"),
        ("limit=0", "limit"),
        ("limit=-5", "limit"),
        ("limit=ten", "limit"),
        ("date_from=yesterday", "date_from"),
        ("date_to=2024-13-01T00:00:00Z", "date_to"),
        ("date_from=2024-01-01", "date_from"),
    ],
)
def test_malformed_values_are_400_2001_naming_the_parameter(settings: ServerSettings, query: str, name: str) -> None:
    with pytest.raises(OcpiHTTPError) as caught:
        page_params(make_request(query), settings)
    assert (caught.value.http_status, caught.value.status_code) == (400, 2001)
    assert name in caught.value.status_message


# -- pagination_headers ------------------------------------------------------------------------------


def test_headers_with_next_link_keep_filters_and_change_offset(settings: ServerSettings) -> None:
    request = make_request("date_from=2016-01-01T00:00:00Z&offset=0&limit=5&date_to=2016-12-31T23:59:59Z")
    headers = pagination_headers(request, offset=0, limit=5, returned=5, total=12, settings=settings)
    assert headers["X-Total-Count"] == "12" and headers["X-Limit"] == "5"
    url = link_of(headers)
    assert url is not None
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("http", "testserver", LIST)  # from base_url
    assert parse_qsl(parts.query) == [
        ("date_from", "2016-01-01T00:00:00Z"),
        ("offset", "5"),
        ("limit", "5"),
        ("date_to", "2016-12-31T23:59:59Z"),
    ]


def test_no_link_on_the_last_page(settings: ServerSettings) -> None:
    request = make_request("offset=10&limit=5")
    headers = pagination_headers(request, offset=10, limit=5, returned=2, total=12, settings=settings)
    assert "Link" not in headers
    assert headers == {"X-Total-Count": "12", "X-Limit": "5"}
    empty = pagination_headers(make_request(""), offset=0, limit=5, returned=0, total=0, settings=settings)
    assert "Link" not in empty and empty["X-Total-Count"] == "0"


def test_link_origin_from_base_url_or_request() -> None:
    public = ServerSettings(base_url="https://ocpi.example.com:8443/ocpi", country_code="NL", party_id="EXA")
    under = pagination_headers(make_request(""), offset=0, limit=2, returned=2, total=3, settings=public)
    assert link_of(under) == f"https://ocpi.example.com:8443{LIST}?offset=2"
    elsewhere = pagination_headers(
        make_request("", path="/other/list"), offset=0, limit=2, returned=2, total=3, settings=public
    )
    assert link_of(elsewhere) == "http://internal:8080/other/list?offset=2"


def test_capped_limit_in_link_and_other_params_untouched(settings: ServerSettings) -> None:
    request = make_request("limit=2000&country_code=NL&tag=a&tag=b")
    headers = pagination_headers(request, offset=0, limit=10, returned=10, total=30, settings=settings)
    url = link_of(headers)
    assert url is not None
    assert parse_qsl(urlsplit(url).query) == [
        ("offset", "10"),
        ("limit", "10"),
        ("country_code", "NL"),
        ("tag", "a"),
        ("tag", "b"),
    ]


def test_link_keeps_other_parameters_exactly_as_written(settings: ServerSettings) -> None:
    raw = "date_from=2016-01-01T00%3A00%3A00Z&offset=0&q=a+b%26c&limit=5"
    headers = pagination_headers(make_request(raw), offset=0, limit=5, returned=5, total=12, settings=settings)
    url = link_of(headers)
    assert url is not None and urlsplit(url).query == "date_from=2016-01-01T00%3A00%3A00Z&offset=5&q=a+b%26c&limit=5"


# -- through the wired app ---------------------------------------------------------------------------


@pytest.fixture
def client(settings: ServerSettings, store: SqliteStore) -> TestClient:
    sync(store).save_party(Party(party_key="peer", token_c="tok"))
    for day in range(1, 13):
        sync(store).put_object(
            "locations", "NL", "EXA", f"L{day:02d}", {"id": f"L{day:02d}"}, f"2024-01-{day:02d}T00:00:00Z"
        )
    return TestClient(build_app(settings, store), headers={"Authorization": "Token tok"})


def ids_of(response: object) -> list[str]:
    return [item["id"] for item in response.json()["data"]]  # type: ignore[attr-defined]


def test_following_links_visits_every_object_once(client: TestClient) -> None:
    url: str | None = f"http://testserver{LIST}?limit=4&date_from=2024-01-02T00:00:00Z"
    seen: list[str] = []
    pages = 0
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["X-Total-Count"] == "11"
        assert response.headers["X-Limit"] == "4"
        seen += ids_of(response)
        url = link_of(response.headers)
        pages += 1
        assert pages < 10
    assert seen == [f"L{day:02d}" for day in range(2, 13)]
    assert pages == 3


def test_default_and_capped_limits_over_http(client: TestClient) -> None:
    response = client.get(LIST)
    assert len(ids_of(response)) == 5 and response.headers["X-Limit"] == "5"
    capped = client.get(LIST + "?limit=1000")
    assert len(ids_of(capped)) == 10 and capped.headers["X-Limit"] == "10"
    assert link_of(capped.headers) == f"http://testserver{LIST}?offset=10&limit=10"


def test_date_window_over_http(client: TestClient) -> None:
    response = client.get(LIST, params={"date_from": "2024-01-03T00:00:00", "date_to": "2024-01-05T00:00:00Z"})
    assert ids_of(response) == ["L03", "L04"]
    assert response.headers["X-Total-Count"] == "2"
    assert "link" not in response.headers


def test_bad_parameter_over_http(client: TestClient) -> None:
    response = client.get(LIST + "?offset=minus")
    assert response.status_code == 400
    assert response.json()["status_code"] == 2001
    assert "offset" in response.json()["status_message"]


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "offset=0&limit=50",
        "limit=5&limit=7",
        "a",
        "a=",
        "=x",
        "a=b=c",
        "&&limit=3&",
        "date_from=2024-01-01T00:00:00Z;x=1",
        "date_from=2024-01-01T00%3A00%3A00Z&limit=1",
        "q=a+b&limit=2",
        "caf\u00e9=1",
    ],
)
def test_query_is_read_as_parse_qsl_reads_it(raw: str) -> None:
    assert _query(raw) == dict(parse_qsl(raw, keep_blank_values=True))
