"""What Redocly ``recommended`` (and Spectral ``spectral:oas``) warn about, asserted in Python on every
generated document: ``info.license`` and ``info.contact`` present, no unused component.

``docs/openapi-lint.md`` gives the linter commands and the figures measured with them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.openapi import DocumentInfo, build_document, documents, prune_components
from generator.pipeline import load_spec
from tests.conftest import FIXTURES, ROOT

DOCUMENTS = sorted((ROOT / "generated").glob("*/openapi/*/*.yaml"))


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        own = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return own.union(*(_refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node))
    return set()


def test_every_version_has_role_documents() -> None:
    roles = [p for p in DOCUMENTS if p.parent.name == "roles"]
    assert len(roles) >= 20 and {p.parts[-4] for p in roles} == {"2.1.1", "2.2", "2.2.1", "2.3.0"}


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: "/".join(p.parts[-4:]))
def test_license_contact_and_no_unused_component(path: Path) -> None:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    info = document["info"]
    assert info["license"]["name"] and info["license"]["identifier"]
    assert "url" not in info["license"]  # OpenAPI 3.1: identifier and url exclude each other
    assert info["contact"]["name"] and info["contact"]["url"].startswith("https://")
    used = _refs(document)
    for section, entries in document["components"].items():
        if section == "securitySchemes":
            assert set(entries) == {name for req in document["security"] for name in req}
            continue
        assert entries, f"empty components/{section}"
        for name in entries:
            assert f"#/components/{section}/{name}" in used, f"components/{section}/{name} is never used"


def test_prune_follows_references_between_components() -> None:
    document: dict[str, Any] = {
        "paths": {"/a": {"get": {"responses": {"400": {"$ref": "#/components/responses/Bad"}}}}},
        "components": {
            "responses": {"Bad": {"content": {"x": {"schema": {"$ref": "#/components/schemas/E"}}}}, "Gone": {}},
            "schemas": {"E": {"properties": {"d": {"$ref": "#/components/schemas/D"}}}, "D": {}, "Unused": {}},
            "headers": {"XLimit": {}},
            "securitySchemes": {"TokenAuth": {}},
        },
    }
    prune_components(document)
    assert document["components"] == {
        "responses": {"Bad": document["components"]["responses"]["Bad"]},
        "schemas": {"E": document["components"]["schemas"]["E"], "D": {}},
        "securitySchemes": {"TokenAuth": {}},
    }


def test_license_and_contact_are_settings() -> None:
    spec = load_spec(FIXTURES / "basic", "1.0")
    d = documents(spec)[0]
    info = DocumentInfo(
        license_name="Proprietary",
        license_identifier="LicenseRef-Mine",
        contact_name="Ops",
        contact_url="",
        contact_email="ops@example.com",
    )
    document = build_document(spec, d, info)
    assert document["info"]["license"] == {"name": "Proprietary", "identifier": "LicenseRef-Mine"}
    assert document["info"]["contact"] == {"name": "Ops", "email": "ops@example.com"}
    default = build_document(spec, d)["info"]
    assert default["license"] == {"name": "Apache-2.0", "identifier": "Apache-2.0"}
    assert default["contact"]["name"] == "EVRoaming Foundation (OCPI)"
