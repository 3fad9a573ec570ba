"""Parser for the official OCPI specification documents (AsciiDoc for 2.2 and later, Markdown for 2.1.1).

It reads only the facts the audit needs from the document's headings and tables:

* type headings (``==== _Location_ Object``, ``=== DisplayText _class_``, ``==== Capability _OpenEnum_``,
  ``### 4.2 Capability *enum*``, ...) and, for each, the first Property/Value table of its section;
* the module identifier (``*Module Identifier: `locations`*``);
* the interface method tables (``|Method |Description``) with the interface role they belong to.

Everything else (parameter tables, response tables, status code tables, ...) is kept as "other tables"
so that ``--dump`` can show what was deliberately not taken for a type.

Plain Python 3.11, no dependencies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

# Chapters that never hold transcribed facts.
SKIP_STEMS = {"template-object-description", "changelog", "copyright", "pdf_layout", "README"}

# Reading order of the chapters (the document has no master file in our copy); others follow by name.
CHAPTER_ORDER = [
    "introduction",
    "terminology",
    "topology",
    "version_history",
    "transport_and_format",
    "status_codes",
    "version_information_endpoint",
    "credentials",
    "mod_locations",
    "mod_sessions",
    "mod_cdrs",
    "mod_tariffs",
    "mod_tokens",
    "mod_commands",
    "mod_charging_profiles",
    "mod_hub_client_info",
    "mod_payments",
    "mod_bookings",
    "smart_charging",
    "types",
]

# Document chapter (file stem) -> YAML file of the transcription (spec/README.md, "Layout").
FIXED_YAML_FILE = {
    "types": "types.yaml",
    "transport_and_format": "transport.yaml",
    "status_codes": "transport.yaml",
    "version_information_endpoint": "versions.yaml",
    "credentials": "credentials.yaml",
}

PRIMITIVES = {
    "string": "string",
    "cistring": "CiString",
    "datetime": "DateTime",
    "number": "number",
    "int": "int",
    "integer": "int",
    "boolean": "boolean",
    "url": "URL",
    "any": "any",
}

KIND_WORDS = {"object": "object", "class": "class", "enum": "enum", "openenum": "OpenEnum", "type": "type"}

ROLE_HEADINGS = [
    (re.compile(r"\bsender\s+interface\b", re.I), "SENDER"),
    (re.compile(r"\breceiver\s+interface\b", re.I), "RECEIVER"),
    (re.compile(r"\bcpo\s+interface\b", re.I), "CPO"),
    (re.compile(r"\bemsp\s+interface\b", re.I), "EMSP"),
]

CARDS = {"1", "?", "*", "+"}


def yaml_file_for(stem: str) -> str:
    """The YAML file that transcribes the document chapter ``stem``."""
    if stem in FIXED_YAML_FILE:
        return FIXED_YAML_FILE[stem]
    if stem.startswith("mod_"):
        return stem[4:].replace("_", "") + ".yaml"
    return stem + ".yaml"


# --------------------------------------------------------------------------------------------- model


@dataclass
class Heading:
    file: str
    line: int
    level: int
    title: str  # as written (markup kept)
    anchor: str | None  # explicit anchor ([[id]]) or Markdown slug
    auto_anchors: list[str] = field(default_factory=list)  # generated ids the renderer would give


@dataclass
class Table:
    file: str
    line: int
    heading: Heading | None
    header: list[str]
    rows: list[list[str]]
    row_lines: list[int]
    warnings: list[str] = field(default_factory=list)

    def hdr(self) -> list[str]:
        return [norm_header(h) for h in self.header]


@dataclass
class DocField:
    name: str
    type: str | None
    raw_type: str
    length: int | None
    card: str
    line: int
    choice: bool = False  # row of a "Choice: one of N" group (marked with '>')


@dataclass
class DocValue:
    value: str
    line: int


@dataclass
class DocType:
    name: str
    kind: str  # object | class | enum | OpenEnum | type (primitive, not transcribed)
    title: str
    file: str
    line: int
    heading: Heading
    table: Table | None = None
    shape: str | None = None  # fields | values | None (no table)
    fields: list[DocField] = field(default_factory=list)
    values: list[DocValue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class MethodRow:
    method: str
    offered: bool
    text: str
    line: int


@dataclass
class MethodTable:
    role: str
    heading: Heading | None
    table: Table
    rows: list[MethodRow]


@dataclass
class DocModule:
    stem: str
    yaml_file: str
    module_id: str | None
    module_id_line: int | None
    method_tables: list[MethodTable] = field(default_factory=list)

    def roles(self) -> list[str]:
        out: list[str] = []
        for mt in self.method_tables:
            if mt.role not in out:
                out.append(mt.role)
        return out

    def methods(self, role: str) -> tuple[dict[str, list[MethodRow]], dict[str, list[MethodRow]]]:
        """(offered, not offered) method -> rows, over every method table of that role."""
        offered: dict[str, list[MethodRow]] = {}
        na: dict[str, list[MethodRow]] = {}
        for mt in self.method_tables:
            if mt.role != role:
                continue
            for r in mt.rows:
                (offered if r.offered else na).setdefault(r.method, []).append(r)
        return offered, na


@dataclass
class Document:
    root: Path
    fmt: str  # asciidoc | markdown
    files: list[str] = field(default_factory=list)
    headings: list[Heading] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    types: list[DocType] = field(default_factory=list)  # in document order, duplicates kept
    modules: list[DocModule] = field(default_factory=list)
    other_tables: list[Table] = field(default_factory=list)
    anchors: dict[str, set[str]] = field(default_factory=dict)  # file stem -> anchors defined there
    warnings: list[str] = field(default_factory=list)

    def types_by_name(self) -> dict[str, list[DocType]]:
        out: dict[str, list[DocType]] = {}
        for t in self.types:
            out.setdefault(t.name, []).append(t)
        return out

    def all_anchors(self) -> set[str]:
        s: set[str] = set()
        for v in self.anchors.values():
            s |= v
        return s


# --------------------------------------------------------------------------------------------- text helpers

_ADOC_LINK = re.compile(r"<<\s*([^,>]+?)\s*(?:,\s*([^>]*?)\s*)?>>")
_MD_LINK = re.compile(r"\[([^\]]*)\]\(([^)]*)\)")
_ENTITIES = {"&gt;": ">", "&lt;": "<", "&amp;": "&", "&nbsp;": " ", "&#43;": "+", "&#124;": "|"}


def unentity(s: str) -> str:
    for k, v in _ENTITIES.items():
        s = s.replace(k, v)
    return s


def strip_markup(s: str) -> str:
    """Remove emphasis/code markers and links (keeping link text) from a short cell or title."""
    s = unentity(s)
    s = re.sub(r"\[\[[^\]]*\]\]", "", s)  # inline anchors [[id]]
    s = _ADOC_LINK.sub(lambda m: m.group(2) if m.group(2) else m.group(1).split("#")[-1], s)
    s = _MD_LINK.sub(lambda m: m.group(1), s)
    s = re.sub(r"\[line-through\]#([^#]*)#", r"\1", s)
    s = s.replace("`", "")
    s = re.sub(r"(?<![A-Za-z0-9])[_*]+|[_*]+(?![A-Za-z0-9])", "", s)  # emphasis at word edges only
    s = s.replace("\\", "")
    return re.sub(r"\s+", " ", s).strip()


def clean_card(s: str) -> str:
    c = unentity(s).strip().strip("`").strip()
    if c in CARDS:
        return c
    m = re.fullmatch(r"([_*]{1,2})(.+)\1", c)  # emphasised: *1*, _?_
    if m and m.group(2).strip() in CARDS:
        return m.group(2).strip()
    return re.sub(r"\s+", " ", c)


def norm_header(s: str) -> str:
    return strip_markup(s).rstrip(".").strip().lower()


def split_cells(text: str) -> list[str]:
    """Split on unescaped '|'. Returns the chunks (the first one is whatever precedes the first '|')."""
    parts: list[str] = []
    buf: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text) and text[i + 1] == "|":
            buf.append("|")
            i += 2
            continue
        if c == "|":
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(c)
        i += 1
    parts.append("".join(buf))
    return parts


def adoc_auto_id(title: str) -> str:
    t = strip_markup(title).lower()
    t = re.sub(r"[^\w]+", "_", t)
    return "_" + t.strip("_")


def md_slugs(title: str) -> list[str]:
    """GitHub-style slugs of a Markdown heading: from the raw text and from the rendered text."""
    out = []
    for t in (title, strip_markup(title)):
        s = t.strip().lower()
        s = re.sub(r"[^\w\- ]", "", s)
        s = s.replace(" ", "-")
        if s not in out:
            out.append(s)
    return out


# --------------------------------------------------------------------------------------------- readers


def _read_asciidoc(path: Path, stem: str, doc: Document) -> tuple[list[Heading], list[Table], list[str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    headings: list[Heading] = []
    tables: list[Table] = []
    anchors = doc.anchors.setdefault(stem, set())
    pending_anchor: str | None = None
    pending_attr: str | None = None
    delim: str | None = None
    cur_heading: Heading | None = None
    i = 0
    while i < len(lines):
        raw = lines[i]
        ln = i + 1
        s = raw.rstrip()
        if delim:
            if s == delim:
                delim = None
            i += 1
            continue
        if re.fullmatch(r"(-{4,}|\.{4,}|/{4,}|\+{4,}|_{4,})", s):
            delim = s
            i += 1
            continue
        if s.startswith("//"):
            i += 1
            continue
        for m in re.finditer(r"\[\[([A-Za-z0-9_.:-]+)(?:,[^\]]*)?\]\]", s):
            anchors.add(m.group(1))
        for m in re.finditer(r"anchor:([A-Za-z0-9_.:-]+)\[", s):
            anchors.add(m.group(1))
        m = re.fullmatch(r"\[\[([A-Za-z0-9_.:-]+)(?:,[^\]]*)?\]\]", s.strip())
        if m:
            pending_anchor = m.group(1)
            i += 1
            continue
        m = re.fullmatch(r"\[#([A-Za-z0-9_.:-]+)[^\]]*\]", s.strip())
        if m:
            pending_anchor = m.group(1)
            anchors.add(m.group(1))
            i += 1
            continue
        m = re.fullmatch(r"(={1,6})\s+(\S.*?)\s*", s)
        if m:
            h = Heading(stem, ln, len(m.group(1)), m.group(2), pending_anchor, [adoc_auto_id(m.group(2))])
            anchors.update(h.auto_anchors)
            headings.append(h)
            cur_heading = h
            pending_anchor = None
            pending_attr = None
            i += 1
            continue
        if s.startswith("[") and s.endswith("]") and not s.startswith("[["):
            pending_attr = s
            i += 1
            continue
        if s == "|===":
            start = ln
            body: list[tuple[int, str]] = []
            i += 1
            while i < len(lines) and lines[i].rstrip() != "|===":
                body.append((i + 1, lines[i]))
                i += 1
            i += 1  # closing |===
            t = _adoc_table(stem, start, cur_heading, pending_attr, body)
            if t:
                tables.append(t)
            pending_attr = None
            pending_anchor = None
            continue
        if s.strip():
            pending_anchor = None if not s.startswith(".") else pending_anchor
            if not s.startswith("."):
                pending_attr = None
        i += 1
    return headings, tables, lines


def _adoc_table(
    stem: str, start: int, heading: Heading | None, attr: str | None, body: list[tuple[int, str]]
) -> Table | None:
    warnings: list[str] = []
    ncols = None
    if attr:
        m = (
            re.search(r'cols\s*=\s*"([^"]*)"', attr)
            or re.search(r"cols\s*=\s*'([^']*)'", attr)
            or re.search(r"cols\s*=\s*([^,\]]+)", attr)
        )
        if m:
            spec = m.group(1).strip()
            if re.fullmatch(r"\d+", spec):
                ncols = int(spec)
            else:
                ncols = 0
                for part in spec.split(","):
                    mm = re.match(r"\s*(\d+)\*", part)
                    ncols += int(mm.group(1)) if mm else 1
    # cells, each with the line it starts on and whether it starts a line
    cells: list[tuple[str, int, bool]] = []
    first_line_cells = None
    for ln, text in body:
        chunks = split_cells(text)
        # a cell spec (a|, 2+|, 3*|, ^|, s|, ...) written right before a '|' belongs to the cell it opens
        pre_specs: list[str] = []
        for k in range(len(chunks) - 1):
            if k == 0:
                m0 = _CELL_SPEC_START.fullmatch(chunks[0])
                if m0 and chunks[0].strip():
                    pre_specs.append(chunks[0].strip())
                    chunks[0] = ""
                    continue
            m1 = _CELL_SPEC_END.search(chunks[k])
            pre_specs.append(m1.group(1) if m1 else "")
            if m1:
                chunks[k] = chunks[k][: m1.start()]
        lead = chunks[0]
        if cells and (lead.strip() or not chunks[1:]):
            c, cl, st = cells[-1]
            cells[-1] = (c + "\n" + lead, cl, st)
        elif not cells and lead.strip():
            warnings.append(f"line {ln}: text before the first cell ignored: {lead.strip()[:40]!r}")
        for k, ch in enumerate(chunks[1:]):
            spec = pre_specs[k] if k < len(pre_specs) else ""
            if spec:
                warnings.append(f"line {ln}: cell spec {spec!r}")
            dup = re.match(r"(\d+)\*", spec or "")
            span = re.match(r"(?:\d+\*)?(\d+)(?:\.\d+)?\+", spec or "")
            for _ in range(int(dup.group(1)) if dup else 1):
                cells.append((ch, ln, k == 0 and not lead.strip()))
            for _ in range(int(span.group(1)) - 1 if span else 0):
                cells.append(("", ln, False))
        if first_line_cells is None and len(chunks) > 1:
            first_line_cells = len(chunks) - 1
    if ncols is None:
        ncols = first_line_cells or 1
    if not cells:
        return None
    rows: list[list[str]] = []
    row_lines: list[int] = []
    if len(cells) % ncols and all(not c[0].strip() for c in cells[-(len(cells) % ncols) :]):
        n = len(cells) % ncols
        warnings.append(f"line {cells[-n][1]}: trailing '|' leaves an incomplete row of {n} empty cell(s); dropped")
        cells = cells[:-n]
    for k in range(0, len(cells), ncols):
        grp = cells[k : k + ncols]
        if not grp[0][2]:
            warnings.append(f"line {grp[0][1]}: row does not start at the beginning of a line " f"(cell count drift?)")
        if len(grp) < ncols:
            warnings.append(f"line {grp[0][1]}: last row has {len(grp)} of {ncols} cells")
        rows.append([c[0].strip() for c in grp] + [""] * (ncols - len(grp)))
        row_lines.append(grp[0][1])
    header = rows[0]
    return Table(stem, start, heading, header, rows[1:], row_lines[1:], warnings)


def _read_markdown(path: Path, stem: str, doc: Document) -> tuple[list[Heading], list[Table], list[str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    headings: list[Heading] = []
    tables: list[Table] = []
    anchors = doc.anchors.setdefault(stem, set())
    seen_slugs: dict[str, int] = {}
    cur_heading: Heading | None = None
    fence: str | None = None
    in_comment = False
    i = 0
    while i < len(lines):
        s = lines[i].rstrip()
        ln = i + 1
        if fence:
            if s.strip().startswith(fence):
                fence = None
            i += 1
            continue
        if in_comment:
            if "-->" in s:
                in_comment = False
            i += 1
            continue
        m = re.match(r"\s*(```+|~~~+)", s)
        if m:
            fence = m.group(1)
            i += 1
            continue
        if s.strip().startswith("<!--") and "-->" not in s:
            in_comment = True
            i += 1
            continue
        for m in re.finditer(r'<a\s+(?:name|id)="([^"]+)"', s):
            anchors.add(m.group(1))
        m = re.fullmatch(r"(#{1,6})\s+(\S.*?)\s*#*\s*", s)
        if m:
            slugs = md_slugs(m.group(2))
            final = []
            for sl in slugs:
                n = seen_slugs.get(sl, 0)
                seen_slugs[sl] = n + 1
                final.append(sl if n == 0 else f"{sl}-{n}")
            h = Heading(stem, ln, len(m.group(1)), m.group(2), final[-1], final)
            anchors.update(final)
            headings.append(h)
            cur_heading = h
            i += 1
            continue
        if (
            s.lstrip().startswith("|")
            and i + 1 < len(lines)
            and re.fullmatch(r"\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*", lines[i + 1].rstrip())
        ):
            start = ln
            header = _md_cells(s)
            rows: list[list[str]] = []
            row_lines: list[int] = []
            warnings: list[str] = []
            i += 2
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                cells = _md_cells(lines[i].rstrip())
                if len(cells) > len(header) and not any(c for c in cells[len(header) :]):
                    warnings.append(f"line {i + 1}: {len(cells)} cells (extra ones empty), header has {len(header)}")
                    cells = cells[: len(header)]
                elif len(cells) != len(header):
                    warnings.append(f"line {i + 1}: {len(cells)} cells, header has {len(header)}")
                    cells = (cells + [""] * len(header))[: len(header)]
                rows.append(cells)
                row_lines.append(i + 1)
                i += 1
            tables.append(Table(stem, start, cur_heading, header, rows, row_lines, warnings))
            continue
        i += 1
    return headings, tables, lines


def _md_cells(line: str) -> list[str]:
    s = line.strip()
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|") and not s.endswith("\\|"):
        s = s[:-1]
    return [c.strip() for c in split_cells(s)]


# --------------------------------------------------------------------------------------------- interpretation


def parse_type_heading(title: str) -> tuple[str, str] | None:
    """(name, kind) when the heading introduces a type, else None."""
    t = unentity(title).strip()
    t = re.sub(r"^\d+(\.\d+)*\.?\s+", "", t)  # Markdown section numbers "4.1 "
    m = re.fullmatch(r"(.+?)\s+([_*]{0,2})(Object|object|class|enum|OpenEnum|type)\2", t)
    if not m:
        return None
    raw_name, marker, word = m.group(1), m.group(2), m.group(3)
    if word.lower() != "object" and not marker:
        return None  # "... class" without emphasis is prose
    name = raw_name.strip()
    if re.fullmatch(r"([_*]{1,2})(.+?)\1", name):
        name = re.fullmatch(r"([_*]{1,2})(.+?)\1", name).group(2)
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9 ]*", name):
        return None
    if word.lower() == "object" and (
        not name[0].isupper() or len(name.split()) > 1 and not raw_name.strip().startswith(("_", "*"))
    ):
        return None  # "Client Owned Object ..." prose headings
    return name.replace(" ", ""), KIND_WORDS[word.lower()]


_SPEC = r"(?:\d+\*)?(?:\d+(?:\.\d+)?\+)?(?:[<^>])?(?:\.[<^>])?[adehlmsv]?"
_CELL_SPEC_END = re.compile(r"[ \t]+(" + _SPEC + r")$")
_CELL_SPEC_START = re.compile(r"[ \t]*(" + _SPEC + r")[ \t]*")
_LEN = re.compile(r"^\s*[\(\[]\s*(?:\d+\s*\.\.\s*)?(\d+)\s*[\)\]]")  # (36), [36], [1..255]


def parse_type_cell(cell: str) -> tuple[str | None, int | None]:
    c = unentity(cell).strip()
    name = None
    rest = ""
    m = _ADOC_LINK.search(c)
    mm = _MD_LINK.search(c)
    if m and (not mm or m.start() < mm.start()):
        name = (m.group(2) or m.group(1).split("#")[-1]).strip()
        rest = c[m.end() :]
    elif mm:
        name = mm.group(1).strip()
        rest = c[mm.end() :]
    else:
        m2 = re.match(r"\s*[_*`]*([A-Za-z][A-Za-z0-9_]*)[_*`]*", c)
        if m2:
            name = m2.group(1)
            rest = c[m2.end() :]
    if name is not None:
        name = strip_markup(name)
        name = PRIMITIVES.get(name.lower(), name)
    ml = _LEN.match(rest)
    return name, (int(ml.group(1)) if ml else None)


def _col(hdr: list[str], *names: str) -> int | None:
    for n in names:
        if n in hdr:
            return hdr.index(n)
    return None


def classify_table(t: Table, type_name: str | None = None) -> str | None:
    """'fields', 'values' or None."""
    h = t.hdr()
    if not h:
        return None
    if (
        h[0] in ("property", "field name")
        and _col(h, "type", "datatype", "field type") is not None
        and _col(h, "card", "cardinality") is not None
    ):
        return "fields"
    if h[0] == "value":
        return "values"
    if type_name and type_name.lower() in h:
        return "values"
    if type_name and h[0] == "property" and len(h) == 2:
        return "values"  # 2.1.1 SessionStatus: "Property | Description"
    return None


def _fields_from(t: Table) -> tuple[list[DocField], list[str]]:
    h = t.hdr()
    ci = _col(h, "property", "field name")
    ti = _col(h, "type", "datatype", "field type")
    ki = _col(h, "card", "cardinality")
    out: list[DocField] = []
    notes: list[str] = []
    for row, ln in zip(t.rows, t.row_lines):
        name_raw = unentity(row[ci]).strip()
        if not name_raw and not row[ti].strip():
            continue
        if re.match(r"[_*]*\s*choice\b", strip_markup(name_raw), re.I):
            notes.append(f"line {ln}: choice row {strip_markup(name_raw)!r}")
            continue
        choice = name_raw.startswith(">")
        name = strip_markup(name_raw.lstrip(">").strip())
        typ, length = parse_type_cell(row[ti])
        card = clean_card(row[ki]) if ki is not None else ""
        if card not in CARDS:
            notes.append(f"line {ln}: field {name!r} has cardinality {card!r}")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            notes.append(f"line {ln}: unusual field name {name!r}")
        out.append(DocField(name, typ, strip_markup(row[ti]), length, card, ln, choice))
    return out, notes


def _values_from(t: Table, type_name: str) -> tuple[list[DocValue], list[str]]:
    h = t.hdr()
    vi = _col(h, "value", type_name.lower())
    if vi is None:
        vi = 0
    out: list[DocValue] = []
    notes: list[str] = []
    for row, ln in zip(t.rows, t.row_lines):
        v = strip_markup(row[vi].split("\n")[0])
        if not v:
            continue
        if " " in v:
            notes.append(f"line {ln}: value with a space {v!r}")
        out.append(DocValue(v, ln))
    if vi != 0:
        notes.append(f"values taken from column {t.header[vi]!r}")
    return out, notes


def _interp_method_table(t: Table) -> list[MethodRow] | None:
    h = t.hdr()
    if len(h) < 2 or h[0] != "method":
        return None
    rows = []
    for row, ln in zip(t.rows, t.row_lines):
        meth = strip_markup(row[0]).upper()
        if not meth:
            continue
        text = strip_markup(row[1])
        offered = not re.match(r"n/[ac]\b", text.strip().lower())
        rows.append(MethodRow(meth, offered, text, ln))
    return rows


def load_document(root: Path) -> Document:
    root = Path(root)
    adoc = sorted(root.glob("*.asciidoc"))
    md = sorted(root.glob("*.md"))
    fmt = "asciidoc" if adoc else "markdown"
    paths = [p for p in (adoc if adoc else md) if p.stem not in SKIP_STEMS]
    order = {s: k for k, s in enumerate(CHAPTER_ORDER)}
    paths.sort(key=lambda p: (order.get(p.stem, len(order)), p.stem))
    doc = Document(root, fmt)
    for p in paths:
        stem = p.stem
        doc.files.append(stem)
        reader = _read_asciidoc if fmt == "asciidoc" else _read_markdown
        headings, tables, lines = reader(p, stem, doc)
        doc.headings += headings
        doc.tables += tables
        for t in tables:
            for w in t.warnings:
                doc.warnings.append(f"{stem}:{t.line}: table: {w}")
        _interpret_file(doc, stem, headings, tables, lines)
    return doc


def _interpret_file(doc: Document, stem: str, headings: list[Heading], tables: list[Table], lines: list[str]) -> None:
    # Module identifier
    mod_id = None
    mod_line = None
    for k, line in enumerate(lines):
        m = re.search(r"Module Identifier:?\s*[*_]*\s*`([^`]+)`", line)
        if m:
            if mod_id is None:
                mod_id, mod_line = m.group(1).strip(), k + 1
            else:
                doc.warnings.append(f"{stem}:{k + 1}: second Module Identifier {m.group(1)!r}")
    # Type headings and their tables
    htypes: list[tuple[int, DocType]] = []
    for hi, h in enumerate(headings):
        r = parse_type_heading(h.title)
        if r:
            dt = DocType(r[0], r[1], h.title, stem, h.line, h)
            htypes.append((hi, dt))
    type_heading_idx = {hi for hi, _ in htypes}
    used_tables: set[int] = set()
    for hi, dt in htypes:
        h = headings[hi]
        # section end: next heading of same or higher level, or the next type heading
        end_line = None
        for h2i in range(hi + 1, len(headings)):
            h2 = headings[h2i]
            if h2.level <= h.level or h2i in type_heading_idx:
                end_line = h2.line
                break
        if dt.kind == "type":
            doc.types.append(dt)
            continue
        for ti, t in enumerate(tables):
            if t.line < h.line or (end_line is not None and t.line > end_line):
                continue
            shape = classify_table(t, dt.name if dt.kind in ("enum", "OpenEnum") else None)
            if shape is None and dt.kind in ("enum", "OpenEnum"):
                shape = classify_table(t, dt.name)
            if shape:
                dt.table, dt.shape = t, shape
                used_tables.add(ti)
                if t.heading is not h:
                    dt.notes.append(f"table at line {t.line} is under sub-heading {t.heading.title!r}")
                break
        if dt.table is None:
            dt.notes.append("no Property/Value table in its section")
        elif dt.shape == "fields":
            dt.fields, notes = _fields_from(dt.table)
            dt.notes += notes
            if dt.kind in ("enum", "OpenEnum"):
                dt.notes.append(f"{dt.kind} heading but its table is a Property table")
        else:
            dt.values, notes = _values_from(dt.table, dt.name)
            dt.notes += notes
            if dt.kind in ("object", "class"):
                dt.notes.append(f"{dt.kind} heading but its table is a Value table")
            if dt.table.hdr()[0] not in ("value",):
                dt.notes.append(f"enum table header is {' | '.join(dt.table.header)!r}")
        doc.types.append(dt)
    # Method tables
    module = None
    for ti, t in enumerate(tables):
        if ti in used_tables:
            continue
        rows = _interp_method_table(t)
        if rows is not None and stem != "transport_and_format":
            role = _role_of(headings, t)
            if role is None:
                if stem in ("credentials", "version_information_endpoint"):
                    role = "BOTH"
                else:
                    role = "?"
                    doc.warnings.append(f"{stem}:{t.line}: method table outside any Sender/Receiver interface")
            if module is None:
                module = DocModule(stem, yaml_file_for(stem), mod_id, mod_line)
            module.method_tables.append(MethodTable(role, t.heading, t, rows))
        else:
            doc.other_tables.append(t)
    if module is None and mod_id is not None:
        module = DocModule(stem, yaml_file_for(stem), mod_id, mod_line)
    if module is not None:
        doc.modules.append(module)


def _role_of(headings: list[Heading], t: Table) -> str | None:
    """Role of the nearest enclosing heading that names an interface role."""
    if t.heading is None:
        return None
    idx = next(k for k, h in enumerate(headings) if h is t.heading)
    level = 99
    for k in range(idx, -1, -1):
        h = headings[k]
        if h.level >= level:
            continue
        level = h.level
        for rx, role in ROLE_HEADINGS:
            if rx.search(strip_markup(h.title)):
                return role
    return None
