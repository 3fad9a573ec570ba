"""HTTP transport of the OCPI client: one call = headers, deadline, same-origin redirects, bounded body,
retries, token-encoding fallback, envelope unwrapping and typed errors.

``SyncTransport`` and ``AsyncTransport`` have the same API (the async one's methods are coroutines).
The token is sent only to the URL asked for and to redirect targets on its origin. Settings live in
``_settings``, URL and header helpers in ``_links``, pagination in ``_pagination``.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import math
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from ._links import (
    clean_params,
    has_userinfo,
    origin,
    parse_int,
    parse_link_header,
    path_segment,
    safe_url,
)
from ._settings import DEFAULT_TIMEOUT, PeerProfile, Routing, Settings, TokenEncoding
from ._types import format_datetime, load_json
from .errors import (
    BODY_LIMIT,
    AuthenticationError,
    DeadlineExceededError,
    HttpError,
    InvalidResponseError,
    NotFoundError,
    OcpiStatusError,
    RateLimitedError,
    RedirectError,
    ResponseTooLargeError,
    ServerError,
    TransportError,
    UnsafeUrlError,
)

__all__ = [
    "AsyncPaginator",
    "AsyncTransport",
    "OcpiResponse",
    "Page",
    "Paginator",
    "PeerProfile",
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

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
"""307 and 308 are followed for every method, 301, 302 and 303 only for GET and HEAD."""

ENCODING_REFUSALS = frozenset({2000, 3000})
"""OCPI statuses that, on a versions call (``probe=True``), count as a refused token encoding."""

MAX_RETRY_AFTER = 300.0
"""A ``Retry-After`` longer than this (seconds) is not waited for: the error is raised at once."""

_ERROR_TEXT_LIMIT = 4 * BODY_LIMIT


def _now() -> datetime:
    return datetime.now(UTC)


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
    method: str = "GET"
    url: str = ""
    """The URL that answered (after redirects), fit for messages."""


# --------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------


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
    if isinstance(value, str):
        return parse_int(value)
    if isinstance(value, Decimal) and value.is_finite() and abs(value) < 10**9 and value == value.to_integral_value():
        return int(value)
    return None


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
    encoding: TokenEncoding
    deadline: float | None
    """``time.monotonic()`` by which the whole call must be over; None: no deadline."""
    explicit_timeout: bool
    """The deadline comes from the settings or the caller and covers every attempt and the waits
    between them; else it comes from the caller's httpx client and bounds each attempt alone."""
    budget: float | None = None
    probe: bool = False


@dataclass(frozen=True)
class _Reply:
    """A response whose body was read within the deadline and size cap."""

    status_code: int
    headers: httpx.Headers
    content: bytes
    url: httpx.URL

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


class _BodyReader:
    """Collects a body chunk by chunk, enforcing the size cap and the deadline."""

    def __init__(self, call: _Call, response: httpx.Response, settings: Settings) -> None:
        self._call = call
        self._response = response
        self._settings = settings
        self._chunks: list[bytes] = []
        self._size = 0
        cap = settings.max_response_bytes
        declared = parse_int(response.headers.get("content-length", ""))
        if cap is not None and declared is not None and declared > cap:
            raise self._too_large(f"Content-Length {declared}")

    def _too_large(self, found: str) -> ResponseTooLargeError:
        return ResponseTooLargeError(
            f"the response body exceeds the limit of {self._settings.max_response_bytes} bytes",
            http_status=self._response.status_code,
            request_id=self._call.request_id,
            method=self._call.method,
            url=safe_url(self._response.url),
            expected=f"at most {self._settings.max_response_bytes} bytes",
            found=found,
        )

    def add(self, chunk: bytes) -> None:
        self._size += len(chunk)
        cap = self._settings.max_response_bytes
        if cap is not None and self._size > cap:
            raise self._too_large(f"more than {cap} bytes")
        self._chunks.append(chunk)
        deadline = self._call.deadline
        if deadline is not None and time.monotonic() > deadline:
            raise _deadline_error(self._call)

    def reply(self) -> _Reply:
        r = self._response
        return _Reply(r.status_code, r.headers, b"".join(self._chunks), r.url)


def _deadline_error(call: _Call, cause: BaseException | None = None) -> DeadlineExceededError:
    return DeadlineExceededError(
        f"{call.method} {call.shown_url} did not finish within its deadline",
        method=call.method,
        url=call.shown_url,
        request_id=call.request_id,
        cause=cause,
    )


