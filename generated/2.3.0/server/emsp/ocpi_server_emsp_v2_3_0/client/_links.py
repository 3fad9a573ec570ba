"""URLs and header values as the client reads them: path segments, safe URLs for messages, origins,
RFC 8288 ``Link`` headers and integer headers (ASCII digits only).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import quote, urlencode

import httpx

__all__ = [
    "clean_params",
    "has_userinfo",
    "int_header",
    "join_path",
    "next_link",
    "origin",
    "origin_text",
    "parse_int",
    "parse_link_header",
    "path_segment",
    "safe_url",
]

_SENSITIVE_QUERY_WORDS = ("token", "key", "secret", "password", "auth", "signature", "credential", "session")
_DIGITS = re.compile(r"[0-9]{1,18}", re.ASCII)


def path_segment(value: str) -> str:
    """Percent-encode one URL path segment: everything but unreserved characters (A-Z a-z 0-9 - . _ ~).

    ``.`` and ``..`` are encoded too, so an id can never walk up the path; an empty id is refused.
    """
    if value == "":
        raise ValueError("an empty string cannot be a URL path segment")
    if value in (".", ".."):
        return value.replace(".", "%2E")
    return quote(value, safe="")


def clean_params(params: Mapping[str, str | int | None] | None) -> dict[str, str]:
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


def origin(url: httpx.URL) -> tuple[str, str, int | None]:
    scheme = url.scheme.lower()
    port = url.port
    if port is None:
        port = {"http": 80, "https": 443}.get(scheme)
    return scheme, url.host.lower(), port


def origin_text(url: httpx.URL) -> str:
    scheme, host, port = origin(url)
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


def next_link(headers: httpx.Headers) -> str | None:
    for target, params in parse_link_header(headers.get_list("link")):
        if "next" in params.get("rel", "").lower().split():
            return target
    return None


def parse_int(value: str) -> int | None:
    """The integer written in at most 18 ASCII digits in ``value`` (spaces around allowed), else None."""
    value = value.strip()
    return int(value) if _DIGITS.fullmatch(value) else None


def int_header(headers: httpx.Headers, name: str) -> int | None:
    """An integer header; None when absent. Raises ValueError when present but not ASCII digits."""
    value = headers.get(name)
    if value is None or not value.strip():
        return None
    number = parse_int(value)
    if number is None:
        raise ValueError(f"{name} is not an integer: {value[:40]!r}")
    return number


def has_userinfo(url: httpx.URL) -> bool:
    """Whether the URL carries ``user:password@`` (never followed: it would replace our token)."""
    return bool(url.userinfo)


def join_path(base: str, path: str) -> str:
    """``base`` (a URL exactly as a peer published it) followed by ``path`` with one ``/`` between."""
    if not path:
        return base
    return base.rstrip("/") + "/" + path.lstrip("/")
