"""Writes never stall reads (issue 16, item 2): the 2.2.1 eMSP scaffold (Locations receiver) under
uvicorn, one worker, on SQLite.

* GET latency: the median of sequential GETs of one Location, idle and while ``--connections`` clients
  PUT whole Locations as fast as they can (target: loaded / idle <= 2x);
* PUT throughput: Locations PUT per second on an SQLite file against SQLite in memory, same server,
  same clients (target: file / memory >= 0.5x).

Load on 127.0.0.1 only: the PUTs from ``wrk`` (one thread; an async httpx loop in a separate
process when wrk is missing, ``--httpx``), the GETs one at a time from httpx. wrk costs the machine
little CPU, so the server's event loop, not the load generator, is what is busy. ``--emsp-dir``
measures another checkout's scaffold under the same load (a paired baseline). Run:
python bench/write_load.py [--connections 10] [--seconds 5] [--runs 3] [--emsp-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import env_with, free_port, median, python, stop, table, wait_for_port  # noqa: E402
from server import TOKEN  # noqa: E402
from stores import EMSP_DIR, PUT_LUA, PUT_PREFIX, seed, workers_cmd  # noqa: E402

# The app with the bench party saved in its own store first (an in-memory store cannot be seeded
# from outside the process).
LAUNCHER = """
import asyncio
from app import app
from {package} import Party
asyncio.run(app.state.store.save_party(Party(party_key="DE/EMS", token_c="{token}", version="2.2.1")))
"""

# N connections PUT the template under ids LOC000000..LOC000999 in turn for a fixed time; prints
# {"puts": n, "errors": e}.
PUT_LOAD = r"""
import asyncio, json, sys, time
import httpx
base, token, template, conns, seconds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
body = open(template).read()
headers = {"Authorization": "Token " + token, "Content-Type": "application/json"}
done = errors = 0
slowest = 0.0
async def worker(n):
    global done, errors, slowest
    async with httpx.AsyncClient(timeout=30) as client:
        i = n
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            oid = "LOC%06d" % (i % 1000)
            t0 = time.monotonic()
            try:
                r = await client.put(base + oid, content=body.replace("__ID__", oid), headers=headers)
                ok = r.status_code in (200, 201)
            except httpx.HTTPError:
                ok = False
            slowest = max(slowest, time.monotonic() - t0)
            if ok:
                done += 1
            else:
                errors += 1
            i += conns
async def main():
    await asyncio.wait_for(asyncio.gather(*(worker(n) for n in range(conns))), seconds + 30)
