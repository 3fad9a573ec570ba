"""Format generated Python with black, in-process.

Many generated files are identical across targets (each server embeds its version's client), so
results are memoised by content; large batches are spread over a process pool, since black is the
costliest stage of generation.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor

import black

_MODE = black.Mode(line_length=120, target_versions={black.TargetVersion.PY311})
_CACHE: dict[str, str] = {}
#: Below this many characters of unformatted code, a process pool costs more than it saves.
_POOL_THRESHOLD = 400_000


def _format(code: str) -> str:
    return black.format_str(code, mode=_MODE)


def format_python(code: str) -> str:
    """Format one file (memoised)."""
    if code not in _CACHE:
        _CACHE[code] = _format(code)
    return _CACHE[code]


def format_many(codes: list[str]) -> None:
    """Warm the memo for a batch, in parallel when it is large and more than one core is free."""
    todo = sorted({c for c in codes if c not in _CACHE}, key=len, reverse=True)
    workers = min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1, 4)
    if workers > 1 and sum(map(len, todo)) > _POOL_THRESHOLD:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for code, out in zip(todo, pool.map(_format, todo, chunksize=1)):
                _CACHE[code] = out
    else:
        for code in todo:
            _CACHE[code] = _format(code)
