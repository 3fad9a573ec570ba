"""Shared helpers of the benchmark scripts: paths, the interpreter to use, medians, tables.

Benchmarks are scripts, not tests: each prints a Markdown table on stdout. Absolute times drift on a
shared machine, so every script also measures a baseline in the same run and reports ratios.
"""

from __future__ import annotations

import gc
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"


def python() -> str:
    """The project venv's interpreter when there is one (scripts/test.sh makes it), else this one."""
    venv = ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def ensure_root_on_path() -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def timed(fn: Callable[[], Any], runs: int) -> list[float]:
    """Wall seconds of ``runs`` calls of ``fn``.

    Before each call the objects alive so far (inputs, results kept for later steps) are collected
    and frozen (``gc.freeze``): the garbage collector then scans only what the call itself makes.
    Without that, a call that allocates millions of objects pays for scanning the harness's own
    heap, which inflates every timing by a different amount and pulls the ratios towards 1.
    """
    out = []
    for _ in range(runs):
        gc.collect()
        gc.freeze()
        try:
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
        finally:
            gc.unfreeze()
    return out


def run_timed(
    cmd: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 120
) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Wall seconds of one fresh process (bounded by ``timeout``)."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    return time.perf_counter() - start, proc


def env_with(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[Any], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


def stop(proc: subprocess.Popen[Any]) -> None:
    """Stop one process we started (by its own handle), then make sure it is gone."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table."""
    cells = [[str(c) for c in row] for row in rows]
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    return "\n".join(lines)


def fmt_s(seconds: float) -> str:
    return f"{seconds:.3f} s" if seconds < 10 else f"{seconds:.1f} s"


def fmt_ratio(x: float) -> str:
    return f"{x:.2f}x"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


#: bench/run_all.py names a file here; each script appends its result rows to it (see ``emit``).
RESULTS_ENV = "OCPI_BENCH_RESULTS"


def emit(*rows: dict[str, Any]) -> None:
    """Hand result rows to bench/run_all.py, which builds the summary table of BENCHMARKS.md from them.

    One JSON object per line, appended to the file named by ``$OCPI_BENCH_RESULTS`` (run_all sets it;
    a script run by hand writes nothing). A row: ``key`` (a key of ``run_all.TARGETS``), ``value``
    (the figure the target is checked on: a ratio, seconds; None when not measured), ``measured``
    (that figure as shown, with its baseline beside it) and, optionally, ``ok`` (a verdict the script
    made itself, e.g. "memory flat"; otherwise run_all checks ``value`` against the target).
    """
    path = os.environ.get(RESULTS_ENV)
    if not path:
        return
    with open(path, "a", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row) + "\n")
