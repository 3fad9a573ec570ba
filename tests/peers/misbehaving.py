"""A misbehaving OCPI peer: a small ASGI app (a CPO with N locations) whose quirks are switched on one
by one or all at once, plus hostile behaviours that must end in a typed client error.

Quirks come from issue #12 and ``FIELD-NOTES.md``: endpoint URLs with a trailing slash and 307 to that
form (published with the slash, or without it: ``redirect_to_slash``), single objects wrapped in a one-element list, a ``Link`` with the wrong scheme and
``date_from=None`` (and an empty ``link:`` header on the last page), 403 with a non-OCPI body for a bad
token, a token accepted only raw (HTTP 200 with status 3000 otherwise), ``null`` for unset optional
fields. Served on 127.0.0.1 by uvicorn in a thread (``serve``); several peers share one server under
path prefixes.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from typing import Any
from urllib.parse import parse_qs

from generator.ir import ObjectType, Spec
from tests.samples import dumps, obj

TOKEN = "TOKEN-C-0123456789"


@dataclass(frozen=True)
class Quirks:
    trailing_slash: bool = False
    redirect_to_slash: bool = False
    list_wrapped: bool = False
    bad_link: bool = False
    empty_last_link: bool = False
    auth_403: bool = False
    raw_token_only: bool = False
    nulls: bool = False

    @classmethod
    def all(cls) -> Quirks:
        return cls(**{f.name: True for f in fields(cls)})

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @classmethod
    def only(cls, name: str) -> Quirks:
        return replace(cls(), **{name: True})


#: Hostile behaviours (one per peer): each must end in a typed error within the call's deadline.
HOSTILE = (
    "link_cycle",  # page A -> B -> A
    "slow_body",  # a page's headers at once, then one byte every 0.2 s for 5 s
    "slow_headers",  # no answer to a locations call for 5 s
    "huge_body",  # a 30 MB page, no Content-Length
    "superscript_total",  # X-Total-Count: ²
    "superscript_status",  # "status_code": "²"
    "echo_token",  # our token echoed in status_message and in a 400 body
    "userinfo_link",  # same-origin Link with user:pw@
    "redirect_away",  # 307 to another origin
    "redirect_loop",  # 307 to itself, forever
)


class Peer:
    """One OCPI peer (a CPO) of one version, mounted under ``/<name>``."""

    def __init__(
        self,
        spec: Spec,
        name: str,
        quirks: Quirks = Quirks(),
        *,
        count: int = 40,
        page: int = 5,
        hostile: str | None = None,
    ) -> None:
        self.spec = spec
        self.version = spec.version
        self.name = name
        self.quirks = quirks
        self.page = page
        self.hostile = hostile
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        location = spec.type("Location")
        assert isinstance(location, ObjectType)
        self.locations = [self._location(location, i) for i in range(count)]

    def _location(self, t: ObjectType, index: int) -> dict[str, Any]:
        data = obj(self.spec, t)
        data["id"] = f"LOC{index:02d}"
        if self.quirks.nulls:
            for f in t.fields:
                if not f.required:
                    data[f.name] = None
        return data

    # -- helpers -------------------------------------------------------------------------------------

    def _ok_token(self, header: str) -> bool | None:
        """True: token accepted; False: the right token in the wrong encoding; None: unknown token."""
        if not header.startswith("Token "):
            return None
        value = header[6:]
        if value == TOKEN:
            return True
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except ValueError:
            return None
        if decoded == TOKEN:
            return not self.quirks.raw_token_only
        return None

    def _url(self, base: str, path: str) -> str:
        return f"{base}/{self.name}{path}"

    # -- the app ---------------------------------------------------------------------------------------

    async def handle(self, method: str, path: str, query: dict[str, str], headers: dict[str, str], base: str) -> Any:
        """(status, headers, body or async body chunks) for one request below the peer's prefix."""
        self.requests.append((method, path, query))
        v = self.version
        h = self.hostile
        if h == "slow_headers" and "/locations" in path:
            await asyncio.sleep(5)
        if h == "redirect_away":
            return 307, {"location": "http://127.0.0.2:9/elsewhere"}, b""
        if h == "redirect_loop":
            return 307, {"location": self._url(base, path)}, b""
        if h == "echo_token" and path.endswith("/versions"):
            auth = headers.get("authorization", "")
            body = {
                "status_code": 2001,
                "status_message": f"bad token {auth} ({TOKEN})",
                "timestamp": "2024-01-01T00:00:00Z",
            }
            return 400, {}, json.dumps(body).encode()
        accepted = self._ok_token(headers.get("authorization", ""))
        if accepted is None:
            if self.quirks.auth_403:
                return 403, {}, b'{"detail": "Not authenticated"}'
            return 401, {}, _envelope(None, 2002)
        if accepted is False:
            return 200, {}, _envelope(None, 3000, "Unknown token")
        if h == "superscript_status":
            return 200, {}, b'{"status_code": "\xc2\xb2", "data": []}'
        wants_slash = self.quirks.trailing_slash or self.quirks.redirect_to_slash
        slash = "/" if self.quirks.trailing_slash and not self.quirks.redirect_to_slash else ""
        if path == "/ocpi/versions":
            return 200, {}, _envelope([{"version": v, "url": self._url(base, f"/ocpi/{v}/details")}])
        if path == f"/ocpi/{v}/details":
            endpoints = [
                {"identifier": "credentials", "url": self._url(base, f"/ocpi/{v}/credentials{slash}")},
                {"identifier": "locations", "url": self._url(base, f"/ocpi/{v}/locations{slash}")},
            ]
            if v != "2.1.1":
                endpoints[0]["role"] = "SENDER"
                endpoints[1]["role"] = "SENDER"
            return 200, {}, _envelope({"version": v, "endpoints": endpoints})
        listing = f"/ocpi/{v}/locations"
        if wants_slash and path == listing:
            target = self._url(base, listing + "/") + ("?" + _query_text(query) if query else "")
            return 307, {"location": target}, b""
        if path in (listing, listing + "/"):
            return self._page(base, path, query)
        if path.startswith(listing + "/"):
            ident = path[len(listing) + 1 :].rstrip("/")
            found = [loc for loc in self.locations if loc["id"] == ident]
            if not found:
                return 404, {}, _envelope(None, 2003, "Unknown location")
            data: Any = [found[0]] if self.quirks.list_wrapped else found[0]
            return 200, {}, _envelope(data)
        return 404, {}, b'{"detail": "Not Found"}'

    def _page(self, base: str, path: str, query: dict[str, str]) -> Any:
        offset = int(query.get("offset", "0") or 0)
        limit = min(int(query.get("limit", str(self.page)) or self.page), self.page)
        items = self.locations[offset : offset + limit]
        total = len(self.locations)
        headers = {"x-total-count": str(total), "x-limit": str(self.page)}
        h = self.hostile
        if h == "superscript_total":
            headers["x-total-count"] = "\u00b2"
        nxt = offset + limit
        full = self._url(base, path)
        if h == "huge_body":
            return 200, headers, _huge_body()
        if h == "slow_body":
            return 200, headers, _slow_body()
        if h == "link_cycle":
            target = f"{full}?offset=5&limit={limit}" if offset == 0 else full  # B links back to A
            headers["link"] = f'<{target}>; rel="next"'
        elif h == "userinfo_link":
            target = full.replace("http://", "http://user:pw@") + f"?offset={nxt}&limit={limit}"
            headers["link"] = f'<{target}>; rel="next"'
        elif nxt < total:
            if self.quirks.bad_link:
                target = full.replace("http://", "https://") + f"?date_from=None&offset={nxt}&limit={limit}"
            else:
                target = f"{full}?offset={nxt}&limit={limit}"
            headers["link"] = f'<{target}>; rel="next"'
        elif self.quirks.empty_last_link:
            headers["link"] = ""
        return 200, headers, _envelope(items)


