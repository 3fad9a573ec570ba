"""SyncTransport: headers, envelope unwrapping, error mapping, retries, logging."""

from __future__ import annotations

import base64
import email.utils
import logging
import pickle
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from ocpi_runtime.client import _call
from ocpi_runtime.client._transport import (
    MAX_RETRY_AFTER,
    OcpiResponse,
    Routing,
    Settings,
    SyncTransport,
    parse_link_header,
    path_segment,
    safe_url,
)
from ocpi_runtime.client.errors import (
    AuthenticationError,
    HttpError,
    InvalidResponseError,
    NotFoundError,
    OcpiClientError,
    OcpiError,
    OcpiHubError,
    OcpiServerError,
    OcpiStatusError,
    RateLimitedError,
    ServerError,
    TransportError,
)

from ._helpers import Recorder, Sleeps, envelope, ok, raw

TOKEN = "token-A-5f2e"
URL = "https://peer.example.com/ocpi/2.2.1/locations"


def make(
    script: Recorder | list[object], sleeps: Sleeps | None = None, **settings: object
) -> tuple[SyncTransport, Recorder, Sleeps]:
    recorder = script if isinstance(script, Recorder) else Recorder(script)
    sleeps = sleeps or Sleeps()
    transport = SyncTransport(Settings(token=TOKEN, **settings), http=recorder.client(), sleep=sleeps)  # type: ignore[arg-type]
    return transport, recorder, sleeps


# -- Authorization and headers -------------------------------------------------------------------


def test_authorization_base64_and_raw() -> None:
    assert Settings(token="abc-123").authorization() == "Token " + base64.b64encode(b"abc-123").decode()
    assert Settings(token="abc-123", token_encoding="raw").authorization() == "Token abc-123"
    assert Settings(token="tøken").authorization() == "Token " + base64.b64encode("tøken".encode()).decode()
    for encoding, expected in (("base64", "Token dG9rZW4tQS01ZjJl"), ("raw", f"Token {TOKEN}")):
        transport, rec, _ = make([ok([])], token_encoding=encoding)
        transport.request("GET", URL)
        assert rec.requests[0].headers["Authorization"] == expected


def test_settings_validation_with_token_and_repr() -> None:
    settings = Settings(token=TOKEN)
    assert TOKEN not in repr(settings)
    assert settings.with_token("C").token == "C" and settings.token == TOKEN
    with pytest.raises(ValueError):
        Settings(token="x", token_encoding="hex")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Settings(token="x", max_retries=-1)


def test_standard_headers_and_body() -> None:
    transport, rec, _ = make([ok(None), ok(None)])
    transport.request("GET", URL)
    transport.request("POST", URL, body=b'{"a":1}')
    get, post = rec.requests
    assert get.headers["Accept"] == "application/json"
    assert "Content-Type" not in get.headers
    assert get.headers["User-Agent"] == "ocpi-codegen-client"
    assert post.headers["Content-Type"] == "application/json"
    assert post.content == b'{"a":1}'


def test_request_id_is_fresh_per_call_and_correlation_id_carried() -> None:
    transport, rec, _ = make([ok(None), ok(None), ok(None)])
    first = transport.request("GET", URL)
    second = transport.request("GET", URL)
    third = transport.request("GET", URL, correlation_id="corr-42")
    ids = [r.headers["X-Request-ID"] for r in rec.requests]
    assert len(set(ids)) == 3
    assert all(uuid.UUID(i).version == 4 for i in ids)
    assert [first.request_id, second.request_id, third.request_id] == ids
    corr = [r.headers["X-Correlation-ID"] for r in rec.requests]
    assert corr[2] == "corr-42" and third.correlation_id == "corr-42"
    assert corr[0] != corr[1] and uuid.UUID(corr[0]).version == 4  # fresh when not given
    assert first.correlation_id == corr[0]


