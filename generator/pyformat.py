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
  over the limit, which a template cannot foresee (long names), goes through black. Code from
  elsewhere (``format_python``) always does, except the model and enum classes of the models file
  (``format_models``) whose every line has a shape black leaves as it is;
- a large batch of uncached blocks is spread over a process pool.
"""

from __future__ import annotations

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


def _format_block(block: str, keep_fitting: bool, keep: Any) -> str:
    if keep_fitting and _fits(block) and keep(block):
        return block
    if keep_fitting and keep is _always:
        by_parts = _format_parts(block)
        if by_parts is not None:
            return by_parts
    return _formatted(block)


def _format_file(code: str, *, keep_fitting: bool, keep: Any = _always) -> str:
    try:
        return _join([_format_block(block, keep_fitting, keep) for block in _blocks(code)])
    except Exception:  # a block black cannot parse alone (a cut inside a string): the whole file
        return _whole(code)


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


def black_blocks(code: str, formatter: Any) -> list[str]:
    """The blocks of ``code`` that ``formatter`` (``format_python``, ``format_template`` or
    ``format_models``) sends to black."""
    keep = _KEEP.get(formatter)
    out: list[str] = []
    for block in _blocks(code):
        if keep is not None and _fits(block) and keep(block):
            continue
        inputs = _part_inputs(block) if keep is _always else None
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
