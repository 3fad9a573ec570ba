"""Run the async store API from synchronous test code.

``blocking(coro)`` runs a coroutine on one background event loop (its own thread) and returns its
result, so it works in plain tests, under a running TestClient portal or an in-thread uvicorn.
``sync(store)`` wraps a store: each coroutine method becomes a plain call.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

_loop: asyncio.AbstractEventLoop | None = None
_lock = threading.Lock()


def _background_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _lock:
        if _loop is None:
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="tests-blocking-loop", daemon=True).start()
            _loop = loop
        return _loop


def blocking(coro: Coroutine[Any, Any, T]) -> T:
    """The result of ``coro``, run to completion on the background loop."""
    return asyncio.run_coroutine_threadsafe(coro, _background_loop()).result()


class _Sync:
    __slots__ = ("_target",)

    def __init__(self, target: Any) -> None:
        self._target = target

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if not inspect.iscoroutinefunction(attr):
            return attr

        @functools.wraps(attr)
        def call(*args: Any, **kwargs: Any) -> Any:
            return blocking(attr(*args, **kwargs))

        return call


def sync(target: Any) -> Any:
    """``target`` with its coroutine methods made plain calls (``sync(store).put_object(...)``)."""
    return _Sync(target)
