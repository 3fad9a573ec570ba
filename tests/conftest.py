"""Shared test helpers: fixture specs, golden trees and the --update-golden switch."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
GOLDEN = ROOT / "tests" / "golden"
UPDATE_COMMAND = "python -m pytest tests --update-golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden/ from the current output")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


def assert_tree(expected_root: Path, actual: dict[str, str], update: bool) -> None:
    """Compare rendered files with a golden tree, byte for byte; rewrite it with --update-golden."""
    if update:
        from generator.writer import write_tree

        write_tree(expected_root, actual, prune={""})
        return
    on_disk = {p.relative_to(expected_root).as_posix() for p in expected_root.rglob("*") if p.is_file()}
    problems = []
    for rel in sorted(on_disk - set(actual)):
        problems.append(f"extra golden file (no longer generated): {rel}")
    for rel in sorted(set(actual) - on_disk):
        problems.append(f"missing golden file: {rel}")
    for rel in sorted(on_disk & set(actual)):
        want = (expected_root / rel).read_text(encoding="utf-8")
        if want != actual[rel]:
            diff = difflib.unified_diff(
                want.splitlines(True), actual[rel].splitlines(True), f"golden/{rel}", f"generated/{rel}"
            )
            problems.append("".join(list(diff)[:80]))
    if problems:
        pytest.fail("\n".join(problems) + f"\n\nIf the change is intended, update the golden files: {UPDATE_COMMAND}")