def _http_error_class(status: int) -> type[HttpError]:
    if status in (401, 403):
        return AuthenticationError
    if status == 404:
        return NotFoundError
    if status == 429:
        return RateLimitedError
    if 500 <= status <= 599:
        return ServerError
    return HttpError


def _interpret(call: _Call, reply: _Reply, attempts: int, settings: Settings) -> OcpiResponse:
    """Unwrap the envelope of a final response, or raise the matching error (peer text redacted)."""
    status = reply.status_code
    content = reply.content
    shown = safe_url(reply.url)
    text = settings.redact(content[:_ERROR_TEXT_LIMIT].decode("utf-8", "replace"))
    envelope: Any = None
    problem: str | None = None
    found: str | None = None
    if not content.strip():
        problem, found = "the body is empty, not an OCPI response", "an empty body"
    else:
        try:
            envelope = load_json(content)
        except (ValueError, RecursionError, ArithmeticError):
            problem, found = "the body is not JSON", "text that is not JSON"
    if problem is None and not isinstance(envelope, dict):
        problem, found = "the body is not an OCPI envelope (a JSON object)", f"JSON {type(envelope).__name__}"
    status_code: int | None = None
    status_message: str | None = None
    if problem is None:
        status_code = _status_code_of(envelope)
        status_message = settings.redact_any(envelope.get("status_message"))
        if status_code is None:
            raw_code = envelope.get("status_code")
            problem = (
                "the envelope has no status_code"
                if raw_code is None
                else "the envelope's status_code is not an integer"
            )
            found = "no status_code" if raw_code is None else settings.redact(repr(raw_code)[:40])

    if not 200 <= status <= 299:
        cls = _http_error_class(status)
        if status in REDIRECT_STATUSES:
            raise RedirectError(
                "redirect without a usable Location",
                target=None,
                http_status=status,
                request_id=call.request_id,
                body=text,
                method=call.method,
                url=shown,
            )
        error = cls(
            http_status=status,
            request_id=call.request_id,
            body=text,
            method=call.method,
            url=shown,
            status_code=status_code,
            status_message=status_message,
            retry_after=_retry_after(reply.headers) if status in RETRY_STATUSES else None,
            attempts=attempts,
        )
        if cls is AuthenticationError:
            hint = f" (token sent {call.encoding}-encoded"
            hint += "; token_encoding='auto' tries the other encoding)" if settings.token_encoding != "auto" else ")"
            error.message += hint
            error.args = (error.message,)
        raise error
    if problem is not None or status_code is None:
        raise InvalidResponseError(
            problem or "invalid envelope",
            http_status=status,
            request_id=call.request_id,
            body=text,
            method=call.method,
            url=shown,
            expected="an OCPI envelope with an integer status_code",
            found=found,
        )
    data = envelope.get("data")
    if not 1000 <= status_code <= 1999:
        status_error = OcpiStatusError.for_status(
            status_code,
            status_message=status_message,
            http_status=status,
            request_id=call.request_id,
            data=data,
            method=call.method,
            url=shown,
        )
        if call.probe and status_code in ENCODING_REFUSALS:
            status_error.message += f" (token sent {call.encoding}-encoded; the peer may expect the other encoding)"
            status_error.args = (status_error.message,)
        raise status_error
    timestamp = envelope.get("timestamp")
    return OcpiResponse(
        data=data,
        status_code=status_code,
        status_message=status_message,
        timestamp=None if timestamp is None else str(timestamp),
        http_status=status,
        headers=reply.headers,
        request_id=call.request_id,
        correlation_id=call.correlation_id,
        method=call.method,
        url=shown,
    )


def _refused_encoding(reply: _Reply, probe: bool) -> bool:
    """Whether the reply says the token was refused (so another encoding may work)."""
    if reply.status_code in (401, 403):
        return True
    if not probe or not 200 <= reply.status_code <= 299:
        return False
    try:
        envelope = load_json(reply.content)
    except (ValueError, RecursionError, ArithmeticError):
        return False
    return isinstance(envelope, dict) and _status_code_of(envelope) in ENCODING_REFUSALS


