"""Load a version folder of spec YAML, validate it, and report every problem with file, line and key.

Stage one of the pipeline: nothing here knows about output. ``load_version`` returns plain data
(with a line map per file) that ``generator.ir_build`` turns into the typed IR.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from generator import typemap
from generator.errors import Problem, SpecError
from generator.paths import SCHEMA_PATH

PRIMITIVES = frozenset(typemap.PRIMITIVES)  # the one table of primitives
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
FILE_NAME = re.compile(r"^[a-z0-9_]+\.yaml$")
_ITEM_KEYS = ("name", "operation", "value", "code", "role")

KeyPath = tuple[str | int, ...]
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class LoadedFile:
    """One parsed spec file: its data and the line of every key path in it."""

    path: Path
    display: str
    data: dict[str, Any]
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def line(self, path: KeyPath) -> int:
        """Line of the nearest enclosing node that has a recorded position."""
        for cut in range(len(path), -1, -1):
            if path[:cut] in self.lines:
                return self.lines[path[:cut]]
        return 1

    def key(self, path: KeyPath) -> str:
        """A readable key path: list items are named by their name/operation/value when they have one."""
        out = ""
        node: Any = self.data
        for part in path:
            if isinstance(part, int):
                label: Any = part
                if isinstance(node, list) and part < len(node) and isinstance(node[part], dict):
                    for k in _ITEM_KEYS:
                        if k in node[part]:
                            label = node[part][k]
                            break
                out += f"[{label}]"
                node = node[part] if isinstance(node, list) and part < len(node) else None
            else:
                out += f".{part}" if out else part
                node = node.get(part) if isinstance(node, dict) else None
        return out

    def problem(self, path: KeyPath, message: str) -> Problem:
        return Problem(self.display, self.line(path), self.key(path), message)


@dataclass
class LoadedVersion:
    """Every file of one version folder, validated."""

    version: str
    folder: Path
    index: LoadedFile
    files: list[LoadedFile]
    #: Manifests (``extension.yaml``) of the extensions merged in; their files are in ``files``.
    extensions: list[LoadedFile] = field(default_factory=list)


@cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    try:
        return jsonschema.Draft202012Validator(_inline_refs(schema, schema.get("$defs", {})))
    except RecursionError:  # a recursive definition: keep the references
        return jsonschema.Draft202012Validator(schema)


def _inline_refs(node: Any, defs: dict[str, Any], stack: tuple[str, ...] = ()) -> Any:
    """The schema with every ``#/$defs/`` reference replaced by the definition (``allOf`` beside
    other keywords), which validates about twice as fast; the errors are the same (instance path,
    keyword, message). Raises RecursionError for a definition that refers to itself."""
    if isinstance(node, list):
        return [_inline_refs(item, defs, stack) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/") and ref[8:] in defs:
        name = ref[8:]
        if name in stack:
            raise RecursionError(name)
        target = _inline_refs(defs[name], defs, (*stack, name))
        rest = {k: _inline_refs(v, defs, stack) for k, v in node.items() if k != "$ref"}
        return {"allOf": [target], **rest} if rest else target
    return {k: v if k == "$defs" else _inline_refs(v, defs, stack) for k, v in node.items()}


#: Limits that keep a hostile file from costing minutes or gigabytes: the largest spec file is ~35 KB.
MAX_FILE_BYTES = 4_000_000
MAX_DEPTH = 40
MAX_PARSE_PROBLEMS = 20
#: Aliases per file, and nodes they may add when expanded (a 500-byte alias bomb would add 10^9).
MAX_ALIASES = 200
MAX_ALIAS_EXPANSION = 100_000
#: The only tags a plain YAML scalar may resolve to; anything else (``!!binary``, ``!!set``) is refused.
_SCALAR_TAGS = frozenset(f"tag:yaml.org,2002:{t}" for t in ("null", "bool", "int", "float", "str", "timestamp"))
_CONSTRUCTOR = yaml.constructor.SafeConstructor()


class _ParseProblems(Exception):
    """Raised inside parsing once the file cannot be read further; carries (line, key path, message)."""

    def __init__(self, items: list[tuple[int, KeyPath, str]]) -> None:
        self.items = items


def _line_of_offset(text: str, offset: int) -> int:
    return text.count("\n", 0, max(0, offset)) + 1


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise _ParseProblems([(line, (), f"not UTF-8 text: byte 0x{raw[exc.start]:02x} cannot be decoded")]) from None


def _scan_events(text: str) -> tuple[list[tuple[int, KeyPath, str]], int]:
    """Explicit tags and too many aliases, found in the event stream before anything is built; and the
    number of nodes written out, the base of the expansion budget.

    Tags (``!custom``, ``!!binary``) are refused: a spec file is plain data. Aliases are allowed
    (``&path`` ... ``*path``) but counted here and bounded by expanded size in ``_to_data``.
    """
    out: list[tuple[int, KeyPath, str]] = []
    aliases = nodes = 0
    for event in yaml.parse(text, Loader=_LOADER):
        line = event.start_mark.line + 1 if event.start_mark else 0
        if isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases == MAX_ALIASES + 1:
                out.append((line, (), f"more than {MAX_ALIASES} YAML aliases in one file"))
        elif isinstance(event, (yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            nodes += 1
            if event.tag not in (None, "!") and not _implicit(event):
                out.append((line, (), f"YAML tag {event.tag} is not allowed; spec files are plain data"))
        if len(out) >= MAX_PARSE_PROBLEMS:
            break
    return out, nodes


def _implicit(event: Any) -> bool:
    implicit = getattr(event, "implicit", False)
    return bool(implicit[0]) if isinstance(implicit, tuple) else bool(implicit)


class _Builder:
    """Turns a composed node graph into plain data with a line per key path.

    Aliased nodes are expanded, within a budget of nodes built (so an alias bomb stops at once), and an
    alias inside its own anchor (``x: &b [*b]``) is reported instead of recursing for ever.
    """

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.lines: dict[KeyPath, int] = {}
        self.dupes: list[tuple[KeyPath, str]] = []
        self.bad: list[tuple[int, KeyPath, str]] = []
        self._open: set[int] = set()

    def build(self, node: yaml.Node, path: KeyPath) -> Any:
        line = node.start_mark.line + 1
        self.lines[path] = line
        self.budget -= 1
        if self.budget < 0:
            raise _ParseProblems([(line, path, "YAML aliases expand to too much data")])
        if len(path) > MAX_DEPTH:
            raise _ParseProblems([(line, path, f"nested deeper than {MAX_DEPTH} levels")])
        if isinstance(node, yaml.ScalarNode):
            return _scalar(node, path, self.bad)
        if id(node) in self._open:
            raise _ParseProblems([(line, path, "a YAML alias refers to a node that contains it")])
        self._open.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                out: dict[str, Any] = {}
                for key_node, value_node in node.value:
                    if not isinstance(key_node, yaml.ScalarNode):
                        self.bad.append((key_node.start_mark.line + 1, path, "a mapping key must be plain text"))
                        continue
                    key = str(_scalar(key_node, path, self.bad))
                    if key in out:
                        self.dupes.append((path + (key,), key))
                    out[key] = self.build(value_node, path + (key,))
                    self.lines[path + (key,)] = key_node.start_mark.line + 1
                return out
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        finally:
            self._open.discard(id(node))


def _scalar(node: yaml.Node, path: KeyPath, bad: list[tuple[int, KeyPath, str]]) -> Any:
    """A plain scalar's value; one that cannot be built (``2020-13-45``) is a problem, not a crash."""
    line = node.start_mark.line + 1
    if node.tag not in _SCALAR_TAGS:
        bad.append((line, path, f"YAML tag {node.tag} is not allowed; spec files are plain data"))
        return None
    try:
        return _CONSTRUCTOR.yaml_constructors[node.tag](_CONSTRUCTOR, node)
    except Exception as exc:  # noqa: BLE001 - any failure to build a scalar is the file's problem
        shown = node.value if len(node.value) <= 40 else node.value[:37] + "..."
        bad.append((line, path, f"cannot read value {shown!r}: {exc}"))
        return None


