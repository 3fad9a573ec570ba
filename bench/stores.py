"""Stores: the scaffolded 2.2.1 servers on SQLite and on PostgreSQL, with 1 and 2 uvicorn workers.

``throughput`` (the default): for each store and worker count,
* GET /ocpi/2.2.1/locations?offset=0&limit=50 on the CPO scaffold (1,000 full Locations seeded), as
  bench/server.py measures it, next to its bare Starlette endpoint (same bytes precomputed) with
  the same number of workers;
* PUT /ocpi/2.2.1/locations/NL/EXA/{id} of a full Location on the eMSP scaffold (the receiver),
  ids cycling over the 1,000 seeded ones (each PUT replaces a stored Location), next to a bare
  Starlette endpoint that reads the body and answers a fixed envelope.
Load: wrk -t1 (apt-get install wrk; PUT bodies from a Lua script), N connections, fixed duration,
medians of the runs; each server row's ratio is to the bare endpoint with as many workers, measured
in the same run.

``concurrency``: tests/store_load.py at full size: 8 clients x 500 nested PUT/PATCH of EVSEs inside
4 shared Locations, PostgreSQL with 4 workers and SQLite with 2, for several seeds, with and without
workers killed (SIGKILL) midway; lost acknowledged writes, 5xx, 'database is locked'.

PostgreSQL: $OCPI_TEST_POSTGRES_URL, else a throwaway server from scripts/postgres.sh (stopped at
the end). Run: python bench/stores.py [throughput|concurrency] [--connections 10] [--seconds 5] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, ensure_root_on_path, env_with, fmt_ratio, free_port, median, stop, table  # noqa: E402
from server import BARE_APP, ONE, PATH, SEED, SERVER_DIR, TOKEN, start, uvicorn_cmd  # noqa: E402

ensure_root_on_path()

EMSP_DIR = ROOT / "generated" / "2.2.1" / "server" / "emsp"
PUT_PREFIX = "/ocpi/2.2.1/locations/NL/EXA/"

BARE_PUT_APP = """
import json, pathlib
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route
here = pathlib.Path(__file__).parent
BODY = (here / "put_body.json").read_bytes()
HEADERS = json.loads((here / "put_headers.json").read_text())
async def put(request):
    await request.body()
    return Response(BODY, status_code=200, headers=HEADERS)
app = Starlette(routes=[Route("/ocpi/2.2.1/locations/{cc}/{pid}/{id}", put, methods=["PUT"])])
"""

# One wrk thread: each request PUTs the template with the next of the seeded ids.
PUT_LUA = """
local f = io.open(os.getenv("OCPI_PUT_TEMPLATE"), "rb")
local template = f:read("*a")
f:close()
local n = 0
wrk.method = "PUT"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Token " .. os.getenv("OCPI_PUT_TOKEN")
request = function()
  n = n + 1
  local id = string.format("LOC%06d", n % {seed})
  local body = string.gsub(template, "__ID__", id)
  return wrk.format("PUT", "{prefix}" .. id, nil, body)
