"""Generated models: every object of every version round-trips JSON built from the spec tables,
including unknown fields and unknown OpenEnum values; OCPI types behave as the spec says."""

from __future__ import annotations

import functools
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from generator.client import default_package
from generator.ir import EnumType, ObjectType
from generator.paths import SPEC_ROOT, available_versions
from generator.pipeline import load_spec as _load_spec
from tests.client_support import client_package
from tests.conftest import ROOT
from tests.samples import dumps, loads, obj

VERSIONS = available_versions(SPEC_ROOT)
load_spec = functools.cache(_load_spec)


def _objects() -> list[tuple[str, str]]:
    return [(v, t.name) for v in VERSIONS for t in load_spec(SPEC_ROOT, v).types if isinstance(t, ObjectType)]


@pytest.mark.parametrize("version,name", _objects(), ids=[f"{v}-{n}" for v, n in _objects()])
def test_object_round_trips_with_unknown_fields_and_enum_values(version: str, name: str) -> None:
    spec = load_spec(SPEC_ROOT, version)
    model = getattr(client_package(spec).models, name)
    for unknown in (False, True):
        sample = obj(spec, spec.type(name), unknown_enums=unknown, extra=True)  # type: ignore[arg-type]
        text = dumps(sample)
        parsed = model.model_validate_json(text)
        assert loads(parsed.to_json()) == loads(text)
        assert parsed.x_vendor_extension == {"kept": True, "n": 1}


def test_number_is_exact_decimal_and_written_as_json_number() -> None:
    pkg = client_package(load_spec(SPEC_ROOT, "2.2.1"))
    price = pkg.models.Price.model_validate_json('{"excl_vat": 0.1, "incl_vat": 1234567890.123456789}')
    assert price.excl_vat == Decimal("0.1") and price.incl_vat == Decimal("1234567890.123456789")
    assert price.to_json() == b'{"excl_vat":0.1,"incl_vat":1234567890.123456789}'
    dumped = price.model_dump_json()
    assert '"0.1"' not in dumped and loads(dumped) == {
        "excl_vat": Decimal("0.1"),
        "incl_vat": Decimal("1234567890.123456789"),
    }


def test_datetime_with_and_without_zone_is_written_in_utc_with_z() -> None:
    pkg = client_package(load_spec(SPEC_ROOT, "2.2.1"))
    for text in ("2015-06-29T20:39:09", "2015-06-29T20:39:09Z", "2015-06-29T22:39:09+02:00"):
        period = pkg.models.ExceptionalPeriod.model_validate(
            {"period_begin": text, "period_end": "2016-12-29T17:45:09.2"}
        )
        assert period.period_begin == datetime(2015, 6, 29, 20, 39, 9, tzinfo=UTC)
        assert loads(period.to_json()) == {
            "period_begin": "2015-06-29T20:39:09Z",
            "period_end": "2016-12-29T17:45:09.2Z",
        }


def test_open_enum_keeps_unknown_values_closed_enum_rejects_them() -> None:
    pkg = client_package(load_spec(SPEC_ROOT, "2.3.0"))
    spec = load_spec(SPEC_ROOT, "2.3.0")
    connector = obj(spec, spec.type("Connector"))  # type: ignore[arg-type]
    connector["standard"] = "X_MY_NEW_PLUG"
    parsed = pkg.models.Connector.model_validate(connector)
    assert parsed.standard == "X_MY_NEW_PLUG" and not parsed.standard.is_known
    assert loads(parsed.to_json())["standard"] == "X_MY_NEW_PLUG"
    connector["format"] = "X_NOT_A_FORMAT"  # ConnectorFormat stays a closed enum in 2.3.0
    assert isinstance(spec.type("ConnectorFormat"), EnumType) and not spec.type("ConnectorFormat").open  # type: ignore[union-attr]
    with pytest.raises(ValidationError):
        pkg.models.Connector.model_validate(connector)


def test_lengths_and_cardinality_are_enforced_when_building() -> None:
    pkg = client_package(load_spec(SPEC_ROOT, "2.2.1"))
    with pytest.raises(ValidationError):
        pkg.models.DisplayText(language="eng", text="too long a language code")
    with pytest.raises(ValidationError):
        pkg.models.DisplayText(language="en")  # text is required
    spec = load_spec(SPEC_ROOT, "2.2.1")
    session = obj(spec, spec.type("Session"))  # type: ignore[arg-type]
    session["country_code"] = "NLD"
    with pytest.raises(ValidationError):
        pkg.models.Session.model_validate(session)


def test_patch_models_send_only_the_fields_given() -> None:
    pkg = client_package(load_spec(SPEC_ROOT, "2.2.1"))
    patch = pkg.models.EVSEPatch(status="CHARGING", last_updated=datetime(2024, 1, 1, tzinfo=UTC))
    assert loads(patch.to_json(partial=True)) == {"status": "CHARGING", "last_updated": "2024-01-01T00:00:00Z"}


@pytest.mark.parametrize("version", VERSIONS)
def test_generated_client_passes_mypy_strict(version: str, tmp_path: object) -> None:
    folder = ROOT / "generated" / version / "client"
    spec = load_spec(SPEC_ROOT, version)
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path), "-p", default_package(spec)],
        cwd=folder,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:]