def parse_file(path: Path, display: str) -> tuple[LoadedFile | None, list[Problem]]:
    """Parse one YAML file keeping line numbers; every read or parse failure becomes a Problem."""
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return None, [Problem(display, 0, "", f"cannot read file: {exc.strerror or exc}")]
    if len(raw) > MAX_FILE_BYTES:
        return None, [Problem(display, 0, "", f"file is larger than {MAX_FILE_BYTES:,} bytes")]
    holder = LoadedFile(path, display, {})
    try:
        text = _decode(raw)
        try:
            events, n_nodes = _scan_events(text)
            if events:
                raise _ParseProblems(events)
            node = yaml.compose(text, Loader=_LOADER)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else 0
            raise _ParseProblems([(line, (), f"invalid YAML: {exc.problem or exc}")]) from None
        except yaml.reader.ReaderError as exc:
            line = _line_of_offset(text, exc.position)
            what = f"character #x{exc.character:04x}" if isinstance(exc.character, int) else "character"
            raise _ParseProblems([(line, (), f"invalid YAML: {what} is not allowed ({exc.reason})")]) from None
        except yaml.YAMLError as exc:
            raise _ParseProblems([(0, (), f"invalid YAML: {str(exc).splitlines()[0]}")]) from None
        except RecursionError:
            raise _ParseProblems([(0, (), f"invalid YAML: nested deeper than {MAX_DEPTH} levels")]) from None
        if node is None:
            return None, [Problem(display, 1, "", "file is empty")]
        builder = _Builder(n_nodes + MAX_ALIAS_EXPANSION)
        data = builder.build(node, ())
        if builder.bad:  # the data is whole, so keys can name list items
            holder = LoadedFile(path, display, data if isinstance(data, dict) else {})
            raise _ParseProblems(builder.bad[:MAX_PARSE_PROBLEMS])
    except _ParseProblems as exc:
        return None, [
            Problem(display, line, holder.key(key) if key else "", message) for line, key, message in exc.items
        ]
    loaded = LoadedFile(path, display, data if isinstance(data, dict) else {}, builder.lines)
    problems = [loaded.problem(p, f"duplicate key {k!r}") for p, k in builder.dupes]
    if not isinstance(data, dict):
        problems.append(Problem(display, 1, "", "top level must be a mapping"))
    return loaded, problems