def test_request_id_is_reused_across_retries() -> None:
    transport, rec, _ = make([raw(503, ""), httpx.ConnectError("refused"), ok([])])
    response = transport.request("GET", URL)
    ids = {r.headers["X-Request-ID"] for r in rec.requests}
    corr = {r.headers["X-Correlation-ID"] for r in rec.requests}
    assert len(rec.requests) == 3 and len(ids) == 1 and len(corr) == 1
    assert response.request_id == ids.pop()


def test_routing_headers_from_settings_and_per_call() -> None:
    default = Routing(from_country_code="NL", from_party_id="EXA", to_country_code="DE", to_party_id="ABC")
    transport, rec, _ = make([ok(None), ok(None)], routing=default)
    transport.request("GET", URL)
    transport.request("GET", URL, routing=Routing(to_country_code="BE", to_party_id="XYZ"))
    h0, h1 = rec.requests[0].headers, rec.requests[1].headers
    assert (h0["OCPI-from-country-code"], h0["OCPI-from-party-id"]) == ("NL", "EXA")
    assert (h0["OCPI-to-country-code"], h0["OCPI-to-party-id"]) == ("DE", "ABC")
    assert (h1["OCPI-to-country-code"], h1["OCPI-to-party-id"]) == ("BE", "XYZ")
    assert "OCPI-from-country-code" not in h1  # the call's Routing replaces the default


def test_no_routing_or_request_id_headers_for_2_1_1_style_settings() -> None:
    routing = Routing(from_country_code="NL", from_party_id="EXA", to_country_code="DE", to_party_id="ABC")
    transport, rec, _ = make([ok(None), ok(None)], routing=routing, routing_headers=False, request_id_headers=False)
    transport.request("GET", URL)
    response = transport.request("GET", URL, routing=routing, correlation_id="c")
    for request in rec.requests:
        assert not [name for name in request.headers if name.lower().startswith("ocpi-")]
        assert "X-Request-ID" not in request.headers and "X-Correlation-ID" not in request.headers
    assert response.request_id  # still identifies the call in logs and errors


def test_routing_headers_only_for_fields_set() -> None:
    assert Routing(to_party_id="ABC").headers() == {"OCPI-to-party-id": "ABC"}
    assert Routing().headers() == {}


def test_params_none_dropped_and_merged_with_url_query() -> None:
    transport, rec, _ = make([ok([])])
    transport.request("GET", URL + "?a=1", params={"date_from": "2020-01-01T00:00:00Z", "limit": 10, "date_to": None})
    params = rec.requests[0].url.params
    assert params["a"] == "1" and params["limit"] == "10" and params["date_from"] == "2020-01-01T00:00:00Z"
    assert "date_to" not in params


# -- Envelope ------------------------------------------------------------------------------------


def test_envelope_is_unwrapped_with_exact_numbers() -> None:
    body = b'{"data":{"id":"L1","power":22.123456789012345678},"status_code":1000,"status_message":"OK","timestamp":"2024-01-01T00:00:00Z"}'
    transport, _, _ = make([raw(200, body, {"X-Custom": "v"})])
    response = transport.request("GET", URL)
    assert isinstance(response, OcpiResponse)
    assert response.data == {"id": "L1", "power": Decimal("22.123456789012345678")}
    assert (response.status_code, response.status_message, response.timestamp) == (1000, "OK", "2024-01-01T00:00:00Z")
    assert response.http_status == 200 and response.headers["X-Custom"] == "v"


def test_envelope_without_data_and_with_string_status_code() -> None:
    transport, _, _ = make([raw(201, '{"status_code": "1001"}')])
    response = transport.request("PUT", URL, body=b"{}")
    assert response.data is None and response.status_code == 1001 and response.status_message is None


# -- Error mapping -------------------------------------------------------------------------------


def test_401_raises_authentication_error() -> None:
    transport, _, _ = make([raw(401, "Unauthorized")])
    with pytest.raises(AuthenticationError) as info:
        transport.request("GET", URL)
    err = info.value
    assert err.http_status == 401 and err.body == "Unauthorized" and err.request_id
    assert err.request_id in str(err) and "401" in str(err) and "\n" not in str(err)


