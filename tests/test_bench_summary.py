"""bench/run_all.py's summary of issue #16's targets, built from the result rows the bench scripts emit
(bench/_common.emit). No timing here: sample rows in, the table out."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


def load(name: str) -> ModuleType:
    """A bench script as a module of its own name (``bench_<name>``). A script puts bench/ in front of
    sys.path to find _common; the path is put back, so that no other test imports a bench script
    by a short name (client, server, models)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    path = list(sys.path)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = path
    return module


run_all = load("run_all")


def rows_of(markdown: str) -> dict[str, list[str]]:
    """The summary's rows by their first cell (the target's name)."""
    out = {}
    for line in markdown.splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        out[cells[0]] = cells[1:]
    return out


def what(key: str) -> str:
    return next(t.what for t in run_all.TARGETS if t.key == key)


def test_every_target_of_the_issue_is_a_row_with_its_starting_figure_target_and_command() -> None:
    commands = {n: run_all.command(n, quick=True) for n in run_all.SCRIPTS}
    table = run_all.summary({}, {}, commands)
    lines = table.splitlines()
    assert lines[0] == (
        "| target (issue #16) | at the issue | this run | target | result | reproduce"
        " | missed: what is left, with its profile |"
    )
    rows = rows_of(table)
    assert len(rows) == len(run_all.TARGETS) == 11
    assert rows[what("get_one")] == [
        "0.25-0.31x",
        "not run",
        ">= 0.6x",
        "-",
        "`python bench/server.py --seconds 4 --runs 2`",
        "-",
    ]
    assert rows[what("generate_cold")][:4] == ["3.5 s (quiet machine)", "not run", "< 2 s", "-"]
    assert rows[what("get_under_put")][2] == "<= 2x"
    assert rows[what("client_memory")][2] == "flat in N"
    assert rows[what("peer_get_page")][2] == "- (for comparison)"


def test_results_are_checked_against_their_targets() -> None:
    results = run_all.read_results(
        [
            json.dumps({"key": "get_page", "value": 0.71, "measured": "0.71x (710 / 1000 req/s)"}),
            "",
            json.dumps({"key": "get_one", "value": 0.9, "measured": "first"}),
            json.dumps({"key": "get_one", "value": 0.59, "measured": "0.59x (590 / 1000 req/s)"}),  # the later row wins
            json.dumps({"key": "generate_cold", "value": 2.0, "measured": "2.000 s"}),  # "< 2 s" is strict
            json.dumps({"key": "get_under_put", "value": 2.0, "measured": "2.00x"}),  # "<= 2x" is not
            json.dumps(
                {"key": "client_memory", "value": 1.01, "ok": False, "measured": "grew"}
            ),  # the script's verdict
            json.dumps({"key": "peer_get_page", "value": 400.0, "measured": "400.0x"}),
            json.dumps({"key": "peer_get_one", "value": None, "measured": "not measured: its venv could not be made"}),
        ]
    )
    status = {"server.py": "ok", "write_load.py": "ok", "generation.py": "ok", "client.py": "ok"}
    status["models.py"] = "failed (exit 1)"
    rows = rows_of(run_all.summary(results, status, {}))
    assert rows[what("get_page")][1:4] == ["0.71x (710 / 1000 req/s)", ">= 0.7x", "PASS"]
    assert rows[what("get_one")][1:4] == ["0.59x (590 / 1000 req/s)", ">= 0.6x", "FAIL"]
    assert rows[what("get_one")][5] == "bench/NOTES.md: Server, one object"  # where the gap is explained
    assert rows[what("get_page")][5] == "-"  # met: nothing to explain
    # Every target a run can miss names the part of bench/NOTES.md that explains what is left.
    notes = (Path(run_all.__file__).parent / "NOTES.md").read_text()
    for t in run_all.TARGETS:
        assert (t.op is None) == (t.gap == ""), t.key
        for part in filter(None, t.gap.split("; ")):
            assert f"- **{part}" in notes, (t.key, part)
    assert rows[what("generate_cold")][3] == "FAIL"
    assert rows[what("get_under_put")][3] == "PASS"
    assert rows[what("client_memory")][1:4] == ["grew", "flat in N", "FAIL"]
    # A script that ran without its row, or failed: the target is not met, and the row says why.
    assert rows[what("client_pull")][1:4] == ["not measured: no result row", "<= 1.5x", "FAIL"]
    assert rows[what("models_cdr")][1:4] == ["not measured: bench/models.py failed (exit 1)", "<= 1.2x", "FAIL"]
    # The peer rows carry no verdict, measured or not.
    assert rows[what("peer_get_page")][1:4] == ["400.0x", "- (for comparison)", "-"]
    assert rows[what("peer_get_one")][1:4] == ["not measured: its venv could not be made", "- (for comparison)", "-"]
    # write_load.py ran but emitted only one of its two rows.
    assert rows[what("put_file_memory")][1] == "not measured: no result row"


