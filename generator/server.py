"""Plan of a scaffolded FastAPI server for a version and role: view objects with every string precomputed.

What each endpoint does is declared in the spec transcription (``server:`` per endpoint and
``not_found`` per module, spec/README.md "Server behaviour"); this module reads only those
declarations (``generator.server_check`` cross-checks them against the names, for ``validate``).
It turns them into handler bodies that call the static runtime's store-backed ``Engine`` with a
typed ``ObjectPath``, so that every module works without per-module code, and endpoints that are
the operator's business decision answer a clear "override this handler" error instead of data.

Scaffold vs regenerate: files under the generated package (``ocpi_server_<role>_v<version>/``) belong
to the generator and are rewritten by ``--update``; everything else (``app.py``, ``handlers.py``, ``pyproject.toml``, ``README.md``,
``tests/``) belongs to the user and is written only when missing (or with ``--force``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from generator import naming, typemap
from generator.client import client_files, model_symbols
from generator.ir import Endpoint, EnumType, Interface, ObjectType, Param, Role, ServerBehaviour, Spec
from generator.ir_build import BOTH, HUB
from generator.openapi import documents, shared_document
from generator.plan import PlannedFile
from generator.pyformat import black_blocks, format_template
from generator.pyimports import IMPORTS_MARKER, STDLIB_SYMBOLS, Imports, Symbols, insert_imports
from generator.runtime_copy import copies

#: A CiString in a URL: printable ASCII (types_cistring_type), never empty.
PRINTABLE_ASCII = r"^[ -~]+$"
#: What the default handler of each kind does, for the scaffold README.
DEFAULT_BEHAVIOUR = {
    "list": "pages through the stored {object} objects",
    "get": "answers the stored {object}{nested}",
    "put": "stores the {object}{nested} (201 created, 200 replaced; an older one is ignored)",
    "patch": "merges the fields into the stored {object}{nested}{append}",
    "delete": "removes the stored {object}{nested}",
    "post": "stores the {object} under its {key}{location}",
    "created": "answers a stored {object} at the URL that its POST answered in Location",
    "receive": "keeps the {object} in the store",
    "authorize": "ALLOWED for a stored valid Token, BLOCKED for an invalid one, unknown: 404",
    "command": "501 until you override it; then posts your result to the peer",
    "decision": "501 until you override it (your business decision)",
}


@dataclass(frozen=True)
class RouteParam:
    name: str
    wire: str
    annotation: str  # full FastAPI annotation, including Path()/Query()
    default: str | None
    py_type: str  # the handler's annotation
    plain: str | None = None  # how a plain route checks (path: a PathParam) or reads (query) it; None: it cannot


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
    paginated: bool
    handler: str  # "ClassName.method", named in "override" errors
    object: str | None = None  # stored collection
    path_expr: str | None = None  # ObjectPath expression of the addressed object
    key: str | None = None
    owned: bool = False  # the body's country_code/party_id must equal the URL's
    append: tuple[str, ...] = ()
    status: int = 200
    location: bool = False
    result_type: str | None = None
    response_url: str | None = None  # expression giving the peer's response_url
    owner_expr: str = "ctx.own"
    authorize_fields: tuple[str, ...] = ()
    created_names: str = ""  # path parameters of the stored object's URL (a plain route), comma-separated
    created_checks: str = "()"  # their PathParam tuple
    token_type: str = "None"
    readme: str = ""

    @property
    def plain(self) -> bool:
        """Served as a plain route (``ModuleRouter.plain_get``): nothing for FastAPI to parse (a list
        reads its query with ``page_params``), so the hottest endpoints skip dependency solving."""
        return self.paginated and not self.path_params and not self.body_model

    @property
    def admitted(self) -> bool:
        """A store write (PUT, PATCH, DELETE, POST that stores): admitted through ``Engine.write_slot``,
        so that reads never queue behind many writes' parsing at once."""
        return self.kind in ("put", "patch", "delete", "post", "receive")

    @property
    def body_read(self) -> str:
        """The expression that reads the request body as ``body_model`` (a list, required or optional)."""
        if self.body_list:
            return f"await read_models(request, {self.body_model})"
        if self.body_required:
            return f"await read_model(request, {self.body_model})"
        return f"await read_model(request, {self.body_model}) if (await request.body()).strip() else None"

    @property
    def plain_object(self) -> bool:
        """A single-object GET served as a plain route: its path parameters checked by ``path_args``
        (the rules of their ``Path()``), its query parameters (optional, unconstrained) read as they
        come, so that no per-request dependency solving is left."""
        params = (*self.path_params, *self.query_params)
        return self.kind == "get" and not self.response_list and all(p.plain is not None for p in params)

    @property
    def path_checks(self) -> str:
        """The ``PathParam`` tuple of a plain route's path parameters, as code."""
        return (
            "(" + ", ".join(str(p.plain) for p in self.path_params) + ("," if len(self.path_params) == 1 else "") + ")"
        )

    @property
    def path_names(self) -> str:
        """The names a plain route unpacks ``path_args`` into, as an assignment target."""
        names = ", ".join(p.name for p in self.path_params)
        return f"({names},)" if len(self.path_params) == 1 else names

    @property
    def stored(self) -> bool:
        """The default handler answers the stored JSON as it is (``Engine.get_stored``)."""
        return self.kind in ("get", "created") and self.response_model is not None and not self.response_list

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

    @property
    def returns(self) -> str:
        """The handler method's return annotation."""
        if self.kind == "list":
            return "Page"
        if self.kind == "put":
            return "bool"
        if self.kind == "post":
            return "tuple[Owner, str]"
        if self.stored:
            return f"{self.response_model} | Stored[{self.response_model}]"
        if self.kind in ("get", "created", "authorize", "command", "decision") and self.response_model:
            return f"list[{self.response_model}]" if self.response_list else self.response_model
        return "None"


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


