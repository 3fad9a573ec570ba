"""Build OpenAPI 3.1 documents from the IR, as plain dicts (the writer dumps them).

One document per market role (every interface a server in that role exposes) and one per module
interface. Paths are relative to the server URL ``/ocpi/<version>``; a module's interface lives at
``/<module id>``, or at ``/<module id>/<sender|receiver>`` in a document that holds both interfaces of
the module (a hub's), so that no two paths collide under OpenAPI's matching rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from generator import naming
from generator.ir import Endpoint, EnumType, Field, Interface, ObjectType, Payload, Spec, TypeRef
from generator.ir_build import BOTH

OPENAPI_VERSION = "3.1.0"
JSON = "application/json"
#: Smallest values the server accepts for the pagination parameters (transport_and_format_pagination).
PAGE_MINIMUM = {"offset": 0, "limit": 1}
#: The response header of a POST that created an object (server declaration ``location: true``).
LOCATION_HEADER = {
    "description": "URL of the created object, where it can be read back.",
    "required": True,
    "schema": {"type": "string", "format": "uri"},
}
Schema = dict[str, Any]

_PRIMITIVE_SCHEMAS: dict[str, Schema] = {
    "string": {"type": "string"},
    "CiString": {"type": "string"},
    "DateTime": {"type": "string", "format": "date-time"},
    "number": {"type": "number", "format": "decimal"},
    "int": {"type": "integer"},
    "boolean": {"type": "boolean"},
    "URL": {"type": "string", "format": "uri"},
    "any": {},
}


@dataclass(frozen=True)
class Document:
    """One OpenAPI document to emit: its file stem, title and interfaces."""

    stem: str
    kind: str  # "role" or "interface"
    title: str
    interfaces: tuple[Interface, ...]


def documents(spec: Spec) -> list[Document]:
    """Every document of a version: per role, then per module interface, in spec order."""
    docs = [Document(f"roles/{r.slug}", "role", f"OCPI {spec.version} {r.name} server", r.interfaces) for r in spec.roles]
    for iface in spec.interfaces:
        role = "" if iface.role == BOTH else f" {iface.role.title()} interface"
        docs.append(Document(f"interfaces/{iface.slug}", "interface", f"OCPI {spec.version} {iface.module_name}{role}", (iface,)))
    return docs


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def type_schema(t: TypeRef) -> Schema:
    """Schema of one value of a type (not a list)."""
    if t.primitive:
        schema = dict(_PRIMITIVE_SCHEMAS[t.name])
        if t.length is not None and t.name == "int":
            schema["maximum"] = 10**t.length - 1  # int(n): at most n digits
        elif t.length is not None and t.name != "DateTime":
            schema["maxLength"] = t.length
        return schema
    if t.open_enum:
        return {"anyOf": [ref(t.name), {"type": "string"}]}
    return ref(t.name)


def field_schema(f: Field) -> Schema:
    schema = type_schema(f.type)
    if f.is_list:
        schema = {"type": "array", "items": schema}
        if f.card == "+":
            schema["minItems"] = 1
    return {**schema, "description": f.doc}


def object_schema(t: ObjectType, *, patch: bool = False) -> Schema:
    """An OCPI object or class. Unknown fields are allowed (OCPI 2.3.0 is extensible)."""
    schema: Schema = {"type": "object", "description": t.doc}
    if patch:
        schema["description"] = f"Any subset of the fields of {t.name}; unchanged fields are left out."
    schema["properties"] = {f.name: field_schema(f) for f in t.fields}
    required = [f.name for f in t.fields if f.required]
    if patch:
        required = [f.name for f in t.fields if f.name == "last_updated" and f.required]
    if required:
        schema["required"] = required
    return schema


def enum_schema(t: EnumType) -> Schema:
    doc = t.doc + (" Open: peers may send values not listed here." if t.open else "")
    return {"type": "string", "description": doc, "enum": [v.value for v in t.values]}


def payload_schema(p: Payload, *, patch: bool = False) -> Schema:
    item = ref(naming.patch_schema(p.type.name)) if patch else type_schema(p.type)
    if p.is_list:
        schema: Schema = {"type": "array", "items": item}
        if p.card == "+":
            schema["minItems"] = 1
        return schema
    return item


class _Builder:
    """Builds one document; collects the component schemas its operations use."""

    def __init__(self, spec: Spec, doc: Document) -> None:
        self.spec = spec
        self.doc = doc
        self.envelopes: dict[str, Schema] = {}
        self.patches: set[str] = set()
        self.roots: list[str] = []

    def base_path(self, iface: Interface) -> str:
        both = sum(1 for i in self.doc.interfaces if i.module_id == iface.module_id) > 1
        if both and iface.role != BOTH:
            return f"/{iface.module_id}/{iface.role.lower()}"
        return f"/{iface.module_id}"

    def build(self) -> dict[str, Any]:
        spec = self.spec
        paths: dict[str, dict[str, Any]] = {}
        for iface in self.doc.interfaces:
            base = self.base_path(iface)
            for ep in iface.endpoints:
                paths.setdefault(base + ep.path, {})[ep.method.lower()] = self.operation(iface, ep)
        modules = [m for m in spec.modules if any(i.module_id == m.id for i in self.doc.interfaces)]
        document: dict[str, Any] = {
            "openapi": OPENAPI_VERSION,
            "info": {
                "title": self.doc.title,
                "version": spec.version,
                "description": self.info_description(),
            },
            "servers": [{"url": f"/ocpi/{spec.version}", "description": "Relative base; real URLs come from version details."}],
            "security": [{"TokenAuth": []}],
            "tags": [{"name": naming.tag(m.name), "description": f"{m.doc} (spec: {m.anchor})"} for m in modules],
            "paths": paths,
            "components": self.components(),
        }
        return document

    def info_description(self) -> str:
        auth = "Base64 of the credentials token" if self.spec.token_base64 else "the credentials token as is"
        return (
            f"Generated by ocpi-codegen from its transcription of OCPI {self.spec.edition}. "
            f"Every response is wrapped in the OCPI envelope. Authorization: `Token <{auth}>`."
        )

    def header_params(self, ep: Endpoint) -> list[Schema]:
        return [
            {"$ref": f"#/components/parameters/{h.component}"}
            for h in self.spec.transport.headers
            if h.request and h.name != "Authorization" and (not h.routing or (self.spec.routing_headers and ep.routed))
        ]

    def operation(self, iface: Interface, ep: Endpoint) -> dict[str, Any]:
        op: dict[str, Any] = {
            "operationId": ep.operation_id,
            "tags": [naming.tag(iface.module_name)],
            "summary": ep.doc,
            "description": f"{ep.doc} {iface.role.title() if iface.role != BOTH else 'Every'} interface (spec: {ep.anchor}).",
        }
        params = [self.param(p, ep.paginated) for p in ep.path_params + ep.query_params] + self.header_params(ep)
        if params:
            op["parameters"] = params
        if ep.body is not None:
            self.use(ep.body.type)
            if ep.is_patch and not ep.body.type.primitive:
                self.patches.add(ep.body.type.name)
            op["requestBody"] = {
                "required": ep.body.required,
                "content": {JSON: {"schema": payload_schema(ep.body, patch=ep.is_patch and not ep.body.type.primitive)}},
            }
        op["responses"] = self.responses(ep)
        return op

    def param(self, p: Any, paginated: bool = False) -> Schema:
        schema = type_schema(p.type)
        if p.location == "path" and p.type.primitive and p.type.name in ("CiString", "string"):
            schema = {**schema, "minLength": 1, "pattern": "^[ -~]+$"}  # what the server accepts: printable ASCII
        if paginated and p.name in PAGE_MINIMUM:
            schema = {**schema, "minimum": PAGE_MINIMUM[p.name]}
        return {"name": p.name, "in": p.location, "required": p.required, "description": p.doc, "schema": schema}

    def use(self, t: TypeRef) -> None:
        if not t.primitive:
            self.roots.append(t.name)

    def envelope(self, payload: Payload | None) -> str:
        if payload is None:
            return "OcpiResponse"
        self.use(payload.type)
        name = naming.envelope_schema(payload.type.name, payload.is_list)
        data = payload_schema(payload)
        schema: Schema = {
            "allOf": [
                {"$ref": "#/components/schemas/OcpiResponse"},
                {"type": "object", "properties": {"data": data}},
            ],
        }
        if payload.required:
            schema["allOf"][1]["required"] = ["data"]
        self.envelopes[name] = schema
        return name

    def responses(self, ep: Endpoint) -> dict[str, Any]:
        name = self.envelope(ep.response)
        headers = {
            h.name: {"$ref": f"#/components/headers/{h.component}"}
            for h in self.spec.transport.headers
            if h.response and (ep.paginated or not h.paginated_only) and (not h.routing or (self.spec.routing_headers and ep.routed))
        }
        ok: dict[str, Any] = {"description": "Success (OCPI status 1xxx).", "content": {JSON: {"schema": ref(name)}}}
        if headers:
            ok["headers"] = headers
        declared = ep.server
        if declared is not None and declared.location:
            ok = {**ok, "headers": {**ok.get("headers", {}), "Location": LOCATION_HEADER}}
        if declared is not None and declared.status == 201:
            out: dict[str, Any] = {"201": {**ok, "description": "Created (OCPI status 1xxx)."}}
        else:
            out = {"200": ok}
        if ep.method == "PUT":
            out["201"] = {**ok, "description": "Created (OCPI status 1xxx)."}
        out["400"] = {"$ref": "#/components/responses/BadRequest"}
        out["401"] = {"$ref": "#/components/responses/Unauthorized"}
        if ep.path_params or (declared is not None and declared.kind == "created"):
            out["404"] = {"$ref": "#/components/responses/NotFound"}
        if declared is not None and declared.kind in ("command", "decision"):
            out["501"] = {
                "description": "The server's operator has not implemented this decision (OCPI status 3000).",
                "content": {JSON: {"schema": ref("OcpiResponse")}},
            }
        return out

    def components(self) -> dict[str, Any]:
        spec = self.spec
        schemas: dict[str, Schema] = {}
        for t in spec.reachable_types(self.roots + sorted(self.patches)):
            schemas[t.name] = enum_schema(t) if isinstance(t, EnumType) else object_schema(t)
        for name in sorted(self.patches):
            obj = spec.type(name)
            if isinstance(obj, ObjectType):
                schemas[naming.patch_schema(name)] = object_schema(obj, patch=True)
        schemas["OcpiResponse"] = self.envelope_base()
        for name in sorted(self.envelopes):
            schemas[name] = self.envelopes[name]
        headers = [h for h in spec.transport.headers if spec.routing_headers or not h.routing]
        error = {JSON: {"schema": ref("OcpiResponse")}}
        return {
            "schemas": schemas,
            "parameters": {
                h.component: {"name": h.name, "in": "header", "required": False, "description": h.doc, "schema": self.header_schema(h.name)}
                for h in headers
                if h.request and h.name != "Authorization"
            },
            "headers": {h.component: {"description": h.doc, "schema": self.header_schema(h.name)} for h in headers if h.response},
            "responses": {
                "BadRequest": {"description": "Malformed request (OCPI status 2001 or 2xxx).", "content": error},
                "Unauthorized": {"description": "Missing or unknown credentials token.", "content": error},
                "NotFound": {"description": "Unknown object (OCPI status 2004 from 2.2 on).", "content": error},
            },
            "securitySchemes": {
                "TokenAuth": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "`Token ` followed by "
                    + ("the Base64 encoding of the credentials token." if spec.token_base64 else "the credentials token."),
                }
            },
        }

    @staticmethod
    def header_schema(name: str) -> Schema:
        if name in ("X-Total-Count", "X-Limit"):
            return {"type": "integer", "minimum": 0}
        if name.startswith("OCPI-") and name.endswith("country-code"):
            return {"type": "string", "maxLength": 2}
        if name.startswith("OCPI-") and name.endswith("party-id"):
            return {"type": "string", "maxLength": 3}
        return {"type": "string"}

    def envelope_base(self) -> Schema:
        props = {f.name: field_schema(f) for f in self.spec.transport.envelope_fields}
        required = [f.name for f in self.spec.transport.envelope_fields if f.required]
        schema: Schema = {"type": "object", "description": self.spec.transport.envelope_doc, "properties": props}
        if required:
            schema["required"] = required
        return schema


def build_document(spec: Spec, doc: Document) -> dict[str, Any]:
    return _Builder(spec, doc).build()


_TEMPLATE = re.compile(r"\{[^}]+\}")


def path_collisions(document: dict[str, Any]) -> list[tuple[str, str]]:
    """Pairs of paths that OpenAPI would treat as the same template (same shape, other names)."""
    seen: dict[str, str] = {}
    clashes = []
    for path in document["paths"]:
        shape = _TEMPLATE.sub("{}", path)
        if shape in seen:
            clashes.append((seen[shape], path))
        seen[shape] = path
    return clashes
