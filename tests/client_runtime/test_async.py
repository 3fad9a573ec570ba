"""AsyncTransport, AsyncPaginator and the async handshake (run with asyncio.run, no plugin needed)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest

from ocpi_runtime.client._credentials import aregister, aunregister, aupdate
from ocpi_runtime.client._discovery import adiscover
from ocpi_runtime.client._transport import AsyncPaginator, AsyncTransport, Page, Routing, Settings
from ocpi_runtime.client.errors import (
    InvalidResponseError,
    NotFoundError,
    OcpiHubError,
    ServerError,
    TransportError,
    UnsafeLinkError,
)

from ._helpers import Recorder, Sleeps, envelope, ok, raw
from .test_credentials import (
    CREDENTIALS_URL,
    OWN,
    TOKEN_A,
    TOKEN_C,
    TOKEN_C2,
    VERSIONS_URL,
    Peer,
    parse_credentials,
    token_of,
)
from .test_pagination import BASE, FILTERS, Item, page_response, parse_item, three_pages

R = TypeVar("R")
URL = "https://peer.example.com/ocpi/2.2.1/sessions"


def run(factory: Callable[[], Awaitable[R]]) -> R:
    async def main() -> R:
        return await factory()

    return asyncio.run(main())


def make(
    script: list[object] | Recorder, sleeps: Sleeps | None = None, **settings: Any
) -> tuple[AsyncTransport, Recorder, Sleeps]:
    recorder = script if isinstance(script, Recorder) else Recorder(script)
    sleeps = sleeps or Sleeps()
    transport = AsyncTransport(Settings(token="tok", **settings), http=recorder.async_client(), sleep=sleeps.asleep)
    return transport, recorder, sleeps


def test_async_request_headers_and_unwrapping() -> None:
    transport, rec, _ = make([ok({"n": 1}), ok(None)], routing=Routing(to_party_id="ABC"))

    async def go() -> None:
        first = await transport.request("GET", URL, params={"limit": 1, "offset": None})
        second = await transport.request("PUT", URL, body=b"{}", correlation_id="corr")
        assert first.data == {"n": 1} and second.data is None
        assert first.request_id != second.request_id
        assert second.correlation_id == "corr"

    run(go)
    first, second = rec.requests
    assert first.headers["OCPI-to-party-id"] == "ABC" and first.url.params["limit"] == "1"
    assert "offset" not in first.url.params
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]
    assert second.headers["X-Correlation-ID"] == "corr" and second.headers["Content-Type"] == "application/json"


def test_async_retries_with_injected_sleep_and_same_request_id() -> None:
    transport, rec, sleeps = make([raw(503, "", {"Retry-After": "3"}), httpx.ReadTimeout("slow"), ok([])])
    run(lambda: transport.request("GET", URL))
    assert sleeps.delays == [3.0, 1.0]
    assert len({r.headers["X-Request-ID"] for r in rec.requests}) == 1 and len(rec.requests) == 3


def test_async_no_retry_for_post_and_error_mapping() -> None:
    transport, rec, sleeps = make(
        [raw(503, ""), httpx.Response(404, json=envelope(None, 2004, "?")), ok(None, status_code=4001)]
    )

    async def go() -> None:
        with pytest.raises(ServerError):
            await transport.request("POST", URL, body=b"{}")
        with pytest.raises(NotFoundError) as info:
            await transport.request("GET", URL)
        assert info.value.status_code == 2004
        with pytest.raises(OcpiHubError):
            await transport.request("GET", URL)

    run(go)
    assert sleeps.delays == [] and len(rec.requests) == 3


def test_async_transport_error_after_retries() -> None:
    transport, rec, sleeps = make([httpx.ConnectError("down")] * 2, max_retries=1)
    with pytest.raises(TransportError):
        run(lambda: transport.request("DELETE", URL))
    assert len(rec.requests) == 2 and sleeps.delays == [0.5]


def test_async_transport_owns_only_its_client() -> None:
    async def go() -> None:
        given = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: ok(None)))
        async with AsyncTransport(Settings(token="t"), http=given) as transport:
            other = transport.with_settings(Settings(token="C"))
            await other.aclose()
            assert (await other.request("GET", URL)).status_code == 1000
        assert not given.is_closed
        await given.aclose()
        own = AsyncTransport(Settings(token="t"))
        await own.aclose()
        assert own._http.is_closed

    run(go)


def test_async_pagination_over_three_pages() -> None:
    transport, rec, _ = make(three_pages())

    async def go() -> tuple[list[str], AsyncPaginator[Item]]:
        pager = transport.paginate(BASE, params=FILTERS, parse=parse_item)
        assert isinstance(pager, AsyncPaginator)
        return [item.id async for item in pager], pager

    ids, pager = run(go)
    assert ids == ["a", "b", "c", "d", "e"]
    assert pager.total_count == 5 and pager.limit == 2 and pager.pages_fetched == 3
    assert rec.requests[0].url.params["date_from"] == "2024-01-01T00:00:00Z"
    assert [r.url.params.get("offset") for r in rec.requests] == [None, "2", "4"]


def test_async_pagination_is_lazy_page_by_page() -> None:
    transport, rec, _ = make(three_pages())

    async def go() -> None:
        pager = transport.paginate(BASE, params=FILTERS, parse=parse_item)
        assert rec.requests == []
        assert (await pager.__anext__()).id == "a"
        assert (await pager.__anext__()).id == "b"
        assert len(rec.requests) == 1
        assert (await pager.__anext__()).id == "c"
        assert len(rec.requests) == 2

    run(go)


def test_async_pages_deviations_and_strict_mode() -> None:
    script = [
        ok([{"id": "a", "price": 1}, {"price": 2}], headers={"Link": f'<{BASE}?offset=2>; rel="next"'}),
        ok([{"id": "c", "price": "bad"}]),
    ]
    transport, _, _ = make(script)

    async def go() -> list[Page[Item]]:
        return [page async for page in transport.paginate(BASE, parse=parse_item).pages()]

    pages = run(go)
    assert [[i.id for i in p.items] for p in pages] == [["a"], []]
    assert [d.index for p in pages for d in p.deviations] == [1, 2]

    strict, _, _ = make([ok([{"id": "b", "price": "bad"}])], lenient=False)

    async def go_strict() -> None:
        async for _ in strict.paginate(BASE, parse=parse_item):
            pass

    with pytest.raises(InvalidResponseError):
        run(go_strict)


def test_async_pagination_refuses_unsafe_link() -> None:
    transport, rec, _ = make([page_response(["a"], link='<https://evil.example.net/x>; rel="next"')], lenient=False)

    async def go() -> None:
        async for _ in transport.paginate(BASE, parse=parse_item):
            pass

    with pytest.raises(UnsafeLinkError):
        run(go)
    assert len(rec.requests) == 1


def test_async_register_update_unregister() -> None:
    peer = Peer()
    rec = Recorder(peer)
    transport = AsyncTransport(Settings(token=TOKEN_A, token_encoding="raw"), http=rec.async_client())

    async def go() -> None:
        reg = await aregister(transport, VERSIONS_URL, OWN, parse_credentials, ["2.2.1"], token_of=token_of)
        assert reg.token == TOKEN_C
        assert [(r.method, r.headers["Authorization"]) for r in rec.requests] == [
            ("GET", f"Token {TOKEN_A}"),
            ("GET", f"Token {TOKEN_A}"),
            ("POST", f"Token {TOKEN_A}"),
        ]
        assert json.loads(rec.requests[-1].content)["token"] == OWN.token
        rec.requests.clear()
        with_c = transport.with_settings(transport.settings.with_token(reg.token))
        updated = await aupdate(with_c, reg.discovery, OWN, parse_credentials, token_of=token_of)
        assert updated.token == TOKEN_C2
        assert [(r.method, str(r.url), r.headers["Authorization"]) for r in rec.requests] == [
            ("PUT", CREDENTIALS_URL, f"Token {TOKEN_C}")
        ]
        rec.requests.clear()
        with_c2 = with_c.with_settings(with_c.settings.with_token(updated.token))
        again = await aupdate(with_c2, VERSIONS_URL, OWN, parse_credentials, ["2.2.1"], token_of=token_of)
        assert [r.method for r in rec.requests] == ["GET", "GET", "PUT"] and again.token == "token-C3"
        rec.requests.clear()
        with_c3 = with_c2.with_settings(with_c2.settings.with_token(again.token))
        await aunregister(with_c3, again.discovery)
        assert [(r.method, str(r.url)) for r in rec.requests] == [("DELETE", CREDENTIALS_URL)]

    peer.issued.append("token-C3")
    run(go)
    assert peer.valid == set()


def test_adiscover() -> None:
    rec = Recorder(Peer())
    transport = AsyncTransport(Settings(token=TOKEN_A, token_encoding="raw"), http=rec.async_client())
    found = run(lambda: adiscover(transport, VERSIONS_URL, ["2.1.1", "2.2.1"]))
    assert found.version == "2.2.1" and found.url_for("credentials", "RECEIVER") == CREDENTIALS_URL