def _base(p: Param) -> str:
    return typemap.query_annotation(p.type)


def _annotation(p: Param, where: str) -> tuple[str, str | None, str]:
    """(FastAPI annotation, default, handler annotation). A CiString or string id in the URL is
    non-empty printable ASCII within its length (row 14 of issue 11)."""
    base = _base(p)
    constraint = ""
    if base == "str":
        parts = ["min_length=1"] if where == "path" else []
        if p.type.length:
            parts.append(f"max_length={p.type.length}")
        if p.type.primitive and p.type.name in ("CiString", "string"):
            parts.append(f'pattern=r"{PRINTABLE_ASCII}"')
        constraint = ", ".join(parts)
    elif p.type.length:
        constraint = typemap.query_constraints(p.type)
    func = "Path" if where == "path" else "Query"
    if where == "path" or p.required:
        return f"Annotated[{base}, {func}({constraint})]", None, base
    return f"Annotated[{base} | None, {func}({constraint})]", "None", f"{base} | None"


def _plain(p: Param, where: str) -> str | None:
    """How a plain route handles ``p`` (``RouteParam.plain``): a path string is checked with a
    ``PathParam`` of the same rules as its ``Path()``; an optional unconstrained query string is
    read from the query (the last value, as FastAPI did). Anything else: None (a FastAPI route)."""
    if _base(p) != "str" or p.py_name != p.name:
        return None
    if where == "query":
        return None if p.required or p.type.length else f'request.query_params.get("{p.name}")'
    printable = p.type.primitive and p.type.name in ("CiString", "string")
    args = [f'"{p.name}"', str(p.type.length) if p.type.length else "None"] + ([] if printable else ["printable=False"])
    return f"PathParam({', '.join(args)})"


