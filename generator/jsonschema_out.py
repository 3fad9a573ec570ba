"""JSON Schema (draft 2020-12) files, one per OCPI object, class and enum of a version.

The schemas are the OpenAPI component schemas (``generator.typemap.named_schema``)
with their references rewritten from ``#/components/schemas/Name`` to the sibling
file ``Name.json``, so both outputs state the same facts (``format: decimal`` numbers, open enums as
``anyOf`` an enum or any string, ``maxLength``, ``int(n)`` maxima, list cardinalities).
"""

from __future__ import annotations

from typing import Any

from generator.ir import NamedType, Spec
from generator.plan import PlannedFile, dump_json
from generator.typemap import named_schema

DRAFT = "https://json-schema.org/draft/2020-12/schema"
_COMPONENT = "#/components/schemas/"


def file_name(type_name: str) -> str:
    return f"{type_name}.json"


def _relative_refs(node: Any) -> Any:
    """A copy of ``node`` whose component ``$ref``s point at sibling files."""
    if isinstance(node, dict):
        out = {k: _relative_refs(v) for k, v in node.items()}
        ref = out.get("$ref")
        if isinstance(ref, str) and ref.startswith(_COMPONENT):
            out["$ref"] = file_name(ref[len(_COMPONENT) :])
        return out
    if isinstance(node, list):
        return [_relative_refs(v) for v in node]
    return node


def type_json_schema(spec: Spec, t: NamedType) -> dict[str, Any]:
    """The standalone schema document of one named type."""
    body = named_schema(t)
    head = {"$schema": DRAFT, "$id": file_name(t.name), "title": t.name}
    return {**head, **_relative_refs(body), "$comment": f"OCPI {spec.version}, spec section {t.anchor}"}


def schema_files(spec: Spec, prefix: str = "") -> list[PlannedFile]:
    """One planned ``<Name>.json`` per named type of the version, in spec order."""
    return [
        PlannedFile(f"{prefix}{file_name(t.name)}", "", {"text": dump_json(type_json_schema(spec, t))})
        for t in spec.types
    ]


__all__ = ["DRAFT", "file_name", "schema_files", "type_json_schema"]
