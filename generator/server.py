"""Plan of a scaffolded FastAPI server for a version and role: view objects with every string precomputed.

The generator classifies each endpoint (list, get, put, patch, delete, post, command, ...) and works
out how its URL addresses the stored object (owner from the path or from this server, the object's
id, nested steps such as ``Location.evses[uid].connectors[id]``), so that the static runtime's
store-backed default handlers serve every module without per-module code.

Scaffold vs regenerate: files under ``ocpi_server/`` belong to the generator and are rewritten by
``--update``; everything else (``app.py``, ``handlers.py``, ``pyproject.toml``, ``README.md``,
``tests/``) belongs to the user and is written only when missing (or with ``--force``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from generator import naming, typemap
from generator.client import client_files, model_symbols
from generator.ir import Endpoint, EnumType, Interface, ObjectType, Param, Role, Spec, TypeRef
from generator.ir_build import BOTH
from generator.openapi import build_document, documents
from generator.plan import PlannedFile
from generator.pyformat import format_template
from generator.pyimports import STDLIB_SYMBOLS, Imports
from generator.runtime_copy import copies

PACKAGE = "ocpi_server"
OWNER_KEYS = ("country_code", "party_id")
#: Preferred enum values for synthesised default answers ("the request is accepted").
_HAPPY = ("ACCEPTED", "ALLOWED", "SUCCESS", "OK", "AVAILABLE")
#: Charging profiles answer later with a result type that depends on the method (mod_charging_profiles).
_PROFILE_RESULTS = {"GET": "ActiveChargingProfileResult", "PUT": "ChargingProfileResult", "DELETE": "ClearProfileResult"}


@dataclass(frozen=True)
class Step:
    """One nesting step below a stored root object: ``parent[field]`` item whose ``key`` equals ``param``."""

    field: str
    key: str
    param: str


@dataclass(frozen=True)
class RouteParam:
    name: str
    wire: str
    annotation: str  # full FastAPI annotation, including Path()/Query()
    default: str | None


@dataclass(frozen=True)
class Route:
    func: str  # route function name
    operation: str  # handler method name
    doc: str
    method: str
    paths: tuple[str, ...]  # FastAPI paths relative to the interface mount (both '' and '/' for the root)
    path_params: tuple[RouteParam, ...]
    query_params: tuple[RouteParam, ...]
    body_model: str | None
    body_list: bool
    body_required: bool
    response_model: str | None
    response_list: bool
    kind: str
    collection: str | None  # stored root object type
    owner: str  # "path", "self" or "body"
    id_param: str | None
    id_field: str | None  # key field of a POSTed object
    steps: tuple[Step, ...]
    async_result: str | None
    default_response: str | None  # Python expression of a valid answer
    paginated: bool
    result_default: str | None = None  # Python expression of the asynchronous result
    response_url: str | None = None  # expression giving the peer's response_url

    @property
    def plain(self) -> bool:
        """Served as a plain route (``ModuleRouter.plain_get``): nothing for FastAPI to parse (a list
        reads its query with ``page_params``), so the hottest endpoints skip dependency solving."""
        return self.paginated and not self.path_params and not self.body_model

    @property
    def owner_expr(self) -> str:
        return "(country_code, party_id)" if self.owner == "path" else "ctx.own"

    @property
    def id_expr(self) -> str:
        return self.id_param or '"-"'

    @property
    def steps_expr(self) -> str:
        items = [f'("{s.field}", "{s.key}", {s.param})' for s in self.steps]
        if len(items) == 1:
            return f"({items[0]},)"
        return f"({', '.join(items)})"

    @property
    def call_args(self) -> str:
        """``ctx`` and ``args``: the arguments of the handler call."""
        return f"ctx, {self.args}" if self.args else "ctx"

    @property
    def args(self) -> str:
        """Arguments passed from the route to the handler method, after ``ctx``."""
        names = [p.name for p in self.path_params]
        if self.body_model:
            names.append("body")
        if self.paginated:
            names.append("page")
        else:
            names += [f"{q.name}={q.name}" for q in self.query_params]
        return ", ".join(names)


@dataclass(frozen=True)
class ServerInterface:
    class_name: str  # handler class
    module_id: str
    role: str
    mount: str  # URL prefix below the version base, e.g. "/locations" or "/locations/sender"
    discovery_role: str | None
    routed: bool
    doc: str
    routes: tuple[Route, ...]

    @property
    def attr(self) -> str:
        return naming.interface_attr(self.module_id, self.role)


def _annotation(p: Param, where: str) -> tuple[str, str | None]:
    base, constraint = typemap.query_annotation(p.type), typemap.query_constraints(p.type)
    func = "Path" if where == "path" else "Query"
    if where == "path" or p.required:
        return f"Annotated[{base}, {func}({constraint})]", None
    return f"Annotated[{base} | None, {func}({constraint})]", "None"


def _key_field(t: ObjectType) -> str | None:
    for f in t.fields:
        if f.name in ("id", "uid") and f.required:
            return f.name
    for f in t.fields:
        if f.name.endswith("_id") and f.name not in OWNER_KEYS and f.required and f.type.primitive:
            return f.name
    return None


def _payload_type(ep: Endpoint) -> TypeRef | None:
    p = ep.body if ep.method in ("PUT", "PATCH", "POST") and ep.body is not None else ep.response
    return None if p is None else p.type


def _chain(spec: Spec, iface: Interface, ep: Endpoint) -> tuple[str | None, str | None, tuple[Step, ...], str]:
    """(collection, id param, nesting steps, owner) for an endpoint addressing a stored object."""
    params = [p.name for p in ep.path_params]
    owner = "path" if params[:2] == list(OWNER_KEYS) else "self"
    keys = params[2:] if owner == "path" else params
    # A DELETE carries no object; it addresses what the interface's other methods at its path carry.
    target = _payload_type(ep) or next((_payload_type(o) for o in iface.endpoints if o.path == ep.path and _payload_type(o) is not None), None)
    if not keys or target is None or target.primitive:
        return (target.name if target is not None and not target.primitive else None), None, (), owner
    # The type addressed by each prefix of the keys, from the interface's other endpoints.
    by_prefix: dict[tuple[str, ...], str] = {}
    for other in iface.endpoints:
        names = [p.name for p in other.path_params]
        oks = names[2:] if names[:2] == list(OWNER_KEYS) else names
        t = _payload_type(other)
        if t is not None and not t.primitive and oks and other.path.rsplit("{", 1)[0] == ep.path[: len(other.path.rsplit("{", 1)[0])]:
            by_prefix.setdefault(tuple(oks), t.name)
    types = [by_prefix.get(tuple(keys[: i + 1])) for i in range(len(keys))]
    types[-1] = target.name
    root = types[0] or target.name
    steps: list[Step] = []
    for i in range(1, len(keys)):
        parent, child = spec.type(types[i - 1] or ""), types[i]
        if not isinstance(parent, ObjectType) or child is None:
            return target.name, keys[-1], (), owner
        fld = next((f for f in parent.fields if f.type.name == child and f.is_list), None)
        child_t = spec.type(child)
        key = next((k for k in ("uid", "id") if isinstance(child_t, ObjectType) and child_t.field_named(k) and keys[i].endswith(k)), None)
        if fld is None or key is None:
            return target.name, keys[-1], (), owner
        steps.append(Step(fld.name, key, keys[i]))
    return root, keys[0], tuple(steps), owner


def _default_expr(spec: Spec, t: TypeRef, name: str = "", depth: int = 0) -> str:
    """A Python expression building a valid value of ``t`` (required fields only)."""
    if t.primitive:
        return typemap.placeholder(t, name)
    target = spec.type(t.name)
    if isinstance(target, EnumType):
        chosen = next((v for h in _HAPPY for v in target.values if v.value == h), target.values[0])
        return f"{target.name}.{chosen.py_name}"
    assert isinstance(target, ObjectType)
    args = []
    for f in target.fields:
        if f.required and depth < 5:
            v = _default_expr(spec, f.type, f.name, depth + 1)
            args.append(f"{f.py_name}={'[' + v + ']' if f.is_list else v}")
    return f"{target.name}({', '.join(args)})"


def _async_result(spec: Spec, iface: Interface, ep: Endpoint) -> str | None:
    """The result type posted later to the peer's response_url, for endpoints that take one."""
    has_url = any(p.name == "response_url" for p in ep.query_params)
    body_t = spec.type(ep.body.type.name) if ep.body is not None and not ep.body.type.primitive else None
    if isinstance(body_t, ObjectType) and body_t.field_named("response_url"):
        has_url = True
    if not has_url:
        return None
    if iface.module_id == "chargingprofiles":
        name = _PROFILE_RESULTS.get(ep.method)
        return name if name and any(t.name == name for t in spec.types) else None
    module = next(m for m in spec.modules if m.id == iface.module_id)
    for other in module.interfaces:
        if other.role != iface.role:
            for o in other.endpoints:
                if o.method == "POST" and o.body is not None and not o.body.type.primitive:
                    return o.body.type.name
    return None