def _path_expr(b: ServerBehaviour, ep: Endpoint) -> str:
    owner = "(country_code, party_id)" if b.owner == "url" else "ctx.own"
    args = [f'"{b.object}"', owner] + ([naming.py_identifier(b.id)] if b.id else [])
    expr = f"ObjectPath({', '.join(args)})"
    for n in b.nested:
        expr += f'.child("{n.field}", "{n.key}", {naming.py_identifier(n.param)})'
    return expr


def _readme(b: ServerBehaviour, ep: Endpoint) -> str:
    nested = "".join(f" > {n.field}[{n.key}]" for n in b.nested)
    append = f" ({', '.join(b.append)}: items added)" if b.append else ""
    location = ", 201 with Location" if b.location else ""
    return DEFAULT_BEHAVIOUR[b.kind].format(object=b.object, nested=nested, append=append, key=b.key, location=location)


def _route(spec: Spec, iface: Interface, ep: Endpoint, class_name: str) -> Route:
    b = ep.server
    assert b is not None, f"{ep.operation_id}: no server declaration"
    path_params = tuple(
        RouteParam(p.py_name, p.name, *_annotation(p, "path"), plain=_plain(p, "path")) for p in ep.path_params
    )
    query_params = tuple(
        RouteParam(p.py_name, p.name, *_annotation(p, "query"), plain=_plain(p, "query")) for p in ep.query_params
    )
    body_model = None
    if ep.body is not None:
        t = ep.body.type
        body_model = (
            naming.patch_schema(t.name) if ep.is_patch and isinstance(spec.type(t.name), ObjectType) else _py_type(t)
        )
    paths = (ep.path, "/") if ep.path == "" else (ep.path, ep.path + "/")
    extra: dict[str, Any] = {}
    if b.kind in ("get", "put", "patch", "delete", "authorize"):
        extra["path_expr"] = _path_expr(b, ep)
    if b.kind == "created":
        extra["path_expr"] = f'ObjectPath("{b.object}", (country_code, party_id), object_id)'
        stored = spec.type(b.object or "")
        assert isinstance(stored, ObjectType)
        lengths = {"country_code": 2, "party_id": 3, "object_id": 36}
        for name, fld in (("country_code", "country_code"), ("party_id", "party_id"), ("object_id", "id")):
            f = stored.field_named(fld)
            if f is not None and f.type.length:
                lengths[name] = f.type.length
        checks = ", ".join(f'PathParam("{name}", {n})' for name, n in lengths.items())
        extra["created_names"] = ", ".join(lengths)
        extra["created_checks"] = f"({checks})"
    if b.kind == "post":
        extra["owner_expr"] = "None" if b.owner == "body" else "ctx.own"
    if b.kind == "authorize":
        info = spec.type(ep.response.type.name) if ep.response else None
        assert isinstance(info, ObjectType)
        extra["authorize_fields"] = tuple(f for f in ("allowed", "token", "location") if info.field_named(f))
        extra["token_type"] = "type" if any(q.name == "type" for q in ep.query_params) else "None"
    if b.result is not None:
        in_query = any(q.name == b.result.url for q in ep.query_params)
        extra["result_type"] = b.result.type
        extra["response_url"] = (
            naming.py_identifier(b.result.url) if in_query else f"body.{naming.field_name(b.result.url)}"
        )
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
        kind=b.kind,
        paginated=ep.paginated,
        handler=f"{class_name}.{ep.operation}",
        object=b.object,
        key=b.key,
        owned=b.owner == "url",
        append=b.append,
        status=b.status,
        location=b.location,
        readme=_readme(b, ep),
        **extra,
    )


_py_type = typemap.python_type


def not_found_codes(spec: Spec) -> dict[str, int]:
    """OCPI status of an unknown object per stored collection, from the modules' declarations."""
    out: dict[str, int] = {}
    for iface in spec.interfaces:
        for ep in iface.endpoints:
            if ep.server is not None and ep.server.object is not None:
                out.setdefault(ep.server.object, ep.not_found)
    return dict(sorted(out.items()))


