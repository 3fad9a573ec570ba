"""Generation speed: `generate` (cold and warm black cache) with its per-stage timings, `openapi
2.2.1`, and `client 2.2.1` side by side with openapi-python-client on the CPO document of 2.2.1.

Every timing is the wall time of a fresh process writing into a fresh temporary folder; medians.
`generate` also reports its CPU seconds (user + sys, the models worker process included) and the
load average, since the wall time of a shared machine says little alone.
openapi-python-client is installed into bench/.venv-opc (created on first use).
Run: python bench/generation.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BENCH, ROOT, env_with, fmt_ratio, fmt_s, median, python, run_timed, table, verdict  # noqa: E402

STAGES = ("load", "ir", "plan", "render", "format", "write")
OPC_VENV = BENCH / ".venv-opc"
OPC_DOC = ROOT / "generated" / "2.2.1" / "openapi" / "roles" / "cpo.yaml"
GENERATE_TARGET = 2.0  # issue #16: a cold generate of everything under 2 s
OPENAPI_TARGET = 0.5


def ours(*args: str) -> list[str]:
    return [python(), "-m", "generator", *args]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def generate_once(cold: bool) -> tuple[float, float, dict[str, float]]:
    """Wall and CPU seconds (the process and its worker) of one ``generate``, and its stages."""
    env = env_with()
    if cold:
        env["OCPI_CODEGEN_NO_CACHE"] = "1"
    else:
        env.pop("OCPI_CODEGEN_NO_CACHE", None)
    with tempfile.TemporaryDirectory() as tmp:
        cpu = _children_cpu()
        seconds, proc = run_timed(ours("generate", "-o", str(Path(tmp) / "out"), "--timings"), env=env, cwd=ROOT)
        cpu = _children_cpu() - cpu
    if proc.returncode != 0:
        raise RuntimeError(f"generate failed: {proc.stderr[-2000:]}")
    stages = {m.group(1): float(m.group(2)) for m in re.finditer(r"^\s*(\w+): ([0-9.]+)s\s*$", proc.stderr, re.M)}
    return seconds, cpu, stages


def bench_generate(runs: int, cold: bool) -> tuple[float, float, dict[str, float]]:
    if not cold:
        generate_once(cold=False)  # prime the black cache
    results = [generate_once(cold) for _ in range(runs)]
    stages = {s: median([r[2].get(s, 0.0) for r in results]) for s in STAGES}
    return median([r[0] for r in results]), median([r[1] for r in results]), stages


def bench_ours(args: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            seconds, proc = run_timed(ours(*args, "-o", str(Path(tmp) / "out")), cwd=ROOT)
        if proc.returncode != 0:
            raise RuntimeError(f"{args} failed: {proc.stderr[-2000:]}")
        times.append(seconds)
    return median(times)


def ensure_opc() -> tuple[Path | None, str]:
    exe = OPC_VENV / "bin" / "openapi-python-client"
    if not exe.exists():
        try:
            subprocess.run([sys.executable, "-m", "venv", str(OPC_VENV)], check=True, capture_output=True, timeout=120)
            subprocess.run(
                [str(OPC_VENV / "bin" / "pip"), "install", "-q", "openapi-python-client"],
                check=True,
                capture_output=True,
                text=True,
                timeout=600,
            )
        except (subprocess.SubprocessError, OSError) as exc:
            detail = getattr(exc, "stderr", "") or str(exc)
            return None, f"install failed: {str(detail).strip().splitlines()[-1:]}"
    version = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=60).stdout.strip()
    return exe, version


def bench_opc(exe: Path, runs: int) -> tuple[float | None, str]:
    # ruff (installed with it) on PATH, so its post-generation formatting runs as intended.
    env = env_with(PATH=f"{exe.parent}:{env_with().get('PATH', '')}")
    times, notes = [], ""
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "out"
            seconds, proc = run_timed(
                [str(exe), "generate", "--path", str(OPC_DOC), "--output-path", str(out), "--overwrite"],
                env=env,
                timeout=300,
            )
            text = (proc.stdout + proc.stderr).strip()
            if proc.returncode != 0 or not out.exists():
                first = " ".join(line.strip() for line in text.splitlines() if line.strip())[:300]
                return None, f"FAILED (exit {proc.returncode}): {first}"
            files = sum(1 for _ in out.rglob("*.py"))
            warn = [
                line.strip() for line in text.splitlines() if "warning" in line.lower() or "skipping" in line.lower()
            ]
            notes = f"{files} .py files" + (f"; warnings: {' / '.join(warn)[:300]}" if warn else "; no warnings")
        times.append(seconds)
    return median(times), notes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=5)
    runs = ap.parse_args().runs

    load_before = os.getloadavg()[0]
    cold, cold_cpu, cold_stages = bench_generate(runs, cold=True)
    warm, warm_cpu, warm_stages = bench_generate(runs, cold=False)
    load = max(load_before, os.getloadavg()[0])
    openapi = bench_ours(["openapi", "2.2.1"], runs)
    client = bench_ours(["client", "2.2.1"], runs)
    exe, opc_version = ensure_opc()
    opc, opc_notes = bench_opc(exe, runs) if exe else (None, opc_version)

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    print(f"### Generation (wall time of a fresh process, median of {runs})\n")
    print(f"Load average (1 min) up to {load:.2f} on {cores} cores while `generate` ran.\n")
    print(
        table(
            ["command", "median", "CPU (user+sys)", "target", "result"],
            [
                [
                    "`generate` (all versions), cold: OCPI_CODEGEN_NO_CACHE=1",
                    fmt_s(cold),
                    fmt_s(cold_cpu),
                    f"< {GENERATE_TARGET:g} s",
                    verdict(cold < GENERATE_TARGET),
                ],
                [
                    "`generate` (all versions), warm black cache",
                    fmt_s(warm),
                    fmt_s(warm_cpu),
                    f"< {GENERATE_TARGET:g} s",
                    verdict(warm < GENERATE_TARGET),
                ],
                [
                    "`openapi 2.2.1 -o DIR` (25 documents)",
                    fmt_s(openapi),
                    "-",
                    f"< {OPENAPI_TARGET:g} s",
                    verdict(openapi < OPENAPI_TARGET),
                ],
            ],
        )
    )
    print(f"\n### `generate --timings` per stage (seconds, median of {runs})\n")
    print(
        table(
            ["stage", *STAGES, "sum"],
            [
                ["cold", *(f"{cold_stages[s]:.3f}" for s in STAGES), f"{sum(cold_stages.values()):.3f}"],
                ["warm", *(f"{warm_stages[s]:.3f}" for s in STAGES), f"{sum(warm_stages.values()):.3f}"],
            ],
        )
    )
    print(f"\n### Client generation side by side (median of {runs})\n")
    rows = [
        [
            "ocpi-codegen `client 2.2.1 -o DIR`",
            fmt_s(client),
            "1.00x",
            "typed pydantic v2 + httpx package, black-formatted",
        ]
    ]
    if opc is None:
        rows.append([f"openapi-python-client {opc_version} on roles/cpo.yaml", "-", "-", opc_notes])
    else:
        rows.append(
            [f"openapi-python-client ({opc_version}) on roles/cpo.yaml", fmt_s(opc), fmt_ratio(opc / client), opc_notes]
        )
    print(table(["generator", "median", "ratio to ours", "notes"], rows))
    emit_rows(cold, runs)


def emit_rows(cold: float, runs: int) -> None:
    """The result row of bench/run_all.py's summary (bench/_common.emit): the cold generate."""
    from _common import emit

    emit({"key": "generate_cold", "value": cold, "measured": f"{fmt_s(cold)} (median of {runs} fresh processes)"})


if __name__ == "__main__":
    main()
