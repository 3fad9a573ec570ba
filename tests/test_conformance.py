"""``ocpi-codegen conformance`` against our own servers (every generated role of every version: all
pass) and against mock peers with one misbehaviour or fault each (the check made for it fails)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from generator.conformance import Options, Report, run
from generator.mockpeer import MISBEHAVIOURS, MockPeer, build_mock_peer
from generator.mockpeer.peer import free_port
from generator.paths import SPEC_ROOT
from generator.pipeline import load_spec
from generator.server import roles_with_servers
from tests.conftest import ROOT
from tests.server_support import server_package

VERSIONS = sorted(p.name for p in (ROOT / "generated").iterdir() if p.is_dir())
SPECS = {v: load_spec(SPEC_ROOT, v) for v in VERSIONS}
SERVERS = [(v, r.slug) for v in VERSIONS for r in roles_with_servers(SPECS[v])]


def peer_for(version: str, role: str) -> MockPeer:
    return build_mock_peer(SPECS[version], role, package=server_package(version, role), count=7)


@pytest.fixture(scope="module", params=SERVERS, ids=[f"{v}-{r}" for v, r in SERVERS])
def own_server(request: pytest.FixtureRequest) -> Iterator[MockPeer]:
    version, role = request.param
    with peer_for(version, role).serve() as peer:
        yield peer


def failed(report: Report) -> list[str]:
    return [f"{r.area}: {r.name}: {r.detail}" for r in report.results if r.outcome == "fail"]


def test_every_check_passes_against_our_generated_servers(own_server: MockPeer) -> None:
    report = run(own_server.spec, own_server.role, own_server.versions_url, own_server.token, Options(write=True))
    assert failed(report) == []
    areas = {r.area for r in report.results}
    assert {"discovery", "transport"} <= areas
    assert any(a.startswith(("list ", "write ")) for a in areas)
    assert report.count("pass") >= 12


@pytest.mark.parametrize("version", ["2.1.1", "2.2.1"])
def test_registration_with_token_a_then_every_check_passes(version: str) -> None:
    with peer_for(version, "cpo").serve() as peer:
        options = Options(register=f"127.0.0.1:{free_port()}")
        report = run(peer.spec, "cpo", peer.versions_url, peer.token_a, options)
        assert failed(report) == []
        names = [r.name for r in report.results if r.area == "credentials" and r.outcome == "pass"]
        assert len(names) == 3, names
        # tokens B and C travel in the credentials bodies: the report shows neither
        bodies = [b for r in report.results for e in r.exchanges for b in (e.body, e.request_body or "")]
        assert sum('"token":"***"' in b.replace(" ", "") for b in bodies) >= 2
        assert not any(re.search(r'"token"\s*:\s*"(?!\*\*\*")', b) for b in bodies)
        # the registration changed the peer: token A is gone, a second run with it fails at once
        again = run(peer.spec, "cpo", peer.versions_url, peer.token_a, Options(register=f"127.0.0.1:{free_port()}"))
        assert [f.split(":")[0] for f in failed(again)] == ["discovery"] and "HTTP 401" in failed(again)[0]


#: For each misbehaviour of the mock peer, the checks (name fragments) that must fail because of it.
EXPECTED: dict[str, tuple[str, ...]] = {
    "versions_missing_own": ("versions list names this version",),
    "details_relative_urls": ("version details list valid endpoints",),
    "accept_no_token": ("401 without a token",),
    "accept_any_token": ("401 with an unknown token",),
    "no_success_envelope": ("envelope on success answers", "list answer", "PUT stores a new"),
    "no_error_envelope": ("envelope on error answers", "unknown object"),
    "no_request_id_echo": ("X-Request-ID and X-Correlation-ID echoed",),
    "no_routing_headers": ("routing headers swapped",),
    "no_total_count": ("X-Total-Count header",),
    "no_x_limit": ("X-Limit header",),
    "ignore_limit": ("limit cap",),
    "link_relative": ("Link: absolute",),
    "link_other_origin": ("Link: absolute, same origin",),
    "link_drops_filters": ("Link: absolute, same origin, keeps the filters",),
    "date_from_exclusive": ("date_from is inclusive",),
    "date_to_inclusive": ("date_to is exclusive",),
    "invalid_objects": ("every object valid against",),
    "lose_objects": ("no object lost or repeated",),
    "unknown_is_200": ("unknown object",),
    "put_not_stored": ("GET returns the",),
    "patch_ignored": ("PATCH changes only the given fields",),
    "delete_ignored": ("DELETE removes the",),
    "accept_id_mismatch": ("other than the URL's is refused", "PUT with a body owner other than"),
}

#: Transport faults (a client's test cases) and what they make fail.
FAULTS: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {
    "wrong_token_encoding": ({"wrong_token_encoding": True}, ("token accepted in the Base64 encoding",)),
    "broken_links": ({"broken_links": True}, ("no object lost or repeated",)),
    "status_5xx": ({"status_5xx": 503}, ("versions list names this version",)),
    "rate_limit": ({"rate_limit": 2}, ("versions list names this version",)),
    "drop_connection": ({"drop_connection": True}, ("versions list names this version",)),
    "drop_every_third": ({"drop_connection": True, "every": 3}, ("token accepted",)),
    "delay": ({"delay": 0.6}, ("versions list names this version",)),
}


@pytest.fixture(scope="module")
def faulty() -> Iterator[MockPeer]:
    """A 2.2.1 eMSP: a sender list (tokens) and receivers with PUT, PATCH, GET and DELETE (tariffs)."""
    with peer_for("2.2.1", "emsp").serve() as peer:
        yield peer


def test_misbehaviour_table_covers_every_misbehaviour() -> None:
    assert set(EXPECTED) == set(MISBEHAVIOURS)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_misbehaviour_fails_its_check(faulty: MockPeer, name: str) -> None:
    faulty.faults.clear()
    faulty.faults.set(misbehave={name})
    try:
        report = run(faulty.spec, "emsp", faulty.versions_url, faulty.token, Options(write=True, timeout=5))
    finally:
        faulty.faults.clear()
    failures = failed(report)
    for fragment in EXPECTED[name]:
        assert any(fragment in f for f in failures), (fragment, failures)
    assert not report.passed


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_each_transport_fault_fails_a_check(faulty: MockPeer, name: str) -> None:
    changes, fragments = FAULTS[name]
    faulty.faults.clear()
    faulty.faults.set(**changes)
    try:
        report = run(faulty.spec, "emsp", faulty.versions_url, faulty.token, Options(timeout=0.3))
    finally:
        faulty.faults.clear()
    failures = failed(report)
    for fragment in fragments:
        assert any(fragment in f for f in failures), (fragment, failures)


def test_wrong_token_encoding_of_2_1_1_is_base64() -> None:
    with peer_for("2.1.1", "cpo").serve() as peer:
        peer.faults.set(wrong_token_encoding=True)
        report = run(peer.spec, "cpo", peer.versions_url, peer.token)
        assert any("token accepted in the plain (not Base64) encoding" in f for f in failed(report))


def test_registration_checks_fail_when_the_peer_misbehaves() -> None:
    with peer_for("2.2.1", "cpo").serve() as peer:
        # a registered party's token C is no token A: the peer refuses the POST
        report = run(peer.spec, "cpo", peer.versions_url, peer.token, Options(register=f"127.0.0.1:{free_port()}"))
        assert any("registration with token A" in f for f in failed(report)), failed(report)

        def after(result: Any) -> None:  # the POST went through; from now on the peer is broken
            if result.name.startswith("registration"):
                peer.faults.set(status_5xx=500, misbehave={"accept_any_token"})

        report = run(
            peer.spec, "cpo", peer.versions_url, peer.token_a, Options(register=f"127.0.0.1:{free_port()}"), after
        )
        peer.faults.clear()
        failures = failed(report)
        assert any("token A is refused after registration" in f for f in failures), failures
        assert any("GET credentials with token C" in f for f in failures), failures


def test_every_check_of_a_clean_run_has_a_failing_case(faulty: MockPeer) -> None:
    """Each check name that runs against the eMSP, the CPO with registration and 2.1.1 is matched by a
    misbehaviour or fault above (or by the registration test)."""
    fragments = [f for v in EXPECTED.values() for f in v] + [f for _, v in FAULTS.values() for f in v]
    fragments += ["registration with token A", "token A is refused", "GET credentials with token C", "token accepted"]
    report = run(faulty.spec, "emsp", faulty.versions_url, faulty.token, Options(write=True))
    names = {r.name for r in report.results if r.outcome == "pass"}
    with peer_for("2.2.1", "cpo").serve() as peer:
        cpo = run(
            peer.spec, "cpo", peer.versions_url, peer.token_a, Options(write=True, register=f"127.0.0.1:{free_port()}")
        )
        names |= {r.name for r in cpo.results if r.outcome == "pass"}
    uncovered = sorted(n for n in names if not any(f in n for f in fragments))
    assert uncovered == []


def test_report_formats(faulty: MockPeer) -> None:
    faulty.faults.set(misbehave={"no_total_count"})
    try:
        report = run(faulty.spec, "emsp", faulty.versions_url, faulty.token)
    finally:
        faulty.faults.clear()
    data = json.loads(report.to_json())
    assert data["passed"] is False and data["totals"]["fail"] >= 1
    bad = [r for r in data["results"] if r["outcome"] == "fail"]
    assert bad[0]["anchor"] == "transport_and_format_paginated_response"
    assert bad[0]["exchanges"][0]["status"] == 200 and "x-total-count" not in bad[0]["exchanges"][0]["response_headers"]
    assert all(
        e["request_headers"].get("Authorization", "Token ***") == "Token ***"
        for r in data["results"]
        for e in r["exchanges"]
    )
    xml = ET.fromstring(report.to_junit())
    failures = xml.findall(".//failure")
    assert len(failures) == data["totals"]["fail"] and xml.findall(".//testsuite")
    text = report.to_text()
    assert "FAIL  X-Total-Count header" in text and "NOT CONFORMANT" in text and faulty.token not in text


def test_a_peer_we_did_not_write() -> None:
    """The misbehaving CPO of tests/peers: the report names what it gets wrong, with the evidence."""
    from tests.peers.misbehaving import TOKEN, Peer, Quirks, serve

    spec = SPECS["2.2.1"]
    with serve() as router:
        clean = run(spec, "cpo", router.add(Peer(spec, "clean", Quirks(), count=9)), TOKEN)
        quirky = run(spec, "cpo", router.add(Peer(spec, "quirky", Quirks.all(), count=9)), TOKEN)
    # it ignores date_from/date_to and echoes no request ids
    assert {r.name for r in clean.results if r.outcome == "fail"} == {
        "X-Request-ID and X-Correlation-ID echoed, errors included",
        "Link: absolute, same origin, keeps the filters",
        "date_to is exclusive",
    }
    assert any("module not offered" in r.detail for r in clean.results if r.outcome == "skip")
    bad = failed(quirky)
    assert any("token accepted in the Base64 encoding" in f and "status_code 3000" in f for f in bad)
    assert any("401 without a token" in f and "HTTP 403" in f for f in bad)
    assert any("Link: absolute, same origin" in f and "https://" in f for f in bad)
    assert any("accepted the other one" in n for n in quirky.notes)
    assert "Traceback" not in quirky.to_text() and quirky.to_text().count("FAIL") == len(bad)


def test_cli_exit_status_formats_and_progress(
    faulty: MockPeer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from generator.cli import main

    base = ["conformance", faulty.versions_url, "--token", faulty.token, "--version", "2.2.1", "--role", "emsp"]
    assert main([*base, "--progress"]) == 0
    out, err = capsys.readouterr()
    assert "every check that ran passed" in out and "list tokens:  PASS  X-Limit header" in err
    faulty.faults.set(misbehave={"no_x_limit"})
    try:
        assert main([*base, "--format", "junit", "-o", str(tmp_path / "r.xml"), "--write"]) == 1
        assert main([*base, "--format", "json", "-q"]) == 1
    finally:
        faulty.faults.clear()
    out, err = capsys.readouterr()
    assert json.loads(out)["passed"] is False and "WARNING: --write" in err and "report in" in err
    assert ET.parse(tmp_path / "r.xml").getroot().find(".//failure") is not None
    assert main([*base[:-1], "nobody"]) == 2
    assert main([*base, "--party", "NLD"]) == 2
    assert main([*base, "-o", str(tmp_path / "missing" / "r.txt")]) == 3


def test_extension_modules_generated_on_the_fly_pass() -> None:
    """2.3.0 with Payments and Bookings: the PTP server is generated now (not in generated/), seeded
    with terminals and financial advice confirmations, and passes every check."""
    spec = load_spec(SPEC_ROOT, "2.3.0", extensions=["payments", "bookings"])
    with build_mock_peer(spec, "ptp", count=4).serve() as peer:
        assert set(peer.seeded) == {"Terminal", "FinancialAdviceConfirmation"}
        report = run(spec, "ptp", peer.versions_url, peer.token, Options(write=True))
    assert failed(report) == []
    assert {"list payments /terminals", "write locations"} <= {r.area for r in report.results}


def test_register_url_is_what_the_peer_calls() -> None:
    with peer_for("2.2.1", "cpo").serve() as peer:
        port = free_port()
        dead = Options(register=f"127.0.0.1:{port}", register_url=f"http://127.0.0.1:{free_port()}")
        report = run(peer.spec, "cpo", peer.versions_url, peer.token_a, dead)
        assert any("registration with token A" in f for f in failed(report)), failed(report)
        alive = Options(register=f"127.0.0.1:{port}", register_url=f"http://localhost:{port}/")
        assert failed(run(peer.spec, "cpo", peer.versions_url, peer.token_a, alive)) == []
