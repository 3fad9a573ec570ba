"""Generated Python is black-formatted, although black only sees the blocks that need it.

``generator/pyformat.py`` formats one top-level block at a time and leaves template blocks that
fit the line length alone. These tests hold that shortcut to account: whole-file black must leave
every generated Python file (``generated/`` and the golden fixture output) unchanged.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor

import black
import pytest

from generator.pyformat import LINE_LENGTH, format_python, format_template
from tests.conftest import ROOT

MODE = black.Mode(line_length=LINE_LENGTH, target_versions={black.TargetVersion.PY311})


def _black(text: str) -> str:
    return str(black.format_str(text, mode=MODE))


def _python_files() -> dict[str, str]:
    texts: dict[str, str] = {}
    for folder in (ROOT / "generated", ROOT / "tests" / "golden"):
        for path in sorted(folder.rglob("*.py")):
            texts.setdefault(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    return {name: text for text, name in texts.items()}


def test_black_leaves_every_generated_python_file_unchanged() -> None:
    files = _python_files()
    assert len(files) > 50
    names = sorted(files)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    with ProcessPoolExecutor(max_workers=max(1, min(cores, 4))) as pool:
        results = list(pool.map(_black, [files[n] for n in names], chunksize=4))
    changed = [n for n, out in zip(names, results, strict=True) if out != files[n]]
    assert not changed, f"black would reformat {len(changed)} generated files, e.g. {changed[:5]}"


SAMPLE = '''"""Doc."""
import os



def f(a,b):
    return {'a':a,
      'b':b}


class C:
    x = 1
    def g(self): return 1




y = [1,2,
  3]
'''


def test_format_python_equals_black_on_the_whole_file() -> None:
    assert format_python(SAMPLE) == _black(SAMPLE)


def test_format_template_keeps_fitting_blocks_and_formats_long_ones() -> None:
    fitting = "def f(a,b):\n    return a\n"
    long_call = "def g():\n    return h(" + ", ".join(f"argument_{i}" for i in range(20)) + ")\n"
    out = format_template(fitting + "\n\n" + long_call)
    assert out.startswith(fitting)  # left alone, although black would add spaces
    assert out.split("\n\n\n")[1] == _black(long_call)
    assert max(len(line) for line in out.splitlines()) <= LINE_LENGTH


@pytest.mark.parametrize("code", ["", "x = 1\n\n\n\n\ny = 2\n"])
def test_format_python_edge_cases(code: str) -> None:
    assert format_python(code) == _black(code)


def test_a_block_black_cannot_read_alone_falls_back_to_the_whole_file() -> None:
    inside = '"""a\n\n\ndef b():\n    pass"""'  # looks like a block start, inside a string
    code = f"X = {inside}\n\n\ndef f(a,b):\n    return a\n"
    assert format_python(code) == _black(code)
    assert inside in format_template(code)  # blocks that fit are kept: the string is intact
    long_code = code.replace("pass", "pass" + " " * 130 + "x")  # now a cut block needs black
    assert format_template(long_code) == _black(long_code)
