"""Format generated Python once, in-process, with black."""

from __future__ import annotations

import black

_MODE = black.Mode(line_length=120, target_versions={black.TargetVersion.PY311})


def format_python(code: str) -> str:
    return black.format_str(code, mode=_MODE)