def test_404_with_ocpi_envelope_raises_not_found_with_status_code() -> None:
    transport, _, _ = make([httpx.Response(404, json=envelope(None, 2004, "Unknown location"))])
    with pytest.raises(NotFoundError) as info:
        transport.request("GET", URL + "/NL/EXA/L1")
    err = info.value
    assert (err.http_status, err.status_code, err.status_message) == (404, 2004, "Unknown location")
    assert "2004" in str(err) and "Unknown location" in str(err)


def test_500_raises_server_error_and_keeps_at_most_500_chars_of_body() -> None:
    transport, rec, _ = make([raw(500, "x" * 2000)])
    with pytest.raises(ServerError) as info:
        transport.request("POST", URL, body=b"{}")
    assert info.value.http_status == 500 and len(info.value.body) == 500
    assert len(rec.requests) == 1


def test_other_4xx_raises_plain_http_error() -> None:
    transport, _, _ = make([httpx.Response(400, json=envelope(None, 2001, "Invalid"))])
    with pytest.raises(HttpError) as info:
        transport.request("GET", URL)
    assert type(info.value) is HttpError and info.value.status_code == 2001


def test_redirects_are_not_followed() -> None:
    transport, rec, _ = make([raw(302, "", {"Location": "https://elsewhere.example.org/"})])
    with pytest.raises(HttpError) as info:
        transport.request("GET", URL)
    assert info.value.http_status == 302 and len(rec.requests) == 1


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("<html>oops</html>", "not JSON"),
        ("", "empty"),
        ("[1, 2]", "not an OCPI envelope"),
        ('{"data": []}', "no status_code"),
        ('{"data": [], "status_code": "ok"}', "not an integer"),
    ],
)
def test_invalid_bodies_raise_invalid_response_error(content: str, reason: str) -> None:
    transport, _, _ = make([raw(200, content)])
    with pytest.raises(InvalidResponseError) as info:
        transport.request("GET", URL)
    assert reason in str(info.value)
    assert info.value.http_status == 200 and info.value.request_id in str(info.value)


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (2001, OcpiClientError),
        (2003, OcpiClientError),
        (3001, OcpiServerError),
        (4001, OcpiHubError),
        (5000, OcpiStatusError),
    ],
)
def test_non_success_ocpi_status_in_http_200_raises_status_error(code: int, cls: type[OcpiStatusError]) -> None:
    transport, _, _ = make([ok({"detail": 1}, status_code=code, status_message="Nope")])
    with pytest.raises(cls) as info:
        transport.request("GET", URL)
    err = info.value
    assert type(err) is cls
    assert (err.status_code, err.status_message, err.http_status, err.data) == (code, "Nope", 200, {"detail": 1})
    assert err.request_id and err.request_id in str(err) and str(code) in str(err)


def test_errors_never_carry_the_token_and_pickle() -> None:
    transport, _, _ = make([raw(401, "bad token")], token_encoding="raw")
    with pytest.raises(AuthenticationError) as info:
        transport.request("GET", URL)
    err = info.value
    assert TOKEN not in str(err) and TOKEN not in repr(err.__dict__)
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is AuthenticationError and copy.http_status == 401 and str(copy) == str(err)


def test_http_error_hierarchy() -> None:
    for cls in (AuthenticationError, NotFoundError, ServerError, RateLimitedError):
        assert issubclass(cls, HttpError) and issubclass(cls, OcpiError)
    for cls in (OcpiClientError, OcpiServerError, OcpiHubError):
        assert issubclass(cls, OcpiStatusError)


# -- Retries -------------------------------------------------------------------------------------


def test_retry_on_503_honours_retry_after_seconds() -> None:
    transport, rec, sleeps = make([raw(503, "", {"Retry-After": "2"}), raw(503, "", {"Retry-After": "0"}), ok([1])])
    assert transport.request("GET", URL).data == [1]
    assert sleeps.delays == [2.0, 0.0]
    assert len(rec.requests) == 3


