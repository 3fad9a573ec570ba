"""OpenAPI mapping rules, checked on the fixture spec where every case is known."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec_validator import validate

from generator.ir import Spec
from generator.openapi import build_document, documents, path_collisions
from generator.pipeline import load_spec
from tests.conftest import FIXTURES


@pytest.fixture(scope="module")
def spec() -> Spec:
    return load_spec(FIXTURES / "basic", "1.0")


def doc(spec: Spec, stem: str) -> dict[str, Any]:
    (d,) = [d for d in documents(spec) if d.stem == stem]
    return build_document(spec, d)


def test_documents_per_role_and_interface(spec: Spec) -> None:
    stems = [d.stem for d in documents(spec)]
    assert stems == [
        "roles/cpo",
        "roles/emsp",
        "roles/hub",
        "interfaces/versions-both",
        "interfaces/credentials-both",
        "interfaces/stations-sender",
        "interfaces/stations-receiver",
    ]
    for d in documents(spec):
        document = build_document(spec, d)
        validate(document)
        assert path_collisions(document) == []


def test_hub_document_separates_both_interfaces(spec: Spec) -> None:
    paths = set(doc(spec, "roles/hub")["paths"])
    assert "/stations/sender/{station_id}/{plug_id}" in paths
    assert "/stations/receiver/{country_code}/{party_id}/{station_id}" in paths
    assert "/stations/{station_id}" in set(doc(spec, "roles/cpo")["paths"])


def test_token_auth_not_bearer(spec: Spec) -> None:
    scheme = doc(spec, "roles/cpo")["components"]["securitySchemes"]["TokenAuth"]
    assert scheme["type"] == "apiKey" and scheme["in"] == "header" and scheme["name"] == "Authorization"
    assert "bearer" not in str(scheme).lower()


def test_types_are_mapped_exactly(spec: Spec) -> None:
    station = doc(spec, "roles/cpo")["components"]["schemas"]["Station"]
    props = station["properties"]
    assert props["country_code"]["maxLength"] == 2
    assert props["last_updated"]["format"] == "date-time"
    assert props["power"]["type"] == "number" and props["power"]["format"] == "decimal"
    assert props["kind"]["anyOf"] == [{"$ref": "#/components/schemas/StationKind"}, {"type": "string"}]
    assert props["status"]["$ref"] == "#/components/schemas/Status"
    assert props["plugs"]["minItems"] == 1 and props["plugs"]["type"] == "array"
    assert "minItems" not in props["name"]
    assert station["required"] == ["country_code", "party_id", "id", "status", "plugs", "last_updated"]


def test_paginated_list_documents_headers_and_parameters(spec: Spec) -> None:
    op = doc(spec, "roles/cpo")["paths"]["/stations"]["get"]
    names = [p.get("name") for p in op["parameters"] if "name" in p]
    assert names == ["date_from", "date_to", "offset", "limit"]
    refs = [p["$ref"].rsplit("/", 1)[1] for p in op["parameters"] if "$ref" in p]
    assert refs == ["XRequestID", "XCorrelationID", "OCPIToPartyId"]
    assert {"Link", "X-Total-Count", "X-Limit"} <= set(op["responses"]["200"]["headers"])
    assert op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/StationListEnvelope")
    single = doc(spec, "roles/cpo")["paths"]["/stations/{station_id}"]["get"]
    assert "Link" not in single["responses"]["200"]["headers"]
    assert "404" in single["responses"]


def test_envelope_and_patch_body(spec: Spec) -> None:
    d = doc(spec, "roles/emsp")
    schemas = d["components"]["schemas"]
    assert schemas["OcpiResponse"]["required"] == ["status_code", "timestamp"]
    assert set(schemas["OcpiResponse"]["properties"]) == {"data", "status_code", "status_message", "timestamp"}
    patch = d["paths"]["/stations/{country_code}/{party_id}/{station_id}"]["patch"]
    assert patch["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/StationPatch"
    }
    assert schemas["StationPatch"]["required"] == ["last_updated"]
    put = d["paths"]["/stations/{country_code}/{party_id}/{station_id}"]["put"]
    assert set(put["responses"]) == {"200", "201", "400", "401", "404"}


def test_operation_ids_are_unique_and_readable(spec: Spec) -> None:
    d = doc(spec, "roles/hub")
    ids = [op["operationId"] for item in d["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    assert "stations_sender_get_plug" in ids and "stations_receiver_patch" in ids
