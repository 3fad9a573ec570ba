#!/usr/bin/env python3
"""Audit a YAML transcription (spec/<VERSION>/) against the official OCPI document it transcribes.

Usage (from the repository root):

    python3 scripts/audit_spec.py SPEC_DOC_DIR VERSION [--spec-root spec] [--dump]

    python3 scripts/audit_spec.py /work/shared/ocpi-spec/2.2.1 2.2.1
    python3 scripts/audit_spec.py /work/shared/ocpi-spec/2.1.1 2.1.1 --dump

The document's headings and tables are read by ``ocpi_doc.py`` (AsciiDoc for 2.2 and later, Markdown for
2.1.1). Every difference is printed on one line, grouped by YAML file, as ``CODE Subject.detail: message``:

  MISSING-TYPE / EXTRA-TYPE  Type           a type of the document missing from the YAML, or not in the document
  KIND                       Type           object/class/enum/OpenEnum differs from the section heading
  PLACE                      Type           the type is not in the YAML file of the chapter that defines it
  DUP-TYPE                   Type           the document defines the type more than once
  NO-TABLE                   Type           the document gives the type no Property/Value table
  MISSING-FIELD / EXTRA-FIELD Type.field
  TYPE / LENGTH / CARD       Type.field     field type (link text), maximum length, cardinality
  ORDER                      Type.field     field out of the document's order (fields outside the longest
                                            common subsequence of the two orders)
  MISSING-VALUE / EXTRA-VALUE Type.VALUE    enum values
  METHOD                     module.ROLE.METHOD  a method the document offers with no YAML endpoint, or a YAML
                                            endpoint whose method the document marks n/a or does not list
  MODULE-ID                  module         module id differs from "Module Identifier: `...`"
  ANCHOR                     Type | module[.ROLE[.operation]]  a type's anchor differs from its heading's, or
                                            an anchor cited in the YAML does not exist in the document

A difference is *explained* when ``<!-- audit: CODE Subject.detail -->`` occurs in any
spec/<VERSION>/ERRATA*.md; explained differences print with the prefix ``explained:``. The last line is
``audit <version>: N differences (M explained)``. Exit status: 0 when every difference is explained,
1 otherwise, 2 on usage errors.

``--dump`` prints what was parsed from the document (types with kinds, fields with type/length/card, enum
values, module ids, interface methods, tables not taken for types, parser warnings) and exits 0.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

sys.dont_write_bytecode = True  # keep scripts/ free of __pycache__
sys.path.insert(0, str(Path(__file__).resolve().parent))

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import ocpi_doc  # noqa: E402
from ocpi_doc import DocType, Document, yaml_file_for  # noqa: E402

from generator.extensions import merge_adds  # noqa: E402

try:
    import yaml
except ImportError:  # pragma: no cover
    print("audit_spec: PyYAML is required", file=sys.stderr)
    sys.exit(2)


# --------------------------------------------------------------------------------------------- dump


def dump(doc: Document, out=sys.stdout) -> None:
    p = lambda *a: print(*a, file=out)  # noqa: E731
    p(f"# document {doc.root} ({doc.fmt}), chapters: {', '.join(doc.files)}")
    real = [t for t in doc.types if t.kind != "type"]
    prims = [t for t in doc.types if t.kind == "type"]
    kinds = Counter(t.kind for t in real)
    nfields = sum(len(t.fields) for t in real)
    nvalues = sum(len(t.values) for t in real)
    cur = None
    for t in doc.types:
        if t.file != cur:
            cur = t.file
            p(f"\n== {cur}  (-> {yaml_file_for(cur)})")
        anchor = t.heading.anchor or "-"
        if t.kind == "type":
            p(f"primitive {t.name}  [{t.title}]  line {t.line}")
            continue
        p(f"type {t.name} {t.kind}  [{t.title}]  line {t.line}  anchor {anchor}")
        for f in t.fields:
            ln = f"({f.length})" if f.length is not None else ""
            ch = "  (choice)" if f.choice else ""
            raw = (
                f"  raw={f.raw_type!r}"
                if f.type is None or f.raw_type.split("(")[0].split("[")[0].strip() != f.type
                else ""
            )
            p(f"    {f.name}: {f.type}{ln} [{f.card}]{ch}{raw}")
        if t.values:
            p(f"    values: {' '.join(v.value for v in t.values)}")
        for n in t.notes:
            p(f"    ! {n}")
    p("\n== modules")
    for m in doc.modules:
        p(f"module {m.stem} -> {m.yaml_file}: id {m.module_id!r} (line {m.module_id_line})")
        for mt in m.method_tables:
            offered = " ".join(r.method for r in mt.rows if r.offered)
            na = " ".join(r.method for r in mt.rows if not r.offered)
            htitle = ocpi_doc.strip_markup(mt.heading.title) if mt.heading else "-"
            p(f"    {mt.role:8} [{htitle}] line {mt.table.line}: offered {offered or '-'}; n/a {na or '-'}")
        for role in m.roles():
            off, na = m.methods(role)
            p(
                f"    => {role}: offered {' '.join(off) or '-'}; n/a only "
                f"{' '.join(k for k in na if k not in off) or '-'}"
            )
            both = [k for k in na if k in off]
            if both:
                p(f"    ! {role}: listed both as offered and as n/a: {' '.join(both)} (taken as offered)")
    p("\n== tables not taken for types (first header cells)")
    shapes = Counter()
    for t in doc.other_tables:
        key = " | ".join(ocpi_doc.strip_markup(h) for h in t.header)[:70]
        shapes[key] += 1
    for k, n in sorted(shapes.items(), key=lambda kv: -kv[1]):
        p(f"    {n:4} x  {k}")
    unnamed = [t for t in doc.other_tables if ocpi_doc.classify_table(t) == "fields"]
    if unnamed:
        p("  Property tables under non-type headings:")
        for t in unnamed:
            h = t.heading
            p(
                f"    {t.file}:{t.line} [{ocpi_doc.strip_markup(h.title) if h else '-'}] anchor "
                f"{(h.anchor if h else None) or '-'}: {', '.join(ocpi_doc.strip_markup(r[0]) for r in t.rows)}"
            )
    names = set(doc.types_by_name())
    dangling = [
        (t, f) for t in real for f in t.fields if f.type not in names and f.type not in ocpi_doc.PRIMITIVES.values()
    ]
    if dangling:
        p("\n== field types that name no type heading of the document (link text as written)")
        for t, f in dangling:
            p(f"    {t.name}.{f.name}: {f.type!r} ({t.file}:{f.line})")
    dups = {n: ts for n, ts in doc.types_by_name().items() if len(ts) > 1}
    if dups:
        p("\n== types defined more than once")
        for n, ts in dups.items():
            p(f"    {n}: " + ", ".join(f"{t.file}:{t.line}" for t in ts))
    if doc.warnings:
        p("\n== parser warnings")
        for w in doc.warnings:
            p(f"    {w}")
    heads = sum(1 for h in doc.headings if ocpi_doc.parse_type_heading(h.title))
    p(
        f"\ndump: {len(real)} types ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}), "
        f"{len(prims)} primitive type headings, {heads} type headings in all, {nfields} fields, "
        f"{nvalues} enum values, {len(doc.modules)} modules, "
        f"{sum(len(m.method_tables) for m in doc.modules)} method tables"
    )


# --------------------------------------------------------------------------------------------- YAML side


def _extension_parts(folder: Path, ext: str, notes: list[str]) -> tuple[dict, dict[str, dict]]:
    """An extension's manifest and its files (by file name), from spec/<version>/extensions/<ext>/."""
    base = folder / "extensions" / ext
    manifest = (yaml.safe_load((base / "extension.yaml").read_text(encoding="utf-8")) or {}).get("extension") or {}
    parts = {}
    for fn in manifest.get("files") or []:
        path = base / fn
        if not path.exists():
            notes.append(f"extensions/{ext}/{fn}: listed in extension.yaml but missing on disk, skipped")
            continue
        parts[fn] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return manifest, parts


