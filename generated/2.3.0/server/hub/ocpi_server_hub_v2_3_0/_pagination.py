"""Pagination of OCPI GET list endpoints: query parameters in, ``Link``/``X-*`` headers out.

Static: copied verbatim into every generated server package; names no OCPI version's models.

* ``date_from`` is inclusive, ``date_to`` exclusive; both are OCPI DateTimes with or without a zone
  (no zone means UTC) and come out in the store's fixed-precision UTC form.
* ``offset`` defaults to 0; ``limit`` to ``settings.default_limit``; a ``limit`` above
  ``settings.max_limit`` is capped (never an error). Malformed values are 400/2001 naming the
  parameter.
* The ``Link`` to the next page is absolute and keeps every query parameter of the request with
  only ``offset`` changed; if the request's ``limit`` was capped, the link carries the capped
  value (as in the spec's example), so following it yields the same page size.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlsplit

from fastapi import Request
from starlette.responses import Response

from ._envelope import INVALID_PARAMETERS, OcpiHTTPError, ocpi_json_response
from ._json import RawJSONArray
from ._settings import ServerSettings
from ._time import canonical_datetime

__all__ = ["PageParams", "page_params", "paginated_response", "pagination_headers"]

_DIGITS = re.compile(r"[0-9]{1,18}")


@dataclass(frozen=True)
class PageParams:
    """The validated pagination parameters of one request."""

    offset: int
    limit: int
    """The effective limit (after capping)."""
    date_from: str | None = None
    """Inclusive lower bound, fixed-precision UTC text, or None."""
    date_to: str | None = None
    """Exclusive upper bound, fixed-precision UTC text, or None."""


def _bad(name: str, reason: str) -> OcpiHTTPError:
    return OcpiHTTPError(400, INVALID_PARAMETERS, f"Invalid query parameter {name}: {reason}")


def _date(params: Mapping[str, str], name: str) -> str | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return canonical_datetime(raw, query=True)
    except ValueError:
        raise _bad(name, "expected an OCPI DateTime such as 2015-06-29T20:39:09Z") from None


def _integer(params: Mapping[str, str], name: str) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if not _DIGITS.fullmatch(raw.strip()):
        raise _bad(name, "expected a non-negative integer")
    return int(raw.strip())


def _query(raw: str) -> dict[str, str]:
    """What ``request.query_params`` holds (the last value of a repeated name), without the
    multi-dict: ``parse_qsl(raw, keep_blank_values=True)``, split by hand when nothing in it is
    escaped (no ``%``, no ``+``), which is what parse_qsl would then find."""
    if "%" in raw or "+" in raw:
        return dict(parse_qsl(raw, keep_blank_values=True))
    out: dict[str, str] = {}
    for pair in raw.split("&"):
        if pair:
            name, _, value = pair.partition("=")
            out[name] = value
    return out


def page_params(request: Request, settings: ServerSettings) -> PageParams:
    """Read ``date_from``, ``date_to``, ``offset`` and ``limit`` from the query string."""
    params = _query(request.scope.get("query_string", b"").decode("latin-1"))
    date_from = _date(params, "date_from")
    date_to = _date(params, "date_to")
    offset = _integer(params, "offset")
    limit = _integer(params, "limit")
    if limit is not None and limit < 1:
        raise _bad("limit", "must be at least 1")
    effective = settings.default_limit if limit is None else min(limit, settings.max_limit)
    return PageParams(offset=offset or 0, limit=effective, date_from=date_from, date_to=date_to)


def _under(path: str, base: str) -> bool:
    return not base or path == base or path.startswith(base + "/")


@lru_cache(maxsize=16)
def _split_base(base_url: str) -> tuple[str, str]:
    """``(origin, path)`` of the configured base URL."""
    base = urlsplit(base_url)
    return f"{base.scheme}://{base.netloc}", base.path.rstrip("/")


def _next_query(raw: str, next_offset: int, limit: int) -> str:
    """The request's query string with ``offset`` set to ``next_offset`` (first, when it was
    absent) and a capped ``limit`` lowered to ``limit``; every other parameter as the client wrote it."""
    out: list[str] = []
    seen_offset = False
    escaped = "%" in raw or "+" in raw
    for pair in raw.split("&") if raw else ():
        key, _, value = pair.partition("=")
        name = unquote_plus(key) if escaped else key
        if name == "offset":
            if not seen_offset:
                out.append(f"offset={next_offset}")
                seen_offset = True
            continue
        if name == "limit":
            asked = (unquote_plus(value) if escaped else value).strip()
            if _DIGITS.fullmatch(asked) and int(asked) > limit:
                pair = f"{key}={limit}"  # the request's limit was capped: say what the server serves
        out.append(pair)
    if not seen_offset:
        out.insert(0, f"offset={next_offset}")
    return "&".join(out)


def _next_url(request: Request, settings: ServerSettings, next_offset: int, limit: int) -> str:
    query = _next_query(request.scope.get("query_string", b"").decode("latin-1"), next_offset, limit)
    # The path as Starlette's request.url has it, without building the whole URL.
    path = request.scope["path"].replace("?", "%3F").replace("#", "%23").replace("\\", "%5C")
    origin, base_path = _split_base(settings.base_url)
    if not _under(path, base_path):
        origin = f"{request.url.scheme}://{request.url.netloc}"
    return f"{origin}{path}?{query}"


def pagination_headers(
    request: Request, *, offset: int, limit: int, returned: int, total: int, settings: ServerSettings
) -> dict[str, str]:
    """``X-Total-Count``, ``X-Limit`` and, unless this is the last page, ``Link: <...>; rel="next"``.

    ``limit`` is the effective (capped) limit, ``returned`` the number of objects in this page and
    ``total`` the count of all objects matching the filters.
    """
    headers = {"X-Total-Count": str(total), "X-Limit": str(limit)}
    if returned > 0 and offset + returned < total:
        headers["Link"] = f'<{_next_url(request, settings, offset + returned, limit)}>; rel="next"'
    return headers


def paginated_response(
    request: Request,
    settings: ServerSettings,
    page: PageParams,
    items: Sequence[Any],
    total: int,
    *,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The envelope with ``items`` as data plus the pagination headers (and any ``headers``)."""
    all_headers = pagination_headers(
        request, offset=page.offset, limit=page.limit, returned=len(items), total=total, settings=settings
    )
    if headers:
        all_headers = {**headers, **all_headers}
    return ocpi_json_response(items if isinstance(items, (list, RawJSONArray)) else list(items), headers=all_headers)
