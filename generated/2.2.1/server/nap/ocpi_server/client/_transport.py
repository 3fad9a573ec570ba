"""HTTP transport of the OCPI client: headers, retries, envelope unwrapping, errors, pagination.

``SyncTransport`` and ``AsyncTransport`` have the same API (the async one's methods are coroutines).
A transport sends the token only to the URLs it is asked to call; pagination follows ``Link`` headers
only on the scheme, host and port of the first request.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import math
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from types import TracebackType
from typing import Any, Generic, Literal, Self, TypeVar
from urllib.parse import quote, urlencode

import httpx
from pydantic import ValidationError

from ._types import Deviation, error_details, format_datetime, load_json
from ._wire import encode_authorization
from .errors import (
    AuthenticationError,
    HttpError,
    InvalidResponseError,
    NotFoundError,
    OcpiStatusError,
    PaginationError,
    RateLimitedError,
    ServerError,
    TransportError,
    UnsafeLinkError,
)

__all__ = [
    "AsyncPaginator",
    "AsyncTransport",
    "OcpiResponse",
    "Page",
    "Paginator",
    "Routing",
    "Settings",
    "SyncTransport",
    "format_datetime",
    "parse_link_header",
    "path_segment",
]

logger = logging.getLogger("ocpi_client")

T = TypeVar("T")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
"""Methods retried after a connection failure, a timeout, HTTP 503 or HTTP 429 (never POST or PATCH)."""

RETRY_STATUSES = frozenset({429, 503})

MAX_RETRY_AFTER = 300.0
"""A ``Retry-After`` longer than this (seconds) is not waited for: the error is raised at once."""

_SENSITIVE_QUERY_WORDS = ("token", "key", "secret", "password", "auth", "signature", "credential", "session")


def _now() -> datetime:
    return datetime.now(UTC)


# --------------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Routing:
    """OCPI 2.2+ routing headers: which party a request comes from and is meant for."""

    from_country_code: str | None = None
    from_party_id: str | None = None
    to_country_code: str | None = None
    to_party_id: str | None = None

    def headers(self) -> dict[str, str]:
        """The ``OCPI-from-*`` / ``OCPI-to-*`` headers for the fields that are set."""
        pairs = (
            ("OCPI-from-country-code", self.from_country_code),
            ("OCPI-from-party-id", self.from_party_id),
            ("OCPI-to-country-code", self.to_country_code),
            ("OCPI-to-party-id", self.to_party_id),
        )
        return {name: value for name, value in pairs if value is not None}


@dataclass(frozen=True)
class Settings:
    """How a transport talks to one peer. The token never appears in ``repr``."""

    token: str = field(repr=False)
    token_encoding: Literal["base64", "raw"] = "base64"
    routing_headers: bool = True
    """False for OCPI 2.1.1: routing headers are then never sent."""
    request_id_headers: bool = True
    """False for OCPI 2.1.1: no X-Request-ID / X-Correlation-ID headers."""
    routing: Routing | None = None
    timeout: float = 30.0
    max_retries: int = 3
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    lenient: bool = True
    """Skip list items that fail validation (recorded as deviations) instead of raising."""
    user_agent: str = "ocpi-codegen-client"

    def __post_init__(self) -> None:
        if not isinstance(self.token, str):
            raise TypeError("Settings.token must be a str")
        if self.token_encoding not in ("base64", "raw"):
            raise ValueError(f"token_encoding must be 'base64' or 'raw', not {self.token_encoding!r}")
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if not self.timeout > 0:
            raise ValueError("timeout must be > 0")
        if self.backoff_base < 0 or self.backoff_max < 0:
            raise ValueError("backoff_base and backoff_max must be >= 0")

    def with_token(self, token: str) -> Settings:
        """The same settings with another token (e.g. token C after the credentials handshake)."""
        return replace(self, token=token)

    def authorization(self) -> str:
        """The ``Authorization`` header value: ``Token <base64(utf-8 token)>`` or ``Token <token>``."""
        return encode_authorization(self.token, base64_encode=self.token_encoding != "raw")


@dataclass(frozen=True)
class OcpiResponse:
    """A successful (1xxx) OCPI response, unwrapped from its envelope."""

    data: Any
    """The envelope's ``data``, as parsed JSON (numbers that are not integers are exact Decimals)."""
    status_code: int
    status_message: str | None
    timestamp: str | None
    http_status: int
    headers: httpx.Headers
    request_id: str
    correlation_id: str | None