class Spec:
    def __init__(self, folder: Path, extensions: list[str] | None = None):
        self.folder = folder
        self.extensions = list(extensions or [])
        self.notes: list[str] = []
        self.files: list[str] = []  # loaded, in index order
        self.missing: list[str] = []  # listed in index but not on disk
        self.types: dict[str, tuple[str, int, dict]] = {}  # name -> (file, position in file, entry)
        self.type_order: dict[str, list[str]] = {}
        self.modules: dict[str, dict] = {}  # file -> module
        self.transport: dict[str, dict] = {}
        index = folder / "index.yaml"
        data = yaml.safe_load(index.read_text(encoding="utf-8")) or {}
        self.index = data
        listed = set(data.get("files") or []) | {"index.yaml"}
        for extra in sorted(p.name for p in folder.glob("*.yaml")):
            if extra not in listed:
                self.notes.append(f"{extra}: on disk but not listed in index.yaml, not audited")
        parts: dict[str, dict] = {}
        for fn in data.get("files") or []:
            path = folder / fn
            if not path.exists():
                self.missing.append(fn)
                self.notes.append(f"{fn}: listed in index.yaml but missing on disk, skipped")
                continue
            try:
                part = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            except yaml.YAMLError as e:
                self.missing.append(fn)
                self.notes.append(f"{fn}: not loadable YAML ({str(e).splitlines()[0]}), skipped")
                continue
            if not isinstance(part, dict):
                self.notes.append(f"{fn}: not a mapping, skipped")
                self.missing.append(fn)
                continue
            parts[fn] = part
        # Extensions: their files join the core's (by file name, as the chapters map to them), and their
        # adds are merged into the core files exactly as the generator's loader merges them.
        for ext in self.extensions:
            manifest, ext_parts = _extension_parts(folder, ext, self.notes)
            for fn in ext_parts:
                if fn in parts:
                    self.notes.append(f"extensions/{ext}/{fn}: a core file has the same name, not audited")
            parts.update({fn: p for fn, p in ext_parts.items() if fn not in parts})
            for path, message in merge_adds(manifest.get("adds") or {}, parts):
                self.notes.append(f"extensions/{ext}: adds{list(path)}: {message}")
        for fn, part in parts.items():
            self.files.append(fn)
            names = []
            for k, t in enumerate(part.get("types") or []):
                if not isinstance(t, dict) or "name" not in t:
                    continue
                if t["name"] in self.types:
                    self.notes.append(f"{fn}: type {t['name']} also defined in {self.types[t['name']][0]}")
                    continue
                self.types[t["name"]] = (fn, k, t)
                names.append(t["name"])
            self.type_order[fn] = names
            if isinstance(part.get("module"), dict):
                self.modules[fn] = part["module"]
            if isinstance(part.get("transport"), dict):
                self.transport[fn] = part["transport"]

    def errata_keys(self) -> set[str]:
        keys: set[str] = set()
        found = sorted(self.folder.glob("ERRATA*.md"))
        found += [self.folder / "extensions" / e / "ERRATA.md" for e in self.extensions]
        for p in [f for f in found if f.is_file()]:
            for m in re.finditer(r"<!--\s*audit:\s*(\S+)\s+(\S+?)\s*-->", p.read_text(encoding="utf-8")):
                keys.add(f"{m.group(1)} {m.group(2)}")
        return keys