def test_retry_on_429_honours_retry_after_http_date(monkeypatch: pytest.MonkeyPatch) -> None:
    now = datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC)
    monkeypatch.setattr(_call, "_now", lambda: now)
    when = email.utils.format_datetime(now + timedelta(seconds=7), usegmt=True)
    transport, _, sleeps = make([raw(429, "", {"Retry-After": when}), ok(None)])
    transport.request("DELETE", URL)
    assert sleeps.delays == [7.0]


def test_exponential_backoff_is_capped_and_retries_bounded() -> None:
    transport, rec, sleeps = make([raw(503, "busy")] * 6, max_retries=5, backoff_base=1.0, backoff_max=5.0)
    with pytest.raises(ServerError) as info:
        transport.request("GET", URL)
    assert sleeps.delays == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert len(rec.requests) == 6 and info.value.attempts == 6
    assert "after 6 attempts" in str(info.value)


def test_429_after_retries_raises_rate_limited_with_retry_after() -> None:
    transport, rec, sleeps = make([raw(429, "", {"Retry-After": "1"})] * 4)
    with pytest.raises(RateLimitedError) as info:
        transport.request("PUT", URL, body=b"{}")
    assert len(rec.requests) == 4 and sleeps.delays == [1.0, 1.0, 1.0]
    assert info.value.retry_after == 1.0


def test_retry_after_beyond_the_limit_is_not_waited_for() -> None:
    transport, rec, sleeps = make([raw(503, "", {"Retry-After": str(int(MAX_RETRY_AFTER) + 1)})])
    with pytest.raises(ServerError):
        transport.request("GET", URL)
    assert sleeps.delays == [] and len(rec.requests) == 1


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_no_retry_for_post_and_patch(method: str) -> None:
    transport, rec, sleeps = make([raw(503, "")])
    with pytest.raises(ServerError):
        transport.request(method, URL, body=b"{}")
    assert len(rec.requests) == 1 and sleeps.delays == []
    transport, rec, sleeps = make([httpx.ConnectError("refused")])
    with pytest.raises(TransportError):
        transport.request(method, URL, body=b"{}")
    assert len(rec.requests) == 1 and sleeps.delays == []


def test_connection_errors_and_timeouts_are_retried_then_wrapped() -> None:
    failures: list[object] = [httpx.ConnectTimeout("slow"), httpx.ReadTimeout("slow"), httpx.ConnectError("down")]
    transport, rec, sleeps = make(failures, max_retries=2)
    with pytest.raises(TransportError) as info:
        transport.request("GET", URL)
    err = info.value
    assert isinstance(err.cause, httpx.ConnectError) and err.__cause__ is err.cause
    assert sleeps.delays == [0.5, 1.0] and len(rec.requests) == 3
    assert err.request_id in str(err) and "ConnectError" in str(err) and err.attempts == 3


def test_500_is_not_retried() -> None:
    transport, rec, _ = make([raw(500, "")])
    with pytest.raises(ServerError):
        transport.request("GET", URL)
    assert len(rec.requests) == 1


# -- Logging, URLs, lifecycle --------------------------------------------------------------------


def test_debug_log_has_method_url_status_request_id_but_never_the_token(caplog: pytest.LogCaptureFixture) -> None:
    transport, rec, _ = make([raw(503, ""), ok(None), raw(401, "")], token_encoding="raw")
    with caplog.at_level(logging.DEBUG, logger="ocpi_client"):
        transport.request("GET", URL, params={"limit": 5, "api_key": "hunter2"})
        with pytest.raises(AuthenticationError):
            transport.request("GET", URL)
    text = caplog.text
    assert "GET https://peer.example.com/ocpi/2.2.1/locations" in text
    assert "HTTP 503" in text and "HTTP 200" in text
    assert rec.requests[0].headers["X-Request-ID"] in text
    assert TOKEN not in text and base64.b64encode(TOKEN.encode()).decode() not in text
    assert "hunter2" not in text and "Authorization" not in text
    assert all(r.name == "ocpi_client" for r in caplog.records)


