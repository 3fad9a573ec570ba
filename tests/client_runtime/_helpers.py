"""Shared helpers: OCPI envelopes and a recording httpx.MockTransport (no sockets)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

TS = "2024-01-01T00:00:00Z"


def envelope(data: Any = None, status_code: int = 1000, status_message: str | None = "Success") -> dict[str, Any]:
    body: dict[str, Any] = {"data": data, "status_code": status_code, "timestamp": TS}
    if status_message is not None:
        body["status_message"] = status_message
    return body


def ok(data: Any = None, *, status: int = 200, headers: dict[str, str] | None = None, **kw: Any) -> httpx.Response:
    return httpx.Response(status, json=envelope(data, **kw), headers=headers)


def raw(status: int, content: bytes | str, headers: dict[str, str] | None = None) -> httpx.Response:
    if isinstance(content, str):
        content = content.encode()
    return httpx.Response(status, content=content, headers=headers)


class Recorder:
    """A MockTransport handler that records every request and answers from a script or a function.

    ``script`` may be a list of responses / exceptions (consumed in order) or a callable
    ``request -> response`` (it may raise an httpx exception).
    """

    def __init__(self, script: list[Any] | Callable[[httpx.Request], httpx.Response]) -> None:
        self.requests: list[httpx.Request] = []
        self._script = script

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if callable(self._script):
            return self._script(request)
        if not self._script:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        item = self._script.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))

    def async_client(self) -> httpx.AsyncClient:
        async def handler(request: httpx.Request) -> httpx.Response:
            return self(request)

        return httpx.AsyncClient(transport=httpx.MockTransport(handler))

    def bodies(self) -> list[Any]:
        return [json.loads(r.content) if r.content else None for r in self.requests]


class Sleeps:
    """Injected sleep functions that record the delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)

    async def asleep(self, seconds: float) -> None:
        self.delays.append(seconds)