def test_emit_writes_json_lines_only_when_run_all_names_a_file(tmp_path: Path, monkeypatch: Any) -> None:
    common = sys.modules["_common"]  # imported by run_all
    monkeypatch.delenv(common.RESULTS_ENV, raising=False)
    common.emit({"key": "get_page", "value": 1.0, "measured": "1.00x"})  # by hand: nothing written anywhere
    out = tmp_path / "rows.jsonl"
    monkeypatch.setenv(common.RESULTS_ENV, str(out))
    common.emit(
        {"key": "get_page", "value": 1.0, "measured": "1.00x"}, {"key": "get_one", "value": 0.5, "measured": "x"}
    )
    assert run_all.read_results(out.read_text().splitlines()) == {
        "get_page": {"key": "get_page", "value": 1.0, "measured": "1.00x"},
        "get_one": {"key": "get_one", "value": 0.5, "measured": "x"},
    }


@pytest.fixture
def emitted(tmp_path: Path, monkeypatch: Any) -> Path:
    out = tmp_path / "rows.jsonl"
    monkeypatch.setenv(sys.modules["_common"].RESULTS_ENV, str(out))
    return out


def test_the_client_script_rows_are_read_back_from_its_own_table_rows(emitted: Path) -> None:
    client = load("client")
    # The shape main() builds: locations, pages, client time, locations/s, raw time, ...
    rows = [
        ["10,000", "100", "5.39 s", "1,856", "1.75 s", "3.09x", "FAIL", "51.8 MiB", "39.2 MiB", "4.83 MiB"],
        ["30,000", "300", "13.75 s", "2,182", "4.15 s", "3.31x", "FAIL", "51.9 MiB", "39.6 MiB", "4.86 MiB"],
    ]
    client.emit_rows(rows, {10_000: (4.83, 51.8), 30_000: (4.86, 51.9)})
    got = run_all.read_results(emitted.read_text().splitlines())
    assert got["client_pull"]["value"] == pytest.approx(5.39 / 1.75)
    assert "10,000 Locations" in got["client_pull"]["measured"]
    assert got["client_memory"]["ok"] is True
    emitted.unlink()
    client.emit_rows(rows, {10_000: (4.83, 51.8), 30_000: (14.86, 151.9)})  # grows with the count
    assert run_all.read_results(emitted.read_text().splitlines())["client_memory"]["ok"] is False


def test_the_server_script_rows_pair_ours_with_bare_and_with_the_peer(emitted: Path) -> None:
    server = load("server")
    results = {
        (kind, path): [{"rps": rps}, {"rps": rps}]
        for path, rates in ((server.PATH, (700.0, 1000.0, 2.0)), (server.ONE, (300.0, 1000.0, 30.0)))
        for kind, rps in zip(("ocpi", "bare", "peer"), rates)
    }
    peer = server.Peer()
    peer.version = "2025.7.16"
    server.emit_rows(results, peer)
    got = run_all.read_results(emitted.read_text().splitlines())
    assert got["get_page"]["value"] == pytest.approx(0.7) and got["get_one"]["value"] == pytest.approx(0.3)
    assert got["peer_get_page"]["value"] == pytest.approx(350.0)
    assert "extrawest-ocpi 2025.7.16" in got["peer_get_one"]["measured"]
    emitted.unlink()
    peer.reason = "its venv could not be made"
    server.emit_rows({k: v for k, v in results.items() if k[0] != "peer"}, peer)
    got = run_all.read_results(emitted.read_text().splitlines())
    assert got["peer_get_one"] == {"key": "peer_get_one", "value": None, "measured": "not measured: " + peer.reason}


def test_the_peer_gets_a_copy_without_the_two_lists_its_models_cannot_take() -> None:
    server = load("server")
    location = {
        "id": "LOC000001",
        "evses": [{"uid": "E1", "status_schedule": [{"period_begin": "2024-01-01T00:00:00Z", "status": "BLOCKED"}]}],
        "energy_mix": {"is_green_energy": True, "environ_impact": [{"category": "NUCLEAR_WASTE", "amount": 0.1}]},
    }
    copy = server.peer_copy(location)
    assert copy == {"id": "loc000001", "evses": [{"uid": "E1"}], "energy_mix": {"is_green_energy": True}}
    assert location["id"] == "LOC000001" and "status_schedule" in location["evses"][0]  # ours untouched
    assert server.peer_copy({"id": "X"}) == {"id": "x"}
