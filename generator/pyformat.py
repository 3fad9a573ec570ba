"""Format generated Python with black, in-process.

Black is the costliest stage of generation (about 100 KB/s), so:

- results are memoised by content within a run (each server embeds its version's client);
- results are kept in an on-disk cache keyed by black's version and mode and the SHA-256 of the
  input, like black's own cache (``$XDG_CACHE_HOME/ocpi-codegen`` or ``~/.cache/ocpi-codegen``;
  ``OCPI_CODEGEN_NO_CACHE=1`` turns it off). The output is the same with or without the cache;
- a large batch of uncached files is spread over a process pool.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from functools import cache
from typing import Any

_MEMO: dict[str, str] = {}
#: Below this many characters of unformatted code, a process pool costs more than it saves.
_POOL_THRESHOLD = 400_000


@cache
def _black() -> tuple[Any, Any]:
    """black and our mode, imported on first use (commands that format nothing stay fast)."""
    import black

    return black, black.Mode(line_length=120, target_versions={black.TargetVersion.PY311})


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


def _format(code: str) -> str:
    black, mode = _black()
    return str(black.format_str(code, mode=mode))


def format_python(code: str) -> str:
    """Format one file (memoised and cached)."""
    if code not in _MEMO:
        cached = _load(code)
        if cached is None:
            cached = _format(code)
            _store(code, cached)
        _MEMO[code] = cached
    return _MEMO[code]


def format_many(codes: list[str]) -> None:
    """Warm the memo for a batch: cached results first, the rest in parallel when it is large."""
    todo = []
    for code in sorted(set(codes), key=len, reverse=True):
        if code in _MEMO:
            continue
        cached = _load(code)
        if cached is not None:
            _MEMO[code] = cached
        else:
            todo.append(code)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if min(cores, 4) > 1 and sum(map(len, todo)) > _POOL_THRESHOLD:
        with ProcessPoolExecutor(max_workers=min(cores, 4)) as pool:
            for code, out in zip(todo, pool.map(_format, todo, chunksize=1)):
                _MEMO[code] = out
                _store(code, out)
    else:
        for code in todo:
            format_python(code)