# --------------------------------------------------------------------------------------------- comparison


class Report:
    def __init__(self):
        self.items: list[tuple[str, str, str]] = []  # (yaml file, key "CODE Subject.detail", message)

    def add(self, file: str, code: str, subject: str, msg: str) -> None:
        self.items.append((file, f"{code} {subject}", msg))


def lcs_keep(a: list[str], b: list[str]) -> set[str]:
    """Elements of the longest common subsequence of two sequences of distinct names."""
    n, m = len(a), len(b)
    dp = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            dp[i][j] = dp[i + 1][j + 1] + 1 if a[i] == b[j] else max(dp[i + 1][j], dp[i][j + 1])
    keep: set[str] = set()
    i = j = 0
    while i < n and j < m:
        if a[i] == b[j]:
            keep.add(a[i])
            i += 1
            j += 1
        elif dp[i + 1][j] >= dp[i][j + 1]:
            i += 1
        else:
            j += 1
    return keep


def _anchor_ok(anchor: str, doc: Document) -> bool:
    if "#" in anchor:
        stem, a = anchor.split("#", 1)
        return a in doc.anchors.get(stem, set())
    return anchor in doc.all_anchors()


def _anchor_matches(anchor: str, dt: DocType) -> bool:
    a = anchor.split("#", 1)[1] if "#" in anchor else anchor
    if "#" in anchor and anchor.split("#", 1)[0] != dt.file:
        return False
    cands = {dt.heading.anchor} | set(dt.heading.auto_anchors)
    return a in cands


