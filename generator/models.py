"""Pydantic v2 models for a version, made by datamodel-code-generator and post-processed.

The input is an OpenAPI document of component schemas built from the IR for this purpose (not the
published documents): OCPI primitives point at the package's own runtime types through
``customTypePath`` (``Number`` = exact Decimal written as a JSON number, ``DateTime`` = zone-less
means UTC, written with ``Z``), enum members get readable names through ``x-enum-varnames``, and
every PATCH body type gets a ``<Name>Patch`` twin with all fields optional. Post-processing then:

1. replaces the header and import block with our own (relative imports, sorted);
2. drops the per-class ``ConfigDict(arbitrary_types_allowed=True)`` (the base class has it);
3. inlines the ``RootModel`` wrappers made for constrained list items (``list[TariffId]`` becomes
   ``list[Annotated[str, Field(max_length=36)]]``) so users pass plain strings;
4. bases OpenEnum classes on ``OpenStrEnum``, which keeps unknown values instead of failing.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

from generator import naming
from generator.ir import EnumType, ObjectType, Spec, TypeRef

_RUNTIME = "ocpi_runtime_placeholder"


def patch_types(spec: Spec) -> list[str]:
    """Object types sent as PATCH bodies, in spec order."""
    names = {ep.body.type.name for i in spec.interfaces for ep in i.endpoints if ep.is_patch and ep.body and not ep.body.type.primitive}
    return [t.name for t in spec.types if t.name in names]


def _type_schema(t: TypeRef) -> dict[str, Any]:
    if not t.primitive:
        return {"$ref": f"#/components/schemas/{t.name}"}
    if t.name == "number":
        return {"type": "number", "customTypePath": f"{_RUNTIME}._types.Number"}
    if t.name == "DateTime":
        return {"type": "string", "customTypePath": f"{_RUNTIME}._types.DateTime"}
    if t.name == "int":
        return {"type": "integer", **({"maximum": 10**t.length - 1} if t.length else {})}
    if t.name == "boolean":
        return {"type": "boolean"}
    if t.name == "any":
        return {}
    return {"type": "string", **({"maxLength": t.length} if t.length else {})}


def _object(t: ObjectType, *, patch: bool) -> dict[str, Any]:
    props = {}
    for f in t.fields:
        schema = _type_schema(f.type)
        if f.is_list:
            schema = {"type": "array", "items": schema, **({"minItems": 1} if f.card == "+" and not patch else {})}
        props[f.name] = {**schema, "description": f.doc}
    doc = f"Partial {t.name} for PATCH: only the fields set are sent." if patch else t.doc
    out: dict[str, Any] = {"type": "object", "description": doc, "properties": props}
    required = [] if patch else [f.name for f in t.fields if f.required]
    if required:
        out["required"] = required
    return out


def models_schema(spec: Spec) -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for t in spec.types:
        if isinstance(t, EnumType):
            schemas[t.name] = {
                "type": "string",
                "description": t.doc,
                "enum": [v.value for v in t.values],
                "x-enum-varnames": [v.py_name for v in t.values],
            }
        else:
            schemas[t.name] = _object(t, patch=False)
    for name in patch_types(spec):
        obj = spec.type(name)
        assert isinstance(obj, ObjectType)
        schemas[naming.patch_schema(name)] = _object(obj, patch=True)
    return {"openapi": "3.1.0", "info": {"title": f"OCPI {spec.version} models", "version": spec.version}, "paths": {}, "components": {"schemas": schemas}}


def run_datamodel_codegen(schema: dict[str, Any]) -> str:
    import json

    from datamodel_code_generator import DataModelType, InputFileType, PythonVersion, generate

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = generate(
            json.dumps(schema),
            input_file_type=InputFileType.OpenAPI,
            output_model_type=DataModelType.PydanticV2BaseModel,
            target_python_version=PythonVersion.PY_311,
            use_annotated=True,
            field_constraints=True,
            use_standard_collections=True,
            use_union_operator=True,
            use_double_quotes=True,
            collapse_root_models=True,
            disable_timestamp=True,
            base_class=f"{_RUNTIME}._types.OcpiModel",
            use_schema_description=True,
            use_field_description=True,
            formatters=[],
        )
    assert isinstance(out, str)
    return out


_ROOT_ITEM = re.compile(r"\nclass (\w+)\(RootModel\[(\w+)\]\):\n    root: (.+)\n")
_CONFIG = re.compile(r"\n    model_config = ConfigDict\(\n        arbitrary_types_allowed=True,\n    \)\n")
_BODY_START = re.compile(r"^class ", re.M)


def postprocess(code: str, spec: Spec, header: str) -> str:
    body = code[_BODY_START.search(code).start() :]  # type: ignore[union-attr]
    body = _CONFIG.sub("\n", body)
    for match in list(_ROOT_ITEM.finditer(body)):
        name, annotation = match.group(1), match.group(3)
        body = body.replace(match.group(0), "\n")
        body = re.sub(rf"\b{name}\b", annotation, body)
    for t in spec.types:
        if isinstance(t, EnumType) and t.open:
            body = body.replace(f"class {t.name}(StrEnum):", f"class {t.name}(OpenStrEnum):")
    if "RootModel" in body or _RUNTIME.split(".")[0] in body:
        raise RuntimeError("datamodel-code-generator output has a shape the post-processor does not know")
    runtime = sorted(n for n in ("DateTime", "Number", "OcpiModel", "OpenStrEnum") if re.search(rf"\b{n}\b", body))
    imports = ["from __future__ import annotations", ""]
    if "StrEnum)" in body:
        imports.append("from enum import StrEnum")
    if "Annotated[" in body or "Any" in body:
        typing_names = [n for n in ("Annotated", "Any") if re.search(rf"\b{n}\b", body)]
        imports.append(f"from typing import {', '.join(typing_names)}")
    imports += ["", "from pydantic import Field", "", f"from ._types import {', '.join(runtime)}"]
    if "Field(" not in body:
        imports.remove("from pydantic import Field")
    return f'"""{header}"""\n\n' + "\n".join(imports) + "\n\n\n" + body
