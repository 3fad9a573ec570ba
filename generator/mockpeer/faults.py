"""Switchable faults of the mock peer: an ASGI middleware wrapped around a generated server.

Two kinds of switch, all in one ``Faults`` object that may change while the peer runs (from a test,
or over HTTP on the admin route ``/_mock/faults``: GET shows them, PUT/PATCH/POST sets the fields
named in a JSON object, DELETE clears them):

* transport faults, to test a client: ``delay`` (seconds before each answer), ``status_5xx`` (HTTP
  status of a bare server error), ``rate_limit`` (429 with ``Retry-After`` of this many seconds),
  ``wrong_token_encoding`` (only the encoding this version does not use is accepted), ``broken_links``
  (``Link`` points at a page that does not exist), ``drop_connection`` (the connection is closed
  half-way through the answer). ``every`` applies 5xx, 429 and dropped connections to every n-th
  request only (1: all of them);
* misbehaviours, one per conformance check, to show that the check catches them (names in
  ``MISBEHAVIOURS``).
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Admin route of the mock peer, outside the OCPI base path.
ADMIN_PATH = "/_mock/faults"

#: Misbehaviours a conformance check must catch, each with what the peer then does.
MISBEHAVIOURS: dict[str, str] = {
    "versions_missing_own": "the versions list leaves out the peer's version",
    "details_relative_urls": "version details give relative endpoint URLs",
    "accept_no_token": "module requests without Authorization are answered as if authorized",
    "accept_any_token": "requests with an unknown token are answered as if authorized",
    "no_success_envelope": "success answers carry their data without the OCPI envelope",
    "no_error_envelope": "error answers are plain text, without the OCPI envelope",
    "no_request_id_echo": "X-Request-ID and X-Correlation-ID are not echoed",
    "no_routing_headers": "routing headers are left out of answers",
    "no_total_count": "X-Total-Count is left out of list answers",
    "no_x_limit": "X-Limit is left out of list answers",
    "ignore_limit": "the limit parameter is ignored (every object on one page, X-Limit says so)",
    "link_relative": "the Link URL is relative",
    "link_other_origin": "the Link URL points at another host",
    "link_drops_filters": "the Link URL leaves out date_from and date_to",
    "date_from_exclusive": "objects stamped exactly date_from are left out",
    "date_to_inclusive": "objects stamped exactly date_to are included",
    "invalid_objects": "list answers carry objects with a field of the wrong type",
    "lose_objects": "each page after the first leaves out its first object",
    "unknown_is_200": "an unknown object is answered 200 with an empty body",
    "put_not_stored": "PUT answers success but stores nothing",
    "patch_ignored": "PATCH answers success but changes nothing",
    "delete_ignored": "DELETE answers success but deletes nothing",
    "accept_id_mismatch": "a body whose id or owner differs from the URL is accepted",
}


#: The write misbehaviours: the request is answered with success and never reaches the server.
_SWALLOWED = {"PUT": "put_not_stored", "PATCH": "patch_ignored", "DELETE": "delete_ignored"}


@dataclass
class Faults:
    """The faults switched on now; change fields at any time (the next request sees them)."""

    delay: float = 0.0
    status_5xx: int = 0
    rate_limit: int = 0
    wrong_token_encoding: bool = False
    broken_links: bool = False
    drop_connection: bool = False
    every: int = 1
    misbehave: set[str] = field(default_factory=set)
    _count: int = field(default=0, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def clear(self) -> None:
        self.set(**{f.name: f.default for f in fields(self) if not f.name.startswith("_") and f.name != "misbehave"})
        self.misbehave = set()

    def set(self, **changes: Any) -> None:
        """Change the named fields; an unknown name or misbehaviour is a ValueError."""
        names = {f.name for f in fields(self) if not f.name.startswith("_")}
        for name, value in changes.items():
            if name not in names:
                raise ValueError(f"unknown fault {name!r}; known: {', '.join(sorted(names))}")
            if name == "misbehave":
                value = set([value] if isinstance(value, str) else value)
                unknown = value - set(MISBEHAVIOURS)
                if unknown:
                    raise ValueError(f"unknown misbehaviour {', '.join(sorted(unknown))}")
            elif name in ("wrong_token_encoding", "broken_links", "drop_connection"):
                value = (
                    value.strip().lower() not in ("0", "false", "no", "off", "")
                    if isinstance(value, str)
                    else bool(value)
                )
            elif name == "delay":
                value = float(value)
            else:
                value = int(value)
            setattr(self, name, value)
        if self.every < 1:
            self.every = 1
        with self._lock:
            self._count = 0  # "every n-th request" counts from the change

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")}
        data["misbehave"] = sorted(self.misbehave)
        return data

    def on(self, name: str) -> bool:
        return name in self.misbehave

    def _nth(self) -> bool:
        with self._lock:
            self._count += 1
            return self._count % self.every == 0


class FaultMiddleware:
    """Wraps the mock peer's app; answers the admin route itself and applies ``faults`` to the rest."""

    def __init__(self, app: ASGIApp, faults: Faults, *, token: str, token_base64: bool, base_path: str) -> None:
        self.app = app
        self.faults = faults
        self.token = token
        self.token_base64 = token_base64
        self.base_path = base_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"].rstrip("/") == ADMIN_PATH:
            await self._admin(scope, receive, send)
            return
        f = self.faults
        if f.delay:
            await asyncio.sleep(f.delay)
        transient = (f.status_5xx or f.rate_limit or f.drop_connection) and f._nth()
        if transient and f.rate_limit:
            await _plain(send, 429, b"Too Many Requests", [(b"retry-after", str(f.rate_limit).encode())])
            return
        if transient and f.status_5xx:
            await _plain(send, f.status_5xx, b"Server Error")
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if f.wrong_token_encoding and "authorization" in headers and self._right_encoding(headers["authorization"]):
            await _envelope(send, 401, 2000, "Unauthorized")
            return
        if f.on("accept_no_token") and "authorization" not in headers and self._module_path(scope["path"]):
            auth = f"Token {_b64(self.token) if self.token_base64 else self.token}"
            scope = {**scope, "headers": [*scope["headers"], (b"authorization", auth.encode())]}
        if (
            f.on("accept_any_token")
            and "authorization" in headers
            and not self._right_encoding(headers["authorization"])
        ):
            auth = f"Token {_b64(self.token) if self.token_base64 else self.token}"
            scope = {**scope, "headers": _set_header(scope["headers"], b"authorization", auth.encode())}
        scope, receive = await self._rewrite_request(scope, receive)
        await self._forward(scope, receive, send, transient=bool(transient and f.drop_connection))

    def _module_path(self, path: str) -> bool:
        rest = path[len(self.base_path) :].strip("/").split("/")
        return path.startswith(self.base_path) and len(rest) >= 2 and rest[1] not in ("versions", "credentials", "")

    def _right_encoding(self, header: str) -> bool:
        value = header[6:].strip() if header.lower().startswith("token ") else header.strip()
        return value == (_b64(self.token) if self.token_base64 else self.token)

    async def _rewrite_request(self, scope: Scope, receive: Receive) -> tuple[Scope, Receive]:
        f = self.faults
        method = scope["method"]
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
        changed = False
        if f.on("date_from_exclusive") and "date_from" in query:
            query["date_from"] = _plus_one_second(query["date_from"])
            changed = True
        if f.on("date_to_inclusive") and "date_to" in query:
            query["date_to"] = _plus_one_second(query["date_to"])
            changed = True
        if f.on("ignore_limit") and method == "GET" and "limit" in query:
            query.pop("limit")
            query.pop("offset", None)
            changed = True
        if changed:
            scope = {**scope, "query_string": urlencode(query).encode()}
        swallowed = _SWALLOWED.get(method)
        if swallowed is not None and f.on(swallowed) and self._module_path(scope["path"]):
            scope = {**scope, "_mock_swallow": True}  # answered "success" without reaching the server
        if f.on("accept_id_mismatch") and method in ("PUT", "PATCH") and self._module_path(scope["path"]):
            body = await _read_body(receive)
            try:
                data = json.loads(body)
            except ValueError:
                data = None
            if isinstance(data, dict):
                tail = scope["path"].rstrip("/").split("/")
                for key in ("id", "uid"):
                    if key in data:
                        data[key] = tail[-1]
                if len(tail) >= 3 and "country_code" in data and "party_id" in data:
                    data["country_code"], data["party_id"] = tail[-3], tail[-2]
                body = json.dumps(data).encode()
            receive = _replay(body)
            scope = {**scope, "headers": _set_header(scope["headers"], b"content-length", str(len(body)).encode())}
        return scope, receive

    async def _forward(self, scope: Scope, receive: Receive, send: Send, *, transient: bool) -> None:
        if scope.get("_mock_swallow"):
            await _read_body(receive)
            await _envelope(send, 200, 1000, "Success")
            return
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        status = int(start.get("status", 500))
        headers = list(start.get("headers", []))
        body = b"".join(chunks)
        status, headers, body = self._rewrite_answer(scope, status, headers, body)
        if transient:
            headers = _set_header(headers, b"content-length", str(len(body)).encode())
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
            raise ConnectionAbortedError("mock peer: connection dropped on purpose")
        headers = _set_header(headers, b"content-length", str(len(body)).encode())
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _rewrite_answer(
        self, scope: Scope, status: int, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        f = self.faults
        drop: set[bytes] = set()
        if f.on("no_request_id_echo"):
            drop |= {b"x-request-id", b"x-correlation-id"}
        if f.on("no_routing_headers"):
            drop |= {b"ocpi-to-country-code", b"ocpi-to-party-id", b"ocpi-from-country-code", b"ocpi-from-party-id"}
        if f.on("no_total_count"):
            drop.add(b"x-total-count")
        if f.on("no_x_limit"):
            drop.add(b"x-limit")
        headers = [(k, v) for k, v in headers if k.lower() not in drop]
        if f.on("unknown_is_200") and status == 404:
            return 200, [(k, v) for k, v in headers if k.lower() != b"content-type"], b""
        if f.on("no_error_envelope") and status >= 400:
            return status, [(b"content-type", b"text/plain")], b"error"
        if f.on("no_success_envelope") and status < 300 and body.startswith(b"{") and self._module_path(scope["path"]):
            try:
                body = json.dumps(json.loads(body).get("data")).encode()
            except (ValueError, AttributeError):
                pass
        if f.on("ignore_limit"):
            headers = [(k, v) for k, v in headers if k.lower() != b"link"]
            try:
                count = len(json.loads(body).get("data") or [])
                headers = _set_header(headers, b"x-limit", str(max(count, 1)).encode())
            except (ValueError, AttributeError):
                pass
        headers = [(k, self._rewrite_link(scope, v) if k.lower() == b"link" else v) for k, v in headers]
        if (f.on("invalid_objects") or f.on("lose_objects")) and status == 200 and scope["method"] == "GET":
            body = self._rewrite_list(scope, body)
        if (f.on("versions_missing_own") or f.on("details_relative_urls")) and status == 200:
            body = self._rewrite_discovery(scope, body)
        return status, headers, body

    def _rewrite_discovery(self, scope: Scope, body: bytes) -> bytes:
        try:
            envelope = json.loads(body)
        except ValueError:
            return body
        data = envelope.get("data") if isinstance(envelope, dict) else None
        if self.faults.on("versions_missing_own") and isinstance(data, list) and scope["path"].endswith("versions"):
            envelope["data"] = [v for v in data if not (isinstance(v, dict) and "version" in v and "url" in v)]
        if self.faults.on("details_relative_urls") and isinstance(data, dict) and "endpoints" in data:
            for e in data["endpoints"]:
                if isinstance(e, dict) and isinstance(e.get("url"), str):
                    e["url"] = urlsplit(e["url"]).path
        return json.dumps(envelope).encode()

    def _rewrite_link(self, scope: Scope, value: bytes) -> bytes:
        f = self.faults
        text = value.decode("latin-1")
        if "<" not in text or ">" not in text:
            return value
        url = text[text.index("<") + 1 : text.index(">")]
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        if f.broken_links:
            parts = parts._replace(path=parts.path + "/no-such-page")
        if f.on("link_drops_filters"):
            query.pop("date_from", None)
            query.pop("date_to", None)
        parts = parts._replace(query=urlencode(query))
        if f.on("link_other_origin"):
            parts = parts._replace(netloc="elsewhere.example.com")
        new = urlunsplit(parts)
        if f.on("link_relative"):
            new = urlunsplit(("", "", parts.path, parts.query, ""))
        return text.replace(url, new).encode("latin-1")

    def _rewrite_list(self, scope: Scope, body: bytes) -> bytes:
        try:
            envelope = json.loads(body)
        except ValueError:
            return body
        data = envelope.get("data") if isinstance(envelope, dict) else None
        if not isinstance(data, list) or not data or not all(isinstance(o, dict) for o in data):
            return body
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        if self.faults.on("lose_objects") and query.get("offset", "0") not in ("", "0"):
            data = data[1:]
        if self.faults.on("invalid_objects"):
            for item in data:
                if "last_updated" in item:
                    item["last_updated"] = 12345
        envelope["data"] = data
        return json.dumps(envelope).encode()

    async def _admin(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        body = await _read_body(receive)
        try:
            if method in ("PUT", "PATCH", "POST"):
                changes = json.loads(body or b"{}")
                if not isinstance(changes, dict):
                    raise ValueError("a JSON object of fault names and values is expected")
                self.faults.set(**changes)
            elif method == "DELETE":
                self.faults.clear()
            elif method != "GET":
                raise ValueError(f"method {method} is not served here")
        except (ValueError, TypeError) as exc:
            await _raw_json(send, 400, {"error": str(exc)})
            return
        await _raw_json(send, 200, {**self.faults.as_json(), "misbehaviours": MISBEHAVIOURS})


def _b64(token: str) -> str:
    return base64.b64encode(token.encode()).decode()


def _plus_one_second(value: str) -> str:
    from datetime import datetime, timedelta

    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return (moment + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _set_header(headers: Any, name: bytes, value: bytes) -> list[tuple[bytes, bytes]]:
    return [(k, v) for k, v in headers if k.lower() != name] + [(name, value)]


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    return receive


async def _plain(send: Send, status: int, text: bytes, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(text)).encode()), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": text})


async def _envelope(send: Send, status: int, code: int, message: str) -> None:
    from datetime import UTC, datetime

    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    await _raw_json(send, status, {"status_code": code, "status_message": message, "timestamp": stamp})


async def _raw_json(send: Send, status: int, data: Any) -> None:
    body = json.dumps(data).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