def _kind(ep: Endpoint, async_result: str | None) -> str:
    if ep.paginated:
        return "list"
    if async_result is not None:
        return "command"
    if ep.method == "GET":
        return "get" if ep.path_params else "custom"
    if ep.method in ("PUT", "PATCH", "DELETE") and ep.path_params and (ep.method == "DELETE" or ep.body is not None):
        if ep.response is not None and ep.method != "DELETE":
            return "custom"
        return ep.method.lower()
    if ep.method == "POST" and ep.body is not None and ep.response is None:
        return "post"
    return "custom"


def _route(spec: Spec, iface: Interface, ep: Endpoint) -> Route:
    path_params = tuple(RouteParam(p.py_name, p.name, *_annotation(p, "path")) for p in ep.path_params)
    query_params = tuple(RouteParam(p.py_name, p.name, *_annotation(p, "query")) for p in ep.query_params)
    body_model = None
    if ep.body is not None:
        t = ep.body.type
        body_model = naming.patch_schema(t.name) if ep.is_patch and isinstance(spec.type(t.name), ObjectType) else _py_type(t)
    async_result = _async_result(spec, iface, ep)
    kind = _kind(ep, async_result)
    collection, id_param, steps, owner = _chain(spec, iface, ep) if ep.path_params or kind in ("post", "list") else (None, None, (), "self")
    if kind == "list" and ep.response is not None:
        collection = ep.response.type.name
    id_field = None
    if kind == "post" and ep.body is not None and isinstance(spec.type(ep.body.type.name), ObjectType):
        body_t = spec.type(ep.body.type.name)
        assert isinstance(body_t, ObjectType)
        collection, id_field = body_t.name, _key_field(body_t)
        owner = "body" if body_t.field_named("country_code") and body_t.field_named("party_id") else "self"
        if id_field is None:
            kind = "callback"
    default = None
    if ep.response is not None and kind in ("command", "custom"):
        one = _default_expr(spec, ep.response.type)
        default = f"[{one}]" if ep.response.is_list else one
    paths = (ep.path, "/") if ep.path == "" else (ep.path, ep.path + "/")
    result_default = _default_expr(spec, TypeRef(async_result, False)) if async_result else None
    response_url = None
    if async_result is not None:
        response_url = "response_url" if any(p.name == "response_url" for p in ep.query_params) else "body.response_url"
    return Route(
        func=ep.operation_id,
        operation=ep.operation,
        doc=ep.doc,
        method=ep.method,
        paths=paths,
        path_params=path_params,
        query_params=query_params,
        body_model=body_model,
        body_list=bool(ep.body and ep.body.is_list),
        body_required=bool(ep.body and ep.body.required),
        response_model=_py_type(ep.response.type) if ep.response else None,
        response_list=bool(ep.response and ep.response.is_list),
        kind=kind,
        collection=collection,
        owner=owner,
        id_param=id_param,
        id_field=id_field,
        steps=steps,
        async_result=async_result,
        default_response=default,
        paginated=ep.paginated,
        result_default=result_default,
        response_url=response_url,
    )