def credentials_role(spec: Spec, role: Role) -> str:
    """The role our credentials name: the server's role when the version's Role enum has it, else
    OTHER (2.3.0 has no HUB and no PTP value; spec/ERRATA.md)."""
    enum = spec.type("Role") if any(t.name == "Role" for t in spec.types) else None
    values = [v.value for v in enum.values] if isinstance(enum, EnumType) else []
    return role.name if not values or role.name in values else "OTHER"


def server_view(spec: Spec, role: Role) -> list[ServerInterface]:
    out = []
    for iface in role.interfaces:
        if iface.module_id in ("versions", "credentials"):
            continue  # served by the runtime (_app.py)
        both = sum(1 for i in role.interfaces if i.module_id == iface.module_id) > 1
        mount = naming.interface_path(iface.module_id, iface.role, both)
        cls = naming.handler_class(iface.module_name, iface.role)
        routes = tuple(_route(spec, iface, ep, cls) for ep in iface.endpoints)
        discovery_role = iface.role if iface.role in ("SENDER", "RECEIVER") else None
        routed = any(ep.routed for ep in iface.endpoints) and spec.routing_headers
        out.append(ServerInterface(cls, iface.module_id, iface.role, mount, discovery_role, routed, iface.doc, routes))
    return out


@dataclass(frozen=True)
class Receive:
    """One module our role receives and can resync by pulling from a peer's sender interface
    (spec ``transport_and_format_offline_behaviour``): where its objects are stored and keyed."""

    module_id: str
    peer_role: str | None  # the peer interface to page: SENDER (2.2+), None (2.1.1: by module only)
    collection: str  # the stored collection (``server.object``)
    owner: str  # url (the object's own country_code/party_id), body, or self (our own party)
    key: str  # the field with the object's id; "" for the owner's only object

    @property
    def expr(self) -> str:
        """The ``Receiving(...)`` entry of the generated ``RECEIVES`` table."""
        peer_role = "None" if self.peer_role is None else f'"{self.peer_role}"'
        return (
            f'Receiving("{self.module_id}", {peer_role}, "{self.collection}", "{self.owner}", "{self.key}",'
            f" {self.collection})"
        )


def tuple_code(prefix: str, items: list[str], width: int = 120) -> str:
    """A tuple literal as black writes it after ``prefix``: ``()``, one short item on the line, or
    one item per line."""
    if not items:
        return "()"
    if len(items) == 1 and len(prefix) + len(items[0]) + 3 <= width:
        return f"({items[0]},)"
    return "(\n" + "".join(f"    {item},\n" for item in items) + ")"


def receive_table(spec: Spec, role: Role) -> list[Receive]:
    """The modules ``role`` receives and their peers send as a paginated list, from the declarations:
    an interface of ``role`` that stores a pushed root object (``put``/``post``), whose counterpart
    interface (same module, the other role) lists that collection."""
    out: list[Receive] = []
    seen: set[str] = set()
    for iface in role.interfaces:
        if iface.module_id in ("versions", "credentials") or iface.module_id in seen:
            continue
        store = next(
            (
                ep.server
                for ep in iface.endpoints
                if ep.server is not None
                and ep.server.kind in ("put", "post")
                and not ep.server.nested
                and ep.server.object is not None
            ),
            None,
        )
        if store is None or store.object is None:
            continue
        sender = next(
            (
                other
                for other in spec.interfaces
                if other.module_id == iface.module_id
                and other.role not in (iface.role, BOTH)
                and any(
                    ep.server is not None and ep.server.kind == "list" and ep.server.object == store.object
                    for ep in other.endpoints
                )
            ),
            None,
        )
        if sender is None:
            continue
        seen.add(iface.module_id)
        peer_role = sender.role if sender.role in ("SENDER", "RECEIVER") else None
        out.append(Receive(iface.module_id, peer_role, store.object, store.owner or "url", store.key or ""))
    return out


