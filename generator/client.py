"""Plan of a generated Python client package: view objects with every Python string precomputed.

Templates under ``templates/client/`` only print these objects. The runtime (transport, pagination,
errors, discovery, credentials handshake) is ordinary tested Python in ``runtime/ocpi_runtime/client/``,
copied verbatim into each package, so a generated client is self-contained: one ``pip install``, no
second package to keep in step.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator import naming, typemap
from generator.ir import Endpoint, Interface, ObjectType, Param, Payload, Spec
from generator.ir_build import BOTH
from generator.models import models_schema, patch_types, postprocess, run_datamodel_codegen
from generator.plan import PlannedFile
from generator.pyformat import format_models, format_template
from generator.pyimports import STDLIB_SYMBOLS, Imports
from generator.runtime_copy import copies

#: Module interfaces with no attribute on the role clients: handled by discovery and the handshake.
HANDLED_BY_RUNTIME = ("versions",)

#: Client runtime names that generated modules use, by the runtime module that defines them.
RUNTIME_SYMBOLS: dict[str, str] = {
    name: module
    for module, names in {
        "._api": (
            "NO_ROUTING",
            "AsyncClientBase",
            "AsyncInterface",
            "ClientBase",
            "Interface",
            "dump_value",
            "parse",
            "parse_list",
            "parser",
        ),
        "._call": ("OcpiResponse",),
        "._links": ("path_segment",),
        "._pagination": ("AsyncPaginator", "Paginator"),
        "._settings": ("Routing",),
        "._types": ("to_json_list",),
        "._wire": ("format_datetime",),
    }.items()
    for name in names
}

#: What a client package's ``__init__`` re-exports, by module (role clients are added per version).
PACKAGE_EXPORTS: dict[str, tuple[str, ...]] = {
    "._discovery": ("Discovery",),
    "._call": ("OcpiResponse",),
    "._pagination": ("AsyncPaginator", "Paginator"),
    "._settings": ("PeerDeviation", "PeerProfile", "Routing", "Settings"),
    "._types": ("Deviation", "OpenStrEnum", "ci_equal"),
    ".client": ("AsyncOcpiClient", "OcpiClient"),
    ".errors": (
        "AuthenticationError",
        "DeadlineExceededError",
        "HttpError",
        "InvalidResponseError",
        "LinkCycleError",
        "ModuleNotOfferedError",
        "NotFoundError",
        "OcpiClientError",
        "OcpiError",
        "OcpiHubError",
        "OcpiServerError",
        "OcpiStatusError",
        "PaginationError",
        "RateLimitedError",
        "RedirectError",
        "ResponseTooLargeError",
        "ServerError",
        "TransportError",
        "UnsafeLinkError",
        "UnsafeUrlError",
        "VersionNegotiationError",
    ),
}


@dataclass(frozen=True)
class PyParam:
    name: str  # Python argument name
    wire: str  # name on the wire
    annotation: str
    required: bool
    #: Expression turning the argument into its wire text (query) or path segment.
    convert: str


@dataclass(frozen=True)
class PyMethod:
    name: str
    doc: str
    http_method: str
    path_expr: str  # f-string body after the interface URL
    path_params: tuple[PyParam, ...]
    query_params: tuple[PyParam, ...]
    body_arg: str | None
    body_annotation: str | None
    body_expr: str | None
    paginated: bool
    item_type: str | None  # paginated item
    returns: str
    parse_expr: str | None  # how to turn response.data into the return value
    routed: bool = True  # hub routing headers apply (function modules only)

    @property
    def code(self) -> tuple[str | None, ...]:
        """Every annotation and expression the templates print for this method (sync and async)."""
        params = [x for p in self.path_params + self.query_params for x in (p.annotation, p.convert)]
        paging = ("parser", "Async" + self.returns) if self.paginated else ()
        routing = "Routing" if self.routed else "NO_ROUTING"
        return (
            *params,
            self.body_annotation,
            self.body_expr,
            self.returns,
            self.parse_expr,
            self.item_type,
            *paging,
            routing,
        )

    @property
    def url_expr(self) -> str:
        """The call's URL: the published interface URL joined with the path (one ``/`` between)."""
        if not self.path_expr:
            return 'self._at("")'
        prefix = "f" if "{" in self.path_expr else ""
        return f'self._at({prefix}"{self.path_expr}")'


