"""Build OpenAPI 3.1 documents from the IR, as plain dicts (the writer dumps them).

One document per market role (every interface a server in that role exposes) and one per module
interface. Paths are relative to the server URL ``/ocpi/<version>``; a module's interface lives at
``/<module id>``, or at ``/<module id>/<sender|receiver>`` in a document that holds both interfaces of
the module (a hub's), so that no two paths collide under OpenAPI's matching rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from generator import naming, typemap
from generator.ir import Endpoint, Interface, ObjectType, Payload, Spec, TypeRef
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
Schema = typemap.Schema


@dataclass(frozen=True)
class DocumentInfo:
    """``info.license`` and ``info.contact`` of every document (linters ask for both).

    Defaults: the licence of ocpi-codegen's output (Apache-2.0, as the project) and the OCPI
    standard's owner as contact; pass another ``DocumentInfo`` to ``build_document`` /
    ``openapi_files`` to state your own.
    """

    license_name: str = "Apache-2.0"
    license_identifier: str = "Apache-2.0"  # SPDX; OpenAPI 3.1 takes it instead of a URL
    contact_name: str = "EVRoaming Foundation (OCPI)"
    contact_url: str = "https://evroaming.org"
    contact_email: str = ""

    def license(self) -> dict[str, str]:
        return {"name": self.license_name, "identifier": self.license_identifier}

    def contact(self) -> dict[str, str]:
        out = {"name": self.contact_name, "url": self.contact_url, "email": self.contact_email}
        return {k: v for k, v in out.items() if v}


DEFAULT_INFO = DocumentInfo()


@dataclass(frozen=True)
class Document:
    """One OpenAPI document to emit: its file stem, title and interfaces."""

    stem: str
    kind: str  # "role" or "interface"
    title: str
    interfaces: tuple[Interface, ...]


def documents(spec: Spec) -> list[Document]:
    """Every document of a version: per role, then per module interface, in spec order."""
    docs = [
        Document(f"roles/{r.slug}", "role", f"OCPI {spec.version} {r.name} server", r.interfaces) for r in spec.roles
    ]
    for iface in spec.interfaces:
        role = "" if iface.role == BOTH else f" {iface.role.title()} interface"
        docs.append(
            Document(
                f"interfaces/{iface.slug}", "interface", f"OCPI {spec.version} {iface.module_name}{role}", (iface,)
            )
        )
    return docs


def payload_schema(p: Payload, *, patch: bool = False) -> Schema:
    item = typemap.ref(naming.patch_schema(p.type.name)) if patch else typemap.type_schema(p.type)
    return typemap.list_schema(item, p.card) if p.is_list else item


class _Builder:
    """Builds one document; collects the component schemas its operations use."""

    def __init__(self, spec: Spec, doc: Document, info: DocumentInfo = DEFAULT_INFO) -> None:
        self.spec = spec
        self.doc = doc
        self.info = info
        self.envelopes: dict[str, Schema] = {}
        self.patches: set[str] = set()
        self.roots: list[str] = []

    def base_path(self, iface: Interface) -> str:
        both = sum(1 for i in self.doc.interfaces if i.module_id == iface.module_id) > 1
        return naming.interface_path(iface.module_id, iface.role, both)

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
                "contact": self.info.contact(),
                "license": self.info.license(),
            },
            "servers": [
                {"url": f"/ocpi/{spec.version}", "description": "Relative base; real URLs come from version details."}
            ],
            "security": [{"TokenAuth": []}],
            "tags": [{"name": naming.tag(m.name), "description": f"{m.doc} (spec: {m.anchor})"} for m in modules],
            "paths": paths,
            "components": self.components(),
        }
        prune_components(document)
        return document

    def info_description(self) -> str:
        auth = "Base64 of the credentials token" if self.spec.token_base64 else "the credentials token as is"
        extensions = "".join(f" With the optional {e.name} {e.release} extension." for e in self.spec.extensions)
        return (
            f"Generated by ocpi-codegen from its transcription of OCPI {self.spec.edition}.{extensions} "
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
                "content": {
                    JSON: {"schema": payload_schema(ep.body, patch=ep.is_patch and not ep.body.type.primitive)}
                },
            }
        op["responses"] = self.responses(ep)
        return op

    def param(self, p: Any, paginated: bool = False) -> Schema:
        schema = typemap.type_schema(p.type)
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
            if h.response
            and (ep.paginated or not h.paginated_only)
            and (not h.routing or (self.spec.routing_headers and ep.routed))
        }
        ok: dict[str, Any] = {
            "description": "Success (OCPI status 1xxx).",
            "content": {JSON: {"schema": typemap.ref(name)}},
        }
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
                "content": {JSON: {"schema": typemap.ref("OcpiResponse")}},
            }
        return out

    def components(self) -> dict[str, Any]:
        spec = self.spec
        schemas: dict[str, Schema] = {}
        for t in spec.reachable_types(self.roots + sorted(self.patches)):
            schemas[t.name] = typemap.named_schema(t)
        for name in sorted(self.patches):
            obj = spec.type(name)
            if isinstance(obj, ObjectType):
                schemas[naming.patch_schema(name)] = typemap.object_schema(
                    obj, patch=True, patch_last_updated=spec.patch_last_updated
                )
        schemas["OcpiResponse"] = self.envelope_base()
        for name in sorted(self.envelopes):
            schemas[name] = self.envelopes[name]
        headers = [h for h in spec.transport.headers if spec.routing_headers or not h.routing]
        error = {JSON: {"schema": typemap.ref("OcpiResponse")}}
        return {
            "schemas": schemas,
            "parameters": {
                h.component: {
                    "name": h.name,
                    "in": "header",
                    "required": False,
                    "description": h.doc,
                    "schema": self.header_schema(h.name),
                }
                for h in headers
                if h.request and h.name != "Authorization"
            },
            "headers": {
                h.component: {"description": h.doc, "schema": self.header_schema(h.name)} for h in headers if h.response
            },
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
                    + (
                        "the Base64 encoding of the credentials token."
                        if spec.token_base64
                        else "the credentials token."
                    ),
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
        return typemap.fields_schema(self.spec.transport.envelope_doc, self.spec.transport.envelope_fields)


def build_document(spec: Spec, doc: Document, info: DocumentInfo = DEFAULT_INFO) -> dict[str, Any]:
    return _Builder(spec, doc, info).build()


#: The documents built for the last Spec asked about: a generation plans a version's OpenAPI files
#: and then its server scaffolds, which serve the same role documents; each is built once.
_LAST_BUILT: tuple[Spec | None, dict[tuple[str, DocumentInfo], dict[str, Any]]] = (None, {})


def shared_document(spec: Spec, doc: Document, info: DocumentInfo = DEFAULT_INFO) -> dict[str, Any]:
    """``build_document``, memoised for the last ``spec`` (the generator's own use: callers share
    the result and must not change it)."""
    global _LAST_BUILT
    if _LAST_BUILT[0] is not spec:
        _LAST_BUILT = (spec, {})
    built = _LAST_BUILT[1]
    key = (doc.stem, info)
    if key not in built:
        built[key] = build_document(spec, doc, info)
    return built[key]


#: Component sections reached by ``$ref`` (security schemes are named by ``security`` instead).
_REF_SECTIONS = ("schemas", "parameters", "headers", "responses")


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref
        for v in node.values():
            yield from _refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from _refs(v)


def prune_components(document: dict[str, Any]) -> None:
    """Drop every component that nothing outside ``components`` reaches (directly or through other
    components); a section left empty goes too. Changes ``document`` in place."""
    components = document["components"]
    todo = [r for k, v in document.items() if k != "components" for r in _refs(v)]
    used: set[str] = set()
    while todo:
        ref = todo.pop()
        if ref in used or not ref.startswith("#/components/"):
            continue
        used.add(ref)
        _, _, section, name = ref.split("/", 3)
        todo.extend(_refs(components.get(section, {}).get(name)))
    for section in _REF_SECTIONS:
        if section in components:
            kept = {n: c for n, c in components[section].items() if f"#/components/{section}/{n}" in used}
            if kept:
                components[section] = kept
            else:
                del components[section]


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
