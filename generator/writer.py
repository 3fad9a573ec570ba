"""The only code that touches the output tree: atomic writes and the up-to-date check."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Difference:
    path: str
    kind: str  # "missing", "changed", "extra"


def _existing(root: Path) -> set[str]:
    if not root.is_dir():
        return set()
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


def compare(root: Path, files: dict[str, str], *, owned: set[str] | None = None) -> list[Difference]:
    """Differences between rendered ``files`` and the tree at ``root``.

    ``owned`` limits "extra" files to those under the given top-level prefixes (so a check of one
    version does not flag another's files).
    """
    diffs = []
    for rel, text in sorted(files.items()):
        path = root / rel
        if not path.is_file():
            diffs.append(Difference(rel, "missing"))
        elif path.read_bytes() != text.encode("utf-8"):
            diffs.append(Difference(rel, "changed"))
    for rel in sorted(_existing(root) - set(files)):
        if owned is None or any(rel.startswith(p) for p in owned):
            diffs.append(Difference(rel, "extra"))
    return diffs


def write_tree(root: Path, files: dict[str, str], *, prune: set[str] | None = None) -> list[str]:
    """Write every file atomically (temp file + rename); unchanged files are not touched.

    Everything is rendered before this is called, so a failed generation writes nothing. With
    ``prune``, files under those prefixes that are not in ``files`` are removed. Returns the paths
    written.
    """
    written = []
    for rel, text in sorted(files.items()):
        path = root / rel
        data = text.encode("utf-8")
        if path.is_file() and path.read_bytes() == data:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        written.append(rel)
    if prune is not None:
        for rel in sorted(_existing(root) - set(files)):
            if any(rel.startswith(p) for p in prune):
                (root / rel).unlink()
    return written
