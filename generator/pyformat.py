"""Format generated Python with black, in-process, one top-level block at a time.

Black is the costliest stage of generation (about 100 KB/s), so it does as little as it can:

- a file is cut into top-level blocks (a function, a class, the header with the imports and
  constants) where two blank lines come before a ``def``, ``class`` or decorator; black formats
  each block alone (a file whose blocks it cannot read alone goes through whole), and
  the blocks are joined again with two blank lines. Black separates top-level definitions that
  way itself, so the result is what black makes of the whole file; ``tests/test_format.py``
  checks that black leaves every generated file unchanged;
- blocks are memoised by content within a run (each server embeds its version's client, and most
  blocks repeat across versions and roles), and kept in an on-disk cache keyed by black's version
  and mode and the SHA-256 of the block, like black's own cache (``$XDG_CACHE_HOME/ocpi-codegen``
  or ``~/.cache/ocpi-codegen``; ``OCPI_CODEGEN_NO_CACHE=1`` turns it off). The output is the same
  with or without the cache;
- our templates are written in black's style (``format_template``): only a block with a line
  over the limit, which a template cannot foresee (long names), goes through black, and of it
  only the innermost statement that holds each long line (``_statement_plan``; black formats a
  statement alone as it does in its block), or else each nested definition that holds one
  (``_parts``), or else the whole block. Code from
  elsewhere (``format_python``) always does, except the model and enum classes of the models file
  (``format_models``) whose every line has a shape black leaves as it is;
- a large batch of uncached blocks is spread over a process pool.
"""

from __future__ import annotations

import ast
import hashlib
import os
import re
import tempfile
from concurrent.futures import ProcessPoolExecutor
from functools import cache
from pathlib import Path
from typing import Any

LINE_LENGTH = 120
_MEMO: dict[str, str] = {}
#: Below this many characters of unformatted code, a process pool costs more than it saves.
_POOL_THRESHOLD = 300_000
#: Two blank lines, then a top-level definition (or its decorator): where a block starts.
_BLOCK_START = re.compile(r"\n\n\n(?=(?:def |async def |class |@))")


@cache
def _black() -> tuple[Any, Any]:
    """black and our mode, imported on first use (commands that format nothing stay fast)."""
    import black
    from black.mode import TargetVersion

    return black, black.Mode(line_length=LINE_LENGTH, target_versions={TargetVersion.PY311})


def _cache_dir() -> Path | None:
    if os.environ.get("OCPI_CODEGEN_NO_CACHE"):
        return None
    black, mode = _black()
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "ocpi-codegen" / f"black-{black.__version__}-{hashlib.sha256(repr(mode).encode()).hexdigest()[:12]}"


