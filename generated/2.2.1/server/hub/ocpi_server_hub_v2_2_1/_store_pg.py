"""PostgreSQL storage of a generated OCPI server (``OCPI_DATABASE=postgresql://...``).

Static: copied verbatim into every generated server package. Needs ``psycopg`` 3 with its pool
(``pip install 'psycopg[binary,pool]'``), imported only when a PostgreSQL URL is used.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PostgresStore"]


class PostgresStore:
    """Placeholder until the PostgreSQL store lands."""

    def __init__(self, url: str, **options: Any) -> None:
        raise NotImplementedError("the PostgreSQL store is not available in this build")
