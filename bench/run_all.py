"""Run every benchmark and rewrite BENCHMARKS.md with their tables.

Run: python bench/run_all.py   (about 5-10 minutes on a 2-core machine)
     python bench/run_all.py --quick   (fewer runs and items: a few minutes; the tables say so)
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, python  # noqa: E402

SCRIPTS = ["generation.py", "models.py", "server.py", "client.py", "stores.py", "write_load.py"]
#: ``--quick``: the same measurements with fewer runs and items.
QUICK = {
    "generation.py": ["--runs", "3"],
    "models.py": ["--count", "2000", "--runs", "3"],
    "server.py": ["--seconds", "4", "--runs", "2"],
    "client.py": ["--counts", "10000", "30000"],
    "stores.py": ["--seconds", "3", "--runs", "2"],
    "write_load.py": ["--seconds", "3", "--runs", "2"],
}
NOTES = ROOT / "bench" / "NOTES.md"


def loadavg() -> str:
    """The 1, 5 and 15 minute load averages (/proc/loadavg): how busy the shared machine was."""
    try:
        return " / ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="fewer runs and items (see QUICK)")
    args = ap.parse_args()
    sections, total = [], time.perf_counter()
    load_before = loadavg()
    for name in SCRIPTS:
        start = time.perf_counter()
        print(f"== {name}", file=sys.stderr, flush=True)
        proc = subprocess.run(
            [python(), str(ROOT / "bench" / name), *(QUICK[name] if args.quick else [])],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=900,
        )
        took = time.perf_counter() - start
        body = (
            proc.stdout.strip()
            if proc.returncode == 0
            else f"FAILED (exit {proc.returncode}):\n\n```\n{proc.stderr[-3000:]}\n```"
        )
        command = " ".join([f"python bench/{name}", *(QUICK[name] if args.quick else [])])
        sections.append(f"## bench/{name}\n\nReproduce: `{command}` ({took:.0f} s in this run)\n\n{body}\n")
        print(body, flush=True)
    elapsed = time.perf_counter() - total
    head = [
        "# Benchmarks",
        "",
        "Written by `python bench/run_all.py` (the project venv's python when `.venv/` exists: "
        "`bash scripts/test.sh --co -q` makes it). Absolute times drift on a shared machine; compare the "
        "ratios, each against a baseline measured in the same run.",
        "",
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()} {platform.machine()}. "
        f"Whole run: {elapsed:.0f} s. Load average (1 / 5 / 15 min) at the start: {load_before}; "
        f"at the end: {loadavg()} (on {os.cpu_count()} cores: above that, other work shared the machine).",
        "",
        "Reproduce all: `python bench/run_all.py" + (" --quick`" if args.quick else "`"),
        "",
    ]
    notes = [NOTES.read_text().strip() + "\n"] if NOTES.exists() else []
    (ROOT / "BENCHMARKS.md").write_text(
        "\n".join(head) + "\n" + "\n".join(sections) + ("\n" + "\n".join(notes) if notes else "")
    )
    print(f"BENCHMARKS.md written ({elapsed:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
