"""Paginated lists: follow ``Link: rel="next"`` page by page, losing nothing.

Every valid object of a page is handed out before an error about the page's next link is raised.
When the link is missing, unsafe or malformed but ``X-Total-Count`` and the page size are known,
lenient mode (or ``PeerProfile.link_repair``) goes on by ``offset``/``limit`` on the published URL. A
page URL seen twice stops the list (a cycle), and so does ``Settings.max_pages``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import httpx

from ._links import clean_params, has_userinfo, int_header, next_link, origin, origin_text, safe_url
from ._reading import READ_ERRORS, describe, drop_nulls, error_summary
from ._types import Deviation
from .errors import InvalidResponseError, LinkCycleError, OcpiError, PaginationError, UnsafeLinkError

if TYPE_CHECKING:
    from ._transport import AsyncTransport, OcpiResponse, SyncTransport

__all__ = ["AsyncPaginator", "Page", "Paginator"]

logger = logging.getLogger("ocpi_client")

T = TypeVar("T")

_NULL_WORDS = frozenset({"none", "null", "undefined", "nan"})


def _invalid(response: OcpiResponse, message: str, *, expected: str, found: str) -> InvalidResponseError:
    """The error for a page (a GET) whose content is not what a paginated list must carry."""
    return InvalidResponseError(
        message,
        http_status=response.http_status,
        request_id=response.request_id,
        method="GET",
        url=response.url,
        expected=expected,
        found=found,
    )


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

    _transport: SyncTransport | AsyncTransport

    def __init__(
        self,
        transport: SyncTransport | AsyncTransport,
        url: str,
        *,
        params: Mapping[str, str | int | None] | None = None,
        parse: Callable[[Any], T],
        routing: Any = None,
        correlation_id: str | None = None,
        timeout: float | None = None,
    ) -> None:
        settings = transport.settings
        self._transport = transport
        self._items: Iterator[T] = iter(())
        self.total_count = None
        self.limit = None
        self.deviations = []
        self.pages_fetched = 0
        self._settings = settings
        self._lenient = settings.lenient
        self._parse = parse
        self._routing = routing
        self._timeout = timeout
        # One correlation id for every page of the list: it is one logical operation.
        self._correlation_id = correlation_id or (str(uuid.uuid4()) if settings.request_id_headers else None)
        self._params = params
        self._first = True
        start = httpx.URL(url)
        query = clean_params(params)
        self._origin_url = start.copy_merge_params(query) if query else start
        self._origin = origin(start)
        self._next_url: str | None = url
        self._current_url = self._origin_url
        self._stream_index = 0
        self._page_size = 0
        self._seen: set[str] = set()
        self._pending: OcpiError | None = None

    @property
    def next_url(self) -> str | None:
        """The URL of the next page to fetch, None once the last page was fetched."""
        return self._next_url

    def _raise_pending(self) -> None:
        error, self._pending = self._pending, None
        if error is not None:
            raise error

    def _needs_page(self) -> bool:
        """Whether to fetch the next page (False at the end); raises the error held for after the last items."""
        self._raise_pending()
        if self._next_url is None:
            return False
        self._items = iter(())  # drop the used-up page before fetching the next
        return True

    def _request(self) -> dict[str, Any]:
        """The arguments of the transport's ``request`` for the next page."""
        url, params = self._next_request()
        return {
            "method": "GET",
            "url": url,
            "params": params,
            "routing": self._routing,
            "correlation_id": self._correlation_id,
            "timeout": self._timeout,
        }

    def _next_request(self) -> tuple[str, Mapping[str, str | int | None] | None]:
        if self._next_url is None:  # pragma: no cover - callers check first
            raise PaginationError("no further page")
        max_pages = self._settings.max_pages
        if max_pages is not None and self.pages_fetched >= max_pages:
            self._next_url = None
            raise PaginationError(f"the list has more than {max_pages} pages (Settings.max_pages)")
        if self._first:
            self._first = False
            self._seen.add(str(self._origin_url))
            return self._next_url, self._params
        return self._next_url, None

    def _parse_page(self, data: list[Any], response: OcpiResponse) -> tuple[list[T], list[Deviation]]:
        """A page's items, validated in one call when the parse function can (``many``) and no
        null needs dropping first; else item by item, which also finds and reports a bad item."""
        check_nulls = self._lenient and response.may_hold_null
        many = getattr(self._parse, "many", None)
        if many is not None and not check_nulls:
            try:
                items: list[T] = many(data)
                return items, []
            except READ_ERRORS:
                pass  # the loop below tells which item is bad (and skips it, when lenient)
        items = []
        deviations: list[Deviation] = []
        base = self._stream_index
        for offset, raw in enumerate(data):
            item, deviation = self._parse_item(raw, base + offset, response, check_nulls)
            if deviation is not None:
                deviations.append(deviation)
                logger.debug("skipped invalid list item %s (request id %s)", deviation, response.request_id)
            else:
                items.append(item)  # type: ignore[arg-type]
        return items, deviations

    def _parse_item(
        self, raw: Any, index: int, response: OcpiResponse, check_nulls: bool
    ) -> tuple[T | None, Deviation | None]:
        profile = self._settings.profile
        if check_nulls:
            raw, dropped = drop_nulls(raw)
            if dropped:
                profile.record("null_fields", f"null in {dropped} field(s) ignored", method="GET", url=response.url)
        try:
            return self._parse(raw), None
        except READ_ERRORS as exc:
            if not self._lenient:
                self._next_url = None
                raise _invalid(
                    response,
                    f"item {index} of the page is not valid: {self._settings.redact(error_summary(exc))}",
                    expected="a valid list item",
                    found=describe(raw),
                ) from None
            errors = [{"loc": (), "msg": error_summary(exc), "type": type(exc).__name__}]
            if hasattr(exc, "errors"):
                try:
                    errors = [dict(e) for e in exc.errors(include_url=False)]
                except Exception:  # pragma: no cover - a non-pydantic errors() method
                    pass
            profile.record("invalid_item", f"item {index} skipped", method="GET", url=response.url)
            return None, Deviation(index=index, errors=errors, raw=raw)

    def _header_int(self, response: OcpiResponse, name: str) -> int | None:
        try:
            return int_header(response.headers, name)
        except ValueError as exc:
            message = self._settings.redact(str(exc))
            if not self._lenient:
                self._pending = self._pending or _invalid(
                    response,
                    message,
                    expected=f"{name} in ASCII digits",
                    found=repr(response.headers.get(name, ""))[:40],
                )
            self._settings.profile.record("bad_header", message, method="GET", url=response.url)
            return None

    def _accept(self, response: OcpiResponse) -> Page[T]:
        data = response.data
        if not isinstance(data, list):
            self._next_url = None
            raise _invalid(
                response,
                "a page's data is not a JSON list",
                expected="a JSON list",
                found=describe(data),
            )
        items, deviations = self._parse_page(data, response)
        self._stream_index += len(data)
        self.deviations.extend(deviations)
        self.total_count = self._header_int(response, "X-Total-Count")
        self.limit = self._header_int(response, "X-Limit")
        self._page_size = max(self._page_size, self.limit or 0, len(data))
        self.pages_fetched += 1
        self._next_url = self._resolve_next(response, len(data))
        return Page(
            items=items,
            total_count=self.total_count,
            limit=self.limit,
            next_url=self._next_url,
            response=response,
            deviations=deviations,
        )

    def _link_problem(self, link: str, response: OcpiResponse) -> tuple[httpx.URL | None, OcpiError | None]:
        """The next page's URL from the link, or the error that makes it unusable."""
        redact = self._settings.redact
        try:
            target = self._current_url.join(link)
        except httpx.InvalidURL as exc:
            return None, PaginationError(
                f"invalid next link {redact(link[:200])!r}: {exc}",
                url=redact(link[:200]),
                request_id=response.request_id,
            )
        if has_userinfo(target) or origin(target) != self._origin:
            return None, UnsafeLinkError(
                redact(link[:300]), origin=origin_text(self._origin_url), request_id=response.request_id
            )
        bad = [name for name, value in target.params.multi_items() if value.strip().lower() in _NULL_WORDS]
        if bad:
            return None, PaginationError(
                f"next link {safe_url(target)} is malformed (parameter {bad[0]} has no value)",
                url=safe_url(target),
                request_id=response.request_id,
            )
        if str(target) in self._seen:
            return None, LinkCycleError(
                f"next link {safe_url(target)} points to a page already fetched (a cycle)",
                url=safe_url(target),
                request_id=response.request_id,
            )
        return target, None

    def _offset_url(self) -> httpx.URL | None:
        """The next page by offset and limit on the published URL, when total and page size are known."""
        total = self.total_count
        if total is None or self._page_size <= 0 or self._stream_index >= total:
            return None
        base = self._origin_url
        if self._settings.profile.trailing_slash and not base.path.endswith("/"):
            base = base.copy_with(path=base.path + "/")  # learnt from a redirect: skip it
        target = base.copy_merge_params({"offset": str(self._stream_index), "limit": str(self._page_size)})
        return None if str(target) in self._seen else target

    def _resolve_next(self, response: OcpiResponse, received: int) -> str | None:
        link = next_link(response.headers)
        problem: OcpiError | None = None
        target: httpx.URL | None = None
        if link:
            target, problem = self._link_problem(link, response)
        if target is None and received > 0 and not isinstance(problem, LinkCycleError):
            profile = self._settings.profile
            if self._lenient or profile.link_repair:
                repaired = self._offset_url()
                if repaired is not None:
                    why = "no next link" if problem is None else f"unusable next link ({problem.message})"
                    if problem is not None and profile.link_repair is None:
                        profile.link_repair = True
                    profile.record(
                        "link_repaired",
                        f"{why}; paging on by offset {self._stream_index}",
                        method="GET",
                        url=response.url,
                    )
                    target, problem = repaired, None
                elif problem is not None and self.total_count is not None and self._stream_index >= self.total_count:
                    # Every object announced is in: a broken link after them costs nothing.
                    profile.record(
                        "link_ignored", f"{problem.message} after the last object", method="GET", url=response.url
                    )
                    problem = None
        if problem is not None:
            self._pending = self._pending or problem
            return None
        if target is None:
            return None
        self._seen.add(str(target))
        self._current_url = target
        return str(target)


