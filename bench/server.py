"""Server throughput: GET /ocpi/2.2.1/locations?offset=0&limit=50 (a page) and
GET /ocpi/2.2.1/locations/LOC000000 (one object) on the scaffolded 2.2.1 CPO server
(generated/2.2.1/server/cpo, `uvicorn app:app`, one worker, in a subprocess, sqlite file seeded with
1,000 full Locations) against a bare Starlette endpoint (uvicorn, one worker) that returns the same
bytes and headers precomputed (the same header set, the request ids fixed at one value).

Load on 127.0.0.1 only: `wrk` when installed (apt-get install wrk), fixed duration per run;
otherwise a bounded async httpx loop in a separate process (fixed request count, N connections,
hard time limit). Medians of the runs; ratio to the bare endpoint measured in the same run.
Run: python bench/server.py [--connections 10] [--seconds 8] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    ROOT,
    env_with,
    fmt_ratio,
    free_port,
    median,
    python,
    stop,
    table,
    verdict,
    wait_for_port,
)  # noqa: E402

SERVER_DIR = ROOT / "generated" / "2.2.1" / "server" / "cpo"
PATH = "/ocpi/2.2.1/locations?offset=0&limit=50"
ONE = "/ocpi/2.2.1/locations/LOC000000"
#: What is measured: (label, path, target ratio ours/bare), issue #16.
ROWS = (("page of 50", PATH, 0.7), ("one Location", ONE, 0.6))
TOKEN = "bench-token-c"
SEED = 1000

BARE_APP = """
import json, pathlib
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route
here = pathlib.Path(__file__).parent
PAGE = (here / "page.json").read_bytes()
PAGE_HEADERS = json.loads((here / "page-headers.json").read_text())
ONE = (here / "one.json").read_bytes()
ONE_HEADERS = json.loads((here / "one-headers.json").read_text())
async def locations(request):
    return Response(PAGE, status_code=200, headers=PAGE_HEADERS)
async def location(request):
    return Response(ONE, status_code=200, headers=ONE_HEADERS)
