"""The one table of primitives and the one object-schema builder, seen from every target."""

from __future__ import annotations

import builtins
import functools
import keyword

import pytest

from generator import naming, typemap
from generator.ir import Field, ObjectType, TypeRef
from generator.loader import PRIMITIVES as LOADER_PRIMITIVES
from generator.models import models_schema, patch_types
from generator.openapi import build_document, documents
from generator.paths import SPEC_ROOT, available_versions
from generator.pipeline import load_spec as _load_spec
from tests.client_support import client_package

VERSIONS = available_versions(SPEC_ROOT)
load_spec = functools.cache(_load_spec)


def test_loader_accepts_exactly_the_primitives_of_the_table() -> None:
    assert LOADER_PRIMITIVES == frozenset(typemap.PRIMITIVES)
    assert set(typemap.PRIMITIVES) == {"string", "CiString", "DateTime", "number", "int", "boolean", "URL", "any"}


@pytest.mark.parametrize("name", sorted(typemap.PRIMITIVES))
def test_every_target_reads_the_same_row(name: str) -> None:
    row = typemap.PRIMITIVES[name]
    t = TypeRef(name, True, 4 if row.length else None)
    assert typemap.python_type(t) == row.python
    api, model = typemap.type_schema(t, "openapi"), typemap.type_schema(t, "models")
    # The targets differ only in format/customTypePath; type and length constraints are the same.
    strip = {"format", "customTypePath"}
    assert {k: v for k, v in api.items() if k not in strip} == {k: v for k, v in model.items() if k not in strip}
    assert ("customTypePath" in model) == (row.runtime_type is not None)
    if row.length == "digits":
        assert api["maximum"] == 9999 and typemap.query_constraints(t) == "ge=0, le=9999"
    elif row.length == "chars":
        assert api["maxLength"] == 4 and typemap.query_constraints(t) == "max_length=4"
    else:
        assert "maximum" not in api and "maxLength" not in api and typemap.query_constraints(t) == ""


def test_query_text_per_primitive() -> None:
    assert typemap.query_text(TypeRef("DateTime", True), "date_from") == "format_datetime(date_from)"
    assert typemap.query_text(TypeRef("boolean", True), "x") == '"true" if x else "false"'
    assert typemap.query_text(TypeRef("int", True), "limit") == "str(limit)"
    assert typemap.query_text(TypeRef("TokenType", False, is_enum=True), "type") == "str(type)"
    assert typemap.query_annotation(TypeRef("DateTime", True)) == "str"  # the runtime's OCPI parser reads it
    assert typemap.query_annotation(TypeRef("int", True)) == "int"


def test_open_enum_is_any_string_in_openapi_and_the_open_class_in_models() -> None:
    t = TypeRef("Facility", False, open_enum=True, is_enum=True)
    assert typemap.type_schema(t, "openapi") == {"anyOf": [typemap.ref("Facility"), {"type": "string"}]}
    assert typemap.type_schema(t, "models") == typemap.ref("Facility")


@pytest.mark.parametrize("version", VERSIONS)
def test_openapi_components_and_model_input_come_from_one_builder(version: str) -> None:
    """For every object, the published schema and the models' input have the same properties,
    required lists and list constraints; PATCH twins too."""
    spec = load_spec(SPEC_ROOT, version)
    models = models_schema(spec)["components"]["schemas"]
    published: dict[str, dict[str, object]] = {}
    for doc in documents(spec):
        published.update(build_document(spec, doc)["components"]["schemas"])
    compared = 0
    for name, schema in published.items():
        if name not in models or "properties" not in schema:
            continue
        model = models[name]
        assert schema.get("required") == model.get("required"), name
        assert schema["properties"].keys() == model["properties"].keys(), name  # type: ignore[attr-defined]
        for prop, s in schema["properties"].items():  # type: ignore[attr-defined]
            m = model["properties"][prop]
            assert s.get("minItems") == m.get("minItems") and s.get("type") == m.get("type"), (name, prop)
            assert s.get("maxLength") == m.get("maxLength") and s.get("maximum") == m.get("maximum"), (name, prop)
        compared += 1
    assert compared > 10