asyncio.run(main())
print(json.dumps({"puts": done, "errors": errors, "seconds": seconds, "slowest": slowest}))
"""


def get_latencies(url: str, count: int) -> list[float]:
    import httpx

    out = []
    with httpx.Client(timeout=30) as client:
        for _ in range(count):
            t0 = time.perf_counter()
            r = client.get(url, headers={"Authorization": f"Token {TOKEN}"})
            out.append(time.perf_counter() - t0)
            assert r.status_code == 200, r.text[:200]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--connections", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--emsp-dir", type=Path, default=EMSP_DIR, help="the 2.2.1 eMSP scaffold to run")
    ap.add_argument("--httpx", action="store_true", help="PUT load from httpx even when wrk is there")
    args = ap.parse_args()
    emsp_dir = args.emsp_dir.resolve()
    use_wrk = bool(shutil.which("wrk")) and not args.httpx
    tmp = Path(tempfile.mkdtemp(prefix="ocpi-bench-write-"))
    package = next(p.name for p in emsp_dir.iterdir() if p.name.startswith("ocpi_server_"))
    (tmp / "launch.py").write_text(LAUNCHER.format(package=package, token=TOKEN))
    (tmp / "put_load.py").write_text(PUT_LOAD)
    (tmp / "put.lua").write_text(PUT_LUA.replace("{seed}", "1000").replace("{prefix}", PUT_PREFIX))
    seeded = f"sqlite:///{tmp / 'seeded.sqlite'}"
    sample = seed(seeded)
    template = tmp / "put.json"
    # Newer than every seeded Location: each PUT replaces one (a real write, not a kept stale update).
    template.write_text(
        json.dumps({**sample, "id": "__ID__", "last_updated": "2030-01-01T00:00:00Z"}, separators=(",", ":"))
    )

    def server(database: str) -> tuple[subprocess.Popen[bytes], int]:
        port = free_port()
        env = env_with(
            OCPI_DATABASE=database, OCPI_BASE_URL=f"http://127.0.0.1:{port}/ocpi", PYTHONPATH=f"{emsp_dir}:{tmp}"
        )
        cmd = workers_cmd(port, 1)
        cmd[cmd.index("app:app")] = "launch:app"
        # The server's log goes to a file: an unread pipe fills up and then blocks every log call
        # (a stale PUT logs one line), which would look like a stalled writer.
        with open(tmp / f"server-{port}.log", "wb") as log:
            proc = subprocess.Popen(cmd, cwd=emsp_dir, env=env, stdout=subprocess.DEVNULL, stderr=log)
        wait_for_port(port, proc)
        return proc, port

    def put_load(port: int) -> subprocess.Popen[str]:
        base = f"http://127.0.0.1:{port}{PUT_PREFIX}"
        if use_wrk:
            seconds = max(1, round(args.seconds))
            cmd = [
                "wrk",
                "-t1",
                f"-c{args.connections}",
                f"-d{seconds}s",
                "--timeout",
                "30s",
                "-s",
                str(tmp / "put.lua"),
            ]
            env = {**os.environ, "OCPI_PUT_TEMPLATE": str(template), "OCPI_PUT_TOKEN": TOKEN}
            return subprocess.Popen([*cmd, base], stdout=subprocess.PIPE, text=True, env=env)
        return subprocess.Popen(
            [python(), str(tmp / "put_load.py"), base, TOKEN, str(template), str(args.connections), str(args.seconds)],
            stdout=subprocess.PIPE,
            text=True,
        )

    def load_result(load: subprocess.Popen[str]) -> dict[str, float]:
        """``{"puts", "errors", "seconds"}`` of a finished load (wrk's report or put_load.py's JSON)."""
        out = load.communicate()[0]
        if not use_wrk:
            result: dict[str, float] = json.loads(out)
            return result
        count = re.search(r"([0-9]+) requests in ([0-9.]+)(m?s)", out)
        assert count, out
        bad = re.search(r"Non-2xx or 3xx responses: ([0-9]+)", out)
        errors = int(bad.group(1)) if bad else 0
        errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) ([0-9]+)", out))
        took = float(count.group(2)) / (1000 if count.group(3) == "ms" else 1)
        return {"puts": int(count.group(1)) - errors, "errors": errors, "seconds": took}

    rows = []
    # 1. GET latency, idle and under write load, on the seeded file.
    proc, port = server(seeded)
    try:
        url = f"http://127.0.0.1:{port}{PUT_PREFIX}{sample['id']}"
        get_latencies(url, 50)  # warm-up
        idle, loaded = [], []
        for _ in range(args.runs):
            idle.append(median(get_latencies(url, 300)))
            load = put_load(port)
            time.sleep(0.5)
            during = []
            while load.poll() is None:
                during += get_latencies(url, 20)
            result = load_result(load)
            assert result["errors"] == 0 and result["puts"] > 0, result
            loaded.append(median(during))
        ratio = median(loaded) / median(idle)
        rows.append(
            [
                "GET one Location: median while PUTs / idle",
                f"{median(loaded) * 1000:.2f} ms / {median(idle) * 1000:.2f} ms",
                f"{ratio:.2f}x",
                "<= 2x",
                "PASS" if ratio <= 2 else "FAIL",
            ]
        )
    finally:
        stop(proc)
    # 2. PUT throughput, file against memory.
    rates: dict[str, list[float]] = {}
    for name, database in (("file", f"sqlite:///{tmp / 'fresh.sqlite'}"), ("memory", ":memory:")):
        proc, port = server(database)
        try:
            for _ in range(args.runs):
                result = load_result(put_load(port))
                assert result["errors"] == 0, result
                rates.setdefault(name, []).append(result["puts"] / result["seconds"])
        finally:
            stop(proc)
    ratio = median(rates["file"]) / median(rates["memory"])
    rows.append(
        [
            "PUT Location per second: SQLite file / in memory",
            f"{median(rates['file']):.0f}/s / {median(rates['memory']):.0f}/s",
            f"{ratio:.2f}x",
            ">= 0.5x",
            "PASS" if ratio >= 0.5 else "FAIL",
        ]
    )
    loader = "wrk -t1" if use_wrk else "httpx (async, one process)"
    print(f"{args.connections} connections writing ({loader}), {args.runs} runs of {args.seconds:g} s, medians")
    print(f"scaffold: {emsp_dir}\n")
    print(table(["what", "measured", "ratio", "target", "result"], rows))
    emit_rows(idle, loaded, rates)


def emit_rows(idle: list[float], loaded: list[float], rates: dict[str, list[float]]) -> None:
    """The result rows of bench/run_all.py's summary (bench/_common.emit)."""
    from _common import emit

    slow, fast = median(loaded), median(idle)
    file, memory = median(rates["file"]), median(rates["memory"])
    emit(
        {
            "key": "get_under_put",
            "value": slow / fast,
            "measured": f"{slow / fast:.2f}x ({slow * 1000:.2f} / {fast * 1000:.2f} ms)",
        },
        {
            "key": "put_file_memory",
            "value": file / memory,
            "measured": f"{file / memory:.2f}x ({file:.0f} / {memory:.0f} PUT/s)",
        },
    )


if __name__ == "__main__":
    main()
