"""Load templates/server/runtime/ as the package ``ocpi_server_runtime`` (the generator gives the
copied runtime an ``__init__.py``; the template folder has none, so the package is built here)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

RUNTIME = Path(__file__).resolve().parents[2] / "templates" / "server" / "runtime"
PACKAGE = "ocpi_server_runtime"


def _load_runtime() -> None:
    if PACKAGE in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(
        PACKAGE, RUNTIME / "__init__.py", submodule_search_locations=[str(RUNTIME)]
    )
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    # No __init__.py to execute: the empty package only needs its __path__ for the submodules.
    sys.modules[PACKAGE] = module


_load_runtime()

from ocpi_server_runtime._settings import ServerSettings  # noqa: E402
from ocpi_server_runtime._store import SqliteStore  # noqa: E402


@pytest.fixture
def settings() -> ServerSettings:
    return ServerSettings(base_url="http://testserver/ocpi", country_code="NL", party_id="EXA", max_limit=10, default_limit=5)


@pytest.fixture
def store() -> Iterator[SqliteStore]:
    db = SqliteStore(":memory:")
    yield db
    db.close()
