"""Malformed answers fed to every generated client method of every version, sync and async: each
call either returns or raises an ``OcpiError`` subclass; no bare pydantic, JSON, overflow or
``ValueError`` escapes (httpx.MockTransport, no sockets)."""

from __future__ import annotations

import asyncio
import enum
import functools
import inspect
import json
from collections.abc import Callable
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from generator.paths import SPEC_ROOT, available_versions
from generator.pipeline import load_spec as _load_spec
from tests.client_support import client_package

VERSIONS = available_versions(SPEC_ROOT)
load_spec = functools.cache(_load_spec)
BASE = "https://peer.example.com/ocpi/x/module/"
OVERFLOW = "0001-01-01T00:30:00+01:00"


def _envelope(data: Any, status_code: Any = 1000) -> bytes:
    return json.dumps({"status_code": status_code, "timestamp": "2024-01-01T00:00:00Z", "data": data}).encode()


#: (name, HTTP status, headers, body)
GARBAGE: list[tuple[str, int, dict[str, str], bytes]] = [
    ("not-json", 200, {}, b"<html>oops</html>"),
    ("empty", 200, {}, b""),
    ("json-list", 200, {}, b"[1, 2]"),
    ("deep", 200, {}, b"[" * 100_000 + b"]" * 100_000),
    ("superscript-status", 200, {}, _envelope(None, "\u00b2")),
    ("float-status", 200, {}, b'{"status_code": 1e999999, "data": null}'),
    ("string-data", 200, {}, _envelope("garbage")),
    ("number-data", 200, {}, b'{"status_code": 1000, "data": 1e400}'),
    ("odd-object", 200, {}, _envelope({"unexpected": [1, {"a": None}], "last_updated": OVERFLOW})),
    ("odd-list", 200, {}, _envelope([1, "x", None, {"last_updated": OVERFLOW}])),
    (
        "wrapped-odd",
        200,
        {"X-Total-Count": "\u00b2", "X-Limit": "\u00b2"},
        _envelope([{"id": None, "last_updated": OVERFLOW}]),
    ),
    (
        "overflow-everywhere",
        200,
        {},
        _envelope({"id": "X", "last_updated": OVERFLOW, "timestamp": OVERFLOW, "start_date_time": OVERFLOW}),
    ),
    ("http-500-garbage", 500, {}, b"\xff\xfe not text"),
    ("http-400-json", 400, {}, b'{"detail": [{"msg": "bad"}]}'),
]


def _value_for(pkg: ModuleType, annotation: str) -> Any:
    ann = annotation.replace(" | None", "").replace(" | str", "").strip()
    if ann.startswith("Sequence[") or ann.startswith("builtins.list["):
        return []
    if ann == "datetime":
        return datetime(2024, 1, 1, tzinfo=UTC)
    if ann in ("int", "Decimal"):
        return 1
    if ann == "bool":
        return True
    target = getattr(pkg.models, ann, None)
    if isinstance(target, type) and issubclass(target, BaseModel):
        return target.model_construct()
    if isinstance(target, type) and issubclass(target, enum.Enum):
        return next(iter(target))
    return "X1"


def _calls(pkg: ModuleType, transport: Any, aio: bool) -> list[tuple[str, Callable[[], Any]]]:
    out = []
    for name in pkg.interfaces.__all__:
        cls = getattr(pkg.interfaces, name)
        if name.startswith("Async") != aio:
            continue
        api = cls(transport, BASE)
        for method_name, func in inspect.getmembers(cls, inspect.isfunction):
            if method_name.startswith("_"):
                continue
            sig = inspect.signature(func)
            args: list[Any] = []
            kwargs: dict[str, Any] = {}
            for p in list(sig.parameters.values())[1:]:
                if p.kind is p.POSITIONAL_OR_KEYWORD:
                    args.append(_value_for(pkg, str(p.annotation)))
                elif p.default is inspect.Parameter.empty:
                    kwargs[p.name] = _value_for(pkg, str(p.annotation))
            out.append((f"{name}.{method_name}", functools.partial(getattr(api, method_name), *args, **kwargs)))
    return out


def _handler(case: tuple[str, int, dict[str, str], bytes]) -> Callable[[httpx.Request], httpx.Response]:
    _, status, headers, body = case

    def handle(request: httpx.Request) -> httpx.Response:
        raw = [(b"content-type", b"application/json")] + [(k.encode(), v.encode()) for k, v in headers.items()]
        return httpx.Response(status, content=body, headers=raw)

    return handle


def _check(pkg: ModuleType, label: str, exc: BaseException | None, failures: list[str]) -> None:
    if exc is not None and not isinstance(exc, pkg.OcpiError):
        failures.append(f"{label}: {type(exc).__name__}: {str(exc)[:120]}")


@pytest.mark.parametrize("strict", [False, True], ids=["lenient", "strict"])
@pytest.mark.parametrize("version", VERSIONS)
def test_sync_methods_raise_only_typed_errors_on_garbage(version: str, strict: bool) -> None:
    pkg = client_package(load_spec(SPEC_ROOT, version))
    failures: list[str] = []
    calls = 0
    for case in GARBAGE:
        settings = pkg.OcpiClient.settings("secret-token", max_retries=0, strict=strict)
        http = httpx.Client(transport=httpx.MockTransport(_handler(case)))
        transport = pkg._transport.SyncTransport(settings, http=http)
        for label, call in _calls(pkg, transport, aio=False):
            calls += 1
            try:
                result = call()
                if isinstance(result, pkg.Paginator):
                    list(result)
            except BaseException as exc:  # noqa: BLE001 - the point is to see everything
                _check(pkg, f"{case[0]} {label}", exc, failures)
    assert calls >= 20 * len(GARBAGE)
    assert not failures, "\n".join(failures[:20])


@pytest.mark.parametrize("version", VERSIONS)
def test_async_methods_raise_only_typed_errors_on_garbage(version: str) -> None:
    pkg = client_package(load_spec(SPEC_ROOT, version))
    failures: list[str] = []

    async def go() -> int:
        calls = 0
        for case in GARBAGE:
            handle = _handler(case)

            async def ahandle(request: httpx.Request, handle: Any = handle) -> httpx.Response:
                return handle(request)

            http = httpx.AsyncClient(transport=httpx.MockTransport(ahandle))
            transport = pkg._transport.AsyncTransport(pkg.OcpiClient.settings("secret-token", max_retries=0), http=http)
            for label, call in _calls(pkg, transport, aio=True):
                calls += 1
                try:
                    result = call()
                    if isinstance(result, pkg.AsyncPaginator):
                        async for _ in result:
                            pass
                    else:
                        await result
                except BaseException as exc:  # noqa: BLE001
                    _check(pkg, f"{case[0]} {label}", exc, failures)
            await http.aclose()
        return calls

    assert asyncio.run(go()) >= 20 * len(GARBAGE)
    assert not failures, "\n".join(failures[:20])