app = Starlette(routes=[Route("/ocpi/2.2.1/locations", locations), Route("/ocpi/2.2.1/locations/{location_id}", location)])
"""

# The fallback load generator: N connections share a fixed number of requests; bounded in time.
HTTPX_LOAD = r"""
import asyncio, json, sys, time
import httpx
url, token, conns, total, limit_s = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
async def main():
    lat, errors, left = [], 0, [total]
    deadline = time.monotonic() + limit_s
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=conns), timeout=30) as c:
        async def worker():
            nonlocal errors
            while left[0] > 0 and time.monotonic() < deadline:
                left[0] -= 1
                t = time.perf_counter()
                r = await c.get(url, headers={"Authorization": "Token " + token})
                lat.append(time.perf_counter() - t)
                if r.status_code != 200:
                    errors += 1
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(conns)))
        wall = time.perf_counter() - start
    lat.sort()
    print(json.dumps({"rps": len(lat) / wall, "p50": lat[len(lat) // 2], "p99": lat[min(len(lat) - 1, int(len(lat) * 0.99))], "n": len(lat), "errors": errors}))
asyncio.run(main())
"""


def server_package() -> Any:
    name = "bench_ocpi_server_2_2_1_cpo"
    folder = SERVER_DIR / "ocpi_server_cpo_v2_2_1"
    spec = importlib.util.spec_from_file_location(
        name, folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def seed(db: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from models import locations  # bench/models.py: the same full Locations

    from generator.paths import SPEC_ROOT
    from generator.pipeline import load_spec
    from tests.samples import dumps

    pkg = server_package()
    spec = load_spec(SPEC_ROOT, "2.2.1")

    async def seed() -> None:
        store = pkg.SqliteStore(str(db))
        for n, loc in enumerate(locations(spec, SEED)):
            loc["country_code"], loc["party_id"] = "NL", "EXA"
            loc["last_updated"] = f"2024-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}Z"
            await store.put_object("Location", "NL", "EXA", loc["id"], json.loads(dumps(loc)), loc["last_updated"])
        await store.save_party(
            pkg.Party(
                party_key="DE/EMS",
                token_c=TOKEN,
                version="2.2.1",
                roles=[
                    {"role": "EMSP", "country_code": "DE", "party_id": "EMS", "business_details": {"name": "bench"}}
                ],
            )
        )
        await store.close()

    asyncio.run(seed())


def start(cmd: list[str], cwd: Path, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_for_port(port, proc)
    return proc


def uvicorn_cmd(port: int) -> list[str]:
    return [
        python(),
        "-m",
        "uvicorn",
        "app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--log-level",
        "warning",
        "--no-access-log",
    ]


def _ms(text: str) -> float:
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text)
    assert m, text
    return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[m.group(2)]


def load(port: int, connections: int, seconds: int, requests: int, path: str = PATH) -> dict[str, float]:
    url = f"http://127.0.0.1:{port}{path}"
    wrk = shutil.which("wrk")
    if wrk:
        out = subprocess.run(
            [
                wrk,
                "-t1",
                f"-c{connections}",
                f"-d{seconds}s",
                "--latency",
                "--timeout",
                "10s",
                "-H",
                f"Authorization: Token {TOKEN}",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
        ).stdout
        rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))  # type: ignore[union-attr]
        p50 = _ms(re.search(r"^\s+50%\s+([0-9.]+[a-z]+)", out, re.M).group(1))  # type: ignore[union-attr]
        p99 = _ms(re.search(r"^\s+99%\s+([0-9.]+[a-z]+)", out, re.M).group(1))  # type: ignore[union-attr]
        n = int(re.search(r"([0-9]+) requests in", out).group(1))  # type: ignore[union-attr]
        bad = re.search(r"Non-2xx or 3xx responses: ([0-9]+)", out)
        errs = re.search(r"Socket errors: .*", out)
        return {
            "rps": rps,
            "p50": p50,
            "p99": p99,
            "n": n,
            "errors": int(bad.group(1)) if bad else 0,
            "socket_errors": bool(errs),
        }
    out = subprocess.run(
        [python(), "-c", HTTPX_LOAD, url, TOKEN, str(connections), str(requests), str(seconds * 3)],
        capture_output=True,
        text=True,
        timeout=seconds * 3 + 60,
    ).stdout
    r = json.loads(out)
    return {
        "rps": r["rps"],
        "p50": r["p50"] * 1000,
        "p99": r["p99"] * 1000,
        "n": r["n"],
        "errors": r["errors"],
        "socket_errors": False,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--connections", type=int, default=10)
    ap.add_argument("--seconds", type=int, default=8, help="duration of one wrk run")
    ap.add_argument("--requests", type=int, default=2000, help="requests of one run of the httpx fallback")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="ocpi-bench-server-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        db = tmp / "store.sqlite"
        seed(db)
        ocpi_port, bare_port = free_port(), free_port()
        env = env_with(OCPI_DATABASE=str(db), OCPI_BASE_URL=f"http://127.0.0.1:{ocpi_port}/ocpi", OCPI_MAX_LIMIT="100")
        procs.append(start(uvicorn_cmd(ocpi_port), SERVER_DIR, ocpi_port, env))

        import httpx

        def fetch(port: int, path: str) -> httpx.Response:
            return httpx.get(f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Token {TOKEN}"}, timeout=30)

        first, one = fetch(ocpi_port, PATH), fetch(ocpi_port, ONE)
        assert first.status_code == 200, first.text[:500]
        assert len(first.json()["data"]) == 50 and first.headers["x-total-count"] == str(SEED)
        assert one.status_code == 200 and one.json()["data"]["id"] == "LOC000000", one.text[:500]
        bare = tmp / "bare"
        bare.mkdir()
        (bare / "app.py").write_text(BARE_APP)
        for name, response in (("page", first), ("one", one)):
            # Every header of the real response, the request ids frozen at their first values; uvicorn
            # and Starlette add content-length, date and server themselves.
            keep = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "date", "server")}
            (bare / f"{name}.json").write_bytes(response.content)
            (bare / f"{name}-headers.json").write_text(json.dumps(keep))
        procs.append(start(uvicorn_cmd(bare_port), bare, bare_port, env_with()))
        for path, expected in ((PATH, first), (ONE, one)):
            check = fetch(bare_port, path)
            assert check.status_code == 200 and check.content == expected.content

        results: dict[tuple[str, str], list[dict[str, float]]] = {}
        for _, path, _ in ROWS:
            load(ocpi_port, args.connections, 2, 100, path)  # warm-up
            load(bare_port, args.connections, 2, 100, path)
        for _ in range(args.runs):  # alternate, so drift hits both alike
            for _, path, _ in ROWS:
                for kind, port in (("ocpi", ocpi_port), ("bare", bare_port)):
                    results.setdefault((kind, path), []).append(
                        load(port, args.connections, args.seconds, args.requests, path)
                    )
    finally:
        for proc in procs:
            stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)

    def med(kind: str, path: str, key: str) -> float:
        return median([r[key] for r in results[(kind, path)]])

    tool = "wrk -t1" if shutil.which("wrk") else "async httpx loop"
    print(
        f"### Server: GETs on {SEED:,} Locations in sqlite ({len(first.content) / 1024:.0f} KiB page of 50, "
        f"{len(one.content) / 1024:.1f} KiB Location), {tool}, {args.connections} connections, "
        f"{args.runs} runs of {args.seconds} s per path and server (alternated), medians\n"
    )
    rows, verdicts = [], []
    for label, path, target in ROWS:
        ratio = med("ocpi", path, "rps") / med("bare", path, "rps")
        verdicts.append(f"{label}: ocpi/bare {fmt_ratio(ratio)} (target >= {target}x): {verdict(ratio >= target)}")
        for kind, who in (
            ("ocpi", "scaffolded 2.2.1 CPO server (uvicorn app:app, 1 worker)"),
            ("bare", "bare Starlette endpoint, same bytes precomputed (1 worker)"),
        ):
            errors = sum(int(r["errors"]) for r in results[(kind, path)])
            rows.append(
                [
                    f"`GET {path}`",
                    who,
                    f"{med(kind, path, 'rps'):.1f}",
                    f"{med(kind, path, 'p50'):.1f} ms",
                    f"{med(kind, path, 'p99'):.1f} ms",
                    f"{sum(int(r['n']) for r in results[(kind, path)]):,}",
                    str(errors),
                    fmt_ratio(ratio) if kind == "ocpi" else "-",
                    f">= {target}x" if kind == "ocpi" else "-",
                ]
            )
    print(table(["path", "endpoint", "requests/s", "p50", "p99", "requests", "non-200", "ocpi/bare", "target"], rows))
    print()
    for line in verdicts:
        print(f"- {line}")


if __name__ == "__main__":
    main()
