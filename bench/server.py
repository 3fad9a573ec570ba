"""Server throughput: GET /ocpi/2.2.1/locations?offset=0&limit=50 (a page) and
GET /ocpi/2.2.1/locations/LOC000000 (one object) on the scaffolded 2.2.1 CPO server
(generated/2.2.1/server/cpo, `uvicorn app:app`, one worker, in a subprocess, sqlite file seeded with
1,000 full Locations) against a bare Starlette endpoint (uvicorn, one worker) that returns the same
bytes and headers precomputed (the same header set, the request ids fixed at one value).

Load on 127.0.0.1 only: `wrk` when installed (apt-get install wrk), fixed duration per run;
otherwise a bounded async httpx loop in a separate process (fixed request count, N connections,
hard time limit). Medians of the runs; ratio to the bare endpoint measured in the same run.

Peer row: the same Locations served by extrawest-ocpi (PyPI, in .venv-peer-py-ocpi, made by
scripts/py_ocpi_venv.sh) through the CPO of tests/peers/py_ocpi_cpo.py, measured alternately with
ours; `--no-peer` leaves it out. If its venv cannot be made, the row says why and the rest runs.
Run: python bench/server.py [--connections 10] [--seconds 8] [--runs 3] [--no-peer]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
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
    emit,
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


def seed(db: Path) -> list[dict[str, Any]]:
    """1,000 full Locations and the bench party in the sqlite file ``db``; returns the Locations stored."""
    sys.path.insert(0, str(ROOT))
    from models import locations  # bench/models.py: the same full Locations

    from generator.paths import SPEC_ROOT
    from generator.pipeline import load_spec
    from tests.samples import dumps

    pkg = server_package()
    spec = load_spec(SPEC_ROOT, "2.2.1")

    items = []
    for n, loc in enumerate(locations(spec, SEED)):
        loc["country_code"], loc["party_id"] = "NL", "EXA"
        loc["last_updated"] = f"2024-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}Z"
        items.append(json.loads(dumps(loc)))

    async def seed() -> None:
        store = pkg.SqliteStore(str(db))
        for loc in items:
            await store.put_object("Location", "NL", "EXA", loc["id"], loc, loc["last_updated"])
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
    return items


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


# --- The peer row: the same Locations served by another Python OCPI server from PyPI, extrawest-ocpi
# (imported as py_ocpi), in a venv of its own (scripts/py_ocpi_venv.sh: pydantic 1, FastAPI 0.101), with
# the CPO that tests/peers/py_ocpi_cpo.py builds the way the library's README shows (a CRUD class over
# a list of Locations, one token C) and its list replaced by our 1,000 seeded Locations.
PEER = "extrawest-ocpi"
PEER_DIR = ROOT / "tests" / "peers"
PEER_VENV_SCRIPT = ROOT / "scripts" / "py_ocpi_venv.sh"
#: py_ocpi_cpo's token C, base64-encoded as the library expects for 2.2.1.
PEER_TOKEN = base64.b64encode(b"peer-token-c").decode()
#: Our path -> the peer's path for the same request (its module URLs carry the role).
PEER_PATHS = {PATH: "/ocpi/cpo/2.2.1/locations/?offset=0&limit=50", ONE: "/ocpi/cpo/2.2.1/locations/LOC000000"}
PEER_APP = """
import json, logging, os
import py_ocpi_cpo
py_ocpi_cpo.LOCATIONS[:] = json.loads(open(os.environ["BENCH_PEER_LOCATIONS"], "rb").read())
# Our server runs with --log-level warning; the library logs every request at INFO in production.
logging.getLogger("OCPI-Logger").setLevel(logging.WARNING)
app = py_ocpi_cpo.app
"""


class Peer:
    """The running peer (``proc``, ``port``, ``version``), or why it is not measured (``reason``)."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.version = ""
        self.reason = ""
        self.sizes: dict[str, int] = {}


