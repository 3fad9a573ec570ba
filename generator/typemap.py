"""The one table of OCPI primitives, and what each target makes of a type.

Every target reads the row of an IR primitive (``TypeRef.primitive``) here and nowhere else:

- **Python annotation** (models, client methods, server handlers): ``python_type``;
- **query parameter**: how a client writes the argument (``query_text``) and what the server lets
  FastAPI parse before the runtime reads it (``query_annotation``);
- **JSON Schema**: ``type_schema`` / ``object_schema`` / ``enum_schema`` build both the published
  OpenAPI components (target ``"openapi"``) and the input of datamodel-code-generator (target
  ``"models"``) under one set of rules; the targets differ only where noted in ``type_schema``.

The loader accepts exactly the names of ``PRIMITIVES`` as primitive types (spec: ``types``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from generator.ir import EnumType, Field, ObjectType, TypeRef

Schema = dict[str, Any]
Target = Literal["openapi", "models"]

#: Placeholder for the generated package's runtime in the models' input schema (``customTypePath``).
MODELS_RUNTIME = "ocpi_runtime_placeholder"


@dataclass(frozen=True)
class Primitive:
    """One OCPI primitive type and its form in every target."""

    name: str
    #: Python annotation of a value (models, client arguments, handler signatures).
    python: str
    #: JSON Schema of a value in the published OpenAPI documents.
    schema: Schema
    #: How a length (``string(36)``, ``int(4)``) constrains it: at most n characters, at most n digits.
    length: Literal["chars", "digits"] | None
    #: Runtime type the models use instead of datamodel-code-generator's mapping (``_types.<name>``).
    runtime_type: str | None = None
    #: Client: expression writing argument ``{}`` as query text or path segment.
    query_text: str = "str({})"
    #: Server: the type FastAPI parses a query/path value into (DateTime stays text: the runtime's
    #: lenient OCPI parser reads it, not pydantic's).
    query_annotation: str = "str"
    #: Server: a placeholder value of the type, as a Python expression.
    placeholder: str = '"OK"'


_PRIMITIVE_ROWS = (
    Primitive("string", "str", {"type": "string"}, "chars"),
    Primitive("CiString", "str", {"type": "string"}, "chars"),
    Primitive(
        "DateTime",
        "datetime",
        {"type": "string", "format": "date-time"},
        None,
        runtime_type="DateTime",
        query_text="format_datetime({})",
        placeholder="utc_now()",
    ),
    Primitive(
        "number",
        "Decimal",
        {"type": "number", "format": "decimal"},
        None,
        runtime_type="Number",
        query_annotation="Decimal",
        placeholder='Decimal("0")',
    ),
    Primitive("int", "int", {"type": "integer"}, "digits", query_annotation="int", placeholder="0"),
    Primitive(
        "boolean",
        "bool",
        {"type": "boolean"},
        None,
        query_text='"true" if {} else "false"',
        query_annotation="bool",
        placeholder="True",
    ),
    Primitive("URL", "str", {"type": "string", "format": "uri"}, "chars", placeholder='"https://example.invalid/"'),
    Primitive("any", "Any", {}, None),
)

#: OCPI primitive name -> its row.
PRIMITIVES: dict[str, Primitive] = {p.name: p for p in _PRIMITIVE_ROWS}


def primitive(t: TypeRef) -> Primitive | None:
    """The row of a primitive type reference, ``None`` for a named type."""
    return PRIMITIVES[t.name] if t.primitive else None


# -- Python ----------------------------------------------------------------------------------------


def python_type(t: TypeRef) -> str:
    """The Python annotation of one value of ``t``: a primitive's Python type or the model name."""
    p = primitive(t)
    return p.python if p is not None else t.name


def query_text(t: TypeRef, arg: str) -> str:
    """Client: the expression writing argument ``arg`` of type ``t`` as query text or path segment."""
    p = primitive(t)
    return (p.query_text if p is not None else "str({})").format(arg)


def query_annotation(t: TypeRef) -> str:
    """Server: the type FastAPI parses a query or path value of type ``t`` into (enums stay text)."""
    p = primitive(t)
    return p.query_annotation if p is not None else "str"


def query_constraints(t: TypeRef) -> str:
    """Server: the ``Path()``/``Query()`` arguments enforcing ``t``'s length."""
    p = primitive(t)
    if p is None or t.length is None:
        return ""
    if p.length == "digits":
        return f"ge=0, le={10**t.length - 1}"
    return f"max_length={t.length}" if p.length == "chars" else ""