# --------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------


def path_segment(value: str) -> str:
    """Percent-encode one URL path segment: everything but unreserved characters (A-Z a-z 0-9 - . _ ~).

    ``.`` and ``..`` are encoded too, so an id can never walk up the path; an empty id is refused.
    """
    if value == "":
        raise ValueError("an empty string cannot be a URL path segment")
    if value in (".", ".."):
        return value.replace(".", "%2E")
    return quote(value, safe="")


def _clean_params(params: Mapping[str, str | int | None] | None) -> dict[str, str]:
    if not params:
        return {}
    return {name: str(value) for name, value in params.items() if value is not None}


def safe_url(url: httpx.URL | str) -> str:
    """A URL fit for logs and errors: no user info, no fragment, secret-looking query values hidden."""
    parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
    text = ""
    if parsed.scheme:
        text += parsed.scheme + "://"
    if parsed.host:
        text += parsed.netloc.decode("ascii", "replace")
    text += parsed.path
    if parsed.query:
        items = [
            (name, "***" if any(word in name.lower() for word in _SENSITIVE_QUERY_WORDS) else value)
            for name, value in parsed.params.multi_items()
        ]
        text += "?" + urlencode(items)
    return text


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    scheme = url.scheme.lower()
    port = url.port
    if port is None:
        port = {"http": 80, "https": 443}.get(scheme)
    return scheme, url.host.lower(), port


def _origin_text(url: httpx.URL) -> str:
    scheme, host, port = _origin(url)
    return f"{scheme}://{host}" + (f":{port}" if port is not None else "")


def parse_link_header(values: Iterable[str]) -> list[tuple[str, dict[str, str]]]:
    """Parse ``Link`` header values (RFC 8288) into ``(target, params)``; param names lower-cased.

    Handles several links per value, several values, quoted parameters with escapes, commas inside
    ``<...>`` and unknown parameters.
    """
    links: list[tuple[str, dict[str, str]]] = []
    for value in values:
        i, n = 0, len(value)
        while i < n:
            while i < n and value[i] in " \t,":
                i += 1
            if i >= n:
                break
            if value[i] != "<":  # malformed link-value: skip to the next one
                comma = value.find(",", i)
                i = n if comma < 0 else comma + 1
                continue
            end = value.find(">", i + 1)
            if end < 0:
                break
            target = value[i + 1 : end].strip()
            i = end + 1
            params: dict[str, str] = {}
            while True:
                while i < n and value[i] in " \t":
                    i += 1
                if i >= n or value[i] != ";":
                    break
                i += 1
                while i < n and value[i] in " \t":
                    i += 1
                start = i
                while i < n and value[i] not in "=;, \t":
                    i += 1
                name = value[start:i].lower()
                while i < n and value[i] in " \t":
                    i += 1
                param = ""
                if i < n and value[i] == "=":
                    i += 1
                    while i < n and value[i] in " \t":
                        i += 1
                    if i < n and value[i] == '"':
                        i += 1
                        chars: list[str] = []
                        while i < n and value[i] != '"':
                            if value[i] == "\\" and i + 1 < n:
                                i += 1
                            chars.append(value[i])
                            i += 1
                        i += 1
                        param = "".join(chars)
                    else:
                        start = i
                        while i < n and value[i] not in ";, \t":
                            i += 1
                        param = value[start:i]
                if name and name not in params:
                    params[name] = param
            while i < n and value[i] != ",":
                i += 1
            links.append((target, params))
    return links


def _next_link(headers: httpx.Headers) -> str | None:
    for target, params in parse_link_header(headers.get_list("link")):
        if "next" in params.get("rel", "").lower().split():
            return target
    return None


def _int_header(headers: httpx.Headers, name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    value = value.strip()
    return int(value) if value.isdigit() else None


def _retry_after(headers: httpx.Headers) -> float | None:
    """Seconds asked for by ``Retry-After`` (delta-seconds or an HTTP date), None if absent or invalid."""
    value = headers.get("retry-after")
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - _now()).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def _status_code_of(envelope: Mapping[str, Any]) -> int | None:
    value = envelope.get("status_code")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    return None


