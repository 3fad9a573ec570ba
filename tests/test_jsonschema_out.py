"""JSON Schema per object (``generated/<v>/schema/``, ``ocpi-codegen schema``): valid draft 2020-12,
the same facts as the OpenAPI components, and sample objects validate against them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from generator.cli import main
from generator.ir import EnumType, ObjectType
from generator.paths import SPEC_ROOT, available_versions
from generator.pipeline import load_spec
from tests import samples
from tests.conftest import ROOT

GENERATED = ROOT / "generated"
VERSIONS = available_versions(SPEC_ROOT)
HEAD = ("$schema", "$id", "title", "$comment")


def _schemas(version: str) -> dict[str, dict[str, Any]]:
    folder = GENERATED / version / "schema"
    return {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))}


def _validator(schemas: dict[str, dict[str, Any]], name: str) -> Draft202012Validator:
    registry: Registry = Registry().with_resources(
        (file, Resource.from_contents(s, default_specification=DRAFT202012)) for file, s in schemas.items()
    )
    return Draft202012Validator(schemas[f"{name}.json"], registry=registry)


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return ([node["$ref"]] if "$ref" in node else []) + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


@pytest.mark.parametrize("version", VERSIONS)
def test_one_valid_schema_per_object_and_enum(version: str) -> None:
    spec = load_spec(SPEC_ROOT, version)
    schemas = _schemas(version)
    assert sorted(schemas) == sorted(f"{t.name}.json" for t in spec.types)
    for file, schema in schemas.items():
        Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["$id"] == file
        for ref in _refs(schema):
            assert ref in schemas, f"{file}: $ref {ref} names no sibling file"
    for t in spec.types:
        schema = schemas[f"{t.name}.json"]
        if isinstance(t, EnumType):
            assert schema["enum"] == [v.value for v in t.values]
        else:
            assert isinstance(t, ObjectType)
            assert list(schema["properties"]) == [f.name for f in t.fields]


@pytest.mark.parametrize("version", VERSIONS)
def test_same_facts_as_the_openapi_components(version: str) -> None:
    schemas = _schemas(version)
    compared = 0
    for doc in sorted((GENERATED / version / "openapi" / "roles").glob("*.yaml")):
        components = yaml.safe_load(doc.read_text(encoding="utf-8"))["components"]["schemas"]
        for name, component in components.items():
            if f"{name}.json" not in schemas:
                continue  # envelopes and patch bodies exist only in the documents
            as_file = _rel(component)
            body = {k: v for k, v in schemas[f"{name}.json"].items() if k not in HEAD}
            assert body == as_file, f"{version} {name} differs from {doc.name}"
            compared += 1
    assert compared > 20


def _rel(node: Any) -> Any:
    if isinstance(node, dict):
        out = {k: _rel(v) for k, v in node.items()}
        if isinstance(out.get("$ref"), str):
            out["$ref"] = out["$ref"].rsplit("/", 1)[1] + ".json"
        return out
    if isinstance(node, list):
        return [_rel(v) for v in node]
    return node


def test_money_is_an_exact_number_and_open_enums_take_new_values() -> None:
    schemas = _schemas("2.2.1")
    price = schemas["Price.json"]["properties"]["excl_vat"]
    assert price["type"] == "number" and price["format"] == "decimal"
    assert schemas["Location.json"]["properties"]["id"]["maxLength"] == 36
    facilities = _schemas("2.3.0")["Location.json"]["properties"]["facilities"]["items"]
    assert facilities == {"anyOf": [{"$ref": "Facility.json"}, {"type": "string"}]}


SAMPLED = ("Location", "Session", "CDR", "Tariff", "Token", "Credentials")


@pytest.mark.parametrize("version", VERSIONS)
def test_sample_objects_validate(version: str) -> None:
    spec = load_spec(SPEC_ROOT, version)
    schemas = _schemas(version)
    for name in SAMPLED:
        t = spec.type(name)
        assert isinstance(t, ObjectType)
        validator = _validator(schemas, name)
        good = samples.loads(samples.dumps(samples.obj(spec, t, unknown_enums=True, extra=True)))
        errors = [e.message for e in validator.iter_errors(good)]
        assert errors == [], f"{version} {name}: {errors[:3]}"
        required = next(f.name for f in t.fields if f.required)
        missing = {k: v for k, v in good.items() if k != required}
        assert not validator.is_valid(missing)
        too_long = next(
            (f for f in t.fields if f.type.name in ("string", "CiString") and f.type.length and not f.is_list), None
        )
        if too_long is not None:
            assert not validator.is_valid({**good, too_long.name: "x" * (too_long.type.length + 1)})  # type: ignore[operator]


def test_schema_verb_writes_the_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "2.2.1", "-o", str(tmp_path / "out")]) == 0
    written = {p.name: p.read_text(encoding="utf-8") for p in (tmp_path / "out").iterdir()}
    expected = {p.name: p.read_text(encoding="utf-8") for p in (GENERATED / "2.2.1" / "schema").iterdir()}
    assert written == expected
    assert "JSON Schema files" in capsys.readouterr().out
