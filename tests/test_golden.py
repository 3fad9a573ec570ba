"""Golden files: each fixture spec under tests/fixtures/<case>/ renders exactly to tests/golden/<case>/.

Only rendered files are compared: verbatim copies of the runtime are left out of the golden trees
(``tests/test_runtime_copies.py`` checks them against ``runtime/ocpi_runtime``), so a runtime edit
changes no golden file.
"""

from __future__ import annotations

import pytest

from generator.paths import available_versions
from generator.pipeline import TARGETS, plan, render_files
from tests.conftest import FIXTURES, GOLDEN, assert_tree

CASES = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir() and available_versions(p))


@pytest.mark.parametrize("case", CASES)
def test_fixture_renders_to_golden(case: str, update_golden: bool) -> None:
    root = FIXTURES / case
    planned = [pf for pf in plan(root, available_versions(root), list(TARGETS)) if pf.copy_of is None]
    assert_tree(GOLDEN / case, render_files(planned), update_golden)
