"""``kill -9`` of a CPO in the middle of changes (issue 15): after its restart, the eMSP's resync
brings the eMSP's store level with what the CPO's database kept. The CPO runs as a subprocess
(uvicorn on a file database) with a thread that keeps changing its objects; every version."""

from __future__ import annotations

import importlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from generator import naming
from generator.paths import SPEC_ROOT, available_versions
from tests.blocking import blocking, sync
from tests.conftest import ROOT
from tests.server_support import RunningServer, free_port, server_package
from tests.test_e2e import load_spec, sample

VERSIONS = available_versions(SPEC_ROOT)

CPO_SCRIPT = """
import asyncio, importlib, json, os, sys, threading, time
from datetime import datetime, timezone
sys.path.insert(0, sys.argv[1])
pkg = importlib.import_module(sys.argv[2])
format_datetime = importlib.import_module(sys.argv[2] + "._time").format_datetime
import uvicorn

def writer():
    while not os.path.exists(os.environ["GO_FILE"]):
        time.sleep(0.01)
    objects = json.loads(open(os.environ["OBJECTS_FILE"]).read())

    async def run():
        store = pkg.open_store(os.environ["OCPI_DATABASE"])
        n = 0
        while True:
            for collection, key, data in objects:
                # In the form a model writes (string(25), milliseconds): the eMSP stores that form.
                stamp = format_datetime(datetime.now(timezone.utc))
                data = dict(data, last_updated=stamp)
                await store.put_object(collection, "NL", "CPO", data[key], data, stamp)
                n += 1

    asyncio.run(run())

threading.Thread(target=writer, daemon=True).start()
app = pkg.create_app(pkg.ServerSettings.from_env())
uvicorn.run(app, host="127.0.0.1", port=int(os.environ["PORT"]), log_level="warning")
"""


class CpoProcess:
    def __init__(self, version: str, folder: Path) -> None:
        self.version = version
        self.port = free_port()
        self.folder = folder
        self.database = folder / "cpo.db"
        self.script = folder / "cpo.py"
        self.script.write_text(CPO_SCRIPT)
        self.go = folder / "go"
        self.env = {
            **os.environ,
            "OCPI_BASE_URL": f"http://127.0.0.1:{self.port}/ocpi",
            "OCPI_DATABASE": f"sqlite:///{self.database}",
            "OCPI_COUNTRY_CODE": "NL",
            "OCPI_PARTY_ID": "CPO",
            "OCPI_ALLOW_PRIVATE_PEERS": "true",
            "OCPI_TOKEN_BASE64": "true" if load_spec(SPEC_ROOT, version).token_base64 else "false",
            "OCPI_RESYNC_SECONDS": "0",
            "GO_FILE": str(self.go),
            "OBJECTS_FILE": str(folder / "objects.json"),
            "PORT": str(self.port),
        }
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def versions(self) -> str:
        return f"http://127.0.0.1:{self.port}/ocpi/versions"

    def start(self) -> None:
        gen = ROOT / "generated" / self.version / "server" / "cpo"
        self.proc = subprocess.Popen(
            [sys.executable, str(self.script), str(gen), naming.server_package("cpo", self.version)], env=self.env
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(self.versions, timeout=1).status_code == 401:
                    return
            except httpx.HTTPError:
                pass
            assert self.proc.poll() is None, "the CPO process died"
            assert time.monotonic() < deadline, "the CPO process did not start"
            time.sleep(0.1)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


def everything(store: Any, collection: str) -> list[dict[str, Any]]:
    items, total = sync(store).list_objects(collection, date_from=None, date_to=None, offset=0, limit=100_000)
    assert len(items) == total
    return sorted(items, key=lambda item: json.dumps(item, sort_keys=True, default=str))


@pytest.mark.parametrize("version", VERSIONS)
def test_kill_9_of_the_cpo_in_the_middle_of_changes_then_resync_levels_the_emsp(version: str, tmp_path: Path) -> None:
    spec = load_spec(SPEC_ROOT, version)
    emsp_pkg = server_package(version, "emsp")
    cpo = CpoProcess(version, tmp_path)
    receives = [r for r in emsp_pkg.RECEIVES if r.module_id in ("locations", "sessions", "cdrs", "tariffs")]
    objects = [
        (r.collection, r.key, sample(spec, r.collection, ("NL", "CPO"), f"{r.collection[:3].upper()}{n}"))
        for r in receives
        for n in range(10)
    ]
    # Exact JSON numbers (not strings): the eMSP stores objects as its models write them.
    (tmp_path / "objects.json").write_text(importlib.import_module(emsp_pkg.__name__ + "._json").dumps(objects))
    emsp_port = free_port()
    emsp_settings = emsp_pkg.ServerSettings(
        base_url=f"http://127.0.0.1:{emsp_port}/ocpi",
        country_code="DE",
        party_id="EMS",
        token_base64=spec.token_base64,
        allow_private_peers=True,
        resync_seconds=0,
    )
    emsp_store = emsp_pkg.SqliteStore(":memory:")
    cpo.start()
    try:
        cpo_store = emsp_pkg.SqliteStore(str(cpo.database))  # the test's own view of the CPO's file
        with RunningServer(emsp_pkg.create_app(emsp_settings, store=emsp_store), emsp_port):
            token_a = blocking(cpo_store.create_token_a("DE/EMS"))
            blocking(emsp_pkg.register_with_peer(emsp_settings, emsp_store, "NL/CPO", cpo.versions, token_a))
        # The CPO changes its objects without pause; the eMSP resyncs meanwhile; then kill -9.
        cpo.go.touch()
        deadline = time.monotonic() + 20
        while sum(len(everything(cpo_store, r.collection)) for r in receives) < len(objects):
            assert time.monotonic() < deadline, "the CPO wrote nothing"
            time.sleep(0.05)
        first = max(item["last_updated"] for item in everything(cpo_store, receives[0].collection))
        blocking(emsp_pkg.resync(emsp_settings, emsp_store, "NL/CPO"))
        time.sleep(0.2)
        cpo.kill()
        cpo.go.unlink()
        # The CPO restarts on the database it kept; the eMSP's resync brings it level.
        cpo.start()
        result = blocking(emsp_pkg.resync(emsp_settings, emsp_store, "NL/CPO"))
        assert result.complete, result.summary()
        for r in receives:
            cpo_items = everything(cpo_store, r.collection)
            assert len(cpo_items) == 10
            assert everything(emsp_store, r.collection) == cpo_items, r.collection
        assert max(item["last_updated"] for item in everything(cpo_store, receives[0].collection)) > first
        blocking(cpo_store.close())
    finally:
        cpo.kill()
