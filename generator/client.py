"""Plan of a generated Python client package: view objects with every Python string precomputed.

Templates under ``templates/client/`` only print these objects. The runtime (transport, pagination,
errors, discovery, credentials handshake) is ordinary tested Python in ``runtime/ocpi_runtime/client/``,
copied verbatim into each package, so a generated client is self-contained: one ``pip install``, no
second package to keep in step.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator import naming
from generator.ir import Endpoint, Interface, ObjectType, Param, Payload, Spec, TypeRef
from generator.ir_build import BOTH
from generator.models import models_schema, patch_types, postprocess, run_datamodel_codegen
from generator.plan import PlannedFile
from generator.runtime_copy import copies
from generator.pyformat import format_python, format_template

#: Module interfaces with no attribute on the role clients: handled by discovery and the handshake.
HANDLED_BY_RUNTIME = ("versions",)


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


def _model_annotation(t: TypeRef) -> str:
    return naming.python_type(t.name, t.primitive)


def _param(p: Param) -> PyParam:
    ann = _model_annotation(p.type)
    if p.type.primitive and p.type.name == "DateTime":
        convert = f"format_datetime({p.py_name})"
    elif p.type.primitive and p.type.name in ("int", "number"):
        convert = f"str({p.py_name})"
    elif p.type.primitive and p.type.name == "boolean":
        convert = f'"true" if {p.py_name} else "false"'
    else:
        convert = f"str({p.py_name})"
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
            body_arg = naming.snake(t.name)
            body_ann = f"Sequence[{t.name}]" if ep.body.is_list else t.name
            body_expr = f"to_json_list({body_arg})" if ep.body.is_list else f"{body_arg}.to_json()"
        if not ep.body.required:
            body_ann = f"{body_ann} | None"
            body_expr = f"None if {body_arg} is None else {body_expr}"
    if ep.paginated and ep.response is not None:
        item = _model_annotation(ep.response.type)
        return PyMethod(ep.operation, ep.doc, ep.method, path_expr, path_params, query_params, body_arg, body_ann, body_expr, True, item, f"Paginator[{item}]", None, ep.routed)
    if ep.response is None:
        returns, parse = "OcpiResponse", None
    else:
        returns, parse = _parse_expr(ep.response)
        if not ep.response.required:
            returns = f"{returns} | None"
            parse = f"None if response.data is None else {parse}"
    return PyMethod(ep.operation, ep.doc, ep.method, path_expr, path_params, query_params, body_arg, body_ann, body_expr, False, None, returns, parse, ep.routed)


def _interface(spec: Spec, iface: Interface) -> PyInterface:
    role = "Api" if iface.role == BOTH else naming.pascal(iface.role.lower())
    discovery_role = iface.role if iface.role in ("SENDER", "RECEIVER") else None
    methods = tuple(_method(spec, ep) for ep in iface.endpoints)
    return PyInterface(naming.pascal(iface.module_name.replace(" ", "")) + role, iface.module_id, iface.role, discovery_role, iface.doc, methods)


def view(spec: Spec) -> tuple[list[PyInterface], list[PyRoleClient]]:
    interfaces = {(i.module_id, i.role): _interface(spec, i) for i in spec.interfaces if i.module_id not in HANDLED_BY_RUNTIME}
    clients = []
    for role in spec.roles:
        attrs = []
        for iface in role.interfaces:
            if iface.module_id in HANDLED_BY_RUNTIME or iface.role == BOTH:
                continue
            both = sum(1 for i in role.interfaces if i.module_id == iface.module_id) > 1
            name = f"{iface.module_id}_{iface.role.lower()}" if both else iface.module_id
            attrs.append(PyClientAttr(name, interfaces[(iface.module_id, iface.role)]))
        doc = f"Client for a peer in the {role.name} role: one attribute per module interface such a peer exposes."
        clients.append(PyRoleClient(naming.pascal(role.name.lower()) + "Client", role.name, doc, tuple(attrs)))
    return list(interfaces.values()), clients


def default_package(spec: Spec) -> str:
    return "ocpi_client_v" + spec.version.replace(".", "_")


def client_files(spec: Spec, package: str | None = None, prefix: str = "") -> list[PlannedFile]:
    pkg = package or default_package(spec)
    interfaces, clients = view(spec)
    credentials_iface = next(i for i in interfaces if i.module_id == "credentials")
    ctx = {
        "spec": spec,
        "package": pkg,
        "distribution": pkg.replace("_", "-"),
        "interfaces": interfaces,
        "clients": clients,
        "credentials": credentials_iface,
        "patch_types": [naming.patch_schema(n) for n in patch_types(spec)],
        "model_names": [t.name for t in spec.types],
        "header": f"Generated by ocpi-codegen from spec/{spec.version}; do not edit. Regenerate with: ocpi-codegen generate",
    }
    fmt = format_template
    files = [
        PlannedFile(f"{prefix}pyproject.toml", "client/pyproject.toml.j2", ctx),
        PlannedFile(f"{prefix}README.md", "client/README.md.j2", ctx),
        PlannedFile(f"{prefix}{pkg}/__init__.py", "client/__init__.py.j2", ctx, fmt),
        PlannedFile(f"{prefix}{pkg}/py.typed", "", {"text": ""}),
        PlannedFile(f"{prefix}{pkg}/models.py", "", {"text": _models_text(spec, ctx["header"])}, format_python),
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
        _MODELS_MEMO[key] = postprocess(run_datamodel_codegen(schema), spec, f"OCPI {spec.version} models.\n\n{header}\n")
    return _MODELS_MEMO[key]


__all__ = ["client_files", "default_package", "view"]