def compare(doc: Document, spec: Spec) -> Report:
    rep = Report()
    by_name = doc.types_by_name()
    doc_types = [t for t in doc.types if t.kind != "type"]
    missing_files = set(spec.missing)

    # ---- types
    seen: set[str] = set()
    renamed: dict[str, str] = {}
    for name, defs in by_name.items():
        defs = [d for d in defs if d.kind != "type"]
        if not defs:
            continue
        dt = defs[0]
        want_file = yaml_file_for(dt.file)
        if len(defs) > 1:
            same = all(_same_def(defs[0], d) for d in defs[1:])
            where = ", ".join(f"{d.file}:{d.line} ({d.kind})" for d in defs)
            rep.add(
                spec.types[name][0] if name in spec.types else want_file,
                "DUP-TYPE",
                name,
                f"document defines it {len(defs)} times: {where}"
                f"{' (identical tables)' if same else ' (the definitions differ; compared with the first)'}",
            )
        yname = name
        if name not in spec.types:
            alias = _alias_by_anchor(dt, spec, by_name)
            if alias is None:
                if want_file in missing_files:
                    continue
                rep.add(want_file, "MISSING-TYPE", name, f"{dt.kind} at {dt.file}:{dt.line} has no YAML entry")
                continue
            yname = alias
            rep.add(
                spec.types[alias][0],
                "NAME",
                name,
                f"YAML names it {alias!r}; the document's heading is "
                f"{dt.title!r} ({dt.file}:{dt.line}); matched by anchor",
            )
        seen.add(yname)
        renamed[yname] = name
        fn, _, yt = spec.types[yname]
        if fn != want_file:
            rep.add(fn, "PLACE", name, f"defined in {fn}; the document defines it in {dt.file} ({want_file})")
        ykind = yt.get("kind")
        if ykind != dt.kind:
            rep.add(fn, "KIND", name, f"YAML kind {ykind!r}, document heading {dt.title!r} ({dt.kind})")
        anchor = yt.get("anchor")
        if isinstance(anchor, str) and (dt.heading.anchor or doc.fmt == "markdown") and not _anchor_matches(anchor, dt):
            rep.add(
                fn,
                "ANCHOR",
                name,
                f"YAML anchor {anchor!r}, document heading anchor " f"{dt.heading.anchor!r} ({dt.file}:{dt.line})",
            )
        if dt.table is None:
            rep.add(fn, "NO-TABLE", name, f"the document gives no Property/Value table ({dt.file}:{dt.line})")
            continue
        if dt.shape == "fields":
            _compare_fields(rep, fn, name, dt, yt.get("fields") or [], set(by_name))
            if yt.get("values"):
                for v in yt["values"]:
                    rep.add(fn, "EXTRA-VALUE", f"{name}.{v.get('value')}", "the document gives fields, not values")
        else:
            _compare_values(rep, fn, name, dt, yt.get("values") or [])
            if yt.get("fields"):
                for f in yt["fields"]:
                    rep.add(fn, "EXTRA-FIELD", f"{name}.{f.get('name')}", "the document gives values, not fields")

    unnamed = {}
    for t in doc.other_tables:
        if ocpi_doc.classify_table(t) == "fields" and t.heading is not None:
            for a in [t.heading.anchor] + t.heading.auto_anchors:
                if a:
                    unnamed[(t.file, a)] = t
                    unnamed[(None, a)] = t
    for name, (fn, _, yt) in spec.types.items():
        if name in seen or name in by_name and any(d.kind != "type" for d in by_name[name]):
            continue
        anchor = yt.get("anchor") if isinstance(yt.get("anchor"), str) else ""
        key = (anchor.split("#")[0], anchor.split("#")[1]) if "#" in anchor else (None, anchor)
        t = unnamed.get(key)
        if t is not None:
            h = ocpi_doc.strip_markup(t.heading.title)
            rep.add(
                fn,
                "EXTRA-TYPE",
                name,
                f"no type heading of that name in the document; its anchor is the "
                f"unnamed Property table under {h!r} ({t.file}:{t.line}), fields compared",
            )
            fake = DocType(name, yt.get("kind") or "class", h, t.file, t.line, t.heading, t, "fields")
            fake.fields, _ = ocpi_doc._fields_from(t)
            _compare_fields(rep, fn, name, fake, yt.get("fields") or [], set(by_name))
        else:
            rep.add(fn, "EXTRA-TYPE", name, "no type of that name in the document")

    # type order within each YAML file (document order of the types that file holds)
    doc_pos = {}
    for k, t in enumerate(doc_types):
        doc_pos.setdefault(t.name, k)
    for yname, dname in renamed.items():
        if yname != dname and dname in doc_pos:
            doc_pos.setdefault(yname, doc_pos[dname])
    home = {}
    for t in doc_types:
        home.setdefault(t.name, yaml_file_for(t.file))
    for yname, dname in renamed.items():
        if dname in home:
            home.setdefault(yname, home[dname])
    for fn, names in spec.type_order.items():
        common = [n for n in names if n in doc_pos and home.get(n) == fn]
        doc_seq = sorted(common, key=lambda n: doc_pos[n])
        keep = lcs_keep(doc_seq, common)
        for n in common:
            if n not in keep:
                rep.add(fn, "ORDER", n, "type out of the document's order in this file")

    # ---- modules
    doc_mods = {m.yaml_file: m for m in doc.modules}
    for yf, dm in doc_mods.items():
        if yf in missing_files:
            continue
        ym = spec.modules.get(yf)
        if ym is None:
            if yf in spec.files or dm.method_tables:
                rep.add(
                    yf,
                    "METHOD",
                    f"{_mid(dm, None)}",
                    f"document chapter {dm.stem} has interfaces "
                    f"({', '.join(dm.roles()) or 'none'}) but {yf} holds no module",
                )
            continue
        mid = _mid(dm, ym)
        if dm.module_id is not None and ym.get("id") != dm.module_id:
            rep.add(
                yf,
                "MODULE-ID",
                mid,
                f"YAML id {ym.get('id')!r}, document 'Module Identifier: "
                f"{dm.module_id}' ({dm.stem}:{dm.module_id_line})",
            )
        _compare_methods(rep, yf, mid, dm, ym)
        _check_anchors(rep, yf, mid, ym, doc)
    for yf, ym in spec.modules.items():
        if yf not in doc_mods:
            rep.add(
                yf,
                "METHOD",
                yf[: -len(".yaml")],
                "module in YAML, but no document chapter with interfaces " f"maps to {yf}",
            )
            _check_anchors(rep, yf, yf[: -len(".yaml")], ym, doc)
    for yf, tr in spec.transport.items():
        env = tr.get("envelope") or {}
        if isinstance(env.get("anchor"), str) and not _anchor_ok(env["anchor"], doc):
            rep.add(yf, "ANCHOR", "transport.envelope", f"anchor {env['anchor']!r} not in the document")
        for h in tr.get("headers") or []:
            if isinstance(h, dict) and isinstance(h.get("anchor"), str) and not _anchor_ok(h["anchor"], doc):
                rep.add(
                    yf, "ANCHOR", f"transport.header.{h.get('name')}", f"anchor {h['anchor']!r} not in the document"
                )
        for s in tr.get("status_codes") or []:
            if isinstance(s, dict) and isinstance(s.get("anchor"), str) and not _anchor_ok(s["anchor"], doc):
                rep.add(
                    yf, "ANCHOR", f"transport.status.{s.get('code')}", f"anchor {s['anchor']!r} not in the document"
                )
    for name, (fn, _, yt) in spec.types.items():
        a = yt.get("anchor")
        if isinstance(a, str) and name not in seen and not _anchor_ok(a, doc):
            rep.add(fn, "ANCHOR", name, f"anchor {a!r} not in the document")
    return rep


