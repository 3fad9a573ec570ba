"""Run every benchmark and rewrite BENCHMARKS.md: a summary of issue #16's target rows at the top
(the issue's starting figure, this run's, the target, PASS/FAIL, the command that reproduces it, the
load of the machine), then each script's own tables, then bench/NOTES.md.

The summary is built from the result rows the scripts hand over (``_common.emit``: one JSON line per
row into the file named by $OCPI_BENCH_RESULTS, which this runner sets per script), not from text.

Run: python bench/run_all.py --quick   (fewer runs and items, about 6-8 minutes on a quiet 2-core machine)
     python bench/run_all.py           (every script at its default sizes: longer)
     python bench/run_all.py --full    (adds bench/stores.py: needs wrk and PostgreSQL, see that script)
     python bench/run_all.py --quick --only server.py stores.py -o /tmp/B.md   (some scripts, elsewhere)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS_ENV, ROOT, python, table  # noqa: E402

#: In the order they run. stores.py only with --full (PostgreSQL, wrk, several minutes).
SCRIPTS = ["generation.py", "models.py", "server.py", "client.py", "write_load.py", "stores.py"]
FULL_ONLY = {"stores.py"}
#: ``--quick``: the same measurements with fewer runs and items.
QUICK = {
    "generation.py": ["--runs", "3"],
    "models.py": ["--count", "2000", "--runs", "3"],
    "server.py": ["--seconds", "4", "--runs", "2"],
    "client.py": ["--counts", "10000", "30000"],
    "write_load.py": ["--seconds", "3", "--runs", "2"],
    "stores.py": ["--seconds", "3", "--runs", "2"],
}
NOTES = ROOT / "bench" / "NOTES.md"


@dataclass(frozen=True)
class Target:
    """One row of issue #16's targets (``op``/``bound``: the check; no ``op``: shown for comparison,
    ``"flat"``: the script's own verdict, its row's ``ok``)."""

    key: str
    what: str
    script: str
    today: str
    op: str | None = None
    bound: float = 0.0
    unit: str = "x"
    gap: str = ""
    """The part of bench/NOTES.md (appended below the tables) that explains, with its profile, what
    is left when the target is missed."""

    @property
    def target(self) -> str:
        if self.op is None:
            return "- (for comparison)"
        if self.op == "flat":
            return "flat in N"
        return f"{self.op} {self.bound:g}{' s' if self.unit == 's' else 'x'}"

    def check(self, row: Mapping[str, Any]) -> bool | None:
        """PASS (True), FAIL (False) or no verdict (None) for a result row of this target."""
        if self.op is None:
            return None
        if "ok" in row:
            return bool(row["ok"])
        value = row.get("value")
        if value is None or self.op == "flat":
            return None
        return {">=": value >= self.bound, "<=": value <= self.bound, "<": value < self.bound}[self.op]


#: Issue #16's table ("today" is the issue's starting column), then the peer rows of its "Why".
TARGETS = (
    Target(
        "get_page",
        "GET page of 50 / bare Starlette endpoint (same bytes)",
        "server.py",
        "0.46-0.67x",
        ">=",
        0.7,
        gap="Server, list page; Server, one object",
    ),
    Target(
        "get_one",
        "GET one Location / bare Starlette endpoint",
        "server.py",
        "0.25-0.31x",
        ">=",
        0.6,
        gap="Server, one object",
    ),
    Target(
        "get_under_put",
        "GET median while 10 connections PUT / idle GET median",
        "write_load.py",
        "~44x",
        "<=",
        2,
        gap="Server, writes",
    ),
    Target(
        "put_file_memory",
        "PUT per second, SQLite file / SQLite in memory (same server)",
        "write_load.py",
        "-",
        ">=",
        0.5,
        gap="Server, writes",
    ),
    Target(
        "models_location",
        "models: Location parse and serialise / plain pydantic",
        "models.py",
        "parse 1.41-1.45x, serialise 1.59x",
        "<=",
        1.2,
        gap="Models, serialise; Models, parse",
    ),
    Target(
        "models_cdr",
        "models: CDR parse and serialise / plain pydantic",
        "models.py",
        "parse 1.71x, serialise 1.98x",
        "<=",
        1.2,
        gap="Models, what is left",
    ),
    Target(
        "client_pull",
        "client pull of 10,000 / bare httpx + json.loads loop",
        "client.py",
        "2.63x",
        "<=",
        1.5,
        gap="Client pull",
    ),
    Target(
        "client_memory",
        "client pull: peak memory as the count grows",
        "client.py",
        "52.6 MiB (raw 39.7)",
        "flat",
        gap="Client pull",
    ),
    Target(
        "generate_cold",
        "cold `generate` of everything",
        "generation.py",
        "3.5 s (quiet machine)",
        "<",
        2.0,
        "s",
        gap="Generation, cold",
    ),
    Target("peer_get_page", "GET page of 50: ours / extrawest-ocpi (PyPI)", "server.py", "337-412x"),
    Target("peer_get_one", "GET one Location: ours / extrawest-ocpi (PyPI)", "server.py", "6.8-10.5x"),
)


def loadavg() -> str:
    """The 1, 5 and 15 minute load averages (/proc/loadavg): how busy the shared machine was."""
    try:
        return " / ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def read_results(lines: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Result rows by key from the JSON lines the scripts emitted (a later row of a key wins)."""
    rows: dict[str, dict[str, Any]] = {}
    for line in lines:
        if line.strip():
            row = json.loads(line)
            rows[row["key"]] = row
    return rows


