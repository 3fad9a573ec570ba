"""Golden files: each fixture spec under tests/fixtures/<case>/ renders exactly to tests/golden/<case>/."""

from __future__ import annotations

import pytest

from generator.paths import available_versions
from generator.pipeline import TARGETS, generate
from tests.conftest import FIXTURES, GOLDEN, assert_tree

CASES = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir() and available_versions(p))


@pytest.mark.parametrize("case", CASES)
def test_fixture_renders_to_golden(case: str, update_golden: bool) -> None:
    root = FIXTURES / case
    files = generate(root, available_versions(root), list(TARGETS))
    assert_tree(GOLDEN / case, files, update_golden)
