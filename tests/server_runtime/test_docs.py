"""API docs pages of a scaffold (``_docs.py``): the role's document, Swagger UI and ReDoc served from
packaged files, no token needed, ``OCPI_DOCS=0`` turns them off. ``scripts/docs_screenshot.sh``
renders the pages in headless Chromium."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ocpi_runtime.server._docs import ASSETS, assets_folder, install_docs
from ocpi_runtime.server._settings import ServerSettings
from tests.conftest import ROOT
from tests.server_support import server_package

SETTINGS = ServerSettings(base_url="https://ocpi.example.com/ocpi", country_code="NL", party_id="EXA")


def _scaffold_client(version: str, role: str, **settings: Any) -> TestClient:
    pkg = server_package(version, role)
    return TestClient(
        pkg.create_app(
            pkg.ServerSettings(base_url="https://ocpi.example.com/ocpi", country_code="NL", party_id="EXA", **settings)
        )
    )


@pytest.mark.parametrize(("version", "role"), [("2.1.1", "emsp"), ("2.2.1", "cpo"), ("2.3.0", "hub")])
def test_scaffold_serves_its_role_document_without_a_token(version: str, role: str) -> None:
    client = _scaffold_client(version, role)
    response = client.get("/openapi.json")
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    served = response.json()
    shipped = yaml.safe_load(
        (ROOT / "generated" / version / "openapi" / "roles" / f"{role}.yaml").read_text(encoding="utf-8")
    )
    assert served["servers"] == [{"url": f"https://ocpi.example.com/ocpi/{version}", "description": "This server."}]
    assert {**served, "servers": shipped["servers"]} == shipped
    # OCPI routes still want a token; the docs routes did not loosen them.
    assert client.get("/ocpi/versions").status_code == 401


def test_pages_load_only_local_assets() -> None:
    client = _scaffold_client("2.2.1", "cpo")
    for page in ("/docs", "/redoc"):
        response = client.get(page)
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
        html = response.text
        assert "OCPI 2.2.1 CPO server" in html
        urls = re.findall(r'(?:src|href|url:|spec-url=)\s*"([^"]+)"', html)
        assert urls and all(u.startswith("/") and not u.startswith("//") for u in urls), urls
        for url in urls:
            assert client.get(url).status_code == 200, url
    assert "Token " in client.get("/docs").text  # the interceptor that adds the scheme's prefix
    for name, media_type in ASSETS.items():
        response = client.get(f"/docs/assets/{name}")
        assert response.status_code == 200 and response.headers["content-type"].startswith(media_type)
        assert len(response.content) > 1000
    assert client.get("/docs/assets/..%2F__init__.py").status_code == 404
    assert client.get("/docs/assets/index.html").status_code == 404


def test_docs_setting_turns_everything_off(monkeypatch: pytest.MonkeyPatch) -> None:
    client = _scaffold_client("2.2.1", "cpo", docs=False)
    for path in ("/openapi.json", "/docs", "/redoc", "/docs/assets/swagger-ui.css"):
        assert client.get(path).status_code == 404, path
    assert ServerSettings.from_env(environ={"OCPI_DOCS": "0"}).docs is False
    assert ServerSettings.from_env(environ={}).docs is True
    with pytest.raises(ValueError, match="OCPI_DOCS"):
        ServerSettings.from_env(environ={"OCPI_DOCS": "maybe"})


def test_runtime_without_a_document_installs_nothing() -> None:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    assert install_docs(app, SETTINGS, "2.2.1") is False  # the source tree ships no openapi.json
    document = {"openapi": "3.1.0", "info": {"title": "T <b>", "version": "1"}, "paths": {}}
    assert install_docs(app, SETTINGS, "2.2.1", document) is True
    client = TestClient(app)
    assert json.loads(client.get("/openapi.json").text)["servers"][0]["url"] == "https://ocpi.example.com/ocpi/2.2.1"
    assert "T &lt;b&gt;" in client.get("/docs").text


def test_missing_asset_package_answers_503(monkeypatch: pytest.MonkeyPatch) -> None:
    from ocpi_runtime.server import _docs

    assert assets_folder() is not None
    monkeypatch.setattr(_docs, "assets_folder", lambda: None)
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    install_docs(app, SETTINGS, "2.2.1", {"openapi": "3.1.0", "info": {"title": "T", "version": "1"}, "paths": {}})
    client = TestClient(app)
    assert client.get("/docs").status_code == 503 and "fastapi-offline" in client.get("/redoc").text
    assert client.get("/openapi.json").status_code == 200
