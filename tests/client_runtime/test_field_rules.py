"""Transport rules for peers in the field (httpx.MockTransport, no sockets): redirects, auth errors,
token encoding ``auto``, redaction, size cap, integer headers, user info, URL joining, the profile."""

from __future__ import annotations

import base64
import logging
from typing import Any

import httpx
import pytest

from ocpi_runtime.client._api import Interface, parse
from ocpi_runtime.client._links import join_path, parse_int
from ocpi_runtime.client._settings import PeerProfile, Settings
from ocpi_runtime.client._transport import SyncTransport
from ocpi_runtime.client._types import OcpiModel
from ocpi_runtime.client.errors import (
    AuthenticationError,
    HttpError,
    InvalidResponseError,
    OcpiServerError,
    OcpiStatusError,
    RedirectError,
    ResponseTooLargeError,
    UnsafeUrlError,
)

from ._helpers import Recorder, envelope, ok, raw

URL = "https://peer.example.com/ocpi/2.2.1/locations/"
TOKEN = "our-secret-token-123"


def make(script: Any, **settings: Any) -> tuple[SyncTransport, Recorder]:
    rec = Recorder(script)
    return SyncTransport(Settings(token=TOKEN, **settings), http=rec.client(), sleep=lambda s: None), rec


def redirect(status: int, location: str) -> httpx.Response:
    return httpx.Response(status, headers={"location": location})


@pytest.mark.parametrize("status", [307, 308])
@pytest.mark.parametrize("method", ["GET", "PUT", "POST"])
def test_307_and_308_are_followed_on_the_same_origin_with_method_and_body(status: int, method: str) -> None:
    transport, rec = make([redirect(status, "/ocpi/2.2.1/locations/"), ok([1])])
    assert transport.request(method, URL.rstrip("/"), body=b"{}").data == [1]
    second = rec.requests[1]
    assert second.method == method and second.content == b"{}" and str(second.url) == URL
    assert second.headers["authorization"] == rec.requests[0].headers["authorization"]
    assert transport.profile.trailing_slash is True
    assert [d.kind for d in transport.profile.deviations] == ["trailing_slash"]


@pytest.mark.parametrize("status", [301, 302, 303])
def test_301_302_303_are_followed_for_get_only(status: int) -> None:
    transport, rec = make([redirect(status, URL), ok(None)])
    assert transport.request("GET", URL.rstrip("/")).status_code == 1000
    transport, rec = make([redirect(status, URL)])
    with pytest.raises(RedirectError, match="turn the POST into a GET") as info:
        transport.request("POST", URL.rstrip("/"), body=b"{}")
    assert info.value.target == URL and len(rec.requests) == 1


@pytest.mark.parametrize(
    "location,reason",
    [
        ("https://evil.example.net/x", "another scheme, host or port"),
        ("http://peer.example.com/ocpi/2.2.1/locations/", "another scheme, host or port"),
        ("https://u:p@peer.example.com/x", "user info"),
    ],
)
def test_redirects_off_origin_or_with_user_info_are_refused(location: str, reason: str) -> None:
    transport, rec = make([redirect(307, location)])
    with pytest.raises(RedirectError, match=reason) as info:
        transport.request("GET", URL)
    assert len(rec.requests) == 1 and info.value.target and "p@" not in info.value.target


def test_redirect_hops_are_bounded_and_a_missing_location_is_typed() -> None:
    transport, rec = make(lambda request: redirect(307, str(request.url)), max_redirects=3)
    with pytest.raises(RedirectError, match="more than 3 redirects"):
        transport.request("GET", URL)
    assert len(rec.requests) == 4
    transport, _ = make([httpx.Response(307)])
    with pytest.raises(RedirectError, match="no Location"):
        transport.request("GET", URL)


def test_a_user_client_that_follows_redirects_is_not_allowed_to_leave_the_origin() -> None:
    rec = Recorder([redirect(302, "https://evil.example.net/x"), ok(None)])
    http = httpx.Client(transport=httpx.MockTransport(rec), follow_redirects=True)
    transport = SyncTransport(Settings(token=TOKEN), http=http)
    with pytest.raises(RedirectError):
        transport.request("GET", URL)
    assert len(rec.requests) == 1


@pytest.mark.parametrize("status", [401, 403])
def test_401_and_403_are_authentication_errors_with_an_encoding_hint(status: int) -> None:
    transport, _ = make([raw(status, '{"detail": "Not authenticated"}')])
    with pytest.raises(AuthenticationError) as info:
        transport.request("GET", URL)
    assert info.value.http_status == status and "base64-encoded" in str(info.value)