def _key(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def _load(code: str) -> str | None:
    folder = _cache_dir()
    if folder is None:
        return None
    try:
        return (folder / _key(code)).read_text(encoding="utf-8")
    except OSError:
        return None


def _store(code: str, formatted: str) -> None:
    folder = _cache_dir()
    if folder is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(formatted)
        os.replace(tmp, folder / _key(code))
    except OSError:
        pass  # a cache that cannot be written is only slower


def _format(block: str) -> str:
    black, mode = _black()
    return str(black.format_str(block + "\n", mode=mode)).rstrip("\n")


def _try_format(block: str) -> str | None:
    """``_format`` for the process pool: None when black cannot read the block alone."""
    try:
        return _format(block)
    except Exception:
        return None


def _blocks(code: str) -> list[str]:
    # More than two blank lines before a block come out as two, as black writes them.
    return [block.strip("\n") for block in _BLOCK_START.split(code.strip("\n"))]


#: A line of a module docstring that black leaves as it is (and never shortens, however long).
_PLAIN_DOC_LINE = re.compile(r'(?:[^\s\\"](?:[^\\\t"]*[^\s\\"])?)?')


def _fits(block: str) -> bool:
    """Whether no line is over the limit, not counting the lines of a module docstring at the start
    of the block that black leaves as they are: its text starts right after the opening quotes,
    no line is indented, ends in a space or holds a backslash or a quote, and the closing quotes
    stand alone."""
    lines = block.split("\n")
    start = 0
    if lines[0].startswith('"""') and len(lines) > 1 and _PLAIN_DOC_LINE.fullmatch(lines[0][3:]) and lines[0][3:]:
        end = lines.index('"""', 1) if '"""' in lines[1:] else 0
        if end and all(_PLAIN_DOC_LINE.fullmatch(line) for line in lines[1:end]):
            start = end + 1
    return all(len(line) <= LINE_LENGTH for line in lines[start:])


def _formatted(block: str) -> str:
    """One block through black (memoised and cached)."""
    if block not in _MEMO:
        cached = _load(block)
        if cached is None:
            cached = _format(block)
            _store(block, cached)
        _MEMO[block] = cached
    return _MEMO[block]


def _join(blocks: list[str]) -> str:
    text = "\n\n\n".join(block for block in blocks if block)
    return text + "\n" if text else ""


def _whole(code: str) -> str:
    """The whole file through black: for a file whose blocks black cannot read one by one."""
    black, mode = _black()
    return str(black.format_str(code, mode=mode))


def _always(block: str) -> bool:
    return True


#: A blank line, then a definition (or its decorator) one level in: where a part of a class or a
#: function starts.
_PART_START = re.compile(r"\n\n(?=    (?:def |async def |@))")


def _parts(block: str) -> tuple[str, list[str]] | None:
    """A template's class or function cut before each nested definition, with the wrapper that
    makes a part valid code at the same depth (``class _:`` or ``def _():``); None when the block
    does not cut cleanly (one blank line before each part) or its head is over the line length."""
    if block.startswith("class "):
        wrapper = "class _:\n"
    elif block.startswith(("def ", "async def ")):
        wrapper = "def _():\n"
    else:
        return None
    parts = _PART_START.split(block)
    if len(parts) < 2 or not _fits(parts[0]) or any(not part or part != part.strip("\n") for part in parts):
        return None
    return wrapper, parts


def _part_inputs(block: str) -> list[str] | None:
    """What formatting ``block`` part by part sends to black (None: the whole block goes)."""
    split = _parts(block)
    if split is None:
        return None
    wrapper, parts = split
    return [wrapper + part for part in parts[1:] if not _fits(part)]


def _format_parts(block: str) -> str | None:
    """A template block with long lines, formatted part by part: the parts that fit are kept (the
    templates write black's style), each other part goes through black alone, one level deep
    inside its wrapper, where black treats it as it does inside the block. None: use the whole block."""
    split = _parts(block)
    if split is None:
        return None
    wrapper, parts = split
    out = [parts[0]]
    for part in parts[1:]:
        if _fits(part):
            out.append(part)
            continue
        try:
            formatted = _formatted(wrapper + part)
        except Exception:
            return None
        body = formatted[len(wrapper) :]
        if not formatted.startswith(wrapper) or not body or body != body.strip("\n"):
            return None
        out.append(body)
    return "\n\n".join(out)


#: Statements with a body of statements: a long line in their head sends the whole statement.
_BODIES = ("body", "orelse", "finalbody")


def _innermost(statements: list[ast.stmt], line: int) -> ast.stmt | None:
    """The innermost statement holding ``line`` (1-based) that can go to black alone: a simple
    statement, or a compound one whose head (decorators, signature, ``else:``...) holds the line."""
    for stmt in statements:
        decorators = getattr(stmt, "decorator_list", [])
        start = min([stmt.lineno] + [d.lineno for d in decorators])
        end = stmt.end_lineno or stmt.lineno
        if not start <= line <= end:
            continue
        children: list[ast.stmt] = [c for name in _BODIES for c in getattr(stmt, name, [])]
        for handler in getattr(stmt, "handlers", []):
            children += handler.body
        for case in getattr(stmt, "cases", []):
            children += case.body
        inner = _innermost(children, line) if children else None
        return inner if inner is not None else stmt
    return None


_PLANS: dict[str, list[tuple[int, int, str]] | None] = {}


def _statement_plan(block: str) -> list[tuple[int, int, str]] | None:
    """``_plan_statements``, memoised (each block is planned once for the batch, once to format)."""
    if block not in _PLANS:
        _PLANS[block] = _plan_statements(block)
    return _PLANS[block]


def _plan_statements(block: str) -> list[tuple[int, int, str]] | None:
    """Where a template block with long lines goes to black statement by statement: for each long
    line, the innermost statement that holds it (lines ``start:end``, 0-based) and the wrapper
    (``async def _():`` once per indentation level) that puts it at its depth as black sees it alone.

    Black formats a statement the same alone as in its block; the lines around it are kept, as for
    a block that fits (the templates write black's style). None (send the block whole, or part by
    part) when the block does not read as Python alone, has more than one blank line in a row (black
    would change that), a long line that is inside a string statement (a docstring: black's own
    rules) or a statement that shares its lines with another or does not start at an indentation
    of four spaces a level.
    """
    lines = block.split("\n")
    skip = _docstring_lines(lines)
    long = [i for i, line in enumerate(lines) if i >= skip and len(line) > LINE_LENGTH]
    if not long or "\n\n\n" in block:
        return None
    try:
        tree = ast.parse(block)
    except SyntaxError:
        return None
    spans: dict[int, tuple[int, int, str]] = {}
    for i in long:
        stmt = _innermost(tree.body, i + 1)
        if stmt is None:
            return None
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            if _plain_docstring(lines[stmt.lineno - 1 : stmt.end_lineno], stmt.col_offset):
                continue  # black leaves it as it is
            return None
        decorators = getattr(stmt, "decorator_list", [])
        start = min([stmt.lineno] + [d.lineno for d in decorators]) - 1
        end = stmt.end_lineno or stmt.lineno
        first, last = lines[start], lines[end - 1]
        indent = len(first) - len(first.lstrip(" "))
        tail = last[stmt.end_col_offset :].strip() if stmt.end_col_offset is not None else "?"
        if indent != stmt.col_offset or indent % 4 or (tail and not tail.startswith("#")):
            return None
        wrapper = "".join("    " * level + "async def _():\n" for level in range(indent // 4))
        spans[start] = (start, end, wrapper)
    plan = sorted(spans.values())
    if any(a[1] > b[0] for a, b in zip(plan, plan[1:])):
        return None  # one statement inside another: cannot happen (innermost), but never overlap
    return plan


def _plain_docstring(lines: list[str], indent: int) -> bool:
    """Whether a string statement is a docstring in a shape black leaves as it is, however long its
    lines: ``\"\"\"text\"\"\"`` on one line, or the opening quotes (and text) on the first line, the
    closing quotes alone on the last, every line at the statement's indentation, text without
    quotes, backslashes, tabs or spaces at either end."""
    pad = " " * indent
    if not lines or any(line and not line.startswith(pad) for line in lines):
        return False
    texts = [line[indent:] for line in lines]
    if len(texts) == 1:
        one = texts[0]
        return (
            one.startswith('"""')
            and one.endswith('"""')
            and bool(_PLAIN_DOC_LINE.fullmatch(one[3:-3]))
            and len(one) > 6
        )
    first, last = texts[0], texts[-1]
    return (
        first.startswith('"""')
        and bool(_PLAIN_DOC_LINE.fullmatch(first[3:]))
        and last == '"""'
        and all(_PLAIN_DOC_LINE.fullmatch(text) for text in texts[1:-1])
    )


def _docstring_lines(lines: list[str]) -> int:
    """How many lines at the start are a plain module docstring (see ``_fits``)."""
    if lines[0].startswith('"""') and len(lines) > 1 and _PLAIN_DOC_LINE.fullmatch(lines[0][3:]) and lines[0][3:]:
        end = lines.index('"""', 1) if '"""' in lines[1:] else 0
        if end and all(_PLAIN_DOC_LINE.fullmatch(line) for line in lines[1:end]):
            return end + 1
    return 0


def _statement_inputs(block: str) -> list[str] | None:
    """What formatting ``block`` statement by statement sends to black (None: not this way)."""
    plan = _statement_plan(block)
    if plan is None:
        return None
    lines = block.split("\n")
    return [wrapper + "\n".join(lines[start:end]) for start, end, wrapper in plan]


def _format_statements(block: str) -> str | None:
    """A template block with long lines, formatted statement by statement (``_statement_plan``);
    None: format it another way."""
    plan = _statement_plan(block)
    if plan is None:
        return None
    lines = block.split("\n")
    out: list[str] = []
    done = 0
    for start, end, wrapper in plan:
        try:
            formatted = _formatted(wrapper + "\n".join(lines[start:end]))
        except Exception:
            return None
        body = formatted[len(wrapper) :]
        if not formatted.startswith(wrapper) or not body or body != body.strip("\n"):
            return None
        out += lines[done:start]
        out.append(body)
        done = end
    out += lines[done:]
    return "\n".join(out)


def _format_block(block: str, keep_fitting: bool, keep: Any) -> str:
    if keep_fitting and _fits(block) and keep(block):
        return block
    if keep_fitting and keep is _always:
        for way in (_format_statements, _format_parts):
            formatted = way(block)
            if formatted is not None:
                return formatted
    return _formatted(block)


#: Formatted files by (text, keep_fitting, keep): every server embeds its version's client.
_FILES: dict[tuple[str, bool, Any], str] = {}


def _format_file(code: str, *, keep_fitting: bool, keep: Any = _always) -> str:
    key = (code, keep_fitting, keep)
    if key not in _FILES:
        try:
            _FILES[key] = _join([_format_block(block, keep_fitting, keep) for block in _blocks(code)])
        except Exception:  # a block black cannot parse alone (a cut inside a string): the whole file
            _FILES[key] = _whole(code)
    return _FILES[key]


def format_python(code: str) -> str:
    """Format a file with black, block by block."""
    return _format_file(code, keep_fitting=False)


def format_template(code: str) -> str:
    """Format a file rendered from our templates: blocks that fit the line length are kept as they
    are (the templates write black's style); the others go through black."""
    return _format_file(code, keep_fitting=True)


# The lines of a model or enum class as datamodel-code-generator writes them and
# ``models.postprocess`` leaves them, in black's style already (checked by the tests). A class
# block made only of these lines, fitting the line length, skips black; anything else goes through.
_CLASS_LINE = re.compile(r"class [A-Za-z_]\w*\([A-Za-z_][\w.]*\):")
_DOC_QUOTES = '    """'
_DOC_TEXT = re.compile(r'    [^\s\\"](?:[^\\\t"]*[^\s\\"])?')
_BODY_LINE = re.compile(
    # a field, "name: annotation": names, brackets, "=" and parentheses, ", " and " | " only
    r"    [A-Za-z_]\w*: (?:[\w.]+|[\[\]()=]|, | \| )+"
    r'(?: = (?:None|True|False|-?[0-9]+(?:\.[0-9]+)?|"[^"\\\']*"))?'  # with a simple default
    r'|    [A-Za-z_]\w* = "[^"\\\']*"'  # an enum member
    r"|    pass"
)


def _black_shaped_class(block: str) -> bool:
    """Whether a class block is in the shape above: black would leave it as it is."""
    lines = block.split("\n")
    if not _CLASS_LINE.fullmatch(lines[0]) or len(lines) < 2:
        return False
    in_doc = False
    previous_blank = True  # no blank line right after the class line
    blank_next = False  # black puts one blank line after the class docstring
    for number, line in enumerate(lines[1:], 1):
        if blank_next and line:
            return False
        blank_next = False
        if line == _DOC_QUOTES:
            in_doc = not in_doc
            previous_blank = False
            blank_next = not in_doc and lines[1] == _DOC_QUOTES and _DOC_QUOTES not in lines[2:number]
            continue
        if not line:
            if previous_blank or in_doc:
                return False
            previous_blank = True
            continue
        previous_blank = False
        pattern = _DOC_TEXT if in_doc else _BODY_LINE
        if not pattern.fullmatch(line):
            return False
    return not in_doc and not previous_blank


def format_models(code: str) -> str:
    """Format the models file: class blocks already in black's shape (``_black_shaped_class``) and
    fitting the line length are kept; the others (the header, long lines) go through black."""
    return _format_file(code, keep_fitting=True, keep=_black_shaped_class)


_BATCHES: dict[tuple[str, Any], list[str]] = {}


def black_blocks(code: str, formatter: Any) -> list[str]:
    """The blocks of ``code`` that ``formatter`` (``format_python``, ``format_template`` or
    ``format_models``) sends to black (memoised: files repeat)."""
    key = (code, formatter)
    if key not in _BATCHES:
        _BATCHES[key] = _black_blocks(code, formatter)
    return list(_BATCHES[key])


def _black_blocks(code: str, formatter: Any) -> list[str]:
    keep = _KEEP.get(formatter)
    out: list[str] = []
    for block in _blocks(code):
        if keep is not None and _fits(block) and keep(block):
            continue
        inputs = None
        if keep is _always:
            inputs = _statement_inputs(block)
            if inputs is None:
                inputs = _part_inputs(block)
        out += [block] if inputs is None else inputs
    return out


def format_many(blocks: list[str]) -> None:
    """Warm the memo for a batch of blocks: cached results first, the rest in parallel when large."""
    todo = []
    for block in sorted(set(blocks), key=len, reverse=True):
        if block in _MEMO:
            continue
        cached = _load(block)
        if cached is not None:
            _MEMO[block] = cached
        else:
            todo.append(block)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if min(cores, 4) > 1 and sum(map(len, todo)) > _POOL_THRESHOLD:
        with ProcessPoolExecutor(max_workers=min(cores, 4)) as pool:
            for block, out in zip(todo, pool.map(_try_format, todo, chunksize=4)):
                if out is not None:  # else the file falls back to whole-file black when formatted
                    _MEMO[block] = out
                    _store(block, out)
    else:
        for block in todo:
            try:
                _formatted(block)
            except Exception:
                pass  # the file falls back to whole-file black when formatted


PYTHON_FORMATTERS = (format_python, format_template, format_models)
#: Which blocks (that fit the line length) each formatter keeps without black.
_KEEP: dict[Any, Any] = {format_template: _always, format_models: _black_shaped_class}
