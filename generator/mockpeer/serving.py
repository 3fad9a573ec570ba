"""Serve an ASGI app with uvicorn in a daemon thread for the duration of a ``with`` block: the mock
peer, and the versions endpoint the conformance runner serves for ``--register``."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def serve_in_thread(app: Any, host: str, port: int, *, what: str, start_timeout: float = 15.0) -> Iterator[None]:
    """Run ``app`` on ``host:port`` until the block ends; OSError naming ``what`` when it does not start."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="critical", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise OSError(f"cannot serve {what} on {host}:{port}")
        time.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)
