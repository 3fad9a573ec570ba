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


MODELS = '''"""Models."""

from enum import StrEnum


class Kind(StrEnum):
    """
    A kind.
    """

    A = "A"
    B_C = "B C"


class Thing(OcpiModel):
    """
    A thing.
    """

    name: Annotated[str, Field(max_length=36)]
    """
    Its name.
    """
    count: int | None = None
    kinds: list[Kind] | None = None
'''


def test_format_models_keeps_classes_in_blacks_shape_and_equals_black() -> None:
    from generator.pyformat import black_blocks, format_models

    assert format_models(MODELS) == _black(MODELS) == MODELS
    assert black_blocks(MODELS, format_models) == [
        '"""Models."""\n\nfrom enum import StrEnum'
    ]  # the classes skip black


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('    A = "A"', "    A = 'A'"),  # black changes the quotes
        ('    """\n\n    A = "A"', '    """\n    A = "A"'),  # black adds the blank line after the docstring
        ("    count: int | None = None", "    count: int|None = None"),  # black adds spaces
        ("    count: int | None = None", "    count : int | None = None"),
        ("    Its name.", "    Its name.  "),  # black strips trailing spaces in a docstring
        ("    Its name.", '    Its "name"'),  # a quote ending a docstring line
        ("    Its name.", "        Its name."),  # black re-indents docstrings
        ("    count: int | None = None", "    count: int | None = None\n\n"),  # blank lines inside
        ("    count: int | None = None", "    count: int | None = f(1,2)"),  # code black may respace
        ("    count: int | None = None", "    count: int | None = None  # a comment"),
    ],
)
def test_format_models_sends_every_other_class_shape_to_black(old: str, new: str) -> None:
    from generator.pyformat import _black_shaped_class, _blocks, format_models

    code = MODELS.replace(old, new, 1)
    assert code != MODELS
    changed = [block for block in _blocks(code) if block not in _blocks(MODELS)]
    assert changed and not any(_black_shaped_class(block) for block in changed)
    assert format_models(code) == _black(code)


def test_long_lines_of_a_plain_module_docstring_do_not_send_a_block_to_black() -> None:
    from generator.pyformat import _fits

    long = "Regenerate with:" + " word" * 30
    header = f'"""Title.\n\n{long}\n"""\n\nfrom a import b\n'
    assert _fits(header.rstrip("\n")) and format_template(header) == header == _black(header)
    for bad in (
        f'"""Title.\n\n  {long}\n"""',
        f'"""Title.\n\n{long} \n"""',
        f'"""\n{long}\n"""',
        f'"""Title.\n{long}"""',
    ):
        assert not _fits(bad)  # indented, a trailing space, an empty first line, quotes on the line
    assert not _fits(f'"""Title."""\n\nX = "{long}"')  # a long line of code still counts


def test_the_role_document_is_built_once_per_spec() -> None:
    from generator.openapi import documents, shared_document
    from generator.paths import SPEC_ROOT
    from generator.pipeline import load_spec

    spec = load_spec(SPEC_ROOT, "2.2.1")
    doc = documents(spec)[0]
    first = shared_document(spec, doc)
    assert shared_document(spec, doc) is first
    again = load_spec(SPEC_ROOT, "2.2.1")
    assert shared_document(again, documents(again)[0]) is not first
    assert shared_document(again, documents(again)[0]) == first


LONG_ARGS = ", ".join(f"argument_{i}" for i in range(20))
CLASS_WITH_PARTS = f'''class Api:
    """An interface."""

    def short(self) -> int:
        return 1

    @property
    def long(self) -> int:
        return call({LONG_ARGS})

    async def nested(self) -> None:
        def inner() -> int:
            return call({LONG_ARGS})

        return None
'''
FUNCTION_WITH_PARTS = f"""def build(router: Any) -> Any:
    router = Router()

    @router.get("/a")
    async def a() -> int:
        return call({LONG_ARGS})

    @router.get("/b")
    async def b() -> int:
        return 2

    return router
"""