class _TransportBase:
    """What the sync and async transports share: settings, headers, redirect and retry policy, logging."""

    _owns_http: bool
    _http: httpx.Client | httpx.AsyncClient

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def profile(self) -> PeerProfile:
        """The peer's quirks, known or detected, and the deviations seen."""
        return self._settings.profile

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._settings!r})"

    def _budget(self, timeout: float | None) -> tuple[float | None, bool]:
        """(seconds the call may take, whether they come from the settings or the caller)."""
        if timeout is not None:
            if not timeout > 0:
                raise ValueError("timeout must be > 0")
            return timeout, True
        if self._settings.timeout is not None:
            return self._settings.timeout, True
        if self._owns_http:
            return DEFAULT_TIMEOUT, True
        t = self._http.timeout
        values = [v for v in (t.connect, t.read, t.write, t.pool) if v is not None]
        return (max(values) if values else None), False

    def _prepare(
        self,
        method: str,
        url: str,
        params: Mapping[str, str | int | None] | None,
        body: bytes | None,
        routing: Routing | None,
        correlation_id: str | None,
        timeout: float | None,
        probe: bool = False,
    ) -> _Call:
        settings = self._settings
        method = method.upper()
        full_url = httpx.URL(url)
        if has_userinfo(full_url):
            raise UnsafeUrlError(safe_url(full_url), method=method)
        query = clean_params(params)
        if query:
            full_url = full_url.copy_merge_params(query)
        request_id = str(uuid.uuid4())
        encoding = settings.encoding()
        headers = {
            "Authorization": settings.authorization(encoding),
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
        budget, explicit = self._budget(timeout)
        return _Call(
            method=method,
            url=full_url,
            shown_url=safe_url(full_url),
            headers=headers,
            body=body,
            request_id=request_id,
            correlation_id=sent_correlation,
            retryable=method in IDEMPOTENT_METHODS,
            encoding=encoding,
            deadline=None if budget is None else time.monotonic() + budget,
            explicit_timeout=explicit,
            budget=budget,
            probe=probe,
        )

    @staticmethod
    def _attempt(call: _Call) -> _Call:
        """The call as one attempt: a deadline taken from the httpx client restarts with each attempt."""
        if call.explicit_timeout or call.budget is None:
            return call
        return replace(call, deadline=time.monotonic() + call.budget)

    def _request_timeout(self, call: _Call) -> httpx.Timeout | Any:
        if call.deadline is None or not call.explicit_timeout:
            return httpx.USE_CLIENT_DEFAULT
        remaining = call.deadline - time.monotonic()
        if remaining <= 0:
            raise _deadline_error(call)
        return httpx.Timeout(remaining)

    def _redirect(self, call: _Call, reply: _Reply, hops: int) -> httpx.URL | None:
        """Where to go next for a 3xx reply (None: not a redirect); raises RedirectError when refused."""
        if reply.status_code not in REDIRECT_STATUSES:
            return None
        settings = self._settings
        shown = safe_url(reply.url)
        location = reply.headers.get("location", "").strip()
        common: dict[str, Any] = {
            "http_status": reply.status_code,
            "request_id": call.request_id,
            "method": call.method,
            "url": shown,
        }
        if not location:
            raise RedirectError("no Location header", target=None, **common)
        try:
            target = reply.url.join(location)
        except httpx.InvalidURL:
            raise RedirectError(
                "the Location is not a valid URL", target=settings.redact(location[:200]), **common
            ) from None
        shown_target = safe_url(target)
        if has_userinfo(target):
            raise RedirectError("the target carries user info", target=shown_target, **common)
        if origin(target) != origin(call.url):
            raise RedirectError(
                "the target is on another scheme, host or port (the token is not sent there)",
                target=shown_target,
                **common,
            )
        if reply.status_code in (301, 302, 303) and call.method not in ("GET", "HEAD"):
            raise RedirectError(
                f"HTTP {reply.status_code} would turn the {call.method} into a GET", target=shown_target, **common
            )
        if hops >= settings.max_redirects:
            raise RedirectError(f"more than {settings.max_redirects} redirects", target=shown_target, **common)
        if target.path == reply.url.path + "/" and target.query == reply.url.query:
            profile = settings.profile
            if profile.trailing_slash is None:
                profile.trailing_slash = True
            profile.record("trailing_slash", f"redirected to {shown_target}", method=call.method, url=shown)
        return target

    def _retry_delay(self, call: _Call, attempt: int, reply: _Reply | None) -> float | None:
        """Seconds to wait before another attempt, or None to stop (``attempt`` counts from 0)."""
        settings = self._settings
        if not call.retryable or attempt >= settings.max_retries:
            return None
        delay: float = float(min(settings.backoff_max, settings.backoff_base * 2**attempt))
        if reply is not None:
            if reply.status_code not in RETRY_STATUSES:
                return None
            asked = _retry_after(reply.headers)
            if asked is not None:
                if asked > MAX_RETRY_AFTER:
                    return None
                delay = asked
        if call.explicit_timeout and call.deadline is not None and time.monotonic() + delay >= call.deadline:
            return None
        return delay

    def _switch_encoding(self, call: _Call, reply: _Reply, switched: bool) -> _Call | None:
        """The call with the other token encoding, when ``auto`` may still try it; else None."""
        settings = self._settings
        if settings.token_encoding != "auto" or switched or settings.profile._encoding_confirmed:
            return None
        if not _refused_encoding(reply, call.probe):
            return None
        other: TokenEncoding = "raw" if call.encoding == "base64" else "base64"
        headers = {**call.headers, "Authorization": settings.authorization(other)}
        logger.info("%s %s: token refused %s-encoded, trying %s", call.method, call.shown_url, call.encoding, other)
        return replace(call, headers=headers, encoding=other)

    def _learn_encoding(self, call: _Call, switched: bool) -> None:
        profile = self._settings.profile
        if self._settings.token_encoding != "auto" or not switched or profile._encoding_confirmed:
            return
        profile.token_encoding = call.encoding
        profile._encoding_confirmed = True
        profile.record(
            "token_encoding",
            f"the peer accepts the token only {call.encoding}-encoded",
            method=call.method,
            url=call.shown_url,
        )

    def _finish(self, call: _Call, reply: _Reply, attempts: int, switched: bool) -> OcpiResponse:
        response = _interpret(call, reply, attempts, self._settings)
        self._learn_encoding(call, switched)
        return response

    @staticmethod
    def _log_response(call: _Call, reply: _Reply, started: float, attempt: int) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> HTTP %d in %.1f ms (request id %s, attempt %d)",
                call.method,
                call.shown_url,
                reply.status_code,
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
    def _transport_error(call: _Call, error: Exception, attempts: int) -> TransportError:
        if call.deadline is not None and time.monotonic() >= call.deadline - 0.01:
            return _deadline_error(call, error)
        return TransportError(
            method=call.method, url=call.shown_url, request_id=call.request_id, cause=error, attempts=attempts
        )


# --------------------------------------------------------------------------------------------------
# Transports
# --------------------------------------------------------------------------------------------------


class SyncTransport(_TransportBase):
    """Blocking transport over an ``httpx.Client`` (created and owned here unless one is given).

    A client passed in keeps its own timeout, proxies and TLS settings; redirects are always handled
    here (same origin only), whatever the client's ``follow_redirects``.
    """

    _http: httpx.Client

    def __init__(
        self,
        settings: Settings,
        *,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        super().__init__(settings)
        self._owns_http = http is None
        self._http = (
            http
            if http is not None
            else httpx.Client(timeout=settings.timeout or DEFAULT_TIMEOUT, follow_redirects=False)
        )
        self._sleep: Callable[[float], None] = sleep if sleep is not None else time.sleep

    def with_settings(self, settings: Settings) -> SyncTransport:
        """A transport with other settings (e.g. another token) sharing this one's HTTP client."""
        other = SyncTransport(settings, http=self._http, sleep=self._sleep)
        other._owns_http = self._owns_http
        return other

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

    def _send_once(self, call: _Call, url: httpx.URL) -> _Reply:
        request = self._http.build_request(
            call.method, url, content=call.body, headers=call.headers, timeout=self._request_timeout(call)
        )
        response = self._http.send(request, stream=True, follow_redirects=False)
        try:
            reader = _BodyReader(call, response, self._settings)
            for chunk in response.iter_bytes():
                reader.add(chunk)
            return reader.reply()
        finally:
            response.close()

    def _exchange(self, call: _Call) -> _Reply:
        url = call.url
        hops = 0
        while True:
            reply = self._send_once(call, url)
            target = self._redirect(call, reply, hops)
            if target is None:
                return reply
            url, hops = target, hops + 1

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str | int | None] | None = None,
        body: bytes | None = None,
        routing: Routing | None = None,
        correlation_id: str | None = None,
        timeout: float | None = None,
        probe: bool = False,
    ) -> OcpiResponse:
        """Send one OCPI request (retrying idempotent ones) and return the unwrapped response.

        ``timeout`` overrides the deadline of this call; ``probe`` marks a versions call, where an
        OCPI status 2000/3000 also counts as a refused token for ``token_encoding="auto"``.
        """
        call = self._prepare(method, url, params, body, routing, correlation_id, timeout, probe)
        attempt = 0
        switched = False
        while True:
            started = time.monotonic()
            current = self._attempt(call)
            try:
                reply = self._exchange(current)
            except httpx.HTTPError as error:
                self._log_failure(call, error, started, attempt)
                delay = self._retry_delay(call, attempt, None)
                if delay is None:
                    raise self._transport_error(current, error, attempt + 1) from error
            else:
                self._log_response(call, reply, started, attempt)
                other = self._switch_encoding(call, reply, switched)
                if other is not None:
                    call, switched = other, True
                    continue
                delay = self._retry_delay(call, attempt, reply)
                if delay is None:
                    return self._finish(call, reply, attempt + 1, switched)
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
        timeout: float | None = None,
    ) -> Paginator[T]:
        """Iterate over a paginated list (GET), one page at a time, following ``Link: rel="next"``."""
        return Paginator(
            self, url, params=params, parse=parse, routing=routing, correlation_id=correlation_id, timeout=timeout
        )


