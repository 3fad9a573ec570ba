"""Client pull: the generated 2.2.1 client (`CpoClient.connect(...).locations.list(limit=100)`) pulling
10,000 and 100,000 Locations in pages of 100 from a small Starlette app on 127.0.0.1 (a subprocess,
uvicorn) that makes the pages on the fly with correct Link / X-Total-Count / X-Limit headers.

Each pull runs in a fresh subprocess: once untraced (wall time, and the process's own peak
resident memory, VmHWM from /proc/self/status: ru_maxrss would carry over the parent's peak on
Linux) and once under tracemalloc (peak of Python allocations). Baseline in the same run: the same pages fetched with a
plain httpx.Client and json.loads only (no models). Peak memory must not grow with the total count.
Every Location carries every field of the spec (tests/samples.obj: 1 EVSE, 1 connector).
Run: python bench/client.py [--counts 10000 100000] [--runs 1]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

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

PAGE = 100
TARGET = 1.5

PEER_APP = r"""
import json, os
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route
BASE = os.environ["BENCH_BASE"]
TOTAL = int(os.environ["BENCH_TOTAL"])
TEMPLATE = os.environ["BENCH_LOCATION"]  # JSON text of one Location whose id is "@@ID@@"
STAMP = "2024-01-01T00:00:00Z"
def envelope(data_text):
    return ('{"data":' + data_text + ',"status_code":1000,"status_message":"Success","timestamp":"' + STAMP + '"}').encode()
async def versions(request):
    return Response(envelope(json.dumps([{"version": "2.2.1", "url": BASE + "/2.2.1"}])), media_type="application/json")
async def details(request):
    eps = [{"identifier": "locations", "role": "SENDER", "url": BASE + "/2.2.1/locations"}]
    return Response(envelope(json.dumps({"version": "2.2.1", "endpoints": eps})), media_type="application/json")
async def locations(request):
    offset = int(request.query_params.get("offset", "0"))
    limit = min(int(request.query_params.get("limit", "100")), 100)
    end = min(offset + limit, TOTAL)
    items = ",".join(TEMPLATE.replace("@@ID@@", "LOC%08d" % n) for n in range(offset, end))
    headers = {"X-Total-Count": str(TOTAL), "X-Limit": str(limit)}
    if end < TOTAL:
        headers["Link"] = '<%s/2.2.1/locations?offset=%d&limit=%d>; rel="next"' % (BASE, end, limit)
    return Response(envelope("[" + items + "]"), media_type="application/json", headers=headers)
app = Starlette(routes=[Route("/ocpi/versions", versions), Route("/ocpi/2.2.1", details), Route("/ocpi/2.2.1/locations", locations)])
"""

# One pull in a fresh process; prints JSON. argv: mode (client|raw), base URL, expected count, trace (0|1).
PULL = r"""
import json, sys, time, tracemalloc
def vm_hwm_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0
mode, base, expected, trace = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
sys.path.insert(0, sys.argv[5])
import httpx
if mode == "client":
    from ocpi_client_v2_2_1 import CpoClient
if trace:
    tracemalloc.start()
start = time.perf_counter()
count = 0
if mode == "client":
    with CpoClient.connect(base + "/versions", token="bench") as cpo:
        pages = cpo.locations.list(limit=100)
        for location in pages:
            count += 1
        assert not pages.deviations and pages.total_count == expected, (pages.deviations[:1], pages.total_count)
else:
    url = base + "/2.2.1/locations?offset=0&limit=100"
    with httpx.Client(timeout=60) as http:
        while url:
            r = http.get(url, headers={"Authorization": "Token bench"})
            count += len(json.loads(r.content)["data"])
            link = r.headers.get("link")
            url = link[1:link.index(">")] if link else None