@pytest.mark.parametrize("code", [CLASS_WITH_PARTS, FUNCTION_WITH_PARTS])
def test_a_template_block_with_long_lines_goes_to_black_statement_by_statement(code: str) -> None:
    from generator.pyformat import black_blocks

    sent = black_blocks(code, format_template)
    assert sent and all(part.startswith("async def _():\n") for part in sent)
    assert all(part.split("\n")[-1].lstrip() == f"return call({LONG_ARGS})" for part in sent)  # the statement only
    assert format_template(code) == _black(code)


STATEMENTS = [
    f"X = call({LONG_ARGS})  # a comment\n\n\ndef f() -> None:\n    pass\n",  # at the top level
    f"class A:\n    x: int = 1\n    y = call({LONG_ARGS})\n\n    def f(self) -> None:\n        pass\n",
    f"def f() -> None:\n    if call({LONG_ARGS}):\n        return\n    x = 1\n",  # a long head: the whole if
    f"def f() -> None:\n    try:\n        pass\n    except ValueError:\n        y = call({LONG_ARGS})\n",
    f"def f() -> None:\n    @decorate({LONG_ARGS})\n    def g() -> None:\n        pass\n\n    return g\n",
    f"async def f() -> None:\n    for x in y:\n        await call(x, {LONG_ARGS})\n        yield x\n",
    f"def f() -> None:\n    x = [\n        call({LONG_ARGS}),\n        2,\n    ]\n    return x\n",
]


@pytest.mark.parametrize("code", STATEMENTS)
def test_statements_formatted_alone_equal_black_on_the_block(code: str) -> None:
    from generator.pyformat import black_blocks

    sent = black_blocks(code, format_template)
    assert sent and all(LONG_ARGS in part for part in sent)
    assert format_template(code) == _black(code)


LONG_TEXT = "Docstring text" + " that goes on" * 10


@pytest.mark.parametrize(
    "doc",
    [
        f'"""{LONG_TEXT}."""',
        f'"""{LONG_TEXT}.\n\n        More.\n        """',
        f'"""\n        {LONG_TEXT}.\n        """',
    ],
)
def test_long_lines_of_a_plain_docstring_do_not_go_to_black(doc: str) -> None:
    from generator.pyformat import black_blocks

    code = f"class A:\n    def f(self) -> None:\n        {doc}\n        return None\n"
    assert black_blocks(code, format_template) == []
    assert format_template(code) == _black(code) == code


@pytest.mark.parametrize(
    "doc",
    [
        f'"""{LONG_TEXT} "quoted"."""',  # black may change what ends in a quote
        f'"""{LONG_TEXT}.\n          indented.\n        """',  # black re-indents
        f'"""{LONG_TEXT}.  \n        """',  # black strips trailing spaces
        f'"""{LONG_TEXT}."""  # comment',
    ],
)
def test_other_long_docstrings_go_to_black_part_by_part(doc: str) -> None:
    from generator.pyformat import black_blocks

    code = f"class A:\n    x = 1\n\n    def f(self) -> None:\n        {doc}\n        return None\n"
    sent = black_blocks(code, format_template)
    assert sent and all(part.startswith("class _:\n") for part in sent)
    assert format_template(code) == _black(code)


def test_a_statement_sharing_its_line_goes_another_way() -> None:
    from generator.pyformat import black_blocks

    code = f"class A:\n    def f(self) -> None:\n        x = call({LONG_ARGS}); y = 2\n"
    assert black_blocks(code, format_template) == [code.rstrip("\n")]  # whole: no part either
    assert format_template(code) == _black(code)


def test_a_block_that_does_not_cut_cleanly_goes_to_black_whole() -> None:
    from generator.pyformat import black_blocks

    two_blank_lines = CLASS_WITH_PARTS.replace("        return 1\n\n", "        return 1\n\n\n")
    long_head = CLASS_WITH_PARTS.replace('"""An interface."""', f"# {LONG_ARGS} {LONG_ARGS}")
    for code in (two_blank_lines, long_head):
        assert black_blocks(code, format_template) == [code.rstrip("\n")]
        assert format_template(code) == _black(code)
