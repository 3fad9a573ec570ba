"""A PostgreSQL server for the tests: CI's (``OCPI_TEST_POSTGRES_URL``, set by ``.ci/run`` through
``scripts/postgres.sh``) or, outside CI, a throwaway one started once per test run with the same
script when the server binaries are installed. ``postgres_url()`` skips the calling test, with the
reason, when there is none."""

from __future__ import annotations

import atexit
import os
import re
import shutil
import subprocess
import tempfile
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.conftest import ROOT

ENV = "OCPI_TEST_POSTGRES_URL"
SCRIPT = ROOT / "scripts" / "postgres.sh"

_state: dict[str, str] = {}


def _start() -> str:
    """The URL of a usable server, or ``"skip:<reason>"``; the first call decides for the run."""
    url = os.environ.get(ENV, "").strip()
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError:
        if url:  # a server was provided (CI): its tests must run
            raise
        return "skip:psycopg is not installed (pip install 'psycopg[binary,pool]')"
    if url:
        return url
    folder = tempfile.mkdtemp(prefix="ocpi-test-pg-")
    proc = subprocess.run(["bash", str(SCRIPT), "start", folder], capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        why = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return f"skip:no PostgreSQL server could be started (scripts/postgres.sh: {why}); set {ENV} to use one"
    atexit.register(subprocess.run, ["bash", str(SCRIPT), "stop", folder], capture_output=True, timeout=120)
    found = re.search(rf"{ENV}=(\S+)", proc.stdout)
    assert found, proc.stdout
    return found.group(1)


def postgres_url() -> str:
    """The server's URL (its default database), or skip the test with the reason."""
    if "url" not in _state:
        _state["url"] = _start()
    url = _state["url"]
    if url.startswith("skip:"):
        pytest.skip(f"PostgreSQL tests: {url[5:]}")
    return url


def with_database(url: str, dbname: str) -> str:
    """``url`` naming another database on the same server."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + dbname))


def fresh_database(prefix: str = "t") -> str:
    """The URL of a new, empty database on the test server (dropped by the next test run's server)."""
    import psycopg

    url = postgres_url()
    name = f"ocpi_{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"'.encode())
    return with_database(url, name)


def empty_tables(url: str) -> None:
    """Remove every row the store keeps (the tables stay, when there are any)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "DO $$ BEGIN IF to_regclass('ocpi_objects') IS NOT NULL THEN"
            " TRUNCATE ocpi_objects, ocpi_parties, ocpi_peer_state; END IF; END $$"
        )
