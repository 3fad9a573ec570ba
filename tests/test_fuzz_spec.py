"""A seeded mutation fuzzer over the spec: whatever the damage, ``validate`` and ``generate`` end with
exit 0 or 2, print no traceback, never hang, and leave an existing output tree untouched when they fail.

Mutations are made on the "basic" fixture (small, so hundreds fit in seconds): text damage (lines
dropped, doubled or swapped, hostile bytes and YAML, truncation) and structural damage (a key removed
or renamed, a value replaced by a hostile one, a list item doubled, a file dropped from the index).
Most run in process through ``main([... "validate"])``; accepted mutations also render their OpenAPI
documents, some a whole ``generate``; a few go through the installed console script.
"""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.cli import main
from generator.pipeline import generate
from tests.conftest import FIXTURES

SEED = 20261129
MUTATIONS = 260
FULL_GENERATES = 8
CLI_RUNS = 6
PER_RUN_SECONDS = 10
VERSION = "1.0"

HOSTILE_TEXT = [
    "!custom_tag x",
    "!!binary aGVsbG8=",
    "!!python/object:os.system x",
    "2020-13-45",
    "&b [*b]",
    "*nowhere",
    "10000000000000000000000000000000000000000",
    "-1",
    "0",
    "null",
    "true",
    "[]",
    "{}",
    "''",
    '"\\x00\\x01"',
    "\x01\x02",
    "\t\tindented",
    "[" * 300 + "]" * 300,
    "x" * 5000,
    "? [a, b]\n: c",
    "BOTH",
    "NOSUCHROLE",
    "{a: 1, a: 2}",
    "|\n  block",
    "%YAML 9.9",
    "---\n---",
]
HOSTILE_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    10**40,
    1.5,
    "",
    "x" * 3000,
    "BOTH",
    "NOSUCHROLE",
    "Authorization",
    "{bad}",
    "/{undeclared}",
    [],
    {},
    [None],
    [[[[[]]]]],
    {"name": "x"},
    "2020-13-45",
]
BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8)
)


class Hang(Exception):
    pass


@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    def ring(signum: int, frame: object) -> None:
        raise Hang(f"no answer within {seconds}s")

    old = signal.signal(signal.SIGALRM, ring)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, path + (i,))