def _text_or_none(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


# --------------------------------------------------------------------------------------------------
# One logical call
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Call:
    method: str
    url: httpx.URL
    shown_url: str
    headers: dict[str, str] = field(repr=False)
    body: bytes | None
    request_id: str
    correlation_id: str | None
    retryable: bool


def _http_error_class(status: int) -> type[HttpError]:
    if status == 401:
        return AuthenticationError
    if status == 404:
        return NotFoundError
    if status == 429:
        return RateLimitedError
    if 500 <= status <= 599:
        return ServerError
    return HttpError


def _interpret(call: _Call, response: httpx.Response, attempts: int) -> OcpiResponse:
    """Unwrap the envelope of a final response, or raise the matching error."""
    status = response.status_code
    content = response.content
    envelope: Any = None
    problem: str | None = None
    if not content.strip():
        problem = "the body is empty, not an OCPI response"
    else:
        try:
            envelope = load_json(content)
        except (ValueError, RecursionError):
            problem = "the body is not JSON"
    if problem is None and not isinstance(envelope, dict):
        problem = "the body is not an OCPI envelope (a JSON object)"
    status_code: int | None = None
    status_message: str | None = None
    if problem is None:
        status_code = _status_code_of(envelope)
        status_message = _text_or_none(envelope.get("status_message"))
        if status_code is None:
            problem = (
                "the envelope has no status_code"
                if envelope.get("status_code") is None
                else "the envelope's status_code is not an integer"
            )

    if not 200 <= status <= 299:
        cls = _http_error_class(status)
        raise cls(
            http_status=status,
            request_id=call.request_id,
            body=response.text,
            method=call.method,
            url=call.shown_url,
            status_code=status_code,
            status_message=status_message,
            retry_after=_retry_after(response.headers) if status in RETRY_STATUSES else None,
            attempts=attempts,
        )
    if problem is not None or status_code is None:
        raise InvalidResponseError(
            problem or "invalid envelope",
            http_status=status,
            request_id=call.request_id,
            body=response.text,
            method=call.method,
            url=call.shown_url,
        )
    data = envelope.get("data")
    if not 1000 <= status_code <= 1999:
        raise OcpiStatusError.for_status(
            status_code,
            status_message=status_message,
            http_status=status,
            request_id=call.request_id,
            data=data,
            method=call.method,
            url=call.shown_url,
        )
    return OcpiResponse(
        data=data,
        status_code=status_code,
        status_message=status_message,
        timestamp=_text_or_none(envelope.get("timestamp")),
        http_status=status,
        headers=response.headers,
        request_id=call.request_id,
        correlation_id=call.correlation_id,
    )


class _TransportBase:
    """What the sync and async transports share: settings, headers, retry policy, logging."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    @property
    def settings(self) -> Settings:
        return self._settings

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._settings!r})"

    def _prepare(
        self,
        method: str,
        url: str,
        params: Mapping[str, str | int | None] | None,
        body: bytes | None,
        routing: Routing | None,
        correlation_id: str | None,
    ) -> _Call:
        settings = self._settings
        method = method.upper()
        full_url = httpx.URL(url)
        query = _clean_params(params)
        if query:
            full_url = full_url.copy_merge_params(query)
        request_id = str(uuid.uuid4())
        headers = {
            "Authorization": settings.authorization(),
            "Accept": "application/json",
            "User-Agent": settings.user_agent,
        }
        if body is not None:
            headers["Content-Type"] = "application/json"
        sent_correlation: str | None = correlation_id
        if settings.request_id_headers:
            sent_correlation = correlation_id or str(uuid.uuid4())
            headers["X-Request-ID"] = request_id
            headers["X-Correlation-ID"] = sent_correlation
        if settings.routing_headers:
            chosen = routing if routing is not None else settings.routing
            if chosen is not None:
                headers.update(chosen.headers())
        return _Call(
            method=method,
            url=full_url,
            shown_url=safe_url(full_url),
            headers=headers,
            body=body,
            request_id=request_id,
            correlation_id=sent_correlation,
            retryable=method in IDEMPOTENT_METHODS,
        )

    def _retry_delay(self, call: _Call, attempt: int, response: httpx.Response | None) -> float | None:
        """Seconds to wait before another attempt, or None to stop (``attempt`` counts from 0)."""
        settings = self._settings
        if not call.retryable or attempt >= settings.max_retries:
            return None
        if response is not None:
            if response.status_code not in RETRY_STATUSES:
                return None
            asked = _retry_after(response.headers)
            if asked is not None:
                return None if asked > MAX_RETRY_AFTER else asked
        return float(min(settings.backoff_max, settings.backoff_base * 2**attempt))

    @staticmethod
    def _log_response(call: _Call, response: httpx.Response, started: float, attempt: int) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> HTTP %d in %.1f ms (request id %s, attempt %d)",
                call.method,
                call.shown_url,
                response.status_code,
                (time.monotonic() - started) * 1000,
                call.request_id,
                attempt + 1,
            )

    @staticmethod
    def _log_failure(call: _Call, error: Exception, started: float, attempt: int) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> %s after %.1f ms (request id %s, attempt %d)",
                call.method,
                call.shown_url,
                type(error).__name__,
                (time.monotonic() - started) * 1000,
                call.request_id,
                attempt + 1,
            )

    @staticmethod
    def _log_retry(call: _Call, delay: float, attempt: int) -> None:
        logger.info(
            "retrying %s %s in %.2f s (request id %s, retry %d)",
            call.method,
            call.shown_url,
            delay,
            call.request_id,
            attempt + 1,
        )

    @staticmethod
    def _transport_error(call: _Call, error: httpx.TransportError, attempts: int) -> TransportError:
        return TransportError(
            method=call.method, url=call.shown_url, request_id=call.request_id, cause=error, attempts=attempts
        )


# --------------------------------------------------------------------------------------------------
# Transports
# --------------------------------------------------------------------------------------------------


class SyncTransport(_TransportBase):
    """Blocking transport over an ``httpx.Client`` (created and owned here unless one is given)."""

    def __init__(
        self,
        settings: Settings,
        *,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        super().__init__(settings)
        self._owns_http = http is None
        self._http = http if http is not None else httpx.Client(timeout=settings.timeout, follow_redirects=False)
        self._sleep: Callable[[float], None] = sleep if sleep is not None else time.sleep

    def with_settings(self, settings: Settings) -> SyncTransport:
        """A transport with other settings (e.g. another token) sharing this one's HTTP client."""
        return SyncTransport(settings, http=self._http, sleep=self._sleep)

    def close(self) -> None:
        """Close the HTTP client if this transport created it."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str | int | None] | None = None,
        body: bytes | None = None,
        routing: Routing | None = None,
        correlation_id: str | None = None,
    ) -> OcpiResponse:
        """Send one OCPI request (retrying idempotent ones) and return the unwrapped response."""
        call = self._prepare(method, url, params, body, routing, correlation_id)
        attempt = 0
        while True:
            started = time.monotonic()
            try:
                response = self._http.request(
                    call.method,
                    call.url,
                    content=call.body,
                    headers=call.headers,
                    timeout=self._settings.timeout,
                    follow_redirects=False,
                )
            except httpx.TransportError as error:
                self._log_failure(call, error, started, attempt)
                delay = self._retry_delay(call, attempt, None)
                if delay is None:
                    raise self._transport_error(call, error, attempt + 1) from error
            else:
                self._log_response(call, response, started, attempt)
                delay = self._retry_delay(call, attempt, response)
                if delay is None:
                    return _interpret(call, response, attempt + 1)
            self._log_retry(call, delay, attempt)
            self._sleep(delay)
            attempt += 1

    def paginate(
        self,
        url: str,
        *,
        params: Mapping[str, str | int | None] | None = None,
        parse: Callable[[Any], T],
        routing: Routing | None = None,
        correlation_id: str | None = None,
    ) -> Paginator[T]:
        """Iterate over a paginated list (GET), one page at a time, following ``Link: rel="next"``."""
        return Paginator(self, url, params=params, parse=parse, routing=routing, correlation_id=correlation_id)


class AsyncTransport(_TransportBase):
    """Asynchronous transport over an ``httpx.AsyncClient`` (created and owned here unless one is given)."""

    def __init__(
        self,
        settings: Settings,
        *,
        http: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        super().__init__(settings)
        self._owns_http = http is None
        self._http = http if http is not None else httpx.AsyncClient(timeout=settings.timeout, follow_redirects=False)
        self._sleep: Callable[[float], Awaitable[None]] = sleep if sleep is not None else asyncio.sleep

    def with_settings(self, settings: Settings) -> AsyncTransport:
        """A transport with other settings (e.g. another token) sharing this one's HTTP client."""
        return AsyncTransport(settings, http=self._http, sleep=self._sleep)

    async def aclose(self) -> None:
        """Close the HTTP client if this transport created it."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str | int | None] | None = None,
        body: bytes | None = None,
        routing: Routing | None = None,
        correlation_id: str | None = None,
    ) -> OcpiResponse:
        """Send one OCPI request (retrying idempotent ones) and return the unwrapped response."""
        call = self._prepare(method, url, params, body, routing, correlation_id)
        attempt = 0
        while True:
            started = time.monotonic()
            try:
                response = await self._http.request(
                    call.method,
                    call.url,
                    content=call.body,
                    headers=call.headers,
                    timeout=self._settings.timeout,
                    follow_redirects=False,
                )
            except httpx.TransportError as error:
                self._log_failure(call, error, started, attempt)
                delay = self._retry_delay(call, attempt, None)
                if delay is None:
                    raise self._transport_error(call, error, attempt + 1) from error
            else:
                self._log_response(call, response, started, attempt)
                delay = self._retry_delay(call, attempt, response)
                if delay is None:
                    return _interpret(call, response, attempt + 1)
            self._log_retry(call, delay, attempt)
            await self._sleep(delay)
            attempt += 1

    def paginate(
        self,
        url: str,
        *,
        params: Mapping[str, str | int | None] | None = None,
        parse: Callable[[Any], T],
        routing: Routing | None = None,
        correlation_id: str | None = None,
    ) -> AsyncPaginator[T]:
        """Iterate (``async for``) over a paginated list, one page at a time, following ``Link`` headers."""
        return AsyncPaginator(self, url, params=params, parse=parse, routing=routing, correlation_id=correlation_id)


# --------------------------------------------------------------------------------------------------
# Pagination
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a paginated list."""

    items: list[T]
    total_count: int | None
    limit: int | None
    next_url: str | None
    response: OcpiResponse
    deviations: list[Deviation] = field(default_factory=list)
    """Items of this page that failed validation (lenient mode), indexed in the whole stream."""


class _PaginatorBase(Generic[T]):
    """State shared by the sync and async paginators; holds at most one page at a time."""

    total_count: int | None
    """``X-Total-Count`` of the last page fetched."""
    limit: int | None
    """``X-Limit`` of the last page fetched."""
    deviations: list[Deviation]
    """Items that failed ``parse`` (lenient mode), with their index in the whole stream."""
    pages_fetched: int

    def __init__(
        self,
        settings: Settings,
        url: str,
        *,
        params: Mapping[str, str | int | None] | None,
        parse: Callable[[Any], T],
        routing: Routing | None,
        correlation_id: str | None,
    ) -> None:
        self.total_count = None
        self.limit = None
        self.deviations = []
        self.pages_fetched = 0
        self._lenient = settings.lenient
        self._parse = parse
        self._routing = routing
        # One correlation id for every page of the list: it is one logical operation.
        self._correlation_id = correlation_id or (str(uuid.uuid4()) if settings.request_id_headers else None)
        self._params = params
        self._first = True
        start = httpx.URL(url)
        query = _clean_params(params)
        self._origin_url = start.copy_merge_params(query) if query else start
        self._origin = _origin(start)
        self._next_url: str | None = url
        self._current_url = self._origin_url
        self._stream_index = 0

    @property
    def next_url(self) -> str | None:
        """The URL of the next page to fetch, None once the last page was fetched."""
        return self._next_url

    def _next_request(self) -> tuple[str, Mapping[str, str | int | None] | None]:
        if self._next_url is None:  # pragma: no cover - callers check first
            raise PaginationError("no further page")
        if self._first:
            self._first = False
            return self._next_url, self._params
        return self._next_url, None

    def _accept(self, response: OcpiResponse) -> Page[T]:
        data = response.data
        current = self._current_url
        if not isinstance(data, list):
            self._next_url = None
            raise InvalidResponseError(
                "a page's data is not a JSON list",
                http_status=response.http_status,
                request_id=response.request_id,
                method="GET",
                url=safe_url(current),
            )
        items: list[T] = []
        deviations: list[Deviation] = []
        base = self._stream_index
        for offset, raw in enumerate(data):
            try:
                items.append(self._parse(raw))
            except ValidationError as exc:
                if not self._lenient:
                    self._next_url = None
                    raise
                deviation = Deviation(index=base + offset, errors=error_details(exc), raw=raw)
                deviations.append(deviation)
                logger.debug("skipped invalid list item %s (request id %s)", deviation, response.request_id)
        self._stream_index += len(data)
        self.deviations.extend(deviations)
        self.total_count = _int_header(response.headers, "X-Total-Count")
        self.limit = _int_header(response.headers, "X-Limit")
        self.pages_fetched += 1
        next_url = self._resolve_next(response, current)
        self._next_url = next_url
        return Page(
            items=items,
            total_count=self.total_count,
            limit=self.limit,
            next_url=next_url,
            response=response,
            deviations=deviations,
        )

    def _resolve_next(self, response: OcpiResponse, current: httpx.URL) -> str | None:
        link = _next_link(response.headers)
        if link is None:
            return None
        try:
            target = current.join(link)
        except httpx.InvalidURL as exc:
            self._next_url = None
            raise PaginationError(
                f"invalid next link {link!r}: {exc}", url=link, request_id=response.request_id
            ) from None
        if _origin(target) != self._origin:
            self._next_url = None
            raise UnsafeLinkError(link, origin=_origin_text(self._origin_url), request_id=response.request_id)
        if target == current:
            self._next_url = None
            raise PaginationError(
                f"next link {safe_url(target)} points to the page just fetched",
                url=str(target),
                request_id=response.request_id,
            )
        self._current_url = target
        return str(target)


class Paginator(_PaginatorBase[T]):
    """Iterator over the items of a paginated list; fetches a page only when the previous one is used up.

    ``pages()`` iterates over whole pages instead (use one or the other).
    """

    def __init__(
        self,
        transport: SyncTransport,
        url: str,
        *,
        params: Mapping[str, str | int | None] | None = None,
        parse: Callable[[Any], T],
        routing: Routing | None = None,
        correlation_id: str | None = None,
    ) -> None:
        super().__init__(
            transport.settings,
            url,
            params=params,
            parse=parse,
            routing=routing,
            correlation_id=correlation_id,
        )
        self._transport = transport
        self._items: Iterator[T] = iter(())

    def _fetch(self) -> Page[T]:
        url, params = self._next_request()
        response = self._transport.request(
            "GET", url, params=params, routing=self._routing, correlation_id=self._correlation_id
        )
        return self._accept(response)

    def __iter__(self) -> Paginator[T]:
        return self

    def __next__(self) -> T:
        while True:
            for item in self._items:
                return item
            if self._next_url is None:
                raise StopIteration
            self._items = iter(())  # drop the used-up page before fetching the next
            self._items = iter(self._fetch().items)

    def pages(self) -> Iterator[Page[T]]:
        """Iterate over the remaining pages."""
        while self._next_url is not None:
            self._items = iter(())
            yield self._fetch()


class AsyncPaginator(_PaginatorBase[T]):
    """Async iterator over the items of a paginated list; fetches a page only when the previous one is used up."""

    def __init__(
        self,
        transport: AsyncTransport,
        url: str,
        *,
        params: Mapping[str, str | int | None] | None = None,
        parse: Callable[[Any], T],
        routing: Routing | None = None,
        correlation_id: str | None = None,
    ) -> None:
        super().__init__(
            transport.settings,
            url,
            params=params,
            parse=parse,
            routing=routing,
            correlation_id=correlation_id,
        )
        self._transport = transport
        self._items: Iterator[T] = iter(())

    async def _fetch(self) -> Page[T]:
        url, params = self._next_request()
        response = await self._transport.request(
            "GET", url, params=params, routing=self._routing, correlation_id=self._correlation_id
        )
        return self._accept(response)

    def __aiter__(self) -> AsyncPaginator[T]:
        return self

    async def __anext__(self) -> T:
        while True:
            for item in self._items:
                return item
            if self._next_url is None:
                raise StopAsyncIteration
            self._items = iter(())
            self._items = iter((await self._fetch()).items)

    async def pages(self) -> AsyncIterator[Page[T]]:
        """Iterate over the remaining pages."""
        while self._next_url is not None:
            self._items = iter(())
            yield await self._fetch()