@dataclass(frozen=True)
class PushView:
    """One module the role sends, as the ``PushModule`` printed into the package (``PUSH_MODULES``):
    every value is a Python literal or a model name."""

    module_id: str
    collection: str
    key: str | None
    id_param: str | None
    nesting: tuple[tuple[str, str, str], ...]
    models: tuple[str, ...]  # model names of the root and each nested level
    interface_role: str | None
    receivers: tuple[str, ...]
    ops: tuple[tuple[str, str, int], ...]  # (method, path, depth)

    @property
    def literals(self) -> dict[str, str]:
        """Keyword arguments of the ``PushModule`` constructor, as code."""
        ops = ", ".join(f"PushOp({_literal(m)}, {_literal(p)}, {d})" for m, p, d in self.ops)
        return {
            "module_id": _literal(self.module_id),
            "collection": _literal(self.collection),
            "key": _literal(self.key),
            "id_param": _literal(self.id_param),
            "nesting": _literal(self.nesting),
            "models": f"({', '.join(self.models)},)" if self.models else "()",
            "interface_role": _literal(self.interface_role),
            "receivers": _literal(self.receivers),
            "ops": f"({ops},)" if ops else "()",
        }


def _literal(value: object) -> str:
    """A literal as black writes it (templates write black's style: ``pyformat`` may keep it as it
    is): strings in double quotes, tuples as ``repr`` writes them."""
    if isinstance(value, str) and '"' not in value and "\\" not in value and value.isprintable():
        return f'"{value}"'
    if isinstance(value, tuple):
        items = ", ".join(_literal(item) for item in value)
        return f"({items},)" if len(value) == 1 else f"({items})"
    return repr(value)


#: Server kinds of a receiver endpoint that a push calls.
PUSH_KINDS = ("put", "patch", "delete", "post")


def push_view(spec: Spec, role: Role) -> list[PushView]:
    """The modules ``role`` sends and the receiver endpoints a push calls, from the declarations.

    The role sends a module's collection when it implements the interface that lists it (``list``);
    the module's other interface, with ``put``/``patch``/``delete``/``post`` endpoints of that
    collection, is the receiver (2.2+: RECEIVER; 2.1.1: the other role's interface). A hub, which
    exposes every interface, sends only what it is named as implementer of (hub client info).
    """
    out: list[PushView] = []
    for module in spec.modules:
        for sender in module.interfaces:
            if sender.role == BOTH or role.name not in sender.implemented_by:
                continue
            listed = [ep.server.object for ep in sender.endpoints if ep.server and ep.server.kind == "list"]
            for collection in listed:
                assert collection is not None
                view = _push_module(spec, module.id, sender, collection)
                if view is not None and all(v.collection != collection for v in out):
                    out.append(view)
    return out


def _push_module(spec: Spec, module_id: str, sender: Interface, collection: str) -> PushView | None:
    module = next(m for m in spec.modules if m.id == module_id)
    for receiver in module.interfaces:
        if receiver is sender or receiver.role == BOTH:
            continue
        eps = [
            ep
            for ep in receiver.endpoints
            if ep.server is not None and ep.server.kind in PUSH_KINDS and ep.server.object == collection
        ]
        if not eps:
            continue
        deepest = max((ep.server.nested for ep in eps if ep.server), key=len)
        root = next((ep.server for ep in eps if ep.server and not ep.server.nested and ep.server.key), None)
        id_param = next((ep.server.id for ep in eps if ep.server and ep.server.id), None)
        models = [collection]
        for depth in range(1, len(deepest) + 1):
            body = next(
                (
                    ep.body.type.name
                    for ep in eps
                    if ep.server and ep.method == "PUT" and len(ep.server.nested) == depth and ep.body
                ),
                None,
            )
            if body is None:
                break
            models.append(body)
        return PushView(
            module_id=module_id,
            collection=collection,
            key=root.key if root else None,
            id_param=id_param,
            nesting=tuple((n.field, n.key, n.param) for n in deepest),
            models=tuple(models),
            interface_role=receiver.role if receiver.role in ("SENDER", "RECEIVER") else None,
            receivers=receiver.implemented_by,
            ops=tuple((ep.method, ep.path, len(ep.server.nested)) for ep in eps if ep.server),
        )
    return None