def _parent(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path[:-1]:
        data = data[part]
    return data


def text_mutation(rng: random.Random, text: str) -> tuple[str, str]:
    lines = text.splitlines(keepends=True) or ["\n"]
    op = rng.choice(["drop", "double", "swap", "hostile", "truncate", "bytes", "indent", "bomb"])
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    if op == "drop":
        del lines[i]
    elif op == "double":
        lines.insert(i, lines[i])
    elif op == "swap":
        lines[i], lines[j] = lines[j], lines[i]
    elif op == "hostile":
        line = lines[i]
        if ": " in line:
            head = line.split(": ", 1)[0]
            lines[i] = f"{head}: {rng.choice(HOSTILE_TEXT)}\n"
        else:
            lines[i] = rng.choice(HOSTILE_TEXT) + "\n"
    elif op == "truncate":
        return text[: rng.randrange(len(text) + 1)], op
    elif op == "bytes":
        cut = rng.randrange(len(text) + 1)
        return text[:cut] + rng.choice(["\x00", "\x07", "\ufeff", "\udcff", "\x1b[31m", "\u2028"]) + text[cut:], op
    elif op == "indent":
        lines[i] = rng.choice(["", " ", "   ", "\t"]) + lines[i].lstrip()
    else:
        lines.append(BOMB)
    return "".join(lines), op


def structure_mutation(rng: random.Random, data: Any) -> str:
    paths = [p for p in _paths(data) if p]
    path = rng.choice(paths)
    parent = _parent(data, path)
    key = path[-1]
    op = rng.choice(["delete", "replace", "replace", "rename", "duplicate"])
    if op == "delete":
        del parent[key]
    elif op == "replace":
        parent[key] = rng.choice(HOSTILE_VALUES)
    elif op == "rename" and isinstance(parent, dict):
        parent[f"{key}_x" if rng.random() < 0.5 else str(key).upper()] = parent.pop(key)
    elif isinstance(parent, list):
        parent.insert(key, parent[key])
    else:
        parent[key] = [parent[key], parent[key]]
    return op


def mutate(rng: random.Random, folder: Path) -> str:
    """Damage one file of the version folder; return a label for the figures."""
    files = sorted(folder.glob("*.yaml"))
    target = rng.choice(files)
    if rng.random() < 0.5:
        text, op = text_mutation(rng, target.read_text(encoding="utf-8"))
        target.write_bytes(text.encode("utf-8", "surrogateescape"))
        return f"text:{op}"
    data = yaml.safe_load(target.read_text(encoding="utf-8"))
    op = structure_mutation(rng, data)
    target.write_text(yaml.safe_dump(data, sort_keys=False, width=1000), encoding="utf-8")
    return f"struct:{op}"


def run_cli(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, float]:
    capsys.readouterr()
    start = time.perf_counter()
    with deadline(PER_RUN_SECONDS):
        code = main(argv)
    return code, capsys.readouterr().err, time.perf_counter() - start


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def fresh_copy(base: Path, into: Path) -> Path:
    shutil.rmtree(into, ignore_errors=True)
    shutil.copytree(base, into)
    return into


def test_mutated_specs_fail_cleanly_in_process(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = random.Random(SEED)
    base = FIXTURES / "basic"
    out = tmp_path / "out"
    assert main(["--spec-root", str(base), "generate", VERSION, "-o", str(out), "-q"]) == 0
    before = snapshot(out)
    figures: Counter[str] = Counter()
    slowest = 0.0
    full_generates = 0
    failures: list[str] = []
    started = time.perf_counter()
    for n in range(MUTATIONS):
        root = fresh_copy(base, tmp_path / "spec")
        label = mutate(rng, root / VERSION)
        if rng.random() < 0.1:
            label += "+" + mutate(rng, root / VERSION)
        code, err, seconds = run_cli(capsys, ["--spec-root", str(root), "validate", VERSION])
        slowest = max(slowest, seconds)
        figures[f"exit {code}"] += 1
        if code not in (0, 2) or "Traceback" in err:
            failures.append(f"#{n} {label}: exit {code}: {err[-500:]}")
            continue
        if code == 2:
            assert err.strip(), f"#{n} {label}: exit 2 with nothing said"
            continue
        # accepted: the documents must render, and some whole generations run (into the same tree)
        with deadline(PER_RUN_SECONDS):
            generate(root, [VERSION], ["openapi"])
        if full_generates < FULL_GENERATES:
            full_generates += 1
            code, err, seconds = run_cli(
                capsys, ["--spec-root", str(root), "generate", VERSION, "-o", str(tmp_path / "accepted"), "-q"]
            )
            slowest = max(slowest, seconds)
            if code != 0:
                failures.append(f"#{n} {label}: validated but generate gave exit {code}: {err[-500:]}")
    # a generate that meets a broken spec leaves the tree it had untouched
    root = fresh_copy(base, tmp_path / "spec")
    (root / VERSION / "stations.yaml").write_text("types: [\n")
    code, err, _ = run_cli(capsys, ["--spec-root", str(root), "generate", VERSION, "-o", str(out)])
    assert code == 2 and snapshot(out) == before
    elapsed = time.perf_counter() - started
    print(
        f"\nfuzz: {MUTATIONS} mutations (seed {SEED}) in {elapsed:.1f}s, slowest run {slowest:.2f}s, {dict(figures)}, {full_generates} full generates"
    )
    assert not failures, "\n".join(failures[:10])
    assert figures["exit 2"] > MUTATIONS // 3 and figures["exit 0"] > 0  # the fuzzer does damage, and not only damage


def test_mutated_specs_through_the_console_script(tmp_path: Path) -> None:
    """A few mutations through a real process: exit 0 or 2, no traceback, generate's tree untouched."""
    script = Path(sys.executable).parent / "ocpi-codegen"
    if not script.is_file():
        pytest.skip("console script not installed next to this interpreter")
    rng = random.Random(SEED + 1)
    base = FIXTURES / "basic"
    out = tmp_path / "out"
    subprocess.run(
        [script, "--spec-root", str(base), "generate", VERSION, "-o", str(out), "-q"], check=True, timeout=120
    )
    before = snapshot(out)
    seen: Counter[int] = Counter()
    runs: list[Callable[[Path], list[str]]] = [
        lambda root: ["--spec-root", str(root), "validate"],
        lambda root: ["--spec-root", str(root), "generate", VERSION, "-o", str(out)],
    ]
    for n in range(CLI_RUNS):
        root = fresh_copy(base, tmp_path / "spec")
        label = mutate(rng, root / VERSION)
        if n % 2:  # make sure generate meets a broken spec too
            (root / VERSION / "index.yaml").write_text((root / VERSION / "index.yaml").read_text() + "files: true\n")
        argv = runs[n % 2](root)
        result = subprocess.run([script, *argv], capture_output=True, text=True, timeout=60)
        seen[result.returncode] += 1
        assert result.returncode in (0, 2), f"{label}: {result.stderr[-800:]}"
        assert "Traceback" not in result.stderr, f"{label}: {result.stderr[-800:]}"
        if argv[2] == "generate" and result.returncode == 2:
            assert snapshot(out) == before, f"{label}: a failed generate changed the tree"
    assert seen[2] >= CLI_RUNS // 2