def schema_problems(loaded: LoadedFile) -> list[Problem]:
    """Every JSON Schema violation, reported at the deepest matching error."""
    problems = []
    for error in _validator().iter_errors(loaded.data):
        problems.append(loaded.problem(tuple(error.absolute_path), _schema_message(error)))
    return sorted(set(problems))


def _schema_message(error: jsonschema.ValidationError) -> str:
    if error.validator == "additionalProperties":
        return f"unknown key: {error.message.split('(')[-1].rstrip(')')}"
    if error.validator == "required":
        return f"missing key: {error.message.split(' is a required')[0]}"
    message = str(error.message)
    return message if len(message) < 200 else message[:197] + "..."


def load_version(spec_root: Path, version: str, extensions: Sequence[str] = ()) -> LoadedVersion:
    """Load and validate spec/<version>/ with the given extensions; raise SpecError listing every problem.

    ``version`` names the folder: a version (``2.3.0``) or an earlier edition kept beside it
    (``2.3.0-booking-1.0``, whose index says version 2.3.0).
    """
    folder = spec_root / version
    problems: list[Problem] = []  # syntax and schema: the data cannot be trusted further
    soft: list[Problem] = []  # duplicate keys: the data is usable, keep checking
    index_path = folder / "index.yaml"
    if not spec_root.is_dir():
        raise SpecError([Problem(str(spec_root), 0, "", "spec root is not a folder")])
    if not index_path.is_file():
        raise SpecError([Problem(f"{version}/index.yaml", 0, "", f"no spec for version {version!r}")])
    index, errs = parse_file(index_path, f"{version}/index.yaml")
    if index is None:
        raise SpecError(errs)
    soft += errs
    problems += schema_problems(index)
    if (
        "version" in index.data
        and version != index.data["version"]
        and not version.startswith(f"{index.data['version']}-")
    ):
        problems.append(
            index.problem(("version",), f"version {index.data['version']!r} does not match folder {version!r}")
        )
    files: list[LoadedFile] = []
    listed = index.data.get("files")
    for i, name in enumerate(listed if isinstance(listed, list) else []):
        if not isinstance(name, str) or not FILE_NAME.match(name):
            continue  # the schema check has reported it
        path = folder / name
        if not path.is_file():
            problems.append(index.problem(("files", i), f"listed file {name!r} does not exist"))
            continue
        loaded, errs = parse_file(path, f"{version}/{name}")
        if loaded is None:
            problems += errs
        else:
            soft += errs
            problems += schema_problems(loaded)
            files.append(loaded)
    if problems:
        raise SpecError(problems + soft)
    manifests: list[LoadedFile] = []
    if extensions:
        from generator.extensions import load_extensions

        manifests, extra = load_extensions(folder, version, extensions, files)
        files += extra
    result = LoadedVersion(str(index.data["version"]), folder, index, files, manifests)
    problems = soft + semantic_problems(result)
    if problems:
        raise SpecError(problems)
    return result


