"""Copies of the hand-written runtime (``ocpi_runtime``) into generated packages.

Generated packages are self-contained, so the runtime modules are copied into them: the client
runtime into every client package, the server runtime into every scaffold's generated package,
whose embedded client sits at ``<package>/client``. In the source tree the server runtime imports
the client runtime as ``..client``; in a scaffold that package is ``.client``. That one import prefix
is the only change a copy makes.
"""

from __future__ import annotations

from functools import cache

from generator.paths import RUNTIME_ROOT
from generator.plan import PlannedFile

#: Client runtime modules, in the order they are planned.
CLIENT_MODULES = (
    "_wire.py",
    "_types.py",
    "errors.py",
    "_settings.py",
    "_links.py",
    "_reading.py",
    "_call.py",
    "_transport.py",
    "_pagination.py",
    "_discovery.py",
    "_credentials.py",
    "_api.py",
)
#: Server runtime modules.
SERVER_MODULES = (
    "_settings.py",
    "_store.py",
    "_store_pg.py",
    "_envelope.py",
    "_middleware.py",
    "_auth.py",
    "_pagination.py",
    "_params.py",
    "_registration.py",
    "_outbound.py",
    "_json.py",
    "_time.py",
    "_defaults.py",
    "_push.py",
    "_party.py",
    "_admin.py",
    "_docs.py",
    "_resync.py",
    "_app.py",
    "__main__.py",
)


@cache
def source(rel: str) -> str:
    """The text of ``ocpi_runtime/<rel>`` as written in the source tree."""
    return (RUNTIME_ROOT / rel).read_text(encoding="utf-8")


def copied_text(rel: str) -> str:
    """The text of ``ocpi_runtime/<rel>`` as it appears in a generated package."""
    text = source(rel)
    if rel.startswith("server/"):
        text = text.replace("from ..client.", "from .client.").replace("from ..client import", "from .client import")
    return text


def copies(part: str, dest_prefix: str) -> list[PlannedFile]:
    """Planned copies of every module of ``part`` ("client" or "server") under ``dest_prefix``."""
    modules = CLIENT_MODULES if part == "client" else SERVER_MODULES
    return [
        PlannedFile(f"{dest_prefix}{name}", "", {"text": copied_text(f"{part}/{name}")}, copy_of=f"{part}/{name}")
        for name in modules
    ]


__all__ = ["CLIENT_MODULES", "SERVER_MODULES", "copied_text", "copies", "source"]