end
"""


def workers_cmd(port: int, workers: int) -> list[str]:
    cmd = uvicorn_cmd(port)
    cmd[cmd.index("--workers") + 1] = str(workers)
    return cmd


@contextmanager
def postgres() -> Iterator[str]:
    url = os.environ.get("OCPI_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    folder = tempfile.mkdtemp(prefix="ocpi-bench-pg-")
    out = subprocess.run(
        ["bash", str(ROOT / "scripts" / "postgres.sh"), "start", folder], capture_output=True, text=True
    )
    if out.returncode != 0:
        raise SystemExit(f"no PostgreSQL: {out.stderr.strip()}")
    try:
        yield re.search(r"OCPI_TEST_POSTGRES_URL=(\S+)", out.stdout).group(1)  # type: ignore[union-attr]
    finally:
        subprocess.run(["bash", str(ROOT / "scripts" / "postgres.sh"), "stop", folder], capture_output=True)


def fresh_database(server_url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())
        conn.execute(f'CREATE DATABASE "{name}"'.encode())
    return urlunsplit(urlsplit(server_url)._replace(path="/" + name))


def seed(url: str) -> dict[str, Any]:
    """1,000 full Locations and the bench party in the database ``url``; returns one Location."""
    from models import locations  # bench/models.py: the same full Locations as bench/server.py

    from generator.paths import SPEC_ROOT
    from generator.pipeline import load_spec
    from ocpi_runtime.server._store import Party, open_store
    from tests.samples import dumps

    spec = load_spec(SPEC_ROOT, "2.2.1")
    items = []
    for n, loc in enumerate(locations(spec, SEED)):
        loc["country_code"], loc["party_id"] = "NL", "EXA"
        loc["last_updated"] = f"2024-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}Z"
        items.append(json.loads(dumps(loc)))

    async def run() -> None:
        store = open_store(url)
        try:
            for loc in items:
                await store.put_object("Location", "NL", "EXA", loc["id"], loc, loc["last_updated"])
            await store.save_party(Party(party_key="DE/EMS", token_c=TOKEN, version="2.2.1"))
        finally:
            await store.close()

    asyncio.run(run())
    return items[0]


def _ms(text: str) -> float:
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text)
    assert m, text
    return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[m.group(2)]


def wrk(
    url: str, connections: int, seconds: int, *, script: Path | None = None, env: dict[str, str] | None = None
) -> dict[str, float]:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    cmd += ["-H", f"Authorization: Token {TOKEN}"]
    if script is not None:
        cmd += ["-s", str(script)]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=seconds + 60, env=env).stdout
    bad = re.search(r"Non-2xx or 3xx responses: ([0-9]+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50": _ms(re.search(r"^\s+50%\s+([0-9.]+[a-z]+)", out, re.M).group(1)),  # type: ignore[union-attr]
        "p99": _ms(re.search(r"^\s+99%\s+([0-9.]+[a-z]+)", out, re.M).group(1)),  # type: ignore[union-attr]
        "n": int(re.search(r"([0-9]+) requests in", out).group(1)),  # type: ignore[union-attr]
        "errors": int(bad.group(1)) if bad else 0,
    }


def throughput(args: argparse.Namespace) -> None:
    import httpx

    if not shutil.which("wrk"):
        raise SystemExit("bench/stores.py needs wrk (apt-get install wrk)")
    tmp = Path(tempfile.mkdtemp(prefix="ocpi-bench-stores-"))
    results: dict[tuple[str, str, int], list[dict[str, float]]] = {}
    procs: list[subprocess.Popen[bytes]] = []
    get_url = ""
    try:
        with postgres() as server_url:
            stores = {
                "sqlite": f"sqlite:///{tmp / 'store.sqlite'}",
                "postgresql": fresh_database(server_url, "ocpi_bench"),
            }
            sample: dict[str, Any] = {}
            for url in stores.values():
                sample = seed(url)
            template = tmp / "put_template.json"
            body = json.dumps({**sample, "id": "__ID__"}, separators=(",", ":"))
            template.write_text(body)
            lua = tmp / "put.lua"
            lua.write_text(PUT_LUA.replace("{seed}", str(SEED)).replace("{prefix}", PUT_PREFIX))
            put_env = env_with(OCPI_PUT_TEMPLATE=str(template), OCPI_PUT_TOKEN=TOKEN)

            # The bare endpoints: the CPO page and the eMSP answer, captured once from SQLite, 1 worker.
            port = free_port()
            env = env_with(
                OCPI_DATABASE=stores["sqlite"], OCPI_BASE_URL=f"http://127.0.0.1:{port}/ocpi", OCPI_MAX_LIMIT="100"
            )
            proc = start(workers_cmd(port, 1), SERVER_DIR, port, env)
            first = httpx.get(f"http://127.0.0.1:{port}{PATH}", headers={"Authorization": f"Token {TOKEN}"}, timeout=30)
            # bench/server.py's bare app also serves one Location: it reads both answers.
            one = httpx.get(f"http://127.0.0.1:{port}{ONE}", headers={"Authorization": f"Token {TOKEN}"}, timeout=30)
            stop(proc)
            assert first.status_code == 200 and len(first.json()["data"]) == 50, first.text[:300]
            assert one.status_code == 200 and one.json()["data"]["id"] == "LOC000000", one.text[:300]
            port = free_port()
            env = env_with(OCPI_DATABASE=stores["sqlite"], OCPI_BASE_URL=f"http://127.0.0.1:{port}/ocpi")
            proc = start(workers_cmd(port, 1), EMSP_DIR, port, env)
            put_first = httpx.put(
                f"http://127.0.0.1:{port}{PUT_PREFIX}{sample['id']}",
                content=body.replace("__ID__", sample["id"]),
                headers={"Authorization": f"Token {TOKEN}", "Content-Type": "application/json"},
                timeout=30,
            )
            stop(proc)
            assert put_first.status_code == 200, put_first.text[:300]
            bare = tmp / "bare"
            bare.mkdir()
            (bare / "app.py").write_text(BARE_APP)
            (bare / "put_app.py").write_text(BARE_PUT_APP)
            drop = ("content-length", "date", "server")
            for name, response in (("page", first), ("one", one)):
                (bare / f"{name}.json").write_bytes(response.content)
                (bare / f"{name}-headers.json").write_text(
                    json.dumps({k: v for k, v in response.headers.items() if k.lower() not in drop})
                )
            (bare / "put_body.json").write_bytes(put_first.content)
            (bare / "put_headers.json").write_text(
                json.dumps({k: v for k, v in put_first.headers.items() if k.lower() not in drop})
            )

            def measure(key: tuple[str, str, int], cwd: Path, app: str, env: dict[str, str], workers: int) -> None:
                port = free_port()
                env = {**env, "OCPI_BASE_URL": f"http://127.0.0.1:{port}/ocpi"}
                cmd = workers_cmd(port, workers)
                cmd[cmd.index("app:app")] = app
                proc = start(cmd, cwd, port, env)
                procs.append(proc)
                time.sleep(1.5 if workers > 1 else 0.2)  # every worker up
                try:
                    if key[0] == "GET":
                        url = f"http://127.0.0.1:{port}{PATH}"
                        wrk(url, args.connections, 2)  # warm-up
                        runs = [wrk(url, args.connections, args.seconds) for _ in range(args.runs)]
                    else:
                        url = f"http://127.0.0.1:{port}/"
                        wrk(url, args.connections, 2, script=lua, env=put_env)
                        runs = [
                            wrk(url, args.connections, args.seconds, script=lua, env=put_env) for _ in range(args.runs)
                        ]
                finally:
                    stop(proc)
                    procs.remove(proc)
                results[key] = runs
                print(f"  {key}: {median([r['rps'] for r in runs]):.0f}/s", file=sys.stderr)

            for workers in args.workers:
                plain = env_with()
                measure(("GET", "bare", workers), bare, "app:app", plain, workers)
                measure(("PUT", "bare", workers), bare, "put_app:app", plain, workers)
                for name, url in stores.items():
                    env = env_with(OCPI_DATABASE=url, OCPI_MAX_LIMIT="100")
                    measure(("GET", name, workers), SERVER_DIR, "app:app", env, workers)
                    measure(("PUT", name, workers), EMSP_DIR, "app:app", env, workers)
            get_url = PATH
    finally:
        for proc in procs:
            stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)

    def med(key: tuple[str, str, int], field: str) -> float:
        return median([r[field] for r in results[key]])

    print(
        f"### Stores: GET {get_url} (1,000 Locations) and PUT {PUT_PREFIX}{{id}} (a full Location, 1,000 ids),"
        f" wrk -t1, {args.connections} connections, {args.runs} runs of {args.seconds} s, medians\n"
    )
    rows = []
    for method in ("GET", "PUT"):
        for workers in args.workers:
            for name in ("sqlite", "postgresql", "bare"):
                key = (method, name, workers)
                ratio = med(key, "rps") / med((method, "bare", workers), "rps")
                label = "bare Starlette" if name == "bare" else ("SQLite" if name == "sqlite" else "PostgreSQL")
                rows.append(
                    [
                        method,
                        label,
                        str(workers),
                        f"{med(key, 'rps'):.1f}",
                        f"{med(key, 'p50'):.1f} ms",
                        f"{med(key, 'p99'):.1f} ms",
                        "" if name == "bare" else fmt_ratio(ratio),
                        str(sum(int(r["errors"]) for r in results[key])),
                    ]
                )
    print(table(["request", "store", "workers", "requests/s", "p50", "p99", "ratio to bare", "non-2xx"], rows))


def concurrency(args: argparse.Namespace) -> None:
    from tests.store_load import LoadServer, run_load

    rows = []
    with postgres() as server_url, tempfile.TemporaryDirectory(prefix="ocpi-bench-load-") as folder:
        for name, workers in (("postgresql", 4), ("sqlite", 2)):
            for seed_ in args.seeds:
                for kill in (False, True):
                    if name == "postgresql":
                        url = fresh_database(server_url, f"ocpi_load_{seed_}_{int(kill)}")
                    else:
                        url = f"sqlite:///{folder}/load_{seed_}_{int(kill)}.sqlite"
                    with LoadServer(url, workers) as server:
                        r = run_load(
                            server, clients=args.clients, ops=args.ops, seed=seed_, kill_at=(0.3, 0.6) if kill else ()
                        )
                    print(f"  {name} seed {seed_} kill {kill}: {r.summary()}", file=sys.stderr)
                    rows.append(
                        [
                            "PostgreSQL" if name == "postgresql" else "SQLite",
                            str(workers),
                            str(seed_),
                            f"{len(r.killed)} ({r.killed_connections} conns)" if kill else "0",
                            f"{r.clients} x {r.ops}",
                            f"{r.acked:,}",
                            f"{r.acked / r.seconds:.0f}",
                            str(r.connection_errors),
                            str(r.server_errors),
                            str(r.locked_messages),
                            str(r.newer_than_acked),
                            str(len(r.lost)),
                        ]
                    )
    print(
        f"### Stores under concurrent writers: {args.clients} clients x {args.ops} nested PUT/PATCH of EVSEs in 4 shared"
        " Locations (2.2.1 eMSP scaffold); kill = workers SIGKILLed at 30% and 60% of the requests\n"
    )
    print(
        table(
            [
                "store",
                "workers",
                "seed",
                "killed",
                "requests",
                "acknowledged",
                "acked/s",
                "conn. errors",
                "5xx",
                "db locked",
                "unanswered but stored",
                "lost",
            ],
            rows,
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", nargs="?", choices=["throughput", "concurrency"], default="throughput")
    ap.add_argument("--connections", type=int, default=10)
    ap.add_argument("--seconds", type=int, default=5, help="duration of one wrk run")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--ops", type=int, default=500, help="requests per client (concurrency)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[7, 8, 9])
    args = ap.parse_args()
    if args.what == "throughput":
        throughput(args)
    else:
        concurrency(args)


if __name__ == "__main__":
    main()
