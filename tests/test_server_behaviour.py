"""The generated servers' HTTP behaviour as a client meets it: envelopes and codes, never a traceback."""

from __future__ import annotations

import base64
import functools
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from generator.paths import SPEC_ROOT
from generator.pipeline import load_spec
from tests.blocking import blocking, sync
from tests.conftest import ROOT
from tests.samples import dumps, obj
from tests.server_support import server_package

V = "2.2.1"


@functools.cache
def setup(role: str) -> tuple[TestClient, dict[str, str], str, object]:
    pkg = server_package(V, role)
    settings = pkg.ServerSettings(base_url="http://testserver/ocpi", country_code="NL", party_id="SRV")
    store = pkg.SqliteStore(":memory:")
    sync(store).save_party(pkg.Party("peer", token_b="their-token", token_c="our-token", version=V))
    token_a = blocking(pkg.issue_token_a(settings, "newcomer", store))
    client = TestClient(pkg.create_app(settings, store=store), raise_server_exceptions=False)
    return client, {"Authorization": "Token " + base64.b64encode(b"our-token").decode()}, token_a, store


def test_both_trailing_slash_forms_answer_without_redirect() -> None:
    client, auth, _, _ = setup("cpo")
    for path in (f"/ocpi/{V}/locations", f"/ocpi/{V}/locations/"):
        r = client.get(path, headers=auth, follow_redirects=False)
        assert r.status_code == 200 and r.json()["status_code"] == 1000 and r.json()["data"] == []
        assert r.headers["X-Total-Count"] == "0"


def test_method_the_interface_lacks_is_405_with_envelope() -> None:
    client, auth, _, _ = setup("cpo")
    r = client.delete(f"/ocpi/{V}/locations", headers=auth)
    assert r.status_code == 405 and "status_code" in r.json()


def test_unknown_location_is_404_with_2003_unknown_location() -> None:
    client, auth, _, _ = setup("cpo")
    r = client.get(f"/ocpi/{V}/locations/NOPE", headers=auth)
    assert r.status_code == 404 and r.json()["status_code"] == 2003


def test_malformed_body_is_400_2001_naming_the_field_and_ids_are_echoed() -> None:
    client, auth, _, _ = setup("emsp")
    spec = load_spec(SPEC_ROOT, V)
    location = obj(spec, spec.type("Location"))  # type: ignore[arg-type]
    location.update(country_code="NL", party_id="CPO", id="L1")
    del location["last_updated"]
    headers = {**auth, "X-Request-ID": "req-1", "X-Correlation-ID": "corr-1"}
    r = client.put(f"/ocpi/{V}/locations/NL/CPO/L1", content=dumps(location), headers=headers)
    assert r.status_code == 400 and r.json()["status_code"] == 2001
    assert "last_updated" in r.json()["status_message"] and "Traceback" not in r.text
    assert r.headers["X-Request-ID"] == "req-1" and r.headers["X-Correlation-ID"] == "corr-1"
    r = client.put(f"/ocpi/{V}/locations/NL/CPO/L1", content=b"{not json", headers=headers)
    assert r.status_code == 400 and r.json()["status_code"] == 2001


def test_put_creates_201_then_replaces_200_and_routing_headers_are_swapped() -> None:
    client, auth, _, store = setup("emsp")
    spec = load_spec(SPEC_ROOT, V)
    tariff = obj(spec, spec.type("Tariff"))  # type: ignore[arg-type]
    tariff.update(country_code="NL", party_id="CPO", id="T1")
    routing = {
        "OCPI-from-country-code": "NL",
        "OCPI-from-party-id": "CPO",
        "OCPI-to-country-code": "DE",
        "OCPI-to-party-id": "EMS",
    }
    first = client.put(f"/ocpi/{V}/tariffs/NL/CPO/T1", content=dumps(tariff), headers={**auth, **routing})
    second = client.put(f"/ocpi/{V}/tariffs/nl/cpo/T1", content=dumps(tariff), headers=auth)  # CiString keys
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.headers["OCPI-to-party-id"] == "CPO" and first.headers["OCPI-from-party-id"] == "EMS"
    assert sync(store).get_object("Tariff", "NL", "CPO", "T1")["id"] == "T1"  # type: ignore[attr-defined]


def test_missing_unknown_and_token_a_are_401_outside_credentials() -> None:
    client, _, token_a, _ = setup("cpo")
    assert client.get(f"/ocpi/{V}/locations").status_code == 401
    bad = {"Authorization": "Token " + base64.b64encode(b"nobody").decode()}
    assert client.get(f"/ocpi/{V}/locations", headers=bad).status_code == 401
    a = {"Authorization": "Token " + base64.b64encode(token_a.encode()).decode()}
    assert client.get(f"/ocpi/{V}/locations", headers=a).status_code == 401
    assert client.get("/ocpi/versions", headers=a).status_code == 200  # token A may discover
    assert client.get(f"/ocpi/{V}/credentials", headers=a).status_code == 200


@pytest.mark.parametrize("version", sorted(p.name for p in (ROOT / "generated").iterdir() if p.is_dir()))
def test_generated_server_passes_mypy_strict(version: str, tmp_path: object) -> None:
    """The scaffolded CPO project (the package, with its embedded client, and the user's files)."""
    folder = ROOT / "generated" / version / "server" / "cpo"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--cache-dir",
            str(tmp_path),
            f"ocpi_server_cpo_v{version.replace('.', '_')}",
            "app.py",
            "handlers.py",
        ],
        cwd=folder,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:]