@dataclass(frozen=True)
class PyInterface:
    class_name: str
    module_id: str
    role: str
    discovery_role: str | None  # role as listed in version details (None in 2.1.1)
    doc: str
    methods: tuple[PyMethod, ...]


@dataclass(frozen=True)
class PyClientAttr:
    name: str
    interface: PyInterface


@dataclass(frozen=True)
class PyRoleClient:
    class_name: str
    role: str
    doc: str
    attrs: tuple[PyClientAttr, ...]


_model_annotation = typemap.python_type


def _param(p: Param) -> PyParam:
    ann = _model_annotation(p.type)
    convert = typemap.query_text(p.type, p.py_name)
    if p.type.is_enum:
        ann = f"{ann} | str"
    if not p.required:
        ann = f"{ann} | None"
    if p.location == "path":
        convert = f"path_segment({convert})" if convert != f"str({p.py_name})" else f"path_segment({p.py_name})"
    return PyParam(p.py_name, p.name, ann, p.required, convert)


def _parse_expr(p: Payload) -> tuple[str, str]:
    """(return annotation, expression over ``response.data``)."""
    item = _model_annotation(p.type)
    if p.is_list:
        return f"builtins.list[{item}]", f"parse_list({item}, response, self._transport)"
    return item, f"parse({item}, response, self._transport)"


def _method(spec: Spec, ep: Endpoint) -> PyMethod:
    path_params = tuple(_param(p) for p in ep.path_params)
    query_params = tuple(_param(p) for p in ep.query_params)
    path_expr = ep.path
    for p, py in zip(ep.path_params, path_params):
        path_expr = path_expr.replace("{" + p.name + "}", "{" + py.convert + "}")
    body_arg = body_ann = body_expr = None
    if ep.body is not None:
        t = ep.body.type
        if ep.is_patch and not t.primitive and isinstance(spec.type(t.name), ObjectType):
            body_arg, body_ann, body_expr = "patch", f"{naming.patch_schema(t.name)}", "patch.to_json(partial=True)"
        elif t.primitive or t.is_enum:
            body_arg, body_ann, body_expr = "body", _model_annotation(t), "dump_value(body)"
        else:
            body_arg = naming.argument(t.name)
            body_ann = f"Sequence[{t.name}]" if ep.body.is_list else t.name
            body_expr = f"to_json_list({body_arg})" if ep.body.is_list else f"{body_arg}.to_json()"
        if not ep.body.required:
            body_ann = f"{body_ann} | None"
            body_expr = f"None if {body_arg} is None else {body_expr}"
    if ep.paginated and ep.response is not None:
        item = _model_annotation(ep.response.type)
        return PyMethod(
            ep.operation,
            ep.doc,
            ep.method,
            path_expr,
            path_params,
            query_params,
            body_arg,
            body_ann,
            body_expr,
            True,
            item,
            f"Paginator[{item}]",
            None,
            ep.routed,
        )
    if ep.response is None:
        returns, parse = "OcpiResponse", None
    else:
        returns, parse = _parse_expr(ep.response)
        if not ep.response.required:
            returns = f"{returns} | None"
            parse = f"None if response.data is None else {parse}"
    return PyMethod(
        ep.operation,
        ep.doc,
        ep.method,
        path_expr,
        path_params,
        query_params,
        body_arg,
        body_ann,
        body_expr,
        False,
        None,
        returns,
        parse,
        ep.routed,
    )


def _interface(spec: Spec, iface: Interface) -> PyInterface:
    discovery_role = iface.role if iface.role in ("SENDER", "RECEIVER") else None
    methods = tuple(_method(spec, ep) for ep in iface.endpoints)
    return PyInterface(
        naming.interface_class(iface.module_name, iface.role),
        iface.module_id,
        iface.role,
        discovery_role,
        iface.doc,
        methods,
    )


def model_symbols(spec: Spec) -> dict[str, str]:
    """Every model class of a version (PATCH twins included), imported from ``.models``."""
    names = [t.name for t in spec.types] + [naming.patch_schema(n) for n in patch_types(spec)]
    return dict.fromkeys(names, ".models")


def interfaces_imports(spec: Spec, interfaces: list[PyInterface]) -> Imports:
    """Imports of ``interfaces.py``: what the methods' annotations and expressions use."""
    symbols = {**STDLIB_SYMBOLS, **model_symbols(spec), **RUNTIME_SYMBOLS}
    imports = Imports().add("._api", "AsyncInterface", "Interface")
    for iface in interfaces:
        for m in iface.methods:
            imports.use(symbols, *m.code)
    return imports