def placeholder(t: TypeRef, field_name: str = "") -> str:
    """Server: a placeholder value of primitive ``t`` as an expression (a string fits its length)."""
    p = primitive(t)
    assert p is not None, t
    if p.name == "int" and field_name == "timeout":
        return "30"
    if p.length == "chars" and p.name != "URL":
        return json.dumps("OK"[: t.length or 2])
    return p.placeholder


# -- JSON Schema -----------------------------------------------------------------------------------


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def type_schema(t: TypeRef, target: Target = "openapi") -> Schema:
    """Schema of one value of ``t`` (not a list).

    The two targets differ only in what the models need from datamodel-code-generator: a primitive
    with a runtime type (exact ``Number``, lenient ``DateTime``) names it through ``customTypePath``
    and drops ``format`` (which would otherwise map ``uri`` to ``AnyUrl``, rewriting URLs), and an
    open enum is a plain reference (its ``OpenStrEnum`` class keeps unknown values itself) instead
    of ``anyOf`` the enum or any string.
    """
    p = primitive(t)
    if p is None:
        if t.open_enum and target == "openapi":
            return {"anyOf": [ref(t.name), {"type": "string"}]}
        return ref(t.name)
    schema = dict(p.schema)
    if target == "models":
        schema.pop("format", None)
        if p.runtime_type is not None:
            schema["customTypePath"] = f"{MODELS_RUNTIME}._types.{p.runtime_type}"
    if t.length is not None and p.length == "digits":
        schema["maximum"] = 10**t.length - 1  # int(n): at most n digits
    elif t.length is not None and p.length == "chars":
        schema["maxLength"] = t.length
    return schema


def list_schema(item: Schema, card: str) -> Schema:
    """An array of ``item`` for cardinality ``*`` or ``+`` (at least one)."""
    schema: Schema = {"type": "array", "items": item}
    if card == "+":
        schema["minItems"] = 1
    return schema


def field_schema(f: Field, target: Target = "openapi") -> Schema:
    schema = type_schema(f.type, target)
    if f.is_list:
        schema = list_schema(schema, f.card)
    return {**schema, "description": f.doc}


#: The field a PATCH must carry when its object has it and the version says so (``Spec.patch_last_updated``:
#: mod_locations_patch_method and its siblings from 2.2 on; 2.1.1's own PATCH examples leave it out).
PATCH_REQUIRED = "last_updated"


def fields_schema(doc: str, fields: tuple[Field, ...], target: Target = "openapi") -> Schema:
    """An object with these fields; the required ones (cardinality 1 or +) listed."""
    schema: Schema = {
        "type": "object",
        "description": doc,
        "properties": {f.name: field_schema(f, target) for f in fields},
    }
    required = [f.name for f in fields if f.required]
    if required:
        schema["required"] = required
    return schema


def object_schema(
    t: ObjectType, *, patch: bool = False, patch_last_updated: bool = False, target: Target = "openapi"
) -> Schema:
    """An OCPI object or class, or (``patch``) its PATCH form: any subset of its fields, but
    ``last_updated`` when the object requires it and ``patch_last_updated`` (the version's rule).
    Unknown fields are allowed (OCPI 2.3.0 is extensible)."""
    if not patch:
        return fields_schema(t.doc, t.fields, target)
    schema = fields_schema(f"Any subset of the fields of {t.name}; unchanged fields are left out.", t.fields, target)
    required = [f.name for f in t.fields if f.name == PATCH_REQUIRED and f.required and patch_last_updated]
    schema.pop("required", None)
    if required:
        schema["required"] = required
    return schema


def enum_schema(t: EnumType, target: Target = "openapi") -> Schema:
    """An enum; the models also get readable member names (``x-enum-varnames``)."""
    doc = t.doc + (" Open: peers may send values not listed here." if t.open else "")
    schema: Schema = {"type": "string", "description": doc, "enum": [v.value for v in t.values]}
    if target == "models":
        schema["x-enum-varnames"] = [v.py_name for v in t.values]
    return schema


def named_schema(t: ObjectType | EnumType, target: Target = "openapi") -> Schema:
    return enum_schema(t, target) if isinstance(t, EnumType) else object_schema(t, target=target)


__all__ = [
    "PRIMITIVES",
    "Primitive",
    "enum_schema",
    "field_schema",
    "fields_schema",
    "list_schema",
    "named_schema",
    "object_schema",
    "placeholder",
    "python_type",
    "query_annotation",
    "query_constraints",
    "query_text",
    "ref",
    "type_schema",
]