def command(name: str, quick: bool) -> str:
    return " ".join([f"python bench/{name}", *(QUICK[name] if quick else [])])


def summary(results: Mapping[str, Mapping[str, Any]], status: Mapping[str, str], commands: Mapping[str, str]) -> str:
    """The summary table: one row per target. ``status``: per script that ran, "ok" or why it failed
    (a script that did not run leaves its rows "not run"); ``commands``: the reproduce command per script."""
    rows = []
    for t in TARGETS:
        row = results.get(t.key)
        if row is not None:
            measured = str(row.get("measured", row.get("value")))
            ok = t.check(row)
            result = "-" if ok is None else ("PASS" if ok else "FAIL")
        elif t.script in status:
            state = status[t.script]
            measured = "not measured: " + ("no result row" if state == "ok" else f"bench/{t.script} {state}")
            result = "-" if t.op is None else "FAIL"
        else:
            measured, result = "not run", "-"
        why = f"bench/NOTES.md: {t.gap}" if result == "FAIL" and t.gap else "-"
        command = f"`{commands.get(t.script, 'python bench/' + t.script)}`"
        rows.append([t.what, t.today, measured, t.target, result, command, why])
    headers = ["target (issue #16)", "at the issue", "this run", "target", "result", "reproduce"]
    return table([*headers, "missed: what is left, with its profile"], rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer runs and items (see QUICK)")
    ap.add_argument("--full", action="store_true", help="also bench/stores.py (wrk, PostgreSQL)")
    ap.add_argument("--only", nargs="+", choices=SCRIPTS, help="run these scripts only")
    ap.add_argument("-o", "--output", type=Path, default=ROOT / "BENCHMARKS.md")
    args = ap.parse_args()
    # --only names scripts outright (stores.py too); otherwise stores.py runs with --full only.
    names = [n for n in SCRIPTS if (n in args.only if args.only else args.full or n not in FULL_ONLY)]
    commands = {name: command(name, args.quick) for name in SCRIPTS}
    sections, status, results = [], {}, {}
    total, load_before = time.perf_counter(), loadavg()
    with tempfile.TemporaryDirectory(prefix="ocpi-bench-results-") as folder:
        for name in names:
            start, load_at = time.perf_counter(), loadavg()
            print(f"== {name} (load {load_at})", file=sys.stderr, flush=True)
            out = Path(folder) / f"{name}.jsonl"
            out.touch()
            try:
                proc = subprocess.run(
                    [python(), str(ROOT / "bench" / name), *(QUICK[name] if args.quick else [])],
                    cwd=ROOT,
                    capture_output=True,
                    text=True,
                    timeout=1800,
                    env={**os.environ, RESULTS_ENV: str(out)},
                )
                code, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
            except subprocess.TimeoutExpired as exc:
                code, stdout, stderr = -1, "", f"timed out after {exc.timeout:.0f} s"
            took = time.perf_counter() - start
            status[name] = "ok" if code == 0 else f"failed (exit {code})"
            results.update(read_results(out.read_text().splitlines()))
            body = stdout.strip() if code == 0 else f"FAILED (exit {code}):\n\n```\n{stderr[-3000:]}\n```"
            sections.append(
                f"## bench/{name}\n\nReproduce: `{commands[name]}` ({took:.0f} s in this run; load average at its"
                f" start {load_at})\n\n{body}\n"
            )
            print(body, flush=True)
    elapsed = time.perf_counter() - total
    cores = os.cpu_count()
    mode = "--quick" if args.quick else "default sizes"
    head = [
        "# Benchmarks",
        "",
        "Written by `python bench/run_all.py` (the project venv's python when `.venv/` exists: "
        "`bash scripts/test.sh --co -q` makes it). Absolute times drift on a shared machine; compare the "
        "ratios, each against a baseline measured in the same run.",
        "",
        f"Machine: {cores} cores, Python {platform.python_version()}, {platform.system()} {platform.machine()}. "
        f"Whole run ({mode}): {elapsed:.0f} s. Load average (1 / 5 / 15 min) at the start: {load_before}; "
        f"at the end: {loadavg()} (on {cores} cores: above {cores}, other work shared the machine).",
        "",
        "Reproduce all: `python bench/run_all.py"
        + (" --quick" if args.quick else "")
        + (" --full" if args.full else "")
        + (" --only " + " ".join(args.only) if args.only else "")
        + "`"
        + ("" if args.full else " (`--full` adds bench/stores.py: PostgreSQL)"),
        "",
        "## Summary: issue #16's targets",
        "",
        summary(results, status, commands),
        "",
        "Ratios are paired: ours and its baseline measured alternately in the same run. The peer rows are not "
        "targets: the same Locations served by another Python OCPI server from PyPI (see bench/server.py's peer "
        "table for the package, its version and what differs).",
        "",
    ]
    notes = [NOTES.read_text().strip() + "\n"] if NOTES.exists() else []
    args.output.write_text("\n".join(head) + "\n" + "\n".join(sections) + ("\n" + "\n".join(notes) if notes else ""))
    print(f"{args.output} written ({elapsed:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