def credentials_has(spec: Spec, field: str) -> bool:
    t = spec.type("Credentials")
    return isinstance(t, ObjectType) and t.field_named(field) is not None


def roles_with_servers(spec: Spec) -> list[Role]:
    """Roles that expose a function module (OTHER only has hubclientinfo, a configuration module)."""
    return [r for r in spec.roles if any(i.role != BOTH and ep.routed for i in r.interfaces for ep in i.endpoints)]


#: Names the generated server modules use, by the module that defines them.
SERVER_SYMBOLS: dict[str, str] = {
    name: module
    for module, names in {
        "._app": ("ModuleRouter", "Mount"),
        "._auth": ("AuthContext", "Authenticator"),
        "._defaults": ("Context", "Engine", "ObjectPath", "Owner", "Page", "read_model", "read_models"),
        "._envelope": ("ocpi_json_response",),
        "._json": ("Stored",),
        "._params": ("PathParam", "path_args"),
        "._pagination": ("PageParams", "page_params", "paginated_response"),
        "dataclasses": ("dataclass", "field"),
        "fastapi": ("BackgroundTasks", "Depends", "Path", "Query", "Request"),
        "starlette.responses": ("Response",),
        "urllib.parse": ("quote",),
    }.items()
    for name in names
}


def _symbols(spec: Spec, interfaces: list[ServerInterface], module: str) -> Symbols:
    """What ``handlers.py`` or ``routers.py`` may import: stdlib and typing names, the embedded client's
    models, the runtime's names and (for the routers) the handler classes."""
    handlers = (
        {i.class_name: ".handlers" for i in interfaces} | {"Handlers": ".handlers"} if module == "routers" else {}
    )
    return {
        **STDLIB_SYMBOLS,
        **{n: ".client" + m for n, m in model_symbols(spec).items()},
        **SERVER_SYMBOLS,
        **handlers,
    }


class _ImportsThenFormat:
    """Formatter of ``handlers.py``/``routers.py``: the import block is worked out from the printed code
    (``pyimports.insert_imports``), then the file is formatted like every template."""

    def __init__(self, spec: Spec, interfaces: list[ServerInterface], module: str) -> None:
        self.symbols = _symbols(spec, interfaces, module)

    def __call__(self, text: str) -> str:
        return format_template(insert_imports(text, self.symbols, Imports()))

    def black_blocks(self, text: str) -> list[str]:
        """The blocks that formatting ``text`` sends to black (``pipeline.render_files`` batches them)."""
        return black_blocks(insert_imports(text, self.symbols, Imports()), format_template)


def user_imports(package: str) -> dict[str, Imports]:
    """Imports of the user's files (``app.py``, ``handlers.py``, ``tests/test_server.py``)."""
    first = frozenset({"handlers", package})
    return {
        "app_imports": Imports(first).add("handlers", "HANDLERS").add(package, "ServerSettings", "create_app"),
        "user_handlers_imports": Imports(first).add(f"{package}.handlers", "Handlers"),
        "test_imports": Imports(first)
        .add("", "asyncio", "base64")
        .add("fastapi.testclient", "TestClient")
        .add("handlers", "HANDLERS")
        .add(package, "ServerSettings", "SqliteStore", "create_app", "issue_token_a"),
    }