def _query_text(query: dict[str, str]) -> str:
    return "&".join(f"{k}={v}" for k, v in query.items())


def _envelope(data: Any, status_code: int = 1000, message: str = "Success") -> bytes:
    body = {"data": data, "status_code": status_code, "status_message": message, "timestamp": "2024-01-01T00:00:00Z"}
    return dumps(body).encode()


async def _slow_body() -> Any:
    yield b'{"status_code": 1000, "data": ['
    for _ in range(25):
        await asyncio.sleep(0.2)
        yield b" "


async def _huge_body() -> Any:
    chunk = b'{"id": "' + b"x" * 65_000 + b'"},'
    yield b'{"status_code": 1000, "data": ['
    for _ in range(30_000_000 // len(chunk)):
        yield chunk
    yield b'{"id": "end"}]}'


class Router:
    """The ASGI app: routes ``/<peer name>/...`` to that peer."""

    def __init__(self) -> None:
        self.peers: dict[str, Peer] = {}
        self.base = ""

    def add(self, peer: Peer) -> str:
        """Mount ``peer``; returns its versions URL."""
        self.peers[peer.name] = peer
        return f"{self.base}/{peer.name}/ocpi/versions"

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        while True:  # drain the request body
            message = await receive()
            if not message.get("more_body"):
                break
        path: str = scope["path"]
        name, _, rest = path.lstrip("/").partition("/")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = {k: v[0] for k, v in parse_qs(scope["query_string"].decode(), keep_blank_values=True).items()}
        peer = self.peers.get(name)
        if peer is None:
            status, out_headers, body = 404, {}, b"{}"
        else:
            status, out_headers, body = await peer.handle(scope["method"], "/" + rest, query, headers, self.base)
        raw_headers = [(k.encode(), v.encode("utf-8")) for k, v in out_headers.items()]
        raw_headers.append((b"content-type", b"application/json"))
        if isinstance(body, bytes):
            raw_headers.append((b"content-length", str(len(body)).encode()))
            await send({"type": "http.response.start", "status": status, "headers": raw_headers})
            await send({"type": "http.response.body", "body": body})
            return
        await send({"type": "http.response.start", "status": status, "headers": raw_headers})
        gone = asyncio.Event()

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()

        watcher = asyncio.create_task(watch())
        try:
            async for chunk in body:
                if gone.is_set():  # the client went away: stop producing
                    return
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        except (OSError, RuntimeError):
            return
        finally:
            watcher.cancel()


@contextmanager
def serve() -> Iterator[Router]:
    """A Router served by uvicorn on 127.0.0.1 (a free port) in a thread, for the ``with`` block."""
    import uvicorn

    router = Router()
    config = uvicorn.Config(router, host="127.0.0.1", port=0, log_level="critical", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    router.base = f"http://127.0.0.1:{port}"
    try:
        yield router
    finally:
        server.should_exit = True
        server.force_exit = True
        thread.join(10)