def _alias_by_anchor(dt: DocType, spec: Spec, by_name: dict) -> str | None:
    """A YAML type of another name that cites this document type's heading anchor."""
    if not dt.heading.anchor:
        return None
    for yname, (_, _, yt) in spec.types.items():
        if yname in by_name:
            continue
        a = yt.get("anchor")
        if isinstance(a, str) and _anchor_matches(a, dt):
            return yname
    return None


def _mid(dm, ym) -> str:
    """Subject of module-level differences: the YAML file's stem (stable even when the id is wrong)."""
    return dm.yaml_file[: -len(".yaml")]


def _same_def(a: DocType, b: DocType) -> bool:
    fa = [(f.name, f.type, f.length, f.card) for f in a.fields]
    fb = [(f.name, f.type, f.length, f.card) for f in b.fields]
    return a.kind == b.kind and fa == fb and [v.value for v in a.values] == [v.value for v in b.values]


def _compare_fields(
    rep: Report, fn: str, name: str, dt: DocType, yfields: list, doc_names: set[str] | None = None
) -> None:
    dnames = [f.name for f in dt.fields]
    dmap = {}
    for f in dt.fields:
        if f.name in dmap:
            rep.add(fn, "DUP-FIELD", f"{name}.{f.name}", f"the document lists the field twice ({dt.file}:{f.line})")
            continue
        dmap[f.name] = f
    ymap = {}
    ynames = []
    for f in yfields:
        if isinstance(f, dict) and "name" in f and f["name"] not in ymap:
            ymap[f["name"]] = f
            ynames.append(f["name"])
    for f in dt.fields:
        if f.name not in ymap and dmap.get(f.name) is f:
            rep.add(fn, "MISSING-FIELD", f"{name}.{f.name}", f"{f.type}{_l(f.length)} [{f.card}] at {dt.file}:{f.line}")
    for n in ynames:
        if n not in dmap:
            y = ymap[n]
            rep.add(
                fn,
                "EXTRA-FIELD",
                f"{name}.{n}",
                f"{y.get('type')}{_l(y.get('length'))} [{y.get('card')}] "
                f"not in the document's table ({dt.file}:{dt.table.line})",
            )
    for n in ynames:
        if n not in dmap:
            continue
        d, y = dmap[n], ymap[n]
        if d.type != y.get("type"):
            hint = ""
            if doc_names is not None and d.type not in doc_names and d.type not in ocpi_doc.PRIMITIVES.values():
                hint = f"; the document has no type heading named {d.type!r}"
            rep.add(
                fn,
                "TYPE",
                f"{name}.{n}",
                f"YAML {y.get('type')!r}, document {d.type!r} " f"(cell {d.raw_type!r}, {dt.file}:{d.line}){hint}",
            )
        if d.length != y.get("length"):
            rep.add(
                fn,
                "LENGTH",
                f"{name}.{n}",
                f"YAML {y.get('length')!r}, document {d.length!r} " f"(cell {d.raw_type!r}, {dt.file}:{d.line})",
            )
        if d.card != str(y.get("card")):
            rep.add(fn, "CARD", f"{name}.{n}", f"YAML {y.get('card')!r}, document {d.card!r} ({dt.file}:{d.line})")
    dseq = [n for n in dnames if n in ymap]
    dseq = list(dict.fromkeys(dseq))
    yseq = [n for n in ynames if n in dmap]
    keep = lcs_keep(dseq, yseq)
    for n in yseq:
        if n not in keep:
            k = dseq.index(n)
            after = f"after {dseq[k - 1]}" if k else "first"
            before = f", before {dseq[k + 1]}" if k + 1 < len(dseq) else ""
            rep.add(fn, "ORDER", f"{name}.{n}", f"out of the document's order (the document has it {after}{before})")