def init_imports(push: list[PushView] | None = None, receives: list[Receive] | None = None) -> Imports:
    models = sorted({name for p in push or [] for name in p.models} | {r.collection for r in receives or []})
    imports = Imports().add("typing", "Any").add("fastapi", "FastAPI").add(".client.models", "Credentials", *models)
    imports.add("._admin", "ADMIN_PREFIX", "create_admin_app").add("._party", "OcpiParty", "OperatorError")
    imports.add("._push", *(("PushModule", "PushOp") if push else ("PushModule",)))
    imports.add("._app", "AppSpec", "build_app", "issue_token_a", "register_with_peer as _register_with_peer")
    imports.add("._resync", "Receiving", "ResyncResult", "resync_peer")
    imports.add("._settings", "ServerSettings").add("._store", "Party", "SqliteStore", "Store", "open_store")
    return imports.add(".handlers", "Handlers").add(".routers", "build_routers")


def quick_start(spec: Spec, role: Role, interfaces: list[ServerInterface]) -> dict[str, str | None]:
    """What the README's quick start names: a peer role to register with and to add as a pull-only
    peer, and the path of one of our paginated lists (None when we serve none)."""
    peer_role = "EMSP" if role.name == "CPO" else "CPO"
    listed = next((i.mount for i in interfaces for r in i.routes if r.kind == "list"), None)
    peer_slug = peer_role.lower()
    return {"peer_role": peer_role, "peer_slug": peer_slug, "list_path": listed}


def server_files(spec: Spec, role_name: str, prefix: str = "") -> list[PlannedFile]:
    """Every file of a scaffolded server project; ``user`` files are marked by their folder."""
    role = next(r for r in spec.roles if r.slug == role_name.lower())
    interfaces = server_view(spec, role)
    package = naming.server_package(role.slug, spec.version)
    receives = receive_table(spec, role)
    ctx: dict[str, Any] = {
        "spec": spec,
        "role": role,
        "interfaces": interfaces,
        "package": package,
        "project": naming.server_project(role.slug, spec.version),
        "header": f"Generated by ocpi-codegen from spec/{spec.version}; do not edit. Regenerate with: ocpi-codegen server {spec.version} --role {role.slug} -o DIR --update",
        "routing_headers": spec.routing_headers,
        "credentials_roles": credentials_has(spec, "roles"),
        "not_found_codes": not_found_codes(spec),
        "receives_code": tuple_code("RECEIVES: tuple[Receiving, ...] = ", [r.expr for r in receives]),
        "quick_start": quick_start(spec, role, interfaces),
        "push_modules": (push := push_view(spec, role)),
        "init_imports": init_imports(push, receives),
        # The same as a literal the way black writes it (double quotes): its block may skip black.
        "not_found_codes_literal": json.dumps(not_found_codes(spec)),
        "credentials_role": credentials_role(spec, role),
        "hub_party_id": role.name == HUB and credentials_has(spec, "hub_party_id"),
        "printable": PRINTABLE_ASCII,
        "imports": IMPORTS_MARKER,
        **user_imports(package),
    }
    gen = f"{prefix}{package}/"
    files = [
        PlannedFile(f"{gen}__init__.py", "server/package_init.py.j2", ctx, format_template),
        PlannedFile(
            f"{gen}handlers.py", "server/handlers.py.j2", ctx, _ImportsThenFormat(spec, interfaces, "handlers")
        ),
        PlannedFile(f"{gen}routers.py", "server/routers.py.j2", ctx, _ImportsThenFormat(spec, interfaces, "routers")),
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


def is_user_file(path: str, package: str) -> bool:
    """Files outside the generated package belong to the user."""
    return not path.startswith(f"{package}/")


def role_document_file(spec: Spec, role: Role, path: str) -> PlannedFile:
    """The role's OpenAPI document (as in ``generated/<v>/openapi/roles/``), compact JSON, for ``/openapi.json``."""
    (doc,) = [d for d in documents(spec) if d.stem == f"roles/{role.slug}"]
    text = json.dumps(shared_document(spec, doc), ensure_ascii=False, separators=(",", ":")) + "\n"
    return PlannedFile(path, "", {"text": text})