@pytest.mark.parametrize("refusal", ["http-401", "http-403", "status-2000", "status-3000"])
def test_auto_encoding_retries_once_with_the_other_and_remembers(refusal: str) -> None:
    encoded = "Token " + base64.b64encode(TOKEN.encode()).decode()

    def peer(request: httpx.Request) -> httpx.Response:
        if request.headers["authorization"] == "Token " + TOKEN:
            return ok([])
        if refusal.startswith("http"):
            return raw(int(refusal[-3:]), "{}")
        return ok(None, status_code=int(refusal[-4:]))

    transport, rec = make(peer, token_encoding="auto")
    assert transport.request("GET", URL, probe=True).data == []
    assert [r.headers["authorization"] for r in rec.requests] == [encoded, "Token " + TOKEN]
    assert transport.profile.token_encoding == "raw"
    transport.request("GET", URL)
    assert len(rec.requests) == 3  # remembered: no second refusal
    assert [d.kind for d in transport.profile.deviations] == ["token_encoding"]


def test_auto_tries_the_other_encoding_only_once_and_status_refusals_only_when_probing() -> None:
    transport, rec = make(lambda r: raw(401, "{}"), token_encoding="auto")
    with pytest.raises(AuthenticationError):
        transport.request("GET", URL)
    assert len(rec.requests) == 2
    transport, rec = make(lambda r: ok(None, status_code=3000), token_encoding="auto")
    with pytest.raises(OcpiServerError):
        transport.request("GET", URL)
    assert len(rec.requests) == 1


def test_a_status_refusal_on_the_versions_call_hints_at_the_encoding() -> None:
    transport, _ = make([ok(None, status_code=3000)])
    with pytest.raises(OcpiServerError, match="may expect the other encoding"):
        transport.request("GET", URL, probe=True)


def test_our_tokens_are_redacted_from_every_message_built_from_peer_text() -> None:
    encoded = base64.b64encode(TOKEN.encode()).decode()
    other = "token-b-of-ours-456"
    echo = f'{{"status_code": 2001, "status_message": "bad {TOKEN} / {encoded}", "data": {{"token": "peer-c"}}}}'
    for response in (raw(400, echo), raw(200, echo), raw(200, f"not json {other}")):
        settings = Settings(token=TOKEN).with_secret(other)
        transport = SyncTransport(settings, http=Recorder([response]).client())
        with pytest.raises((HttpError, InvalidResponseError, OcpiStatusError)) as info:
            transport.request("GET", URL)
        error = info.value
        text = " ".join(
            [str(error), repr(error.args), getattr(error, "body", ""), getattr(error, "status_message", "") or ""]
        )
        assert TOKEN not in text and encoded not in text and other not in text
        assert "peer-c" not in getattr(error, "body", "")  # a token field in a body is hidden too


def test_the_size_cap_stops_reading_and_a_declared_length_is_refused_at_once() -> None:
    big = b'{"status_code": 1000, "data": "' + b"x" * 5000 + b'"}'
    transport, _ = make([raw(200, big)], max_response_bytes=1000)
    with pytest.raises(ResponseTooLargeError) as info:
        transport.request("GET", URL)
    assert isinstance(info.value, InvalidResponseError) and "Content-Length 5" in str(info.value)

    def streamed(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=httpx.ByteStream(big))  # no Content-Length

    transport, _ = make(streamed, max_response_bytes=1000)
    with pytest.raises(ResponseTooLargeError, match="more than 1000 bytes"):
        transport.request("GET", URL)


@pytest.mark.parametrize("value", ["\u00b2", "\u0661", "1e3", "-1", "9" * 40, ""])
def test_integers_are_ascii_digits_only(value: str) -> None:
    assert parse_int(value) is None
    assert parse_int(" 42 ") == 42


@pytest.mark.parametrize("status_code", ['"\u00b2"', '"\u0661\u0660\u0660\u0660"', "1e999999", "1000.5", "true"])
def test_an_odd_status_code_is_an_invalid_response(status_code: str) -> None:
    transport, _ = make([raw(200, f'{{"status_code": {status_code}, "data": null}}')])
    with pytest.raises(InvalidResponseError, match="status_code is not an integer") as info:
        transport.request("GET", URL)
    assert info.value.http_status == 200 and info.value.method == "GET" and info.value.request_id


def test_user_info_in_a_url_is_refused_before_sending() -> None:
    transport, rec = make([])
    with pytest.raises(UnsafeUrlError):
        transport.request("GET", "https://user:pw@peer.example.com/x")
    assert rec.requests == []