def _l(n) -> str:
    return f"({n})" if n is not None else ""


def _compare_values(rep: Report, fn: str, name: str, dt: DocType, yvalues: list) -> None:
    dvals = [v.value for v in dt.values]
    yvals = [str(v.get("value")) for v in yvalues if isinstance(v, dict)]
    for v in dt.values:
        if v.value not in yvals:
            rep.add(fn, "MISSING-VALUE", f"{name}.{v.value}", f"at {dt.file}:{v.line}")
    for v in yvals:
        if v not in dvals:
            rep.add(fn, "EXTRA-VALUE", f"{name}.{v}", f"not in the document's table ({dt.file}:{dt.table.line})")
    c = Counter(dvals)
    for v, n in c.items():
        if n > 1:
            rep.add(fn, "DUP-VALUE", f"{name}.{v}", f"the document lists the value {n} times")


def _compare_methods(rep: Report, yf: str, mid: str, dm, ym: dict) -> None:
    yroles: dict[str, list[dict]] = {}
    for itf in ym.get("interfaces") or []:
        if not isinstance(itf, dict):
            continue
        yroles.setdefault(str(itf.get("role")), []).extend(e for e in itf.get("endpoints") or [] if isinstance(e, dict))
    droles = dm.roles()
    for role in droles:
        offered, na = dm.methods(role)
        eps = yroles.get(role, [])
        ymeth: dict[str, list[str]] = {}
        for e in eps:
            ymeth.setdefault(str(e.get("method")), []).append(str(e.get("operation")))
        where = ", ".join(f"{dm.stem}:{mt.table.line}" for mt in dm.method_tables if mt.role == role)
        for meth in offered:
            if meth not in ymeth:
                rep.add(
                    yf,
                    "METHOD",
                    f"{mid}.{role}.{meth}",
                    f"the document offers {meth} ({where}); no YAML endpoint of the {role} interface has it",
                )
        for meth, ops in ymeth.items():
            if meth in offered:
                continue
            if meth in na:
                rep.add(
                    yf,
                    "METHOD",
                    f"{mid}.{role}.{meth}",
                    f"the document marks {meth} n/a ({where}); YAML endpoint(s) {', '.join(ops)}",
                )
            else:
                rep.add(
                    yf,
                    "METHOD",
                    f"{mid}.{role}.{meth}",
                    f"the document's method table does not list {meth} ({where}); YAML endpoint(s) {', '.join(ops)}",
                )
    for role, eps in yroles.items():
        if role in droles:
            continue
        for meth in dict.fromkeys(str(e.get("method")) for e in eps):
            ops = [str(e.get("operation")) for e in eps if str(e.get("method")) == meth]
            rep.add(
                yf,
                "METHOD",
                f"{mid}.{role}.{meth}",
                f"the document has no {role} interface method table "
                f"(it has: {', '.join(droles) or 'none'}); YAML endpoint(s) {', '.join(ops)}",
            )