def start_peer(tmp: Path, items: list[dict[str, Any]]) -> Peer:
    """Make (or reuse) the peer's venv and serve ``items`` with it on a free port."""
    peer = Peer()
    made = subprocess.run(["bash", str(PEER_VENV_SCRIPT)], capture_output=True, text=True, timeout=900)
    if made.returncode != 0 or not made.stdout.strip():
        peer.reason = f"its venv could not be made ({PEER_VENV_SCRIPT.name}): {made.stderr.strip()[-300:]}"
        return peer
    peer_python = Path(made.stdout.strip().splitlines()[-1]) / "bin" / "python"
    peer.version = subprocess.run(
        [str(peer_python), "-c", f"import importlib.metadata as m; print(m.version({PEER!r}))"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    folder = tmp / "peer"
    folder.mkdir()
    (folder / "peer_app.py").write_text(PEER_APP)
    (folder / "locations.json").write_text(json.dumps([peer_copy(loc) for loc in items]))
    peer.port = free_port()
    env = env_with(
        BENCH_PEER_LOCATIONS=str(folder / "locations.json"),
        PYTHONPATH=str(PEER_DIR),
        OCPI_HOST=f"127.0.0.1:{peer.port}",
        PROTOCOL="http",
    )
    cmd = [str(peer_python), *uvicorn_cmd(peer.port)[1:]]
    cmd[cmd.index("app:app")] = "peer_app:app"
    with open(folder / "server.log", "wb") as log:
        peer.proc = subprocess.Popen(cmd, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=log)
    try:
        wait_for_port(peer.port, peer.proc)
    except RuntimeError as exc:
        peer.reason = f"it did not start ({exc}): {(folder / 'server.log').read_text()[-300:]}"
    return peer


def peer_copy(location: dict[str, Any]) -> dict[str, Any]:
    """``location`` as the peer can serve it: without the two lists the library's 2.2.1 models type as
    single objects (``EVSE.status_schedule``, ``EnergyMix.environ_impact``: with them it answers OCPI
    3000 to every request of the page), and its id in lower case (the library lower-cases the id in the
    path, and py_ocpi_cpo's CRUD class compares ids exactly)."""
    loc = json.loads(json.dumps(location))
    loc["id"] = loc["id"].lower()
    for evse in loc.get("evses", []):
        evse.pop("status_schedule", None)
    loc.get("energy_mix", {}).pop("environ_impact", None)
    return loc


def check_peer(peer: Peer, page: Any, one: Any) -> None:
    """Both answer 200 with the same Locations as ours before anything is timed (else ``reason``)."""
    import httpx

    headers = {"Authorization": f"Token {PEER_TOKEN}"}
    base = f"http://127.0.0.1:{peer.port}"
    try:
        got_page = httpx.get(base + PEER_PATHS[PATH], headers=headers, timeout=60)
        got_one = httpx.get(base + PEER_PATHS[ONE], headers=headers, timeout=60)
    except httpx.HTTPError as exc:
        peer.reason = f"it did not answer: {exc!r}"
        return
    # Ids are CiStrings: the library writes them in lower case (its CI_STRING_LOWERCASE_PREFERENCE).
    ours_ids = [loc["id"].casefold() for loc in page.json()["data"]]
    peer_ids = [str(loc.get("id")).casefold() for loc in got_page.json().get("data", [])]
    if got_page.status_code != 200 or peer_ids != ours_ids:
        peer.reason = f"its page of 50 is not ours: HTTP {got_page.status_code} {got_page.text[:200]}"
        return
    data = got_one.json().get("data") if got_one.status_code == 200 else None
    # The library answers one Location as a list of one object.
    found = data[0] if isinstance(data, list) and len(data) == 1 else data
    if not isinstance(found, dict) or str(found.get("id")).casefold() != one.json()["data"]["id"].casefold():
        peer.reason = f"its Location is not ours: HTTP {got_one.status_code} {got_one.text[:200]}"
        return
    peer.sizes = {PATH: len(got_page.content), ONE: len(got_one.content)}


def peer_load(peer: Peer, connections: int, seconds: int, path: str) -> dict[str, float]:
    """Requests to the peer from the async httpx loop for ``seconds``: no new request after that, and the
    wall time runs to the last answer. The peer takes about a second per page of 50: a fixed-duration
    wrk run would leave most of its work uncounted (and time out behind 10 queued connections)."""
    url = f"http://127.0.0.1:{peer.port}{PEER_PATHS[path]}"
    out = subprocess.run(
        [python(), "-c", HTTPX_LOAD, url, PEER_TOKEN, str(connections), str(10**6), str(seconds)],
        capture_output=True,
        text=True,
        timeout=seconds + 300,
    ).stdout
    r = json.loads(out)
    return {"rps": r["rps"], "p50": r["p50"] * 1000, "p99": r["p99"] * 1000, "n": r["n"], "errors": r["errors"]}


def print_peer(
    peer: Peer, results: dict[tuple[str, str], list[dict[str, float]]], sizes: dict[str, int], connections: int
) -> None:
    """The peer table: ours (the rows above) next to the peer, same Locations, measured alternately."""
    print(
        f"\n### Peer: the same {SEED:,} Locations served by {PEER} {peer.version} (PyPI) in its own venv"
        f" (async httpx loop, {connections} connections, medians of the runs, alternated with ours)\n"
    )
    if peer.reason:
        print(f"Not measured: {peer.reason}")
        return
    rows = []
    for label, path, _ in ROWS:
        ours, theirs = median_of(results, "ocpi", path, "rps"), median_of(results, "peer", path, "rps")
        rows.append(
            [
                label,
                f"`GET {PEER_PATHS[path]}`",
                f"{ours:.1f}",
                f"{theirs:.1f}",
                f"{median_of(results, 'peer', path, 'p50'):.1f} ms",
                f"{sum(int(r['errors']) for r in results[('peer', path)])}",
                f"{sizes[path] / 1024:.1f} / {peer.sizes[path] / 1024:.1f} KiB",
                f"{ours / theirs:.1f}x",
            ]
        )
    print(
        table(
            [
                "request",
                "peer path",
                "ours req/s",
                "peer req/s",
                "peer p50",
                "peer non-200",
                "body ours / peer",
                "ours/peer",
            ],
            rows,
        )
    )
    print(
        f"\n- Peer: {PEER} {peer.version} (pydantic 1, FastAPI 0.101), uvicorn, 1 worker, its logger at WARNING like ours;"
        " the CPO of `tests/peers/py_ocpi_cpo.py` (a CRUD class as its README shows) holding the Locations in a"
        " Python list in memory (ours: an SQLite file). Each answer validates every Location through the"
        " library's pydantic 1 models and FastAPI's `response_model`; it answers one Location as a list of one"
        " object, writes CiStrings in lower case, and its list filter parses each Location's `last_updated` (the CRUD class's date window)."
        " It gets the Locations with lower-case ids (it lower-cases the id in the path) and without `evses[].status_schedule` and `energy_mix.environ_impact`, which its"
        " 2.2.1 models type as single objects instead of lists (it answers OCPI 3000 with them)."
    )


def median_of(results: dict[tuple[str, str], list[dict[str, float]]], kind: str, path: str, key: str) -> float:
    return median([r[key] for r in results[(kind, path)]])


def emit_rows(results: dict[tuple[str, str], list[dict[str, float]]], peer: Peer) -> None:
    """The result rows of bench/run_all.py's summary: ours / bare per path, ours / peer per path."""
    for label, path, _ in ROWS:
        key = "get_page" if path == PATH else "get_one"
        ours, bare = median_of(results, "ocpi", path, "rps"), median_of(results, "bare", path, "rps")
        emit({"key": key, "value": ours / bare, "measured": f"{ours / bare:.2f}x ({ours:.0f} / {bare:.0f} req/s)"})
        if peer.reason:
            emit({"key": f"peer_{key}", "value": None, "measured": f"not measured: {peer.reason[:160]}"})
        else:
            theirs = median_of(results, "peer", path, "rps")
            emit(
                {
                    "key": f"peer_{key}",
                    "value": ours / theirs,
                    "measured": f"{ours / theirs:.1f}x ({ours:.0f} / {theirs:.1f} req/s, {PEER} {peer.version})",
                }
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--connections", type=int, default=10)
    ap.add_argument("--seconds", type=int, default=8, help="duration of one wrk run")
    ap.add_argument("--requests", type=int, default=2000, help="requests of one run of the httpx fallback")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument(
        "--peer-connections", type=int, default=2, help="connections to the peer (it serves one request at a time)"
    )
    ap.add_argument("--no-peer", dest="peer", action="store_false", help=f"leave out the {PEER} row")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="ocpi-bench-server-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        db = tmp / "store.sqlite"
        items = seed(db)
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
        peer = Peer()
        if args.peer:
            peer = start_peer(tmp, items)
            if peer.proc is not None:
                procs.append(peer.proc)
            if not peer.reason:
                check_peer(peer, first, one)
        else:
            peer.reason = "left out (--no-peer)"

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
                if not peer.reason:
                    results.setdefault(("peer", path), []).append(
                        peer_load(peer, args.peer_connections, args.seconds, path)
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
    print_peer(peer, results, {PATH: len(first.content), ONE: len(one.content)}, args.peer_connections)
    emit_rows(results, peer)


if __name__ == "__main__":
    main()
