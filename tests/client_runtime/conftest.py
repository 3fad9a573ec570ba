"""Load templates/client/runtime/ as the package ``ocpi_runtime``.

In the repository the runtime folder has no ``__init__.py`` (the generator writes one into every
generated package), so it is registered here as a namespace-like package whose submodules
(``ocpi_runtime._types``, ``ocpi_runtime._transport``, ...) import with their relative imports intact.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

RUNTIME_DIR = Path(__file__).resolve().parents[2] / "templates" / "client" / "runtime"
PACKAGE = "ocpi_runtime"


def _load_runtime() -> None:
    if PACKAGE in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(
        PACKAGE,
        RUNTIME_DIR / "__init__.py",  # never read: the package has no code of its own
        submodule_search_locations=[str(RUNTIME_DIR)],
    )
    assert spec is not None
    package = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE] = package


_load_runtime()