def _unique(items: list[Any], key: str, f: LoadedFile, base: KeyPath, what: str) -> list[Problem]:
    seen: set[Any] = set()
    out = []
    for i, item in enumerate(items):
        value = item.get(key)
        if value in seen:
            out.append(f.problem(base + (i, key), f"duplicate {what} {value!r}"))
        seen.add(value)
    return out


def semantic_problems(spec: LoadedVersion) -> list[Problem]:
    """Checks the schema cannot express: names unique, references resolve, placeholders declared."""
    problems: list[Problem] = []
    defined: dict[str, tuple[LoadedFile, KeyPath]] = {}
    for f in spec.files:
        for i, t in enumerate(f.data.get("types", [])):
            if t["name"] in PRIMITIVES:
                problems.append(f.problem(("types", i, "name"), f"type name {t['name']!r} shadows a primitive"))
            elif t["name"] in defined:
                other, _ = defined[t["name"]]
                problems.append(
                    f.problem(("types", i, "name"), f"duplicate type {t['name']!r} (also in {other.display})")
                )
            else:
                defined[t["name"]] = (f, ("types", i))

    def ref(f: LoadedFile, path: KeyPath, name: str) -> None:
        if name not in PRIMITIVES and name not in defined:
            problems.append(f.problem(path, f"unknown type {name!r}"))

    modules: dict[str, LoadedFile] = {}
    for f in spec.files:
        for i, t in enumerate(f.data.get("types", [])):
            base: KeyPath = ("types", i)
            if "fields" in t:
                problems += _unique(t["fields"], "name", f, base + ("fields",), "field")
                for j, fld in enumerate(t["fields"]):
                    ref(f, base + ("fields", j, "type"), fld["type"])
                    problems += _length_problems(f, base + ("fields", j), fld)
            else:
                problems += _unique(t["values"], "value", f, base + ("values",), "enum value")
        envelope = f.data.get("transport", {}).get("envelope")
        if envelope:
            for j, fld in enumerate(envelope["fields"]):
                ref(f, ("transport", "envelope", "fields", j, "type"), fld["type"])
        module = f.data.get("module")
        if module is None:
            continue
        if module["id"] in modules:
            problems.append(
                f.problem(
                    ("module", "id"), f"duplicate module {module['id']!r} (also in {modules[module['id']].display})"
                )
            )
        modules[module["id"]] = f
        problems += _unique(module["interfaces"], "role", f, ("module", "interfaces"), "interface role")
        for i, iface in enumerate(module["interfaces"]):
            ibase: KeyPath = ("module", "interfaces", i)
            problems += _unique(iface["endpoints"], "operation", f, ibase + ("endpoints",), "operation")
            routes: dict[tuple[str, str], int] = {}
            for j, ep in enumerate(iface["endpoints"]):
                problems += _endpoint_problems(f, ibase + ("endpoints", j), ep, ref)
                problems += _server_problems(f, ibase + ("endpoints", j), ep, module["id"], defined)
                route = (ep["method"], PLACEHOLDER.sub("{}", ep["path"]))
                if route in routes:
                    problems.append(
                        f.problem(
                            ibase + ("endpoints", j, "path"),
                            f"{ep['method']} {ep['path']!r} matches the same URLs as another endpoint of this interface",
                        )
                    )
                routes[route] = j
    problems += _version_problems(spec, modules, defined)
    return problems


#: Modules every version needs: the generated client and servers are built around them.
REQUIRED_MODULES = ("versions", "credentials")
#: Interfaces with ``role: BOTH`` (every party implements them) exist only in these modules.
BOTH_MODULES = frozenset({"versions", "credentials"})
#: Market roles named as implementers although the version's Role enum lacks them: HUB (2.3.0 dropped
#: it from the enum) and PTP (2.3.0 Payments; see spec/2.3.0/ERRATA_payments_bookings.md).
ROLES_OUTSIDE_ENUM = frozenset({"HUB", "PTP"})


