"""Load a version folder of spec YAML, validate it, and report every problem with file, line and key.

Stage one of the pipeline: nothing here knows about output. ``load_version`` returns plain data
(with a line map per file) that ``generator.ir_build`` turns into the typed IR.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from generator.errors import Problem, SpecError
from generator.paths import SCHEMA_PATH

PRIMITIVES = frozenset({"string", "CiString", "DateTime", "number", "int", "boolean", "URL", "any"})
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
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


@cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def _to_data(node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int], dupes: list[tuple[KeyPath, str]]) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(_scalar(key_node))
            if key in out:
                dupes.append((path + (key,), key))
            out[key] = _to_data(value_node, path + (key,), lines, dupes)
            lines[path + (key,)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_to_data(item, path + (i,), lines, dupes) for i, item in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: yaml.Node) -> Any:
    return yaml.constructor.SafeConstructor().construct_object(node, deep=True)


def parse_file(path: Path, display: str) -> tuple[LoadedFile | None, list[Problem]]:
    """Parse one YAML file keeping line numbers; report syntax errors and duplicate keys."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return None, [Problem(display, 0, "", f"cannot read file: {exc.strerror}")]
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        return None, [Problem(display, line, "", f"invalid YAML: {exc.problem or exc}")]
    if node is None:
        return None, [Problem(display, 1, "", "file is empty")]
    lines: dict[KeyPath, int] = {}
    dupes: list[tuple[KeyPath, str]] = []
    data = _to_data(node, (), lines, dupes)
    loaded = LoadedFile(path, display, data if isinstance(data, dict) else {}, lines)
    problems = [loaded.problem(p, f"duplicate key {k!r}") for p, k in dupes]
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
    return error.message if len(error.message) < 200 else error.message[:197] + "..."


def load_version(spec_root: Path, version: str) -> LoadedVersion:
    """Load and validate spec/<version>/; raise SpecError listing every problem."""
    folder = spec_root / version
    problems: list[Problem] = []  # syntax and schema: the data cannot be trusted further
    soft: list[Problem] = []  # duplicate keys: the data is usable, keep checking
    index_path = folder / "index.yaml"
    if not index_path.is_file():
        raise SpecError([Problem(f"{version}/index.yaml", 0, "", f"no spec for version {version!r}")])
    index, errs = parse_file(index_path, f"{version}/index.yaml")
    if index is None:
        raise SpecError(errs)
    soft += errs
    problems += schema_problems(index)
    if "version" in index.data and index.data["version"] != version:
        problems.append(index.problem(("version",), f"version {index.data['version']!r} does not match folder {version!r}"))
    files: list[LoadedFile] = []
    for i, name in enumerate(index.data.get("files", []) or []):
        path = folder / str(name)
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
    result = LoadedVersion(version, folder, index, files)
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
                problems.append(f.problem(("types", i, "name"), f"duplicate type {t['name']!r} (also in {other.display})"))
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
            problems.append(f.problem(("module", "id"), f"duplicate module {module['id']!r} (also in {modules[module['id']].display})"))
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
                    problems.append(f.problem(ibase + ("endpoints", j, "path"), f"{ep['method']} {ep['path']!r} matches the same URLs as another endpoint of this interface"))
                routes[route] = j
    return problems


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
        return [f.problem(where, "versions and credentials are served by the runtime; no server declaration")] if decl else []
    if decl is None:
        return [f.problem(base, "function module endpoint lacks a server: declaration (spec/README.md, Server behaviour)")]
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
            problems.append(f.problem(where + ("result", "url"), f"{result['url']!r} is neither a query parameter nor a body field"))
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
            problems.append(f.problem(base + ("path_params", j, "name"), f"path parameter {name!r} does not appear in path {ep['path']!r}"))
    for kind in ("path_params", "query_params"):
        problems += _unique(ep.get(kind, []), "name", f, base + (kind,), "parameter")
        for j, p in enumerate(ep.get(kind, [])):
            ref(f, base + (kind, j, "type"), p["type"])
            if kind == "path_params" and not p["required"]:
                problems.append(f.problem(base + (kind, j, "required"), "path parameters are always required"))
    if ep.get("paginated"):
        names = {p["name"] for p in ep.get("query_params", [])}
        for needed in ("offset", "limit"):
            if needed not in names:
                problems.append(f.problem(base + ("query_params",), f"paginated endpoint lacks query parameter {needed!r}"))
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