def _check_anchors(rep: Report, yf: str, mid: str, ym: dict, doc: Document) -> None:
    a = ym.get("anchor")
    if isinstance(a, str) and not _anchor_ok(a, doc):
        rep.add(yf, "ANCHOR", mid, f"module anchor {a!r} not in the document")
    for itf in ym.get("interfaces") or []:
        if not isinstance(itf, dict):
            continue
        role = itf.get("role")
        a = itf.get("anchor")
        if isinstance(a, str) and not _anchor_ok(a, doc):
            rep.add(yf, "ANCHOR", f"{mid}.{role}", f"interface anchor {a!r} not in the document")
        for e in itf.get("endpoints") or []:
            if isinstance(e, dict) and isinstance(e.get("anchor"), str) and not _anchor_ok(e["anchor"], doc):
                rep.add(
                    yf,
                    "ANCHOR",
                    f"{mid}.{role}.{e.get('operation')}",
                    f"endpoint anchor {e['anchor']!r} not in the document",
                )


# --------------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="audit_spec.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("doc_dir", help="folder of the official document, e.g. /work/shared/ocpi-spec/2.2.1")
    ap.add_argument("version", help="version folder under the spec root, e.g. 2.2.1")
    ap.add_argument("--spec-root", default="spec", help="folder holding the version folders (default: spec)")
    ap.add_argument("--dump", action="store_true", help="print what was parsed from the document and exit")
    ap.add_argument(
        "--with",
        dest="extensions",
        default="",
        metavar="EXT[,EXT]",
        help="merge these extensions of the version (spec/<VERSION>/extensions/<EXT>) before comparing",
    )
    try:
        args = ap.parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    doc_dir = Path(args.doc_dir)
    if not doc_dir.is_dir() or not (list(doc_dir.glob("*.asciidoc")) or list(doc_dir.glob("*.md"))):
        print(f"audit_spec: {doc_dir} is not a folder of .asciidoc or .md files", file=sys.stderr)
        return 2
    doc = ocpi_doc.load_document(doc_dir)
    if args.dump:
        dump(doc)
        return 0
    folder = Path(args.spec_root) / args.version
    if not (folder / "index.yaml").is_file():
        print(f"audit_spec: {folder}/index.yaml not found", file=sys.stderr)
        return 2
    try:
        spec = Spec(folder, [e for e in args.extensions.split(",") if e])
    except (yaml.YAMLError, OSError) as e:
        print(f"audit_spec: cannot read {folder}/index.yaml: {e}", file=sys.stderr)
        return 2
    rep = compare(doc, spec)
    explained_keys = spec.errata_keys()
    for n in spec.notes:
        print(f"note: {n}")
    order = {f: k for k, f in enumerate(spec.index.get("files") or [])}
    groups: dict[str, list[tuple[str, str]]] = {}
    for fn, key, msg in rep.items:
        groups.setdefault(fn, []).append((key, msg))
    total = explained = 0
    used: set[str] = set()
    for fn in sorted(groups, key=lambda f: (order.get(f, len(order)), f)):
        print(f"== {fn}")
        for key, msg in groups[fn]:
            total += 1
            if key in explained_keys:
                explained += 1
                used.add(key)
                print(f"explained: {key}: {msg}")
            else:
                print(f"{key}: {msg}")
    for k in sorted(explained_keys - used):
        print(f"note: ERRATA marker matches no difference: <!-- audit: {k} -->")
    label = "+".join([args.version, *spec.extensions])
    print(f"audit {label}: {total} differences ({explained} explained)")
    return 0 if total == explained else 1


if __name__ == "__main__":
    sys.exit(main())