_py_type = typemap.python_type


def server_view(spec: Spec, role: Role) -> list[ServerInterface]:
    out = []
    for iface in role.interfaces:
        if iface.module_id in ("versions", "credentials"):
            continue  # served by the runtime (_app.py)
        both = sum(1 for i in role.interfaces if i.module_id == iface.module_id) > 1
        mount = naming.interface_path(iface.module_id, iface.role, both)
        cls = naming.handler_class(iface.module_name, iface.role)
        routes = tuple(_route(spec, iface, ep) for ep in iface.endpoints)
        discovery_role = iface.role if iface.role in ("SENDER", "RECEIVER") else None
        routed = any(ep.routed for ep in iface.endpoints) and spec.routing_headers
        out.append(ServerInterface(cls, iface.module_id, iface.role, mount, discovery_role, routed, iface.doc, routes))
    return out


def roles_with_servers(spec: Spec) -> list[Role]:
    """Roles that expose a function module (OTHER only has hubclientinfo, a configuration module)."""
    return [r for r in spec.roles if any(i.role != BOTH and ep.routed for i in r.interfaces for ep in i.endpoints)]


#: Names that the generated server modules use, by the module that defines them.
SERVER_SYMBOLS: dict[str, str] = {
    name: module
    for module, names in {
        "._app": ("ModuleRouter", "Mount"),
        "._auth": ("AuthContext", "Authenticator"),
        "._defaults": ("Context", "Engine", "Owner", "read_model", "read_models"),
        "._envelope": ("ocpi_json_response",),
        "._pagination": ("PageParams", "page_params", "paginated_response"),
        "fastapi": ("BackgroundTasks", "Depends", "Path", "Query", "Request"),
        "starlette.responses": ("Response",),
        "urllib.parse": ("quote",),
    }.items()
    for name in names
}


