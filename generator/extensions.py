"""Optional extensions of a version transcription (e.g. OCPI 2.3.0 Payments and Bookings).

An extension lives in ``spec/<version>/extensions/<id>/``: an ``extension.yaml`` manifest (id, name,
release, the text it transcribes, its own files, and ``adds``: the types, fields, enum values,
endpoints and implementing roles it adds to core files) plus the module files it lists. Loading a
version with extensions parses and schema-checks each manifest and file, merges the ``adds`` into the
parsed core data, and then runs the usual semantic checks over the whole. A new extension is data
only: a folder with these files.

``merge_adds`` works on plain dicts, so ``scripts/audit_spec.py`` merges the same way the loader does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from generator.errors import Problem, SpecError

EXTENSIONS_DIR = "extensions"
MANIFEST = "extension.yaml"
#: ``--with`` keywords besides extension ids.
ALL, NONE = "all", "none"
#: What a run includes when ``--with`` is not given: the core only. The published core (e.g. 2.3.0
#: edition 2) is complete without its optional modules; a party opts in to the ones it implements.
DEFAULT: tuple[str, ...] = ()

AddProblem = tuple[tuple[str | int, ...], str]


def available_extensions(folder: Path) -> list[str]:
    """Ids of the extensions a version folder has, sorted."""
    root = folder / EXTENSIONS_DIR
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / MANIFEST).is_file())


def resolve(folder: Path, chosen: Iterable[str] | None) -> tuple[str, ...]:
    """The extension ids a run includes: ``None`` means the default; ``all``/``none`` are keywords.

    Raises ``ValueError`` naming the unknown ids and the ones available.
    """
    known = available_extensions(folder)
    if chosen is None:
        wanted: list[str] = list(DEFAULT)
    else:
        wanted = []
        for item in chosen:
            item = item.strip().lower()
            if item == ALL:
                wanted += known
            elif item and item != NONE:
                wanted.append(item)
    unknown = [w for w in wanted if w not in known]
    if unknown:
        raise ValueError(
            f"no extension {', '.join(map(repr, unknown))} for {folder.name}; available: {', '.join(known) or 'none'}"
        )
    return tuple(dict.fromkeys(sorted(wanted, key=known.index)))


def parse_with(text: str | None) -> list[str] | None:
    """``--with payments,bookings`` -> ``['payments', 'bookings']``; not given -> ``None`` (the default)."""
    return None if text is None else [p for p in text.split(",") if p.strip()]


def load_extensions(folder: Path, version: str, ids: Sequence[str], core: list[Any]) -> tuple[list[Any], list[Any]]:
    """Parse and check the manifests and files of ``ids``, and merge their ``adds`` into ``core``.

    Returns ``(manifests, files)`` as ``LoadedFile`` lists; raises ``SpecError`` on any problem.
    """
    from generator.loader import parse_file, schema_problems

    problems: list[Problem] = []
    manifests: list[Any] = []
    files: list[Any] = []
    for ext_id in ids:
        base = folder / EXTENSIONS_DIR / ext_id
        shown = f"{version}/{EXTENSIONS_DIR}/{ext_id}"
        manifest, errs = parse_file(base / MANIFEST, f"{shown}/{MANIFEST}")
        problems += errs
        if manifest is None:
            continue
        problems += schema_problems(manifest)
        meta = manifest.data.get("extension", {})
        if isinstance(meta, dict) and meta.get("id") not in (None, ext_id):
            problems.append(
                manifest.problem(("extension", "id"), f"id {meta.get('id')!r} does not match folder {ext_id!r}")
            )
        manifests.append(manifest)
        for i, name in enumerate(meta.get("files", []) if isinstance(meta, dict) else []):
            path = base / str(name)
            if not path.is_file():
                problems.append(manifest.problem(("extension", "files", i), f"listed file {name!r} does not exist"))
                continue
            loaded, errs = parse_file(path, f"{shown}/{name}")
            problems += errs
            if loaded is not None:
                problems += schema_problems(loaded)
                files.append(loaded)
    if problems:
        raise SpecError(problems)
    for manifest in manifests:
        adds = manifest.data["extension"].get("adds", {})
        by_name = {f.path.name: f.data for f in core}
        by_name.update({f"{EXTENSIONS_DIR}/{f.path.parent.name}/{f.path.name}": f.data for f in files})
        for at, message in merge_adds(adds, by_name):
            problems.append(manifest.problem(("extension", "adds") + at, message))
    if problems:
        raise SpecError(problems)
    return manifests, files


def _insert(items: list[dict[str, Any]], item: dict[str, Any], key: str, after: str | None) -> str | None:
    """Insert ``item`` after the entry whose ``key`` is ``after`` (or at the end); a message on failure."""
    if any(str(x.get(key)) == str(item.get(key)) for x in items):
        return f"{item.get(key)!r} already exists"
    if after is None:
        items.append(item)
        return None
    for n, x in enumerate(items):
        if str(x.get(key)) == after:
            items.insert(n + 1, item)
            return None
    return f"no {after!r} to insert after"


def merge_adds(adds: dict[str, Any], files: dict[str, dict[str, Any]]) -> list[AddProblem]:
    """Apply an extension's ``adds`` to parsed files (``{file name: data}``, changed in place).

    Types go first, so that fields and values can refer to and extend them. Returns
    ``(key path under adds, message)`` for each add that does not apply.
    """
    problems: list[AddProblem] = []
    for i, add in enumerate(adds.get("types", [])):
        target = files.get(add["file"])
        if target is None:
            problems.append((("types", i, "file"), f"no core file {add['file']!r}"))
            continue
        error = _insert(target.setdefault("types", []), add["type"], "name", add.get("after"))
        if error:
            problems.append((("types", i), f"type {error}"))

    types = {t["name"]: t for data in files.values() for t in data.get("types", [])}
    for i, add in enumerate(adds.get("fields", [])):
        t = types.get(add["type"])
        if t is None or "fields" not in t:
            problems.append((("fields", i, "type"), f"no object or class {add['type']!r} to add a field to"))
            continue
        error = _insert(t["fields"], add["field"], "name", add.get("after"))
        if error:
            problems.append((("fields", i), f"field {error} in {add['type']}"))
    for i, add in enumerate(adds.get("values", [])):
        t = types.get(add["type"])
        if t is None or "values" not in t:
            problems.append((("values", i, "type"), f"no enum {add['type']!r} to add a value to"))
            continue
        error = _insert(t["values"], add["value"], "value", add.get("after"))
        if error:
            problems.append((("values", i), f"value {error} in {add['type']}"))

    interfaces = {
        (data["module"]["id"], i["role"]): i
        for data in files.values()
        if "module" in data
        for i in data["module"]["interfaces"]
    }
    for i, add in enumerate(adds.get("endpoints", [])):
        iface = interfaces.get((add["module"], add["role"]))
        if iface is None:
            problems.append((("endpoints", i), f"no {add['role']} interface of module {add['module']!r}"))
            continue
        error = _insert(iface["endpoints"], add["endpoint"], "operation", add.get("after"))
        if error:
            problems.append((("endpoints", i), f"operation {error} in {add['module']}.{add['role']}"))
    for i, add in enumerate(adds.get("implemented_by", [])):
        iface = interfaces.get((add["module"], add["role"]))
        if iface is None:
            problems.append((("implemented_by", i), f"no {add['role']} interface of module {add['module']!r}"))
            continue
        iface["implemented_by"] = list(dict.fromkeys(list(iface["implemented_by"]) + list(add["roles"])))
    return problems


def summary(adds: dict[str, Any]) -> tuple[str, ...]:
    """One readable line per add, for the IR and ``ocpi-codegen diff``."""
    out = [f"type {a['type']['name']}" for a in adds.get("types", [])]
    out += [f"field {a['type']}.{a['field']['name']}" for a in adds.get("fields", [])]
    out += [f"enum value {a['type']}.{a['value']['value']}" for a in adds.get("values", [])]
    out += [f"endpoint {a['module']}.{a['role']} {a['endpoint']['operation']}" for a in adds.get("endpoints", [])]
    out += [f"implemented_by {a['module']}.{a['role']} +{','.join(a['roles'])}" for a in adds.get("implemented_by", [])]
    return tuple(out)


def extensions_of(loaded: Any) -> tuple[Any, ...]:
    """The IR ``Extension`` of each manifest of a ``LoadedVersion``."""
    from generator.ir import Extension

    out = []
    for manifest in loaded.extensions:
        meta = manifest.data["extension"]
        modules = tuple(
            f.data["module"]["id"] for f in loaded.files if f.path.parent == manifest.path.parent and "module" in f.data
        )
        out.append(
            Extension(
                meta["id"],
                meta["name"],
                meta["release"],
                meta["edition"],
                meta["anchor"],
                meta["doc"],
                modules,
                summary(meta.get("adds", {})),
            )
        )
    return tuple(out)
