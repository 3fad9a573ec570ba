"""Exceptions raised by the OCPI client.

Every error carries what is needed to debug a failed call (HTTP status, OCPI status, the request id
sent as ``X-Request-ID``, the start of the body) and never a token. ``str()`` of an error is one
readable line that ends with the request id when there is one.
"""

from __future__ import annotations

from typing import Any, TypedDict, Unpack

__all__ = [
    "AuthenticationError",
    "DeadlineExceededError",
    "HttpError",
    "InvalidResponseError",
    "LinkCycleError",
    "ModuleNotOfferedError",
    "NotFoundError",
    "OcpiClientError",
    "OcpiError",
    "OcpiHubError",
    "OcpiServerError",
    "OcpiStatusError",
    "PaginationError",
    "RateLimitedError",
    "RedirectError",
    "ResponseTooLargeError",
    "ServerError",
    "TransportError",
    "UnsafeLinkError",
    "UnsafeUrlError",
    "VersionNegotiationError",
]

BODY_LIMIT = 500
"""How many characters of a response body an error keeps."""


def _one_line(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _rebuild(cls: type[OcpiError], args: tuple[Any, ...], state: dict[str, Any]) -> OcpiError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class OcpiError(Exception):
    """Base of every error the OCPI client raises."""

    request_id: str | None = None
    method: str | None = None
    url: str | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        text = _one_line(self.message, 1000)
        if self.request_id:
            text += f" [request id {self.request_id}]"
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructors do not survive Exception's default pickling. A wrapped httpx
        # exception is left out: it references the request, whose headers hold the token.
        state = {key: value for key, value in self.__dict__.items() if not isinstance(value, BaseException)}
        return (_rebuild, (type(self), self.args, state))


def _where(method: str | None, url: str | None) -> str:
    if method and url:
        return f"{method} {url}"
    return url or method or "request"


class TransportError(OcpiError):
    """The peer could not be reached: connection failure, timeout, protocol error (wraps httpx's)."""

    def __init__(
        self,
        message: str | None = None,
        *,
        method: str | None = None,
        url: str | None = None,
        request_id: str | None = None,
        cause: BaseException | None = None,
        attempts: int = 1,
    ) -> None:
        if message is None:
            reason = f"{type(cause).__name__}: {cause}" if cause is not None else "transport failure"
            tries = f" after {attempts} attempts" if attempts > 1 else ""
            message = f"{_where(method, url)} failed{tries}: {reason}"
        super().__init__(message)
        self.method = method
        self.url = url
        self.request_id = request_id
        self.cause = cause
        self.attempts = attempts


class DeadlineExceededError(TransportError):
    """The call did not finish (connect, headers, body and retries) within its deadline."""


class UnsafeUrlError(OcpiError):
    """A URL to call carries user info (``user:password@``): refused, it would replace our token."""

    def __init__(self, url: str, *, method: str | None = None) -> None:
        super().__init__(f"refusing to call {url}: user info in a URL is not allowed")
        self.url = url
        self.method = method


class ReplyFacts(TypedDict, total=False):
    """Where a reply came from, kept by every error about a reply: request id, method, URL."""

    request_id: str
    method: str | None
    url: str | None


class _ReplyError(OcpiError):
    """An error about a peer's reply: keeps its HTTP status, request id, method and URL."""

    request_id: str

    def __init__(self, message: str, http_status: int, reply: ReplyFacts) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.request_id = reply.get("request_id", "")
        self.method = reply.get("method")
        self.url = reply.get("url")


class HttpError(_ReplyError):
    """The peer answered with an HTTP status outside 2xx."""

    def __init__(
        self,
        message: str | None = None,
        *,
        http_status: int,
        body: str = "",
        status_code: int | None = None,
        status_message: str | None = None,
        retry_after: float | None = None,
        attempts: int = 1,
        **reply: Unpack[ReplyFacts],
    ) -> None:
        body = body[:BODY_LIMIT]
        if message is None:
            message = f"{_where(reply.get('method'), reply.get('url'))} returned HTTP {http_status}"
            if status_code is not None:
                message += f", OCPI status {status_code}"
            detail = status_message or body
            if detail:
                message += f": {_one_line(detail)}"
            if attempts > 1:
                message += f" (after {attempts} attempts)"
        super().__init__(message, http_status, reply)
        self.body = body
        self.status_code = status_code
        self.status_message = status_message
        self.retry_after = retry_after
        self.attempts = attempts


class AuthenticationError(HttpError):
    """HTTP 401 or 403: the token was not accepted."""


class RedirectError(HttpError):
    """A redirect the client does not follow: to another origin, with user info, a method change,
    too many hops or no ``Location``; ``target`` names where it pointed."""

    def __init__(self, reason: str, *, target: str | None, http_status: int, **kwargs: Any) -> None:
        where = _where(kwargs.get("method"), kwargs.get("url"))
        message = f"{where} returned HTTP {http_status} redirecting to {target or 'nowhere'}: {reason}"
        super().__init__(message, http_status=http_status, **kwargs)
        self.target = target
        self.reason = reason


class NotFoundError(HttpError):
    """HTTP 404: no such object or endpoint (``status_code`` is set when the body was an envelope)."""


class ServerError(HttpError):
    """HTTP 5xx (after the retries allowed for idempotent calls)."""


class RateLimitedError(HttpError):
    """HTTP 429 (after the retries allowed for idempotent calls); see ``retry_after``."""


class InvalidResponseError(_ReplyError):
    """The body is not an OCPI response: not JSON, no envelope, or an envelope without status_code."""

    def __init__(
        self,
        message: str,
        *,
        http_status: int,
        body: str = "",
        expected: str | None = None,
        found: str | None = None,
        **reply: Unpack[ReplyFacts],
    ) -> None:
        body = body[:BODY_LIMIT]
        full = f"{_where(reply.get('method'), reply.get('url'))} (HTTP {http_status}): {message}"
        if expected is not None:
            full += f"; expected {expected}" + (f", found {found}" if found is not None else "")
        if body:
            full += f"; body: {_one_line(body, 120)}"
        super().__init__(full, http_status, reply)
        self.reason = message
        self.expected = expected
        self.found = found
        self.body = body


class ResponseTooLargeError(InvalidResponseError):
    """The response body is larger than ``Settings.max_response_bytes``; reading stopped there."""


class OcpiStatusError(_ReplyError):
    """The envelope's ``status_code`` is not a success (1xxx)."""

    def __init__(
        self,
        message: str | None = None,
        *,
        status_code: int,
        status_message: str | None = None,
        http_status: int = 200,
        data: Any = None,
        **reply: Unpack[ReplyFacts],
    ) -> None:
        if message is None:
            message = f"{_where(reply.get('method'), reply.get('url'))} returned OCPI status {status_code}"
            if status_message:
                message += f": {_one_line(status_message)}"
            if http_status != 200:
                message += f" (HTTP {http_status})"
        super().__init__(message, http_status, reply)
        self.status_code = status_code
        self.status_message = status_message
        self.data = data

    @staticmethod
    def for_status(
        status_code: int,
        *,
        status_message: str | None = None,
        http_status: int = 200,
        data: Any = None,
        **reply: Unpack[ReplyFacts],
    ) -> OcpiStatusError:
        """The subclass matching the status code's range (2xxx, 3xxx, 4xxx; others: this class)."""
        cls: type[OcpiStatusError]
        if 2000 <= status_code <= 2999:
            cls = OcpiClientError
        elif 3000 <= status_code <= 3999:
            cls = OcpiServerError
        elif 4000 <= status_code <= 4999:
            cls = OcpiHubError
        else:
            cls = OcpiStatusError
        return cls(status_code=status_code, status_message=status_message, http_status=http_status, data=data, **reply)


class OcpiClientError(OcpiStatusError):
    """OCPI status 2xxx: the peer says our request was wrong (e.g. 2001 invalid parameters)."""


class OcpiServerError(OcpiStatusError):
    """OCPI status 3xxx: the peer failed to handle the request (e.g. 3001 unable to use the client's API)."""


class OcpiHubError(OcpiStatusError):
    """OCPI status 4xxx: the hub could not route the request (e.g. 4001 unknown receiver)."""


class PaginationError(OcpiError):
    """Following a paginated list went wrong."""

    def __init__(self, message: str, *, url: str | None = None, request_id: str | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.request_id = request_id


class LinkCycleError(PaginationError):
    """A ``Link: rel="next"`` points to a page of the list that was already fetched."""


class UnsafeLinkError(PaginationError):
    """A ``Link: rel="next"`` points to another scheme, host or port; the token is not sent there."""

    def __init__(self, link: str, *, origin: str, request_id: str | None = None) -> None:
        super().__init__(
            f"refusing to follow next link {link!r}: it leaves {origin} (another scheme, host or port)",
            url=link,
            request_id=request_id,
        )
        self.link = link
        self.origin = origin


class ModuleNotOfferedError(OcpiError):
    """The peer does not list this module (in this role) among its endpoints."""

    def __init__(
        self,
        module: str,
        role: str | None = None,
        *,
        version: str | None = None,
        offered: list[str] | None = None,
    ) -> None:
        what = f"module {module!r}" + (f" as {role}" if role else "")
        message = f"the peer does not offer {what}"
        if version:
            message += f" in OCPI {version}"
        if offered is not None:
            message += f"; it offers: {', '.join(offered) if offered else 'nothing'}"
        super().__init__(message)
        self.module = module
        self.role = role
        self.version = version
        self.offered = offered


class VersionNegotiationError(OcpiError):
    """No OCPI version both sides support, the wanted one is missing, or a versions/details reply is unusable."""

    def __init__(
        self,
        message: str,
        *,
        peer_versions: list[str] | None = None,
        supported: list[str] | None = None,
        wanted: str | None = None,
    ) -> None:
        super().__init__(message)
        self.peer_versions = peer_versions
        self.supported = supported
        self.wanted = wanted
