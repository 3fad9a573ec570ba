"""Start generated servers in-process with uvicorn on 127.0.0.1, for end-to-end tests."""

from __future__ import annotations

import importlib.util
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import uvicorn

from generator import naming
from tests.conftest import ROOT


def server_package(version: str, role: str, extensions: tuple[str, ...] = ()) -> ModuleType:
    """Import generated/<version>/server/<role>/<its package> under a unique name (several coexist).

    With ``extensions`` (e.g. ``("payments",)`` for 2.3.0) the server is generated with them into a
    temporary folder first, since ``generated/`` holds the default set only."""
    name = f"ocpi_server_{version.replace('.', '_')}_{role}" + "".join(f"_{e}" for e in extensions)
    if name in sys.modules:
        return sys.modules[name]
    root = _with_extensions(version, extensions) if extensions else ROOT / "generated"
    folder = root / version / "server" / role / naming.server_package(role, version)
    spec = importlib.util.spec_from_file_location(
        name, folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


_GENERATED: dict[tuple[str, tuple[str, ...]], Path] = {}


def _with_extensions(version: str, extensions: tuple[str, ...]) -> Path:
    """A temporary generated/ tree of ``version``'s servers with ``extensions`` (once per test run)."""
    key = (version, extensions)
    if key not in _GENERATED:
        from generator.paths import SPEC_ROOT
        from generator.pipeline import generate
        from generator.writer import write_tree

        out = Path(tempfile.mkdtemp(prefix="ocpi-ext-"))
        write_tree(out, generate(SPEC_ROOT, [version], ["server"], extensions=list(extensions)))
        _GENERATED[key] = out
    return _GENERATED[key]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RunningServer:
    """A uvicorn server on 127.0.0.1 in a background thread; stops by itself on exit."""

    def __init__(self, app: Any, port: int) -> None:
        self.port = port
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
        )
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