def test_safe_url_hides_userinfo_and_secret_query_values() -> None:
    shown = safe_url("https://user:pw@h.example.com:8443/p?limit=5&token=abc&offset=0#frag")
    assert shown == "https://h.example.com:8443/p?limit=5&token=%2A%2A%2A&offset=0"


def test_transport_owns_only_the_client_it_created() -> None:
    given = httpx.Client(transport=httpx.MockTransport(lambda r: ok(None)))
    with SyncTransport(Settings(token=TOKEN), http=given) as transport:
        other = transport.with_settings(Settings(token="C"))
        assert other.settings.token == "C" and transport.settings.token == TOKEN
        other.close()
        assert not given.is_closed
    assert not given.is_closed
    own = SyncTransport(Settings(token=TOKEN))
    own.close()
    assert own._http.is_closed
    assert TOKEN not in repr(own)


def test_with_settings_shares_the_http_client_and_uses_the_new_token() -> None:
    transport, rec, _ = make([ok(None), ok(None)], token_encoding="raw")
    transport.with_settings(transport.settings.with_token("token-C")).request("GET", URL)
    transport.request("GET", URL)
    assert [r.headers["Authorization"] for r in rec.requests] == ["Token token-C", f"Token {TOKEN}"]


def test_path_segment_encodes_everything_but_unreserved() -> None:
    assert path_segment("AB-c_1.2~") == "AB-c_1.2~"
    assert path_segment("a/b c?d#e%") == "a%2Fb%20c%3Fd%23e%25"
    assert path_segment("é") == "%C3%A9"
    assert path_segment("..") == "%2E%2E"
    with pytest.raises(ValueError):
        path_segment("")


def test_link_header_parser() -> None:
    value = (
        '<https://h/p?offset=0&limit=2>; rel="prev first"; title="a, b", '
        '<https://h/p?offset=4,5&limit=2>; REL="Next"; foo=bar, <https://h/last>; rel=last'
    )
    links = parse_link_header([value, '<https://h/other>;rel="alternate"'])
    assert [target for target, _ in links] == [
        "https://h/p?offset=0&limit=2",
        "https://h/p?offset=4,5&limit=2",
        "https://h/last",
        "https://h/other",
    ]
    assert links[0][1] == {"rel": "prev first", "title": "a, b"}
    assert links[1][1] == {"rel": "Next", "foo": "bar"}
    assert parse_link_header(["garbage, <https://h/x>; rel=next"]) == [("https://h/x", {"rel": "next"})]


def test_pickled_transport_error_drops_the_httpx_cause_that_holds_the_request() -> None:
    transport, _, _ = make([httpx.ConnectError("down")], max_retries=0, token_encoding="raw")
    with pytest.raises(TransportError) as info:
        transport.request("GET", URL)
    assert info.value.cause is not None
    data = pickle.dumps(info.value)
    assert TOKEN.encode() not in data
    copy = pickle.loads(data)
    assert str(copy) == str(info.value) and copy.request_id == info.value.request_id


def test_every_own_http_client_shares_one_tls_context() -> None:
    """Transports (and the server's peer clients) reuse one SSLContext per process instead of
    loading the CA bundle for each client; certificate checks stay on."""
    import ssl

    from ocpi_runtime.client._settings import Settings
    from ocpi_runtime.client._transport import _own_http, shared_ssl_context
    from ocpi_runtime.server._outbound import peer_http_client
    from ocpi_runtime.server._settings import ServerSettings

    context = shared_ssl_context()
    assert context is shared_ssl_context()
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert _own_http(Settings(token="t"))["verify"] is context
    server = ServerSettings(base_url="http://127.0.0.1:1/ocpi", country_code="NL", party_id="EXA")
    http = peer_http_client(server, "https://peer.example.com/ocpi/versions")
    try:
        pool = http._transport._pool  # type: ignore[attr-defined]
        assert pool._ssl_context is context
    finally:
        import asyncio

        asyncio.run(http.aclose())
