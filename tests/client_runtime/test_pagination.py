"""Paginator: Link following, filters, headers, lenient/strict items, unsafe links, bounded memory."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from ocpi_runtime.client._transport import Page, Paginator, Settings, SyncTransport
from ocpi_runtime.client._types import Number, OcpiModel, parse_one
from ocpi_runtime.client.errors import InvalidResponseError, PaginationError, UnsafeLinkError

from ._helpers import Recorder, ok

BASE = "https://peer.example.com/ocpi/cpo/2.2.1/tariffs"
FILTERS: dict[str, str | int | None] = {
    "date_from": "2024-01-01T00:00:00Z",
    "date_to": "2024-02-01T00:00:00Z",
    "limit": 2,
}


class Item(OcpiModel):
    id: str
    price: Number


def parse_item(raw: Any) -> Item:
    return parse_one(Item, raw)


def page_response(ids: list[str], *, link: str | None = None, total: int = 5, limit: int = 2) -> httpx.Response:
    headers = {"X-Total-Count": str(total), "X-Limit": str(limit)}
    if link is not None:
        headers["Link"] = link
    return ok([{"id": i, "price": "1.5"} for i in ids], headers=headers)


def three_pages() -> list[object]:
    q = "date_from=2024-01-01T00:00:00Z&date_to=2024-02-01T00:00:00Z"
    return [
        page_response(["a", "b"], link=f'<{BASE}?{q}&offset=2&limit=2>; rel="next"'),
        page_response(["c", "d"], link=f'<{BASE}?{q}&offset=4&limit=2>; rel="next"'),
        page_response(["e"]),
    ]


def make(script: list[object] | Recorder, **settings: Any) -> tuple[SyncTransport, Recorder]:
    recorder = script if isinstance(script, Recorder) else Recorder(script)
    return SyncTransport(Settings(token="t", **settings), http=recorder.client(), sleep=lambda s: None), recorder


def test_three_pages_via_link_with_filters_kept() -> None:
    transport, rec = make(three_pages())
    pager = transport.paginate(BASE, params=FILTERS, parse=parse_item)
    assert isinstance(pager, Paginator)
    assert rec.requests == []  # lazy: nothing fetched before iteration
    assert [item.id for item in pager] == ["a", "b", "c", "d", "e"]
    assert len(rec.requests) == 3 and pager.pages_fetched == 3
    first = rec.requests[0].url.params
    assert (first["date_from"], first["date_to"], first["limit"]) == (
        "2024-01-01T00:00:00Z",
        "2024-02-01T00:00:00Z",
        "2",
    )
    for request, offset in zip(rec.requests[1:], ("2", "4")):
        assert request.url.params["offset"] == offset
        assert request.url.params["date_from"] == "2024-01-01T00:00:00Z"
        assert request.url.params["date_to"] == "2024-02-01T00:00:00Z"
    assert pager.total_count == 5 and pager.limit == 2
    assert pager.next_url is None
    assert all(r.method == "GET" for r in rec.requests)
    assert len({r.headers["X-Correlation-ID"] for r in rec.requests}) == 1  # one logical operation
    assert len({r.headers["X-Request-ID"] for r in rec.requests}) == 3


def test_bounded_memory_next_page_fetched_only_when_previous_is_consumed() -> None:
    transport, rec = make(three_pages())
    pager = transport.paginate(BASE, params=FILTERS, parse=parse_item)
    assert next(pager).id == "a"
    assert len(rec.requests) == 1
    assert next(pager).id == "b"
    assert len(rec.requests) == 1  # page 1 used up, page 2 not requested yet
    assert next(pager).id == "c"
    assert len(rec.requests) == 2


def test_paginator_holds_only_the_current_page() -> None:
    transport, _ = make(three_pages())
    pager = transport.paginate(BASE, params=FILTERS, parse=parse_item)
    next(pager), next(pager), next(pager)  # now on page 2
    held = list(pager._items)  # what is still buffered: the rest of page 2 only
    assert [item.id for item in held] == ["d"]
    others = [v for v in vars(pager).values() if isinstance(v, (list, Page)) and v is not pager.deviations]
    assert not [v for v in others if v]  # no earlier page kept anywhere


def test_pages_iterator_yields_page_objects() -> None:
    transport, _ = make(three_pages())
    pages = list(transport.paginate(BASE, params=FILTERS, parse=parse_item).pages())
    assert [[i.id for i in p.items] for p in pages] == [["a", "b"], ["c", "d"], ["e"]]
    assert pages[0].next_url is not None and "offset=2" in pages[0].next_url
    assert pages[-1].next_url is None
    assert pages[0].total_count == 5 and pages[0].limit == 2
    assert pages[0].response.status_code == 1000


def test_lenient_mode_collects_deviations_with_stream_indexes() -> None:
    script = [
        ok([{"id": "a", "price": 1}, {"id": "b", "price": "NaN"}], headers={"Link": f'<{BASE}?offset=2>; rel="next"'}),
        ok([{"price": 2}, {"id": "d", "price": 3}, "junk"]),
    ]
    transport, _ = make(script)
    pager = transport.paginate(BASE, parse=parse_item)
    assert [i.id for i in pager] == ["a", "d"]
    assert [d.index for d in pager.deviations] == [1, 2, 4]
    assert pager.deviations[1].raw == {"price": 2}
    assert pager.deviations[1].errors[0]["loc"] == ("id",)


def test_strict_mode_raises_invalid_response_error() -> None:
    script = [ok([{"id": "a", "price": 1}, {"id": "b", "price": "x"}])]
    transport, _ = make(script, lenient=False)
    pager = transport.paginate(BASE, parse=parse_item)
    with pytest.raises(InvalidResponseError, match="item 1 of the page") as info:
        list(pager)
    assert info.value.http_status == 200 and info.value.request_id and info.value.url == BASE


@pytest.mark.parametrize(
    "link",
    [
        "https://evil.example.net/ocpi/cpo/2.2.1/tariffs?offset=2",  # other host
        "https://peer.example.com:8443/ocpi/cpo/2.2.1/tariffs?offset=2",  # other port
        "http://peer.example.com/ocpi/cpo/2.2.1/tariffs?offset=2",  # other scheme (downgrade)
        "//evil.example.net/steal",  # scheme-relative to another host
    ],
)
def test_link_to_another_origin_is_refused(link: str) -> None:
    transport, rec = make([page_response(["a", "b"], link=f'<{link}>; rel="next"')], lenient=False)
    pager = transport.paginate(BASE, parse=parse_item)
    with pytest.raises(UnsafeLinkError) as info:
        list(pager)
    assert len(rec.requests) == 1  # the token never went to the other origin
    assert info.value.link == link and "peer.example.com" in info.value.origin
    assert isinstance(info.value, PaginationError)


def test_same_origin_with_explicit_default_port_is_accepted() -> None:
    script = [
        page_response(["a"], link='<https://PEER.example.com:443/ocpi/cpo/2.2.1/tariffs?offset=1>; rel="next"'),
        page_response(["b"]),
    ]
    transport, rec = make(script, lenient=False)
    assert [i.id for i in transport.paginate(BASE, parse=parse_item)] == ["a", "b"]
    assert len(rec.requests) == 2


def test_relative_link_is_resolved_against_the_current_url() -> None:
    script = [
        page_response(["a"], link='<?offset=1&limit=1>; rel="next"'),
        page_response(["b"], link='<../2.2.1/tariffs?offset=2&limit=1>; rel="next"'),
        page_response(["c"]),
    ]
    transport, rec = make(script, lenient=False)
    assert [i.id for i in transport.paginate(BASE, params={"limit": 1}, parse=parse_item)] == ["a", "b", "c"]
    assert str(rec.requests[1].url) == BASE + "?offset=1&limit=1"
    assert str(rec.requests[2].url) == BASE + "?offset=2&limit=1"


def test_next_among_several_links_case_insensitive_rel() -> None:
    link = f'<{BASE}?offset=0>; rel="prev", <{BASE}?offset=9>; title="x"; REL="NEXT"'
    transport, rec = make([page_response(["a"], link=link), page_response(["b"])], lenient=False)
    assert [i.id for i in transport.paginate(BASE, parse=parse_item)] == ["a", "b"]
    assert rec.requests[1].url.params["offset"] == "9"


def test_page_data_must_be_a_list() -> None:
    transport, _ = make([ok({"id": "a"})])
    with pytest.raises(InvalidResponseError) as info:
        list(transport.paginate(BASE, parse=parse_item))
    assert "not a JSON list" in str(info.value)


def test_link_to_the_same_page_is_an_error_not_a_loop() -> None:
    transport, rec = make([page_response(["a"], link=f'<{BASE}>; rel="next"')])
    with pytest.raises(PaginationError):
        list(transport.paginate(BASE, parse=parse_item))
    assert len(rec.requests) == 1


def test_missing_or_invalid_count_headers_give_none() -> None:
    transport, _ = make([ok([], headers={"X-Total-Count": "many"})])
    pager = transport.paginate(BASE, parse=parse_item, correlation_id="corr-1")
    assert list(pager) == []
    assert pager.total_count is None and pager.limit is None and pager.pages_fetched == 1


def test_given_correlation_id_is_used_for_every_page() -> None:
    transport, rec = make(three_pages())
    list(transport.paginate(BASE, parse=parse_item, correlation_id="corr-7"))
    assert {r.headers["X-Correlation-ID"] for r in rec.requests} == {"corr-7"}


def counting_parser() -> tuple[Any, list[int]]:
    """``parser(Item)`` with its page calls counted (how many items each ``many`` call got)."""
    from ocpi_runtime.client._api import parser

    calls: list[int] = []
    parse = parser(Item)
    many = parse.many  # type: ignore[attr-defined]

    class Counting:
        def __call__(self, raw: Any) -> Item:
            return parse(raw)

        def many(self, raw_items: list[Any]) -> list[Item]:
            calls.append(len(raw_items))
            result: list[Item] = many(raw_items)
            return result

    return Counting(), calls


@pytest.mark.parametrize("lenient", [True, False])
def test_a_page_without_nulls_is_validated_in_one_call(lenient: bool) -> None:
    transport, _ = make(three_pages(), lenient=lenient)
    parse, calls = counting_parser()
    items = list(transport.paginate(BASE, params=FILTERS, parse=parse))
    assert [i.id for i in items] == ["a", "b", "c", "d", "e"] and items[0].price == Decimal("1.5")
    assert calls == [2, 2, 1]


def test_a_page_with_nulls_in_lenient_mode_drops_them_item_by_item() -> None:
    script = [ok([{"id": "a", "price": 1, "note": None}, {"id": "b", "price": 2}])]
    transport, _ = make(script)
    parse, calls = counting_parser()
    pager = transport.paginate(BASE, parse=parse)
    items = list(pager)
    assert calls == []  # nulls: each item cleaned, then validated alone
    assert [i.id for i in items] == ["a", "b"] and "note" not in items[0].model_fields_set
    assert items[0].to_json() == b'{"id":"a","price":1}'
    assert [d.kind for d in transport.settings.profile.deviations] == ["null_fields"]


def test_a_word_null_inside_a_string_still_reads_the_page() -> None:
    script = [ok([{"id": "null", "price": 1}, {"id": "b", "price": 2}])]
    transport, _ = make(script)
    parse, calls = counting_parser()
    assert [i.id for i in transport.paginate(BASE, parse=parse)] == ["null", "b"]
    assert calls == [] and not transport.settings.profile.deviations


@pytest.mark.parametrize("lenient", [True, False])
def test_a_bad_item_in_a_page_read_in_one_call_is_found_by_its_index(lenient: bool) -> None:
    script = [ok([{"id": "a", "price": 1}, {"id": "b", "price": 2}, {"id": "c", "price": "x"}])]
    transport, _ = make(script, lenient=lenient)
    parse, calls = counting_parser()
    pager = transport.paginate(BASE, parse=parse)
    if lenient:
        assert [i.id for i in pager] == ["a", "b"]
        assert [d.index for d in pager.deviations] == [2] and pager.deviations[0].errors[0]["loc"] == ("price",)
    else:
        with pytest.raises(InvalidResponseError, match="item 2 of the page"):
            list(pager)
    assert calls == [3]