elapsed = time.perf_counter() - start
peak = tracemalloc.get_traced_memory()[1] if trace else 0
assert count == expected, count
print(json.dumps({"seconds": elapsed, "hwm_kib": vm_hwm_kib(), "traced_peak": peak}))
"""


def location_template() -> str:
    sys.path.insert(0, str(ROOT))
    from generator.ir import ObjectType
    from generator.paths import SPEC_ROOT
    from generator.pipeline import load_spec
    from tests.samples import dumps, obj

    spec = load_spec(SPEC_ROOT, "2.2.1")
    t = spec.type("Location")
    assert isinstance(t, ObjectType)
    data = obj(spec, t)
    data["id"] = "@@ID@@"
    return dumps(data)


def pull(mode: str, base: str, count: int, trace: bool) -> dict[str, float]:
    out = subprocess.run(
        [
            python(),
            "-c",
            PULL,
            mode,
            base,
            str(count),
            "1" if trace else "0",
            str(ROOT / "generated" / "2.2.1" / "client"),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--counts", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--runs", type=int, default=1, help="untraced pulls per count (median)")
    args = ap.parse_args()

    template = location_template()
    rows, peaks = [], {}
    for count in args.counts:
        port = free_port()
        base = f"http://127.0.0.1:{port}/ocpi"
        env = env_with(BENCH_BASE=base, BENCH_TOTAL=str(count), BENCH_LOCATION=template)
        cmd = [
            python(),
            "-c",
            "import uvicorn, sys; sys.argv=['x']; exec(compile(__import__('os').environ['BENCH_APP'], 'peer', 'exec')); uvicorn.run(app, host='127.0.0.1', port=%d, log_level='warning', access_log=False)"
            % port,
        ]
        env["BENCH_APP"] = PEER_APP
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_for_port(port, proc)
            raw = [pull("raw", base, count, False) for _ in range(args.runs)]
            ours = [pull("client", base, count, False) for _ in range(args.runs)]
            traced = pull("client", base, count, True)
        finally:
            stop(proc)
        t_raw, t_ours = median([r["seconds"] for r in raw]), median([r["seconds"] for r in ours])
        rss = median([r["hwm_kib"] for r in ours]) / 1024
        rss_raw = median([r["hwm_kib"] for r in raw]) / 1024
        peaks[count] = (traced["traced_peak"] / 2**20, rss)
        rows.append(
            [
                f"{count:,}",
                f"{count // PAGE:,}",
                f"{t_ours:.2f} s",
                f"{count / t_ours:,.0f}",
                f"{t_raw:.2f} s",
                fmt_ratio(t_ours / t_raw),
                verdict(t_ours / t_raw <= TARGET),
                f"{rss:.1f} MiB",
                f"{rss_raw:.1f} MiB",
                f"{traced['traced_peak'] / 2**20:.2f} MiB",
            ]
        )
    print(
        f"### Client: generated 2.2.1 CpoClient pulling Locations in pages of {PAGE} ({len(template) / 1024:.1f} KiB Location with every field; fresh process per pull; median of {args.runs})\n"
    )
    print(
        table(
            [
                "locations",
                "pages",
                "client time",
                "locations/s",
                "raw httpx+json.loads",
                f"client/raw (target <= {TARGET}x)",
                "result",
                "client peak RSS (VmHWM)",
                "raw peak RSS (VmHWM)",
                "client tracemalloc peak",
            ],
            rows,
        )
    )
    counts = sorted(peaks)
    if len(counts) >= 2:
        small, large = peaks[counts[0]], peaks[counts[-1]]
        flat = large[0] <= small[0] * 1.25 + 1 and large[1] <= small[1] * 1.25 + 5
        print(
            f"\nPeak memory from {counts[0]:,} to {counts[-1]:,} locations: tracemalloc {small[0]:.2f} -> {large[0]:.2f} MiB, "
            f"VmHWM {small[1]:.1f} -> {large[1]:.1f} MiB: {'flat (does not grow with the count)' if flat else 'GROWS with the count'}: {verdict(flat)}"
        )
    emit_rows(rows, peaks)


def emit_rows(rows: list[list[str]], peaks: dict[int, tuple[float, float]]) -> None:
    """The result rows of bench/run_all.py's summary (bench/_common.emit): client / raw of the pull of
    10,000 (else the smallest count), read back from the table's rows ([locations, pages, client s,
    locations/s, raw s, ...]); memory flat by the rule printed above, from ``peaks``."""
    import re

    from _common import emit

    times = {}
    for row in rows:
        ours, raw = re.match(r"[0-9.]+", row[2]), re.match(r"[0-9.]+", row[4])
        if ours and raw:
            times[int(row[0].replace(",", ""))] = (float(ours.group()), float(raw.group()))
    if times:
        count = 10_000 if 10_000 in times else min(times)
        ours_s, raw_s = times[count]
        emit(
            {
                "key": "client_pull",
                "value": ours_s / raw_s,
                "measured": f"{ours_s / raw_s:.2f}x ({ours_s:.2f} / {raw_s:.2f} s, {count:,} Locations)",
            }
        )
    counts = sorted(peaks)
    if len(counts) >= 2:
        small, large = peaks[counts[0]], peaks[counts[-1]]
        flat = large[0] <= small[0] * 1.25 + 1 and large[1] <= small[1] * 1.25 + 5  # the rule of main()
        emit(
            {
                "key": "client_memory",
                "value": large[1] / small[1],
                "ok": flat,
                "measured": f"VmHWM {small[1]:.1f} -> {large[1]:.1f} MiB, tracemalloc {small[0]:.2f} -> {large[0]:.2f} MiB"
                f" ({counts[0]:,} -> {counts[-1]:,} Locations)",
            }
        )


if __name__ == "__main__":
    main()