@pytest.mark.parametrize("version", VERSIONS)
def test_patch_twins_require_last_updated_from_2_2_on(version: str) -> None:
    """2.2 on: a PATCH must carry last_updated (mod_locations_patch_method); 2.1.1's PATCH examples
    send a lone status, so a 2.1.1 patch may leave it out."""
    spec = load_spec(SPEC_ROOT, version)
    pkg = client_package(spec)
    for name in patch_types(spec):
        obj = spec.type(name)
        assert isinstance(obj, ObjectType)
        schema = typemap.object_schema(obj, patch=True, patch_last_updated=spec.patch_last_updated, target="models")
        lu = obj.field_named("last_updated")
        expected = ["last_updated"] if lu is not None and lu.required and version != "2.1.1" else None
        assert spec.patch_last_updated == (version != "2.1.1")
        assert schema.get("required") == expected
        model = getattr(pkg.models, naming.patch_schema(name))
        required = [n for n, f in model.model_fields.items() if f.is_required()]
        assert required == (expected or [])


def test_fields_schema_lists_required_fields_in_order() -> None:
    s = TypeRef("string", True, 3)
    fields = (Field("b", s, "1", "B", "b"), Field("a", s, "?", "A", "a"), Field("c", s, "+", "C", "c"))
    schema = typemap.fields_schema("doc", fields)
    assert schema["required"] == ["b", "c"]
    assert schema["properties"]["c"] == {
        "type": "array",
        "items": {"type": "string", "maxLength": 3},
        "minItems": 1,
        "description": "C",
    }


def test_keywords_escaped_builtins_kept_whatever_python_runs_the_generator() -> None:
    assert naming.KEYWORDS == frozenset(keyword.kwlist)
    assert naming.field_name("from") == "from_" and naming.py_identifier("class") == "class_"
    assert naming.py_identifier("self") == "self_"
    for kept in ("type", "id", "list", "filter", "match", "case"):
        assert naming.py_identifier(kept) == kept
        assert kept in dir(builtins) or keyword.issoftkeyword(kept) or kept == "type"


def test_names_built_in_naming() -> None:
    assert naming.interface_class("Charging Profiles", "RECEIVER") == "ChargingProfilesReceiver"
    assert naming.interface_class("Credentials", "BOTH") == "CredentialsApi"
    assert naming.handler_class("Tokens", "RECEIVER") == "TokensReceiverHandlers"
    assert naming.interface_attr("locations", "SENDER") == "locations_sender"
    assert naming.role_client_class("CPO") == "CpoClient"
    assert naming.argument("ChargingProfile") == "charging_profile"
    assert naming.client_package("2.2.1") == "ocpi_client_v2_2_1"
    assert naming.distribution("ocpi_client_v2_2_1") == "ocpi-client-v2-2-1"
    assert naming.interface_path("locations", "SENDER", both=True) == "/locations/sender"
    assert naming.interface_path("locations", "SENDER", both=False) == "/locations"
    assert naming.interface_path("credentials", "BOTH", both=True) == "/credentials"


@pytest.mark.parametrize("version", VERSIONS)
def test_model_attributes_are_the_ir_python_names(version: str) -> None:
    """The IR's ``py_name`` (used by the server's expressions) is the attribute datamodel-code-generator
    made, and the JSON name is its alias: a field named after a keyword would break here first."""
    spec = load_spec(SPEC_ROOT, version)
    models = client_package(spec).models
    for t in spec.types:
        if isinstance(t, ObjectType):
            fields = getattr(models, t.name).model_fields
            for f in t.fields:
                assert f.py_name in fields, (t.name, f.name)
                assert (fields[f.py_name].alias or f.py_name) == f.name, (t.name, f.name)