class Paginator(_PaginatorBase[T]):
    """Iterator over the items of a paginated list; fetches a page only when the previous one is used up.

    ``pages()`` iterates over whole pages instead (use one or the other).
    """

    _transport: SyncTransport

    def _fetch(self) -> Page[T]:
        return self._accept(self._transport.request(**self._request()))

    def __iter__(self) -> Paginator[T]:
        return self

    def __next__(self) -> T:
        while True:
            for item in self._items:
                return item
            if not self._needs_page():
                raise StopIteration
            self._items = iter(self._fetch().items)

    def pages(self) -> Iterator[Page[T]]:
        """Iterate over the remaining pages."""
        while self._needs_page():
            yield self._fetch()


class AsyncPaginator(_PaginatorBase[T]):
    """Async iterator over the items of a paginated list; fetches a page only when the previous one is used up."""

    _transport: AsyncTransport

    async def _fetch(self) -> Page[T]:
        return self._accept(await self._transport.request(**self._request()))

    def __aiter__(self) -> AsyncPaginator[T]:
        return self

    async def __anext__(self) -> T:
        while True:
            for item in self._items:
                return item
            if not self._needs_page():
                raise StopAsyncIteration
            self._items = iter((await self._fetch()).items)

    async def pages(self) -> AsyncIterator[Page[T]]:
        """Iterate over the remaining pages."""
        while self._needs_page():
            yield await self._fetch()
