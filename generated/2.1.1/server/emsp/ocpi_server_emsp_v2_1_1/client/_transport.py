"""HTTP transport of the OCPI client: one call = headers, deadline, same-origin redirects, bounded body,
retries, token-encoding fallback, envelope unwrapping and typed errors.

``SyncTransport`` and ``AsyncTransport`` have the same API (the async one's methods are coroutines).
The token is sent only to the URL asked for and to redirect targets on its origin. Settings live in
``_settings``, URL and header helpers in ``_links``, one call's request, reply and envelope reading
in ``_call``, pagination in ``_pagination``.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import logging
import ssl
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Generator, Mapping
from dataclasses import replace
from types import TracebackType
from typing import Any, ParamSpec, Self, TypedDict, TypeVar, Unpack, cast

import httpx

from ._call import (
    MAX_RETRY_AFTER,
    REDIRECT_STATUSES,
    RETRY_STATUSES,
    BodyReader,
    Call,
    OcpiResponse,
    Reply,
    deadline_error,
    interpret,
    refused_encoding,
    retry_after,
)
from ._links import (
    clean_params,
    has_userinfo,
    origin,
    parse_link_header,
    path_segment,
    safe_url,
)
from ._settings import DEFAULT_TIMEOUT, PeerProfile, Routing, Settings, TokenEncoding
from ._types import format_datetime
from .errors import RedirectError, TransportError, UnsafeUrlError

__all__ = [
    "MAX_RETRY_AFTER",
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

_Step = tuple[Call, httpx.URL] | float
"""What the sans-I/O core asks its driver for: send the call to that URL, or sleep that many seconds."""
_Outcome = Reply | httpx.HTTPError | None
"""What the driver sends back: the reply or the httpx error of a send, None after a sleep."""
_Steps = Generator[_Step, _Outcome, OcpiResponse]


R = TypeVar("R")
P = ParamSpec("P")


class PageOptions(TypedDict, total=False):
    """Keyword options of ``paginate`` (besides ``parse``), each one applying to every page."""

    params: Mapping[str, str | int | None] | None
    routing: Routing | None
    correlation_id: str | None
    timeout: float | None


class RequestOptions(PageOptions, total=False):
    """Keyword options of ``request``."""

    body: bytes | None
    probe: bool


Ask = tuple[Any, str, str, dict[str, Any]]
"""One request of a multi-request flow: (the transport to send it with, method, URL, ``request`` options)."""
Flow = Generator[Ask, OcpiResponse, R]
"""A sans-I/O exchange (discovery, registration): yields its requests, receives their responses."""


def drive(flow: Flow[R]) -> R:
    """Run a flow with blocking transports."""
    response: Any = None
    try:
        while True:
            via, method, url, options = flow.send(response)
            response = via.request(method, url, **options)
    except StopIteration as done:
        result: R = done.value
        return result


async def adrive(flow: Flow[R]) -> R:
    """Run a flow with asynchronous transports."""
    response: Any = None
    try:
        while True:
            via, method, url, options = flow.send(response)
            response = await via.request(method, url, **options)
    except StopIteration as done:
        result: R = done.value
        return result


def blocking(steps: Callable[P, Flow[R]]) -> Callable[P, R]:
    """The function that runs the flow ``steps`` makes with ``drive`` (same arguments)."""

    @functools.wraps(steps)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        return drive(steps(*args, **kwargs))

    return run


def awaiting(steps: Callable[P, Flow[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
    """The coroutine function that runs the flow ``steps`` makes with ``adrive`` (same arguments)."""

    @functools.wraps(steps)
    async def run(*args: P.args, **kwargs: P.kwargs) -> R:
        return await adrive(steps(*args, **kwargs))

    return run


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """The TLS settings httpx would make for each client (certificate checks on, the CA bundle and
    ``SSL_CERT_FILE``/``SSL_CERT_DIR`` as httpx reads them), made once per process: loading the CA
    bundle costs tens of milliseconds, which a server calling many peers would pay per call."""
    return httpx.create_ssl_context()


def _own_http(settings: Settings) -> dict[str, Any]:
    """Options of the httpx client a transport creates for itself."""
    return {"timeout": settings.timeout or DEFAULT_TIMEOUT, "follow_redirects": False, "verify": shared_ssl_context()}


class _TransportBase:
    """What the sync and async transports share: settings, headers, redirect and retry policy, logging."""

    _owns_http: bool
    _http: httpx.Client | httpx.AsyncClient

    def __init__(self, settings: Settings, *, owns_http: bool) -> None:
        self._settings = settings
        self._owns_http = owns_http

    def with_settings(self, settings: Settings) -> Self:
        """A transport with other settings (e.g. another token) sharing this one's HTTP client."""
        other = copy.copy(self)
        other._settings = settings
        return other

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

    def _prepare(self, method: str, url: str, options: RequestOptions) -> Call:
        if not options.keys() <= RequestOptions.__optional_keys__:
            unknown = ", ".join(sorted(options.keys() - RequestOptions.__optional_keys__))
            raise TypeError(f"request() got unexpected keyword arguments: {unknown}")
        settings = self._settings
        method = method.upper()
        full_url = httpx.URL(url)
        if has_userinfo(full_url):
            raise UnsafeUrlError(safe_url(full_url), method=method)
        query = clean_params(options.get("params"))
        if query:
            full_url = full_url.copy_merge_params(query)
        body = options.get("body")
        correlation_id = options.get("correlation_id")
        routing = options.get("routing")
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
        budget, explicit = self._budget(options.get("timeout"))
        return Call(
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
            probe=options.get("probe", False),
        )

    @staticmethod
    def _attempt(call: Call) -> Call:
        """The call as one attempt: a deadline taken from the httpx client restarts with each attempt."""
        if call.explicit_timeout or call.budget is None:
            return call
        return replace(call, deadline=time.monotonic() + call.budget)

    def _request_timeout(self, call: Call) -> httpx.Timeout | Any:
        if call.deadline is None or not call.explicit_timeout:
            return httpx.USE_CLIENT_DEFAULT
        remaining = call.deadline - time.monotonic()
        if remaining <= 0:
            raise deadline_error(call)
        return httpx.Timeout(remaining)

    def _redirect(self, call: Call, reply: Reply, hops: int) -> httpx.URL | None:
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

    def _retry_delay(self, call: Call, attempt: int, reply: Reply | None) -> float | None:
        """Seconds to wait before another attempt, or None to stop (``attempt`` counts from 0)."""
        settings = self._settings
        if not call.retryable or attempt >= settings.max_retries:
            return None
        delay: float = float(min(settings.backoff_max, settings.backoff_base * 2**attempt))
        if reply is not None:
            if reply.status_code not in RETRY_STATUSES:
                return None
            asked = retry_after(reply.headers)
            if asked is not None:
                if asked > MAX_RETRY_AFTER:
                    return None
                delay = asked
        if call.explicit_timeout and call.deadline is not None and time.monotonic() + delay >= call.deadline:
            return None
        return delay

    def _switch_encoding(self, call: Call, reply: Reply, switched: bool) -> Call | None:
        """The call with the other token encoding, when ``auto`` may still try it; else None."""
        settings = self._settings
        if settings.token_encoding != "auto" or switched or settings.profile._encoding_confirmed:
            return None
        if not refused_encoding(reply, call.probe):
            return None
        other: TokenEncoding = "raw" if call.encoding == "base64" else "base64"
        headers = {**call.headers, "Authorization": settings.authorization(other)}
        logger.info("%s %s: token refused %s-encoded, trying %s", call.method, call.shown_url, call.encoding, other)
        return replace(call, headers=headers, encoding=other)

    def _learn_encoding(self, call: Call, switched: bool) -> None:
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

    def _finish(self, call: Call, reply: Reply, attempts: int, switched: bool) -> OcpiResponse:
        response = interpret(call, reply, attempts, self._settings)
        self._learn_encoding(call, switched)
        return response

    def _steps(self, call: Call) -> _Steps:
        """One request without I/O: retries, token-encoding fallback and redirects, written once.

        Yields ``(call, url)`` to be sent (the driver sends back the Reply or the httpx error) or a
        delay in seconds to sleep; returns the unwrapped response. The drivers only do the I/O.
        """
        attempt = 0
        switched = False
        while True:
            started = time.monotonic()
            current = self._attempt(call)
            outcome = yield from self._hops(current)
            self._log_outcome(call, outcome, started, attempt)
            if isinstance(outcome, httpx.HTTPError):
                delay = self._retry_delay(call, attempt, None)
                if delay is None:
                    raise self._transport_error(current, outcome, attempt + 1) from outcome
            else:
                other = self._switch_encoding(call, outcome, switched)
                if other is not None:
                    call, switched = other, True
                    continue
                delay = self._retry_delay(call, attempt, outcome)
                if delay is None:
                    return self._finish(call, outcome, attempt + 1, switched)
            self._log_retry(call, delay, attempt)
            yield delay
            attempt += 1

    def _hops(self, call: Call) -> Generator[_Step, _Outcome, Reply | httpx.HTTPError]:
        """One attempt: the call's URL, then each same-origin redirect target."""
        url = call.url
        hops = 0
        while True:
            outcome = yield call, url
            if not isinstance(outcome, Reply):
                return cast(httpx.HTTPError, outcome)
            target = self._redirect(call, outcome, hops)
            if target is None:
                return outcome
            url, hops = target, hops + 1

    @staticmethod
    def _log_outcome(call: Call, outcome: Reply | Exception, started: float, attempt: int) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            if isinstance(outcome, Reply):
                result = f"HTTP {outcome.status_code} in"
            else:
                result = f"{type(outcome).__name__} after"
            logger.debug(
                "%s %s -> %s %.1f ms (request id %s, attempt %d)",
                call.method,
                call.shown_url,
                result,
                (time.monotonic() - started) * 1000,
                call.request_id,
                attempt + 1,
            )

    @staticmethod
    def _log_retry(call: Call, delay: float, attempt: int) -> None:
        logger.info(
            "retrying %s %s in %.2f s (request id %s, retry %d)",
            call.method,
            call.shown_url,
            delay,
            call.request_id,
            attempt + 1,
        )

    @staticmethod
    def _transport_error(call: Call, error: Exception, attempts: int) -> TransportError:
        if call.deadline is not None and time.monotonic() >= call.deadline - 0.01:
            return deadline_error(call, error)
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
        super().__init__(settings, owns_http=http is None)
        self._http = http if http is not None else httpx.Client(**_own_http(settings))
        self._sleep: Callable[[float], None] = sleep if sleep is not None else time.sleep

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

    def _send_once(self, call: Call, url: httpx.URL) -> Reply:
        request = self._http.build_request(
            call.method, url, content=call.body, headers=call.headers, timeout=self._request_timeout(call)
        )
        response = self._http.send(request, stream=True, follow_redirects=False)
        try:
            reader = BodyReader(call, response, self._settings)
            if call.deadline is not None and call.explicit_timeout:
                # Each read of the body may wait at most what is left of the deadline (checked
                # again after every chunk), not the whole timeout the headers were given.
                request.extensions["timeout"] = self._request_timeout(call).as_dict()
            for chunk in response.iter_bytes():
                reader.add(chunk)
            return reader.reply()
        finally:
            response.close()

    def _perform(self, step: _Step) -> _Outcome:
        if not isinstance(step, tuple):
            self._sleep(step)
            return None
        try:
            return self._send_once(*step)
        except httpx.HTTPError as error:
            return error

    def request(self, method: str, url: str, **options: Unpack[RequestOptions]) -> OcpiResponse:
        """Send one OCPI request (retrying idempotent ones) and return the unwrapped response.

        ``timeout`` overrides the deadline of this call; ``probe`` marks a versions call, where an
        OCPI status 2000/3000 also counts as a refused token for ``token_encoding="auto"``.
        """
        steps = self._steps(self._prepare(method, url, options))
        outcome: _Outcome = None
        try:
            while True:
                outcome = self._perform(steps.send(outcome))
        except StopIteration as done:
            response: OcpiResponse = done.value
            return response

    def paginate(self, url: str, *, parse: Callable[[Any], T], **options: Unpack[PageOptions]) -> Paginator[T]:
        """Iterate over a paginated list (GET), one page at a time, following ``Link: rel="next"``."""
        return Paginator(self, url, parse=parse, **options)


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
        super().__init__(settings, owns_http=http is None)
        self._http = http if http is not None else httpx.AsyncClient(**_own_http(settings))
        self._sleep: Callable[[float], Awaitable[None]] = sleep if sleep is not None else asyncio.sleep

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

    async def _send_once(self, call: Call, url: httpx.URL) -> Reply:
        if call.deadline is None:
            return await self._read(call, url)
        remaining = call.deadline - time.monotonic()
        if remaining <= 0:
            raise deadline_error(call)
        try:
            async with asyncio.timeout(remaining):
                return await self._read(call, url)
        except TimeoutError as exc:
            raise deadline_error(call, exc) from None

    async def _read(self, call: Call, url: httpx.URL) -> Reply:
        request = self._http.build_request(
            call.method, url, content=call.body, headers=call.headers, timeout=self._request_timeout(call)
        )
        response = await self._http.send(request, stream=True, follow_redirects=False)
        try:
            reader = BodyReader(call, response, self._settings)
            async for chunk in response.aiter_bytes():
                reader.add(chunk)
            return reader.reply()
        finally:
            await response.aclose()

    async def _perform(self, step: _Step) -> _Outcome:
        if not isinstance(step, tuple):
            await self._sleep(step)
            return None
        try:
            return await self._send_once(*step)
        except httpx.HTTPError as error:
            return error

    async def request(self, method: str, url: str, **options: Unpack[RequestOptions]) -> OcpiResponse:
        """Send one OCPI request (retrying idempotent ones) and return the unwrapped response."""
        steps = self._steps(self._prepare(method, url, options))
        outcome: _Outcome = None
        try:
            while True:
                outcome = await self._perform(steps.send(outcome))
        except StopIteration as done:
            response: OcpiResponse = done.value
            return response

    def paginate(self, url: str, *, parse: Callable[[Any], T], **options: Unpack[PageOptions]) -> AsyncPaginator[T]:
        """Iterate (``async for``) over a paginated list, one page at a time, following ``Link`` headers."""
        return AsyncPaginator(self, url, parse=parse, **options)


from ._pagination import AsyncPaginator, Page, Paginator  # noqa: E402  (pagination builds on the transports)
