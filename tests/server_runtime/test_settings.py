"""ServerSettings: defaults, validation and OCPI_* environment variables."""

from __future__ import annotations

import dataclasses

import pytest

from ocpi_runtime.server._settings import ServerSettings


def test_defaults_and_normalised_base_url() -> None:
    s = ServerSettings(base_url="https://ocpi.example.com/ocpi/", country_code="NL", party_id="EXA")
    assert s.base_url == "https://ocpi.example.com/ocpi"
    assert s.base_path == "/ocpi"
    assert (s.database, s.max_limit, s.default_limit) == (":memory:", 100, 50)
    assert s.versions_require_token is True and s.token_base64 is True
    assert s.business_name == "ocpi-codegen server"


def test_settings_are_frozen() -> None:
    s = ServerSettings(base_url="http://h/ocpi", country_code="NL", party_id="EXA")
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.max_limit = 5  # type: ignore[misc]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"base_url": "ocpi.example.com/ocpi"},
        {"base_url": "ftp://ocpi.example.com"},
        {"base_url": "http://h/ocpi?x=1"},
        {"max_limit": 0},
        {"default_limit": 0},
        {"max_limit": 10, "default_limit": 11},
        {"country_code": ""},
        {"write_slots": -1},
    ],
)
def test_invalid_settings_are_refused(kwargs: dict[str, object]) -> None:
    base: dict[str, object] = {"base_url": "http://h/ocpi", "country_code": "NL", "party_id": "EXA"}
    base.update(kwargs)
    with pytest.raises(ValueError):
        ServerSettings(**base)  # type: ignore[arg-type]


def test_from_env_defaults() -> None:
    s = ServerSettings.from_env(environ={})
    assert s == ServerSettings(base_url="http://127.0.0.1:8000/ocpi", country_code="NL", party_id="EXA")


def test_from_env_reads_every_variable() -> None:
    env = {
        "OCPI_BASE_URL": "https://cpo.example/ocpi",
        "OCPI_DATABASE": "/tmp/x.sqlite",
        "OCPI_COUNTRY_CODE": "DE",
        "OCPI_PARTY_ID": "ABC",
        "OCPI_MAX_LIMIT": "200",
        "OCPI_DEFAULT_LIMIT": "20",
        "OCPI_VERSIONS_REQUIRE_TOKEN": "false",
        "OCPI_TOKEN_BASE64": "0",
        "OCPI_BUSINESS_NAME": "Example CPO",
        "OCPI_WRITE_SLOTS": "3",
    }
    s = ServerSettings.from_env(environ=env)
    assert s == ServerSettings(
        base_url="https://cpo.example/ocpi",
        database="/tmp/x.sqlite",
        country_code="DE",
        party_id="ABC",
        max_limit=200,
        default_limit=20,
        versions_require_token=False,
        token_base64=False,
        business_name="Example CPO",
        write_slots=3,
    )


def test_from_env_prefix_and_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MYSRV_PARTY_ID", "XYZ")
    monkeypatch.setenv("MYSRV_VERSIONS_REQUIRE_TOKEN", "Yes")
    monkeypatch.setenv("OCPI_PARTY_ID", "IGN")
    s = ServerSettings.from_env("MYSRV_")
    assert s.party_id == "XYZ" and s.versions_require_token is True


def test_from_env_small_max_limit_pulls_the_default_down() -> None:
    s = ServerSettings.from_env(environ={"OCPI_MAX_LIMIT": "20"})
    assert (s.max_limit, s.default_limit) == (20, 20)


@pytest.mark.parametrize("name,value", [("OCPI_MAX_LIMIT", "lots"), ("OCPI_TOKEN_BASE64", "maybe")])
def test_from_env_rejects_malformed_values(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        ServerSettings.from_env(environ={name: value})
