"""The only code that touches the output tree: atomic writes and the up-to-date check."""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from generator.errors import OutputError


@dataclass(frozen=True)
class Difference:
    path: str
    kind: str  # "missing", "changed", "extra"


#: Folders that tools make inside output (Python, ruff, mypy, pytest caches): not output, never pruned
#: or reported as extra.
TOOL_CACHES = frozenset({"__pycache__", ".ruff_cache", ".mypy_cache", ".pytest_cache"})


def _existing(root: Path) -> set[str]:
    if not root.is_dir():
        return set()
    return {
        p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and not TOOL_CACHES.intersection(p.parts)
    }


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


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _write_file(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file (the only place output bytes are written; tests make it fail)."""
    with path.open("xb") as fh:
        fh.write(data)


def _fail(path: Path, exc: OSError) -> OutputError:
    reason = exc.strerror or str(exc)
    return OutputError(f"cannot write {path}: {reason}", errno=exc.errno)


def write_tree(root: Path, files: dict[str, str], *, prune: set[str] | None = None) -> list[str]:
    """Write every changed file and prune stale ones as one transaction: all of it or none of it.

    1. Stage: every changed file is written to a temporary file beside its target (creating folders
       as needed). A failure here (read-only folder, full disk, a file where a folder should be)
       removes the temporaries and the new folders; the tree is untouched.
    2. Swap: each target is kept as a hard link (or copy), then replaced by its temporary (a rename);
       pruned files are renamed aside. A failure here puts every target back.
    3. Commit: the kept copies are deleted.

    Unchanged files are not touched. New files get the usual mode (0666 less the umask); replaced
    files keep theirs. With ``prune``, files under those prefixes that are not in ``files`` are
    removed. Returns the paths written. Raises ``OutputError`` (one line) on any I/O failure.
    """
    if root.exists() and not root.is_dir():
        raise OutputError(f"output path {root} is a file, not a folder")
    changed: list[tuple[str, Path, bytes]] = []
    try:
        for rel, text in sorted(files.items()):
            path = root / rel
            data = text.encode("utf-8")
            if not (path.is_file() and path.read_bytes() == data):
                changed.append((rel, path, data))
        stale = sorted(
            rel for rel in _existing(root) - set(files) if prune is not None and any(rel.startswith(p) for p in prune)
        )
    except OSError as exc:
        raise OutputError(f"cannot read {root}: {exc.strerror or exc}", errno=exc.errno) from None
    if not changed and not stale:
        return []
    new_mode = 0o666 & ~_umask()
    made_dirs: list[Path] = []
    staged: list[tuple[Path, Path]] = []  # (temporary, target)
    kept: list[tuple[Path, Path | None]] = []  # (target, its kept old version or None if it is new)
    current: Path = root
    try:
        for _rel, path, data in changed:
            current = path
            made_dirs += _make_dirs(path.parent)
            tmp = path.parent / f".{path.name}.{os.getpid()}.{len(staged)}.tmp"
            staged.append((tmp, path))
            _write_file(tmp, data)
            os.chmod(tmp, stat.S_IMODE(path.stat().st_mode) if path.is_file() else new_mode)
        for tmp, path in staged:
            current = path
            kept.append((path, _keep(path)))
            os.replace(tmp, path)
        for rel in stale:
            current = root / rel
            backup = _aside(current)
            os.replace(current, backup)
            kept.append((current, backup))
    except OSError as exc:
        _roll_back(staged, kept, made_dirs)
        raise _fail(current, exc) from None
    except BaseException:
        _roll_back(staged, kept, made_dirs)
        raise
    for _target, old in kept:
        if old is not None:
            old.unlink(missing_ok=True)
    _drop_emptied_folders(root, stale)
    return [rel for rel, _path, _data in changed]


def _drop_emptied_folders(root: Path, stale: list[str]) -> None:
    """Remove the folders that pruning left empty, innermost first, up to ``root``. A folder that
    holds only tool caches (``__pycache__`` of the pruned modules...) counts as empty."""
    folders = sorted({(root / rel).parent for rel in stale}, key=lambda p: len(p.parts), reverse=True)
    for folder in folders:
        while folder != root and root in folder.parents:
            try:
                entries = list(folder.iterdir())
                if any(not (entry.is_dir() and entry.name in TOOL_CACHES) for entry in entries):
                    break
                for entry in entries:
                    shutil.rmtree(entry)
                folder.rmdir()
            except OSError:
                break  # best effort: the files themselves are already right
            folder = folder.parent


def _make_dirs(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing parents; return the ones created, outermost first."""
    missing = []
    while not folder.is_dir():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    created = []
    try:
        for d in reversed(missing):
            d.mkdir()
            created.append(d)
    except OSError:
        for d in reversed(created):
            d.rmdir()
        raise
    return created


def _aside(path: Path) -> Path:
    return path.parent / f".{path.name}.{os.getpid()}.old"


def _keep(path: Path) -> Path | None:
    """Keep the current version of ``path`` beside it until the swap is done."""
    if not path.is_file():
        return None
    backup = _aside(path)
    backup.unlink(missing_ok=True)
    try:
        os.link(path, backup)
    except OSError:
        shutil.copy2(path, backup)
    return backup


def _roll_back(staged: list[tuple[Path, Path]], kept: list[tuple[Path, Path | None]], made_dirs: list[Path]) -> None:
    """Undo a failed write_tree: restore every replaced or pruned file, remove what was new."""
    for path, backup in reversed(kept):
        try:
            if backup is not None and path.is_file() and os.path.samefile(backup, path):
                backup.unlink()  # never swapped: renaming a hard link onto its twin would do nothing
            elif backup is not None:
                os.replace(backup, path)
            else:
                path.unlink(missing_ok=True)
        except OSError:
            pass
    for tmp, _path in staged:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
    for d in reversed(made_dirs):
        try:
            d.rmdir()
        except OSError:
            pass
