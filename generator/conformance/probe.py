"""HTTP for the conformance checks: plain httpx (the checks need the raw headers and bytes), every
request recorded as an ``Exchange`` for the report, and lenient readers of what comes back."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from generator.conformance.report import BODY_LIMIT, Exchange

#: Response headers a report shows.
SHOWN_HEADERS = (
    "content-type",
    "link",
    "x-total-count",
    "x-limit",
    "x-request-id",
    "x-correlation-id",
    "ocpi-from-country-code",
    "ocpi-from-party-id",
    "ocpi-to-country-code",
    "ocpi-to-party-id",
    "retry-after",
    "www-authenticate",
)

_NOT_SET: Any = object()

#: A credentials token in a JSON text: reports show ``"token": "***"`` instead.
_TOKEN_VALUE = re.compile(r'("token"\s*:\s*)"(?:[^"\\]|\\.)*"')


def redact(text: str) -> str:
    """``text`` with the value of every ``"token"`` member replaced by ``***``."""
    return _TOKEN_VALUE.sub(r'\1"***"', text)


@dataclass
class Answer:
    """An answer: the response (None when the request failed) and the body read as JSON (or None)."""

    response: httpx.Response | None
    json: Any
    exchange: Exchange

    @property
    def status(self) -> int | None:
        return None if self.response is None else self.response.status_code

    def header(self, name: str) -> str | None:
        return None if self.response is None else self.response.headers.get(name)

    @property
    def envelope(self) -> dict[str, Any] | None:
        return self.json if isinstance(self.json, dict) and "status_code" in self.json else None

    @property
    def data(self) -> Any:
        env = self.envelope
        return None if env is None else env.get("data")

    @property
    def status_code(self) -> Any:
        env = self.envelope
        return None if env is None else env.get("status_code")


class Probe:
    """Sends requests with the token in the version's encoding; keeps every exchange in ``log``."""

    def __init__(self, token: str, token_base64: bool, *, timeout: float = 20.0, verify: bool = True) -> None:
        self.token = token
        self.token_base64 = token_base64
        self.client = httpx.Client(timeout=timeout, follow_redirects=False, verify=verify)
        self.log: list[Exchange] = []

    def close(self) -> None:
        self.client.close()

    def authorization(self, token: str | None = None, *, base64_form: bool | None = None) -> str:
        token = self.token if token is None else token
        encode = self.token_base64 if base64_form is None else base64_form
        return "Token " + (base64.b64encode(token.encode()).decode() if encode else token)

    def request(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        body: Any = _NOT_SET,
        auth: str | None = _NOT_SET,
        follow: int = 3,
    ) -> Answer:
        """One request; ``auth`` is the whole Authorization value (None: none sent; default: our token).
        Redirects (307/308 to trailing-slash forms are common) are followed ``follow`` times."""
        sent = dict(headers or {})
        if auth is _NOT_SET:
            sent["Authorization"] = self.authorization()
        elif auth is not None:
            sent["Authorization"] = auth
        content = None
        if body is not _NOT_SET:
            content = dumps(body).encode()
            sent["Content-Type"] = "application/json"
        request = self.client.build_request(method, url, params=params, headers=sent, content=content)
        shown = {k: ("Token ***" if k.lower() == "authorization" else v) for k, v in sent.items()}
        exchange = Exchange(
            method, str(request.url), shown, None if content is None else redact(content.decode())[:BODY_LIMIT]
        )
        self.log.append(exchange)
        try:
            response = self.client.send(request)
            response.read()
        except httpx.HTTPError as exc:
            exchange.error = f"{type(exc).__name__}: {exc}"
            return Answer(None, None, exchange)
        if response.status_code in (301, 302, 303, 307, 308) and follow and "location" in response.headers:
            exchange.status = response.status_code
            exchange.response_headers = {"location": response.headers["location"]}
            target = urljoin(str(request.url), response.headers["location"])
            kept = None if method == "GET" and response.status_code == 303 else body
            return self.request(method, target, headers=headers, body=kept, auth=auth, follow=follow - 1)
        exchange.status = response.status_code
        exchange.response_headers = {k: v for k, v in response.headers.items() if k.lower() in SHOWN_HEADERS}
        text = redact(response.text)
        exchange.body = text[:BODY_LIMIT] + ("..." if len(text) > BODY_LIMIT else "")
        try:
            parsed = json.loads(response.content, parse_float=Decimal) if response.content else None
        except ValueError:
            parsed = None
        return Answer(response, parsed, exchange)


def dumps(data: Any) -> str:
    return json.dumps(data, default=lambda o: float(o) if isinstance(o, Decimal) else str(o))


_REL_NEXT = re.compile(r"<([^>]*)>\s*;[^,]*\brel\s*=\s*\"?next\"?", re.IGNORECASE)


def next_link(answer: Answer) -> str | None:
    """The URL of a ``Link: <...>; rel="next"`` header as written (maybe relative), or None."""
    value = answer.header("link")
    if not value:
        return None
    found = _REL_NEXT.search(value)
    return found.group(1).strip() if found else None


def same_origin(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme.lower(), pa.hostname, pa.port or _port(pa.scheme)) == (
        pb.scheme.lower(),
        pb.hostname,
        pb.port or _port(pb.scheme),
    )


def _port(scheme: str) -> int:
    return 443 if scheme.lower() == "https" else 80


def is_absolute(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def instant(value: Any) -> datetime | None:
    """An OCPI DateTime as an aware datetime (no zone: UTC), or None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def as_int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None