def client_imports(interfaces: list[PyInterface], clients: list[PyRoleClient]) -> Imports:
    """Imports of ``client.py``: the interface classes the role clients hand out."""
    used = {i.class_name for i in interfaces if i.module_id == "credentials"} | {
        a.interface.class_name for c in clients for a in c.attrs
    }
    imports = Imports().add("._api", "AsyncClientBase", "ClientBase").add(".models", "Credentials")
    return imports.add(".interfaces", *used, *(f"Async{name}" for name in used))


def package_exports(clients: list[PyRoleClient]) -> dict[str, tuple[str, ...]]:
    """What ``__init__.py`` re-exports, by module."""
    roles = tuple(n for c in clients for n in (c.class_name, f"Async{c.class_name}"))
    return {**PACKAGE_EXPORTS, ".client": PACKAGE_EXPORTS[".client"] + roles, ".": ("models",)}


def view(spec: Spec) -> tuple[list[PyInterface], list[PyRoleClient]]:
    interfaces = {
        (i.module_id, i.role): _interface(spec, i) for i in spec.interfaces if i.module_id not in HANDLED_BY_RUNTIME
    }
    clients = []
    for role in spec.roles:
        attrs = []
        for iface in role.interfaces:
            if iface.module_id in HANDLED_BY_RUNTIME or iface.role == BOTH:
                continue
            both = sum(1 for i in role.interfaces if i.module_id == iface.module_id) > 1
            name = naming.interface_attr(iface.module_id, iface.role) if both else iface.module_id
            attrs.append(PyClientAttr(name, interfaces[(iface.module_id, iface.role)]))
        doc = f"Client for a peer in the {role.name} role: one attribute per module interface such a peer exposes."
        clients.append(PyRoleClient(naming.role_client_class(role.name), role.name, doc, tuple(attrs)))
    return list(interfaces.values()), clients


def default_package(spec: Spec) -> str:
    return naming.client_package(spec.version)


def client_files(spec: Spec, package: str | None = None, prefix: str = "") -> list[PlannedFile]:
    pkg = package or default_package(spec)
    interfaces, clients = view(spec)
    credentials_iface = next(i for i in interfaces if i.module_id == "credentials")
    exports = package_exports(clients)
    init_imports = Imports(future=False)
    for module, names in exports.items():
        init_imports.add(module, *names)
    header = f"Generated by ocpi-codegen from spec/{spec.version}; do not edit. Regenerate with: ocpi-codegen generate"
    ctx = {
        "spec": spec,
        "package": pkg,
        "distribution": naming.distribution(pkg),
        "interfaces": interfaces,
        "clients": clients,
        "credentials": credentials_iface,
        "init_imports": init_imports,
        "exports": sorted(n for names in exports.values() for n in names),
        "interfaces_imports": interfaces_imports(spec, interfaces),
        "client_imports": client_imports(interfaces, clients),
        "header": header,
    }
    fmt = format_template
    files = [
        PlannedFile(f"{prefix}pyproject.toml", "client/pyproject.toml.j2", ctx),
        PlannedFile(f"{prefix}README.md", "client/README.md.j2", ctx),
        PlannedFile(f"{prefix}{pkg}/__init__.py", "client/__init__.py.j2", ctx, fmt),
        PlannedFile(f"{prefix}{pkg}/py.typed", "", {"text": ""}),
        PlannedFile(f"{prefix}{pkg}/models.py", "", {"text": _models_text(spec, header)}, format_models),
        PlannedFile(f"{prefix}{pkg}/interfaces.py", "client/interfaces.py.j2", ctx, fmt),
        PlannedFile(f"{prefix}{pkg}/client.py", "client/client.py.j2", ctx, fmt),
    ]
    return files + copies("client", f"{prefix}{pkg}/")


_MODELS_MEMO: dict[str, str] = {}


def _models_text(spec: Spec, header: str) -> str:
    """models.py of the version; memoised, since every server of a version embeds the same client."""
    import json

    schema = models_schema(spec)
    key = json.dumps(schema, sort_keys=True) + header
    if key not in _MODELS_MEMO:
        _MODELS_MEMO[key] = postprocess(
            run_datamodel_codegen(schema), spec, f"OCPI {spec.version} models.\n\n{header}\n"
        )
    return _MODELS_MEMO[key]


__all__ = ["client_files", "default_package", "view"]
