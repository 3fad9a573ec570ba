"""The server runtime is the package ``ocpi_runtime.server`` (``runtime/ocpi_runtime/server``), imported as is."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ocpi_runtime.server._settings import ServerSettings
from ocpi_runtime.server._store import SqliteStore
from tests.blocking import blocking


@pytest.fixture
def settings() -> ServerSettings:
    return ServerSettings(
        base_url="http://testserver/ocpi", country_code="NL", party_id="EXA", max_limit=10, default_limit=5
    )


@pytest.fixture
def store() -> Iterator[SqliteStore]:
    db = SqliteStore(":memory:")
    yield db
    blocking(db.close())
