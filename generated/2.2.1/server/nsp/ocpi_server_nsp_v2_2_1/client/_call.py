"""One call of the transport: what was sent (``Call``), what came back (``Reply``, read within the
deadline and size cap by ``BodyReader``) and what that means (``interpret``: the unwrapped
``OcpiResponse`` or a typed error, peer text redacted).
"""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx

from ._links import parse_int, safe_url
from ._settings import Settings, TokenEncoding
from ._types import load_json
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
)

__all__ = [
    "ENCODING_REFUSALS",
    "MAX_RETRY_AFTER",
    "REDIRECT_STATUSES",
    "RETRY_STATUSES",
    "BodyReader",
    "Call",
    "OcpiResponse",
    "Reply",
    "deadline_error",
    "interpret",
    "refused_encoding",
    "retry_after",
]


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
    may_hold_null: bool = True
    """False when the body has no ``null`` anywhere: lenient reading then skips looking for nulls."""


def retry_after(headers: httpx.Headers) -> float | None:
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


@dataclass(frozen=True)
class Call:
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
class Reply:
    """A response whose body was read within the deadline and size cap."""

    status_code: int
    headers: httpx.Headers
    content: bytes
    url: httpx.URL

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


class BodyReader:
    """Collects a body chunk by chunk, enforcing the size cap and the deadline."""

    def __init__(self, call: Call, response: httpx.Response, settings: Settings) -> None:
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
            raise deadline_error(self._call)

    def reply(self) -> Reply:
        r = self._response
        return Reply(r.status_code, r.headers, b"".join(self._chunks), r.url)


def deadline_error(call: Call, cause: BaseException | None = None) -> DeadlineExceededError:
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


def interpret(call: Call, reply: Reply, attempts: int, settings: Settings) -> OcpiResponse:
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

    reply_facts: dict[str, Any] = {
        "http_status": status,
        "request_id": call.request_id,
        "body": text,
        "method": call.method,
        "url": shown,
    }
    if not 200 <= status <= 299:
        cls = _http_error_class(status)
        if status in REDIRECT_STATUSES:
            raise RedirectError("redirect without a usable Location", target=None, **reply_facts)
        error = cls(
            **reply_facts,
            status_code=status_code,
            status_message=status_message,
            retry_after=retry_after(reply.headers) if status in RETRY_STATUSES else None,
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
            **reply_facts,
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
        may_hold_null=b"null" in content,
    )


def refused_encoding(reply: Reply, probe: bool) -> bool:
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