@pytest.mark.parametrize(
    "base,path,expected",
    [
        ("https://p/loc/", "", "https://p/loc/"),
        ("https://p/loc", "", "https://p/loc"),
        ("https://p/loc/", "/A1", "https://p/loc/A1"),
        ("https://p/loc", "/A1", "https://p/loc/A1"),
        ("https://p/loc//", "/A1/E1", "https://p/loc/A1/E1"),
    ],
)
def test_urls_are_used_as_published_and_joined_with_one_slash(base: str, path: str, expected: str) -> None:
    assert join_path(base, path) == expected
    transport, _ = make([])
    api = Interface(transport, base)
    assert api.url == base and api._at(path) == expected


class Thing(OcpiModel):
    id: str
    note: str | None = None


def _response(data: Any, transport: SyncTransport) -> Any:
    rec = Recorder([ok(data)])
    return SyncTransport(transport.settings, http=rec.client()).request("GET", URL)


def test_lenient_reading_unwraps_a_one_element_list_and_ignores_nulls_once_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    transport, _ = make([])
    with caplog.at_level(logging.WARNING, logger="ocpi_client"):
        for _ in range(3):
            thing = parse(Thing, _response([{"id": "a", "note": None}], transport), transport)
            assert thing.id == "a" and "note" not in thing.model_fields_set
    kinds = [d.kind for d in transport.profile.deviations]
    assert kinds.count("list_wrapped_data") == 3 and kinds.count("null_fields") == 3
    assert len([r for r in caplog.records if "list_wrapped_data" in r.getMessage()]) == 1  # once per kind


def test_strict_reading_refuses_a_wrapped_object_with_expected_and_found() -> None:
    transport, _ = make([], lenient=False)
    with pytest.raises(InvalidResponseError) as info:
        parse(Thing, _response([{"id": "a"}], transport), transport)
    assert info.value.expected == "Thing" and info.value.found == "a JSON list of 1 item(s)"
    allowed = SyncTransport(Settings(token=TOKEN, lenient=False, profile=PeerProfile(list_wrapped_data=True)))
    assert parse(Thing, _response([{"id": "a"}], allowed), allowed).id == "a"
    allowed.close()


def test_a_validation_failure_never_shows_the_value() -> None:
    transport, _ = make([])
    with pytest.raises(InvalidResponseError) as info:
        parse(Thing, _response({"id": {"token": TOKEN}}, transport), transport)
    assert TOKEN not in str(info.value) and "id" in str(info.value)


def test_settings_reject_bad_limits() -> None:
    with pytest.raises(ValueError):
        Settings(token="t", max_response_bytes=0)
    with pytest.raises(ValueError):
        Settings(token="t", token_encoding="hex")  # type: ignore[arg-type]
    assert envelope(None)["status_code"] == 1000


def test_an_overflow_in_one_item_is_a_deviation_and_paging_goes_on() -> None:
    def parse_item(raw: Any) -> Thing:
        if raw.get("id") == "bad":
            raise OverflowError("date value out of range")
        return Thing.model_validate(raw)

    link = {"Link": f'<{URL}?offset=2>; rel="next"'}
    transport, _ = make([ok([{"id": "a"}, {"id": "bad"}], headers=link), ok([{"id": "c"}])])
    pager = transport.paginate(URL, parse=parse_item)
    assert [t.id for t in pager] == ["a", "c"]
    assert [d.index for d in pager.deviations] == [1] and pager.deviations[0].errors[0]["type"] == "OverflowError"
    transport, _ = make([ok([{"id": "bad"}])], lenient=False)
    with pytest.raises(InvalidResponseError, match="OverflowError"):
        list(transport.paginate(URL, parse=parse_item))


def test_a_registration_answer_that_fails_validation_shows_no_token() -> None:
    from ocpi_runtime.client._credentials import register

    token_c = "peer-token-C-secret-99"
    details = {"version": "2.2.1", "endpoints": [{"identifier": "credentials", "role": "SENDER", "url": URL}]}

    def peer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/versions"):
            return ok([{"version": "2.2.1", "url": "https://peer.example.com/ocpi/2.2.1"}])
        if request.method == "GET":
            return ok(details)
        echo = {"token": token_c, "url": 17, "roles": f"echo of {TOKEN} and token-B-own-1234"}
        return ok([echo])  # wrapped in a list, and invalid

    transport, _ = make(peer)
    own_token = "token-B-own-1234"

    class Own(OcpiModel):
        token: str

    with pytest.raises(InvalidResponseError) as info:
        register(
            transport,
            "https://peer.example.com/ocpi/versions",
            Own(token=own_token),
            lambda raw: Thing.model_validate({"id": raw["url"]}),
            ["2.2.1"],
            token_of=lambda c: c.id,
        )
    text = str(info.value) + info.value.body + repr(info.value.args)
    assert token_c not in text and TOKEN not in text and own_token not in text
    assert info.value.expected == "Credentials" and info.value.method == "POST"
