"""Every runtime copy in a generated package equals its source in ``runtime/ocpi_runtime``.

The only change a copy may make is the documented import prefix of the server runtime
(``from ..client.`` in the source, ``from .client.`` inside a scaffold's generated package).
"""

from __future__ import annotations

from pathlib import Path

from generator.paths import RUNTIME_ROOT, SPEC_ROOT, available_versions
from generator.pipeline import TARGETS, plan
from generator.runtime_copy import CLIENT_MODULES, SERVER_MODULES

ROOT = Path(__file__).resolve().parent.parent


def test_every_runtime_module_is_copied_and_nothing_else() -> None:
    on_disk = {
        f"{part}/{p.name}"
        for part in ("client", "server")
        for p in (RUNTIME_ROOT / part).glob("*.py")
        if p.name != "__init__.py"
    }
    listed = {f"client/{m}" for m in CLIENT_MODULES} | {f"server/{m}" for m in SERVER_MODULES}
    assert on_disk == listed


def test_generated_copies_equal_their_source() -> None:
    versions = available_versions(SPEC_ROOT)
    planned = [pf for pf in plan(SPEC_ROOT, versions, list(TARGETS)) if pf.copy_of is not None]
    assert planned, "no runtime copies planned"
    for pf in planned:
        source = (RUNTIME_ROOT / pf.copy_of).read_text(encoding="utf-8")
        on_disk = (ROOT / "generated" / pf.path).read_text(encoding="utf-8")
        if pf.copy_of.startswith("server/"):
            source = source.replace("from ..client.", "from .client.")
        assert on_disk == source, f"generated/{pf.path} differs from runtime/ocpi_runtime/{pf.copy_of}"


def test_server_copies_import_their_embedded_client() -> None:
    for pf in plan(SPEC_ROOT, ["2.2.1"], ["server"]):
        if pf.copy_of and pf.copy_of.startswith("server/"):
            assert "from ..client" not in pf.context["text"], pf.path
