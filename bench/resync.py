"""Resync by pull: how long an eMSP takes to pull and store 10,000 Locations from a CPO.

Both are the scaffolded 2.2.1 servers (generated/2.2.1/server/{cpo,emsp}), in this process, each
on its own uvicorn thread on 127.0.0.1, registered through the real credentials handshake. The CPO's
SQLite file holds N full Locations (tests/samples.obj: every field, 1 EVSE, 1 connector); the eMSP
starts empty (a first resync: every object is new, one store transaction each), then resyncs again
at once (date_from = last pass - 60 s: nothing has changed since, so one empty page), then once
more without date_from (every object comes again and is found unchanged: a read, no write). On a
file database each. Page sizes: the CPO's max_limit. Medians of the runs (a fresh eMSP database each).
Run: python bench/resync.py [--objects 10000] [--runs 3] [--page 100]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, ensure_root_on_path, free_port, median, table  # noqa: E402

ensure_root_on_path()

VERSION = "2.2.1"


def package(role: str) -> ModuleType:
    name = f"ocpi_server_{role}_v2_2_1"
    folder = ROOT / "generated" / VERSION / "server" / role / name
    spec = importlib.util.spec_from_file_location(
        name, folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class Server:
    def __init__(self, app: Any, port: int) -> None:
        import uvicorn

        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--objects", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--page", type=int, default=100, help="the CPO's max_limit (page size)")
    args = parser.parse_args()

    from generator.ir import ObjectType
    from generator.paths import SPEC_ROOT
    from generator.pipeline import load_spec
    from tests.samples import obj

    spec = load_spec(SPEC_ROOT, VERSION)
    location = spec.type("Location")
    assert isinstance(location, ObjectType)
    template = obj(spec, location)
    cpo_pkg, emsp_pkg = package("cpo"), package("emsp")
    tmp = Path(tempfile.mkdtemp(prefix="ocpi-resync-bench-"))
    ports = {"cpo": free_port(), "emsp": free_port()}

    def settings(pkg: ModuleType, who: str, cc: str, pid: str) -> Any:
        return pkg.ServerSettings(
            base_url=f"http://127.0.0.1:{ports[who]}/ocpi",
            country_code=cc,
            party_id=pid,
            allow_private_peers=True,
            max_limit=args.page,
            default_limit=args.page,
            resync_seconds=0,
        )

    cpo_settings = settings(cpo_pkg, "cpo", "NL", "CPO")
    emsp_settings = settings(emsp_pkg, "emsp", "DE", "EMS")

    async def seed(store: Any) -> None:
        for n in range(args.objects):
            data = dict(template, id=f"LOC{n:06d}", country_code="NL", party_id="CPO")
            stamp = f"2025-01-01T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}Z"
            data["last_updated"] = stamp
            await store.put_object("Location", "NL", "CPO", data["id"], data, stamp)

    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()

    def run(coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, loop).result()

    cpo_store = cpo_pkg.SqliteStore(str(tmp / "cpo.db"))
    started = time.perf_counter()
    run(seed(cpo_store))
    seeded = time.perf_counter() - started
    first: list[float] = []
    again: list[float] = []
    full: list[float] = []
    try:
        with Server(cpo_pkg.create_app(cpo_settings, store=cpo_store), ports["cpo"]):
            for r in range(args.runs):
                emsp_store = emsp_pkg.SqliteStore(str(tmp / f"emsp{r}.db"))
                with Server(emsp_pkg.create_app(emsp_settings, store=emsp_store), ports["emsp"]):
                    token_a = run(cpo_store.create_token_a(f"DE/EMS{r}"))
                    run(
                        emsp_pkg.register_with_peer(
                            emsp_settings,
                            emsp_store,
                            "NL/CPO",
                            f"http://127.0.0.1:{ports['cpo']}/ocpi/versions",
                            token_a,
                        )
                    )
                result = run(emsp_pkg.resync(emsp_settings, emsp_store, "NL/CPO"))
                assert result.complete and result.stored == args.objects, result.summary()
                first.append(result.seconds)
                result = run(emsp_pkg.resync(emsp_settings, emsp_store, "NL/CPO"))
                assert result.complete and result.stored == 0, result.summary()
                again.append(result.seconds)
                run(
                    emsp_store.update_peer_state(
                        "NL/CPO", lambda s: {k: v for k, v in (s or {}).items() if k != "last_resync"}
                    )
                )
                result = run(emsp_pkg.resync(emsp_settings, emsp_store, "NL/CPO"))
                assert result.complete and result.received == args.objects and result.stored == 0, result.summary()
                full.append(result.seconds)
                run(emsp_store.close())
    finally:
        run(cpo_store.close())
        shutil.rmtree(tmp, ignore_errors=True)
    pages = -(-args.objects // args.page)
    rows = [
        ["first resync (all new)", args.objects, pages, f"{median(first):.2f}", f"{args.objects / median(first):,.0f}"],
        ["again, nothing changed since (date_from)", 0, 1, f"{median(again):.2f}", "-"],
        [
            "again without date_from: all sent, all unchanged",
            args.objects,
            pages,
            f"{median(full):.2f}",
            f"{args.objects / median(full):,.0f}",
        ],
    ]
    print(f"Resync of {args.objects:,} Locations, OCPI {VERSION}, page size {args.page}, {args.runs} runs (median);")
    print(f"CPO seeded in {seeded:.1f} s; each side on its own uvicorn thread, one process, SQLite files.\n")
    print(table(["pass", "objects", "pages", "seconds", "objects/s"], rows))


if __name__ == "__main__":
    main()
