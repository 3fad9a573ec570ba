"""The mock peer: a generated OCPI server of one version and role, seeded with sample data, behind
switchable faults (``faults.py``), served by uvicorn on 127.0.0.1 in a thread or in the foreground.

The server package is generated on the fly through the normal pipeline (``server_files``) into a
temporary folder and imported from there, unless a package is passed in (tests pass the one in
``generated/``). Sample objects come from the transcription (``samples.py``) and are stored through
``_call`` only, which also awaits a store whose methods are coroutines.
"""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from generator import naming
from generator.ir import Spec
from generator.mockpeer.faults import ADMIN_PATH, FaultMiddleware, Faults
from generator.mockpeer.samples import seed_objects
from generator.mockpeer.serving import serve_in_thread

#: The token the mock peer accepts from its tester (token C of party ``tester``), unless given.
DEFAULT_TOKEN = "mock-peer-token-c"
#: A token A the mock peer hands out for a credentials registration (party ``newcomer``).
DEFAULT_TOKEN_A = "mock-peer-token-a"
#: The mock peer's own country code and party id.
OWNER = ("NL", "MCK")

_PACKAGES: dict[tuple[str, str, str], ModuleType] = {}


def load_server_package(spec: Spec, role: str) -> ModuleType:
    """The generated server package of ``spec`` and ``role``, generated into a temporary folder and
    imported under a unique name (once per process)."""
    from generator.pipeline import render_files
    from generator.server import server_files
    from generator.writer import write_tree

    key = (spec.label, role, "")
    if key not in _PACKAGES:
        out = Path(tempfile.mkdtemp(prefix="ocpi-mock-peer-"))
        write_tree(out, render_files(server_files(spec, role)))
        package = naming.server_package(role, spec.version)
        name = f"_ocpi_mock_{spec.label.replace('.', '_').replace('+', '_')}_{role}"
        _PACKAGES[key] = _import(name, out / package)
    return _PACKAGES[key]


def _import(name: str, folder: Path) -> ModuleType:
    found = importlib.util.spec_from_file_location(
        name, folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    assert found is not None and found.loader is not None
    module = importlib.util.module_from_spec(found)
    sys.modules[name] = module
    found.loader.exec_module(module)
    return module


def _call(value: Any) -> Any:
    """A store method's result; awaited when the store is asynchronous (in a fresh loop, or in a
    helper thread when this thread already runs one)."""
    if not inspect.isawaitable(value):
        return value

    async def wait() -> Any:
        return await value

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(wait())
    box: list[Any] = []
    thread = threading.Thread(target=lambda: box.append(asyncio.run(wait())))
    thread.start()
    thread.join()
    return box[0]


def seed(store: Any, spec: Spec, role_interfaces: Any, owner: tuple[str, str], count: int) -> dict[str, int]:
    """Store ``count`` sample objects in every collection the role sends as a list; returns the counts."""
    rows: list[tuple[str, str, dict[str, Any]]] = []
    seeded: dict[str, int] = {}
    for interface in role_interfaces:
        for endpoint in interface.endpoints:
            behaviour = endpoint.server
            if behaviour is None or behaviour.kind != "list" or behaviour.object is None:
                continue
            if behaviour.object not in seeded:
                seeded[behaviour.object] = count
                rows += [
                    (behaviour.object, oid, data) for oid, data in seed_objects(spec, behaviour.object, owner, count)
                ]

    async def put_all() -> None:
        for collection, oid, data in rows:
            stamp = str(data.get("last_updated", ""))
            await _maybe(store.put_object(collection, owner[0], owner[1], oid, data, stamp))

    _call(put_all())
    return seeded


async def _maybe(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class MockPeer:
    """A ready OCPI peer: ``app`` (ASGI) with ``faults``; ``serve()`` runs it on 127.0.0.1."""

    spec: Spec
    role: str
    port: int
    token: str
    token_a: str
    package: ModuleType
    store: Any
    faults: Faults
    app: Any
    seeded: dict[str, int] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/ocpi"

    @property
    def versions_url(self) -> str:
        return f"{self.base_url}/versions"

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{ADMIN_PATH}"

    def banner(self) -> str:
        counts = ", ".join(f"{n} {name}" for name, n in self.seeded.items()) or "no list data"
        return "\n".join(
            [
                f"OCPI {self.spec.label} {self.role.upper()} mock peer ({counts})",
                f"versions URL: {self.versions_url}",
                f"token (C):    {self.token}",
                f"token A:      {self.token_a}   (for a credentials registration)",
                f'faults:       {self.admin_url}   (GET shows, PUT {{"delay": 1}} sets, DELETE clears)',
            ]
        )

    @contextmanager
    def serve(self) -> Iterator[MockPeer]:
        """Run on 127.0.0.1:``port`` in a daemon thread for the duration of the ``with`` block."""
        with serve_in_thread(self.app, "127.0.0.1", self.port, what="the mock peer"):
            yield self

    def run_forever(self, on_start: Callable[[], None] | None = None) -> None:
        """Serve until interrupted (Ctrl-C); ``on_start`` runs once the port is open."""
        with self.serve():
            if on_start is not None:
                on_start()
            while True:
                time.sleep(3600)


def build_mock_peer(
    spec: Spec,
    role: str,
    *,
    port: int | None = None,
    token: str = DEFAULT_TOKEN,
    token_a: str = DEFAULT_TOKEN_A,
    count: int = 12,
    faults: Faults | None = None,
    package: ModuleType | None = None,
    settings: dict[str, Any] | None = None,
) -> MockPeer:
    """A mock peer for ``spec`` in ``role`` (a server role slug: cpo, emsp, hub...), not yet serving.

    ``count`` objects are seeded in every list the role sends. ``package``: an already imported
    generated server package (default: generated now). ``settings``: extra ``ServerSettings`` fields.
    """
    from generator.server import roles_with_servers

    roles = {r.slug: r for r in roles_with_servers(spec)}
    if role not in roles:
        raise ValueError(f"OCPI {spec.label} has no server role {role!r}; choose from: {', '.join(roles)}")
    port = port or free_port()
    package = package or load_server_package(spec, role)
    chosen: dict[str, Any] = {
        "base_url": f"http://127.0.0.1:{port}/ocpi",
        "country_code": OWNER[0],
        "party_id": OWNER[1],
        "max_limit": 5,
        "default_limit": 5,
        "business_name": "ocpi-codegen mock peer",
        "allow_private_peers": True,
        "docs": False,
        "resync_seconds": 0,  # a mock peer answers; it pulls from nobody on its own (no extra requests)
    }
    server_settings = package.ServerSettings(**{**chosen, **(settings or {})})
    store = package.SqliteStore(":memory:")
    tester_roles = [{"role": "EMSP" if role != "emsp" else "CPO", "country_code": "NL", "party_id": "TST"}]
    _call(
        store.save_party(
            package.Party("tester", token_c=token, token_b=token, version=spec.version, roles=tester_roles)
        )
    )
    newcomer = package.Party("newcomer", token_a=token_a)
    _call(store.save_party(newcomer))
    seeded = seed(store, spec, roles[role].interfaces, OWNER, count)
    app = package.create_app(server_settings, store=store)
    faults = faults or Faults()
    wrapped = FaultMiddleware(
        app, faults, token=token, token_base64=spec.token_base64, base_path=server_settings.base_path
    )
    return MockPeer(spec, role, port, token, token_a, package, store, faults, wrapped, seeded)