def _symbols(spec: Spec) -> dict[str, str]:
    return {**STDLIB_SYMBOLS, **{n: ".client" + m for n, m in model_symbols(spec).items()}, **SERVER_SYMBOLS}


def _handler_code(r: Route) -> tuple[str | None, ...]:
    """The annotations and expressions ``handlers.py.j2`` prints for a route."""
    kind_returns = {"list": "tuple[Sequence[Any], int]", "get": "Any", "put": "bool", "callback": "None", "post": "tuple[Owner, str]"}
    returns = kind_returns.get(r.kind, r.response_model)
    query = ("Any",) * len(r.query_params) if not r.paginated or r.kind == "command" else ()
    paging = ("PageParams",) if r.paginated else ()
    return (r.body_model, r.async_result, r.default_response, r.result_default, returns, *query, *paging)


def handlers_imports(spec: Spec, interfaces: list[ServerInterface]) -> Imports:
    imports = Imports().add("dataclasses", "dataclass", "field").add("datetime", "UTC", "datetime").add("._defaults", "Context")
    for r in (r for i in interfaces for r in i.routes):
        imports.use(_symbols(spec), *_handler_code(r))
    return imports


def routers_imports(spec: Spec, interfaces: list[ServerInterface]) -> Imports:
    imports = Imports().use(
        _symbols(spec), "Any ModuleRouter Mount AuthContext Authenticator Engine ocpi_json_response Depends Request Response"
    )
    imports.add(".handlers", "Handlers", *(i.class_name for i in interfaces))
    for r in (r for i in interfaces for r in i.routes):
        params = r.path_params + (() if r.paginated else r.query_params)
        imports.use(_symbols(spec), r.body_model, *(p.annotation for p in params))
        if r.body_model:
            imports.add("._defaults", "read_models" if r.body_list else "read_model")
        if r.paginated:
            imports.add("._pagination", "page_params", "paginated_response")
        if r.kind == "command":
            imports.add("fastapi", "BackgroundTasks")
        if r.kind == "post":
            imports.add("urllib.parse", "quote")
    return imports