class AsyncTransport(_TransportBase):
    """Asynchronous transport over an ``httpx.AsyncClient`` (created and owned here unless one is given)."""

    _http: httpx.AsyncClient

    def __init__(
        self,
        settings: Settings,
        *,
        http: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        super().__init__(settings)
        self._owns_http = http is None
        self._http = (
            http
            if http is not None
            else httpx.AsyncClient(timeout=settings.timeout or DEFAULT_TIMEOUT, follow_redirects=False)
        )
        self._sleep: Callable[[float], Awaitable[None]] = sleep if sleep is not None else asyncio.sleep

    def with_settings(self, settings: Settings) -> AsyncTransport:
        """A transport with other settings (e.g. another token) sharing this one's HTTP client."""
        other = AsyncTransport(settings, http=self._http, sleep=self._sleep)
        other._owns_http = self._owns_http
        return other

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

    async def _send_once(self, call: _Call, url: httpx.URL) -> _Reply:
        request = self._http.build_request(
            call.method, url, content=call.body, headers=call.headers, timeout=self._request_timeout(call)
        )
        response = await self._http.send(request, stream=True, follow_redirects=False)
        try:
            reader = _BodyReader(call, response, self._settings)
            async for chunk in response.aiter_bytes():
                reader.add(chunk)
            return reader.reply()
        finally:
            await response.aclose()

    async def _redirected(self, call: _Call) -> _Reply:
        url = call.url
        hops = 0
        while True:
            reply = await self._send_once(call, url)
            target = self._redirect(call, reply, hops)
            if target is None:
                return reply
            url, hops = target, hops + 1

    async def _exchange(self, call: _Call) -> _Reply:
        if call.deadline is None:
            return await self._redirected(call)
        remaining = call.deadline - time.monotonic()
        if remaining <= 0:
            raise _deadline_error(call)
        try:
            async with asyncio.timeout(remaining):
                return await self._redirected(call)
        except TimeoutError as exc:
            raise _deadline_error(call, exc) from None

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str | int | None] | None = None,
        body: bytes | None = None,
        routing: Routing | None = None,
        correlation_id: str | None = None,
        timeout: float | None = None,
        probe: bool = False,
    ) -> OcpiResponse:
        """Send one OCPI request (retrying idempotent ones) and return the unwrapped response."""
        call = self._prepare(method, url, params, body, routing, correlation_id, timeout, probe)
        attempt = 0
        switched = False
        while True:
            started = time.monotonic()
            current = self._attempt(call)
            try:
                reply = await self._exchange(current)
            except httpx.HTTPError as error:
                self._log_failure(call, error, started, attempt)
                delay = self._retry_delay(call, attempt, None)
                if delay is None:
                    raise self._transport_error(current, error, attempt + 1) from error
            else:
                self._log_response(call, reply, started, attempt)
                other = self._switch_encoding(call, reply, switched)
                if other is not None:
                    call, switched = other, True
                    continue
                delay = self._retry_delay(call, attempt, reply)
                if delay is None:
                    return self._finish(call, reply, attempt + 1, switched)
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
        timeout: float | None = None,
    ) -> AsyncPaginator[T]:
        """Iterate (``async for``) over a paginated list, one page at a time, following ``Link`` headers."""
        return AsyncPaginator(
            self, url, params=params, parse=parse, routing=routing, correlation_id=correlation_id, timeout=timeout
        )


from ._pagination import AsyncPaginator, Page, Paginator  # noqa: E402  (pagination builds on the transports)