def _version_problems(
    spec: LoadedVersion, modules: dict[str, LoadedFile], defined: dict[str, tuple[LoadedFile, KeyPath]]
) -> list[Problem]:
    """Whole-version checks: required modules and transport, interface roles, implementers, headers."""
    problems: list[Problem] = []
    index = spec.index
    for module_id in REQUIRED_MODULES:
        if module_id not in modules:
            problems.append(
                index.problem(("files",), f"no listed file defines module {module_id!r}; every version needs it")
            )
    transports = [f for f in spec.files if "transport" in f.data]
    if not transports:
        problems.append(
            index.problem(("files",), "no listed file defines 'transport' (envelope, headers, status codes)")
        )
    for extra in transports[1:]:
        problems.append(extra.problem(("transport",), f"second 'transport' (also in {transports[0].display})"))
    interface_roles = [str(r) for r in index.data.get("interface_roles", [])]
    role_type = defined.get("Role")
    if role_type is not None and "values" in role_type[0].data["types"][role_type[1][1]]:
        f, base = role_type
        market = {str(v["value"]) for v in f.data["types"][base[1]]["values"]}
    else:  # 2.1.1 has no Role enum: its interface roles are its market roles
        market = set(interface_roles)
    market |= ROLES_OUTSIDE_ENUM
    for module_id, f in modules.items():
        for i, iface in enumerate(f.data["module"]["interfaces"]):
            base = ("module", "interfaces", i)
            role = iface["role"]
            if role == "BOTH":
                if module_id not in BOTH_MODULES:
                    problems.append(
                        f.problem(
                            base + ("role",),
                            f"role BOTH is only for {' and '.join(sorted(BOTH_MODULES))}; use one of {', '.join(interface_roles)}",
                        )
                    )
            elif role not in interface_roles:
                problems.append(
                    f.problem(
                        base + ("role",),
                        f"interface role {role!r} is not one of this version's interface roles ({', '.join(interface_roles)})",
                    )
                )
            for j, name in enumerate(iface["implemented_by"]):
                if name not in market:
                    problems.append(
                        f.problem(
                            base + ("implemented_by", j),
                            f"unknown market role {name!r}; known: {', '.join(sorted(market))}",
                        )
                    )
    for f in transports[:1]:
        seen: dict[str, int] = {}
        for j, header in enumerate(f.data["transport"]["headers"]):
            low = str(header["name"]).lower()
            if low in seen:
                problems.append(
                    f.problem(
                        ("transport", "headers", j, "name"),
                        f"header {header['name']!r} is declared twice (header names ignore case)",
                    )
                )
            seen.setdefault(low, j)
    return problems


#: int(n) becomes ``maximum: 10**n - 1``; beyond 18 digits it no longer fits a 64-bit integer.
MAX_INT_DIGITS = 18


def _length_problems(f: LoadedFile, base: KeyPath, item: dict[str, Any]) -> list[Problem]:
    if item["type"] == "int" and item.get("length", 0) > MAX_INT_DIGITS:
        return [f.problem(base + ("length",), f"int length {item['length']} is more than {MAX_INT_DIGITS} digits")]
    return []


#: Modules served by the runtime itself: their endpoints declare no server behaviour.
RUNTIME_MODULES = frozenset({"versions", "credentials"})
#: Kinds of server behaviour that address one stored object (owner and, mostly, an id).
STORE_KINDS = frozenset({"get", "put", "patch", "delete", "post", "created", "authorize"})


