"""Pydantic v2 models for a version, made by datamodel-code-generator and post-processed.

The input is an OpenAPI document of component schemas built from the IR for this purpose (not the
published documents): OCPI primitives point at the package's own runtime types through
``customTypePath`` (``Number`` = exact Decimal written as a JSON number, ``DateTime`` = zone-less
means UTC, written with ``Z``), enum members get readable names through ``x-enum-varnames``, and
every PATCH body type gets a ``<Name>Patch`` twin with all fields optional. Post-processing then:

1. replaces the header and import block with our own: the names the code uses, as ``Imports``;
2. drops the per-class ``ConfigDict(arbitrary_types_allowed=True)`` (the base class has it);
3. inlines the ``RootModel`` wrappers made for constrained list items (``list[TariffId]`` becomes
   ``list[Annotated[str, Field(max_length=36)]]``) so users pass plain strings;
4. bases OpenEnum classes on ``OpenStrEnum``, which keeps unknown values instead of failing.
"""

from __future__ import annotations

import ast
import json
import re
import warnings
from concurrent.futures import Future
from typing import Any

from generator import naming, typemap
from generator.ir import EnumType, ObjectType, Spec
from generator.pyimports import STDLIB_SYMBOLS, Imports

_RUNTIME = typemap.MODELS_RUNTIME


def patch_types(spec: Spec) -> list[str]:
    """Object types sent as PATCH bodies, in spec order."""
    names = {
        ep.body.type.name
        for i in spec.interfaces
        for ep in i.endpoints
        if ep.is_patch and ep.body and not ep.body.type.primitive
    }
    return [t.name for t in spec.types if t.name in names]


def models_schema(spec: Spec) -> dict[str, Any]:
    schemas: dict[str, Any] = {t.name: typemap.named_schema(t, "models") for t in spec.types}
    for name in patch_types(spec):
        obj = spec.type(name)
        assert isinstance(obj, ObjectType)
        schemas[naming.patch_schema(name)] = typemap.object_schema(
            obj, patch=True, patch_last_updated=spec.patch_last_updated, target="models"
        )
    return {
        "openapi": "3.1.0",
        "info": {"title": f"OCPI {spec.version} models", "version": spec.version},
        "paths": {},
        "components": {"schemas": schemas},
    }


#: Runs of ``run_datamodel_codegen`` started ahead in a worker process (``pipeline.plan``), by their
#: input (``ahead_key``); each is taken once.
AHEAD: dict[str, Future[str]] = {}


def ahead_key(schema: dict[str, Any]) -> str:
    return json.dumps(schema, sort_keys=True)


def run_datamodel_codegen(schema: dict[str, Any]) -> str:
    ahead = AHEAD.pop(ahead_key(schema), None) if AHEAD else None
    if ahead is not None:
        try:
            return ahead.result()
        except Exception:  # noqa: BLE001 - run here instead: the same output, or the same error as without it
            pass
    from datamodel_code_generator import InputFileType, PythonVersion, generate
    from datamodel_code_generator.enums import DataModelType

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
_DOC_THEN_BODY = re.compile(r'^(class \w+\(.*\):\n    """\n(?:    .*\n|\n)*?    """\n)(?=    \S)', re.M)
_SINGLE_QUOTED_MEMBER = re.compile(r"^(    [A-Za-z_]\w* = )'([^'\"\\]*)'$", re.M)


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
    # Two things black would change in every class, done here so that the classes skip black
    # (pyformat.format_models): a blank line after a class docstring; enum values in double quotes.
    body = _DOC_THEN_BODY.sub("\\1\n", body)
    body = _SINGLE_QUOTED_MEMBER.sub('\\1"\\2"', body)
    if "RootModel" in body or _RUNTIME.split(".")[0] in body:
        raise RuntimeError("datamodel-code-generator output has a shape the post-processor does not know")
    imports = Imports().use(_SYMBOLS, *_names(body))
    return f'"""{header}"""\n\n{imports}\n\n\n{body}'


#: Where the names that models use come from.
_SYMBOLS = {
    **STDLIB_SYMBOLS,
    "StrEnum": "enum",
    "Field": "pydantic",
    **dict.fromkeys(("DateTime", "Number", "OcpiModel", "OpenStrEnum"), "._types"),
}


def _names(body: str) -> set[str]:
    """Every name the module's code reads (docstrings and other strings are not code)."""
    return {
        node.id for node in ast.walk(ast.parse(body)) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
    }
