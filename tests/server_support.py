"""Start generated servers in-process with uvicorn on 127.0.0.1, for end-to-end tests."""

from __future__ import annotations

import importlib.util
import socket
import sys
import threading
import time
from types import ModuleType
from typing import Any

import uvicorn

from tests.conftest import ROOT


def server_package(version: str, role: str) -> ModuleType:
    """Import generated/<version>/server/<role>/ocpi_server under a unique name (several coexist)."""
    name = f"ocpi_server_{version.replace('.', '_')}_{role}"
    if name in sys.modules:
        return sys.modules[name]
    folder = ROOT / "generated" / version / "server" / role / "ocpi_server"
    spec = importlib.util.spec_from_file_location(name, folder / "__init__.py", submodule_search_locations=[str(folder)])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RunningServer:
    """A uvicorn server on 127.0.0.1 in a background thread; stops by itself on exit."""

    def __init__(self, app: Any, port: int) -> None:
        self.port = port
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> RunningServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