def _server_problems(
    f: LoadedFile, base: KeyPath, ep: dict[str, Any], module_id: str, defined: dict[str, tuple[LoadedFile, KeyPath]]
) -> list[Problem]:
    """The ``server:`` declaration of an endpoint: present on function modules, and every name in it
    resolves (stored type, key fields, path parameters, result type and URL field)."""
    decl = ep.get("server")
    where = base + ("server",)
    if module_id in RUNTIME_MODULES:
        return (
            [f.problem(where, "versions and credentials are served by the runtime; no server declaration")]
            if decl
            else []
        )
    if decl is None:
        return [
            f.problem(base, "function module endpoint lacks a server: declaration (spec/README.md, Server behaviour)")
        ]
    problems: list[Problem] = []

    def fields_of(name: str | None) -> dict[str, dict[str, Any]] | None:
        if name is None or name not in defined:
            return None
        other, path = defined[name]
        node: Any = other.data
        for part in path:
            node = node[part]
        return {fld["name"]: fld for fld in node.get("fields", [])}

    kind = decl["kind"]
    params = [p["name"] for p in ep.get("path_params", [])]
    queries = [p["name"] for p in ep.get("query_params", [])]
    obj = decl.get("object")
    if kind in STORE_KINDS | {"list", "receive"} and obj is None:
        problems.append(f.problem(where, f"kind {kind!r} needs 'object' (the stored type)"))
    stored = fields_of(obj)
    if obj is not None and stored is None:
        problems.append(f.problem(where + ("object",), f"unknown object type {obj!r}"))
    if kind in STORE_KINDS and decl.get("owner") is None:
        problems.append(f.problem(where, f"kind {kind!r} needs 'owner' (url, body or self)"))
    used = set()
    if decl.get("owner") == "url":
        used |= {"country_code", "party_id"}
        for name in ("country_code", "party_id"):
            if name not in params:
                problems.append(f.problem(where + ("owner",), f"owner 'url' needs path parameter {name!r}"))
    if decl.get("id") is not None:
        used.add(decl["id"])
        if decl["id"] not in params:
            problems.append(f.problem(where + ("id",), f"id {decl['id']!r} is not a path parameter"))
    for n, step in enumerate(decl.get("nested", [])):
        used.add(step["param"])
        if step["param"] not in params:
            problems.append(f.problem(where + ("nested", n, "param"), f"{step['param']!r} is not a path parameter"))
    if kind in STORE_KINDS - {"post", "created"}:
        for name in params:
            if name not in used:
                problems.append(f.problem(where, f"path parameter {name!r} is not bound (owner, id or nested)"))
    key = decl.get("key")
    if key is not None and stored is not None and key not in stored:
        problems.append(f.problem(where + ("key",), f"{obj} has no field {key!r}"))
    if kind == "post" and key is None:
        problems.append(f.problem(where, "kind 'post' needs 'key' (the body field with the id)"))
    body = fields_of(ep.get("body", {}).get("type"))
    for n, name in enumerate(decl.get("append", [])):
        if body is None or name not in body or body[name]["card"] not in ("*", "+"):
            problems.append(f.problem(where + ("append", n), f"{name!r} is not a list field of the body"))
    result = decl.get("result")
    if (kind == "command") != (result is not None):
        problems.append(f.problem(where, "'result' goes with kind 'command', and only there"))
    if result is not None:
        if fields_of(result["type"]) is None:
            problems.append(f.problem(where + ("result", "type"), f"unknown result type {result['type']!r}"))
        if result["url"] not in queries and (body is None or result["url"] not in body):
            problems.append(
                f.problem(where + ("result", "url"), f"{result['url']!r} is neither a query parameter nor a body field")
            )
    return problems


def _endpoint_problems(f: LoadedFile, base: KeyPath, ep: dict[str, Any], ref: Any) -> list[Problem]:
    problems: list[Problem] = []
    placeholders = PLACEHOLDER.findall(ep["path"])
    declared = [p["name"] for p in ep.get("path_params", [])]
    for name in placeholders:
        if name not in declared:
            problems.append(f.problem(base + ("path",), f"path placeholder {{{name}}} has no path_params entry"))
    for j, name in enumerate(declared):
        if name not in placeholders:
            problems.append(
                f.problem(
                    base + ("path_params", j, "name"), f"path parameter {name!r} does not appear in path {ep['path']!r}"
                )
            )
    for kind in ("path_params", "query_params"):
        problems += _unique(ep.get(kind, []), "name", f, base + (kind,), "parameter")
        for j, p in enumerate(ep.get(kind, [])):
            ref(f, base + (kind, j, "type"), p["type"])
            problems += _length_problems(f, base + (kind, j), p)
            if kind == "path_params" and not p["required"]:
                problems.append(f.problem(base + (kind, j, "required"), "path parameters are always required"))
    if ep.get("paginated"):
        names = {p["name"] for p in ep.get("query_params", [])}
        for needed in ("offset", "limit"):
            if needed not in names:
                problems.append(
                    f.problem(base + ("query_params",), f"paginated endpoint lacks query parameter {needed!r}")
                )
        if ep["method"] != "GET":
            problems.append(f.problem(base + ("paginated",), "only GET endpoints can be paginated"))
        if ep.get("response", {}).get("card") not in ("*", "+"):
            problems.append(f.problem(base + ("response",), "a paginated endpoint must respond with a list (card '*')"))
    for kind in ("body", "response"):
        if kind in ep:
            ref(f, base + (kind, "type"), ep[kind]["type"])
    if "body" in ep and ep["method"] in ("GET", "DELETE"):
        problems.append(f.problem(base + ("body",), f"{ep['method']} requests carry no body"))
    return problems
