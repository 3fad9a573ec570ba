"""Version negotiation, version details and endpoint lookup."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ocpi_runtime.client._discovery import Discovery, choose_version, discover, parse_details, version_key
from ocpi_runtime.client._transport import Settings, SyncTransport
from ocpi_runtime.client.errors import ModuleNotOfferedError, VersionNegotiationError

from ._helpers import Recorder, ok

VERSIONS_URL = "https://peer.example.com/ocpi/versions"
PEER = [
    {"version": "2.1.1", "url": "https://peer.example.com/ocpi/2.1.1"},
    {"version": "2.2", "url": "https://peer.example.com/ocpi/2.2"},
    {"version": "2.2.1", "url": "https://peer.example.com/ocpi/2.2.1"},
    {"version": "2.0", "url": "https://peer.example.com/ocpi/2.0"},
]

DETAILS_221: dict[str, Any] = {
    "version": "2.2.1",
    "endpoints": [
        {"identifier": "credentials", "role": "SENDER", "url": "https://peer.example.com/ocpi/2.2.1/credentials"},
        {"identifier": "credentials", "role": "RECEIVER", "url": "https://peer.example.com/ocpi/2.2.1/credentials"},
        {"identifier": "locations", "role": "SENDER", "url": "https://peer.example.com/ocpi/cpo/2.2.1/locations"},
        {"identifier": "locations", "role": "RECEIVER", "url": "https://peer.example.com/ocpi/emsp/2.2.1/locations"},
        {"identifier": "tariffs", "role": "sender", "url": "tariffs"},
        {"identifier": "cdrs", "url": "https://peer.example.com/ocpi/2.2.1/cdrs"},
        {"identifier": "broken"},
        "junk",
    ],
}


def test_highest_mutual_version_compared_numerically() -> None:
    assert choose_version(PEER, ["2.1.1", "2.2.1", "2.3.0"], None) == ("2.2.1", "https://peer.example.com/ocpi/2.2.1")
    assert choose_version(PEER, ["2.0", "2.1.1", "2.2"], None)[0] == "2.2"
    assert choose_version(PEER, ["2.0", "2.1.1"], None)[0] == "2.1.1"
    peer = [{"version": "2.3.0", "url": "u3"}, {"version": "2.2.1", "url": "u2"}]
    assert choose_version(peer, ["2.2.1", "2.3.0"], None) == ("2.3.0", "u3")


def test_version_key_orders_versions() -> None:
    ordered = ["2.0", "2.1.1", "2.2", "2.2.1", "2.3.0", "2.10"]
    assert sorted(reversed(ordered), key=version_key) == ordered


def test_wanted_version() -> None:
    assert choose_version(PEER, ["2.1.1", "2.2.1"], "2.1.1") == ("2.1.1", "https://peer.example.com/ocpi/2.1.1")
    with pytest.raises(VersionNegotiationError) as info:
        choose_version(PEER, ["2.2.1", "2.3.0"], "2.3.0")  # we support it, the peer does not
    assert "does not offer OCPI 2.3.0" in str(info.value) and info.value.wanted == "2.3.0"
    with pytest.raises(VersionNegotiationError) as info:
        choose_version(PEER, ["2.2.1"], "2.2")  # the peer has it, we do not
    assert "supports only 2.2.1" in str(info.value)


def test_no_mutual_version_is_an_error() -> None:
    with pytest.raises(VersionNegotiationError) as info:
        choose_version(PEER, ["2.3.0"], None)
    err = info.value
    assert err.peer_versions == ["2.0", "2.1.1", "2.2", "2.2.1"] and err.supported == ["2.3.0"]
    assert "no OCPI version in common" in str(err)


def test_bad_versions_data() -> None:
    with pytest.raises(VersionNegotiationError):
        choose_version({"version": "2.2.1"}, ["2.2.1"], None)
    # malformed entries are skipped; a version written as a JSON number still counts
    data = ["x", {"version": "2.2.1"}, {"version": Decimal("2.2"), "url": "u22"}]
    assert choose_version(data, ["2.2", "2.2.1"], None) == ("2.2", "u22")


def test_parse_details_and_url_for() -> None:
    found = parse_details(DETAILS_221, "2.2.1", "https://peer.example.com/ocpi/2.2.1/", VERSIONS_URL)
    assert isinstance(found, Discovery)
    assert found.version == "2.2.1" and found.versions_url == VERSIONS_URL
    assert found.url_for("locations", "SENDER") == "https://peer.example.com/ocpi/cpo/2.2.1/locations"
    assert found.url_for("locations", "RECEIVER") == "https://peer.example.com/ocpi/emsp/2.2.1/locations"
    assert (
        found.url_for("tariffs", "SENDER") == "https://peer.example.com/ocpi/2.2.1/tariffs"
    )  # relative (RFC 3986), lower-case role
    assert found.url_for("credentials", None) == "https://peer.example.com/ocpi/2.2.1/credentials"
    assert found.url_for("cdrs", "SENDER") == "https://peer.example.com/ocpi/2.2.1/cdrs"  # listed without role
    assert found.url_for("CDRS", None) == "https://peer.example.com/ocpi/2.2.1/cdrs"
    assert found.offers("locations", "SENDER") and not found.offers("tariffs", "RECEIVER")
    assert ("broken", None) not in found.endpoints


def test_module_not_offered() -> None:
    found = parse_details(DETAILS_221, "2.2.1", "https://peer.example.com/ocpi/2.2.1", VERSIONS_URL)
    with pytest.raises(ModuleNotOfferedError) as info:
        found.url_for("tariffs", "RECEIVER")
    assert (info.value.module, info.value.role) == ("tariffs", "RECEIVER")
    assert "tariffs" in str(info.value) and "RECEIVER" in str(info.value)
    with pytest.raises(ModuleNotOfferedError) as info:
        found.url_for("hubclientinfo", None)
    assert info.value.role is None and "locations/SENDER" in str(info.value)


def test_2_1_1_details_without_roles() -> None:
    data = {"version": "2.1.1", "endpoints": [{"identifier": "locations", "url": "https://p/2.1.1/locations"}]}
    found = parse_details(data, "2.1.1", "https://p/2.1.1", "https://p/versions")
    assert found.endpoints == {("locations", None): "https://p/2.1.1/locations"}
    assert found.url_for("locations", None) == found.url_for("locations", "SENDER") == "https://p/2.1.1/locations"


@pytest.mark.parametrize("data", [None, [], {"version": "2.2.1"}, {"endpoints": "x"}])
def test_bad_details_data(data: Any) -> None:
    with pytest.raises(VersionNegotiationError):
        parse_details(data, "2.2.1", "https://p/2.2.1", "https://p/versions")


def test_discover_gets_versions_then_details() -> None:
    rec = Recorder([ok(PEER), ok(DETAILS_221)])
    transport = SyncTransport(Settings(token="A", token_encoding="raw"), http=rec.client())
    found = discover(transport, VERSIONS_URL, ["2.2", "2.2.1"])
    assert [str(r.url) for r in rec.requests] == [VERSIONS_URL, "https://peer.example.com/ocpi/2.2.1"]
    assert all(r.method == "GET" and r.headers["Authorization"] == "Token A" for r in rec.requests)
    assert found.version == "2.2.1" and found.details_url == "https://peer.example.com/ocpi/2.2.1"


def test_discover_resolves_a_relative_details_url() -> None:
    rec = Recorder([ok([{"version": "2.2.1", "url": "2.2.1/details"}]), ok(DETAILS_221)])
    transport = SyncTransport(Settings(token="A"), http=rec.client())
    found = discover(transport, VERSIONS_URL, ["2.2.1"], "2.2.1")
    assert found.details_url == "https://peer.example.com/ocpi/2.2.1/details"
    assert str(rec.requests[1].url) == found.details_url