def user_imports(package: str) -> dict[str, Imports]:
    """Imports of the user's files (``app.py``, ``handlers.py``, ``tests/test_server.py``)."""
    first = frozenset({"handlers", package})
    return {
        "app_imports": Imports(first).add("handlers", "HANDLERS").add(package, "ServerSettings", "create_app"),
        "user_handlers_imports": Imports(first).add(f"{package}.handlers", "Handlers"),
        "test_imports": Imports(first)
        .add("", "base64")
        .add("fastapi.testclient", "TestClient")
        .add("handlers", "HANDLERS")
        .add(package, "ServerSettings", "SqliteStore", "create_app", "issue_token_a"),
    }


def init_imports() -> Imports:
    imports = Imports().add("typing", "Any").add("fastapi", "FastAPI").add(".client.models", "Credentials")
    imports.add("._app", "AppSpec", "build_app", "issue_token_a", "register_with_peer as _register_with_peer")
    imports.add("._settings", "ServerSettings").add("._store", "Party", "SqliteStore", "Store")
    return imports.add(".handlers", "Handlers").add(".routers", "build_routers")


def server_files(spec: Spec, role_name: str, prefix: str = "") -> list[PlannedFile]:
    """Every file of a scaffolded server project; ``user`` files are marked by their folder."""
    role = next(r for r in spec.roles if r.slug == role_name.lower())
    interfaces = server_view(spec, role)
    ctx: dict[str, Any] = {
        "spec": spec,
        "role": role,
        "interfaces": interfaces,
        "package": PACKAGE,
        "project": naming.server_project(role.slug),
        "header": f"Generated by ocpi-codegen from spec/{spec.version}; do not edit. Regenerate with: ocpi-codegen server {spec.version} --role {role.slug} -o DIR --update",
        "routing_headers": spec.routing_headers,
        "credentials_roles": isinstance(spec.type("Credentials"), ObjectType) and spec.type("Credentials").field_named("roles") is not None,  # type: ignore[union-attr]
        "not_found_code": 2004 if any(c.code == 2004 for c in spec.transport.status_codes) else 2003,
        "has_lists": any(r.kind == "list" for i in interfaces for r in i.routes),
        "handlers_imports": handlers_imports(spec, interfaces),
        "routers_imports": routers_imports(spec, interfaces),
        "init_imports": init_imports(),
        **user_imports(PACKAGE),
    }
    gen = f"{prefix}{PACKAGE}/"
    files = [
        PlannedFile(f"{gen}__init__.py", "server/package_init.py.j2", ctx, format_template),
        PlannedFile(f"{gen}handlers.py", "server/handlers.py.j2", ctx, format_template),
        PlannedFile(f"{gen}routers.py", "server/routers.py.j2", ctx, format_template),
    ]
    files += copies("server", gen)
    files.append(role_document_file(spec, role, f"{gen}openapi.json"))
    for pf in client_files(spec, prefix=""):
        if "/" in pf.path:  # the client package itself, without its project files
            inner = pf.path.split("/", 1)[1]
            files.append(PlannedFile(f"{gen}client/{inner}", pf.template, pf.context, pf.formatter, pf.copy_of))
    user = [
        PlannedFile(f"{prefix}pyproject.toml", "server/pyproject.toml.j2", ctx),
        PlannedFile(f"{prefix}README.md", "server/README.md.j2", ctx),
        PlannedFile(f"{prefix}app.py", "server/app.py.j2", ctx, format_template),
        PlannedFile(f"{prefix}handlers.py", "server/user_handlers.py.j2", ctx, format_template),
        PlannedFile(f"{prefix}tests/test_server.py", "server/test_server.py.j2", ctx, format_template),
    ]
    return files + user


def role_document_file(spec: Spec, role: Role, path: str) -> PlannedFile:
    """The role's OpenAPI document (as in ``generated/<v>/openapi/roles/``), compact JSON, for ``/openapi.json``."""
    (doc,) = [d for d in documents(spec) if d.stem == f"roles/{role.slug}"]
    text = json.dumps(build_document(spec, doc), ensure_ascii=False, separators=(",", ":")) + "\n"
    return PlannedFile(path, "", {"text": text})


def is_user_file(path: str) -> bool:
    return not path.startswith(f"{PACKAGE}/")
