"""Generated clients (sync and async; 2.1.1, 2.2.1, 2.3.0) against the misbehaving peer of
``tests/peers/misbehaving.py``, served on 127.0.0.1: every quirk alone and all at once, then the
hostile cases, each of which must end in a typed error within its deadline and bounded memory."""

from __future__ import annotations

import asyncio
import base64
import functools
import time
import tracemalloc
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import httpx
import pytest

from generator.paths import SPEC_ROOT
from generator.pipeline import load_spec as _load_spec
from tests.client_support import client_package
from tests.peers.misbehaving import TOKEN, Peer, Quirks, Router, serve

VERSIONS = ["2.1.1", "2.2.1", "2.3.0"]
load_spec = functools.cache(_load_spec)
ALL_IDS = [f"LOC{i:02d}" for i in range(40)]
QUIRK_CASES = ["none", *Quirks.names(), "all"]

#: The deviation kind each quirk leaves on the client (None: nothing to record).
EXPECTED_KIND = {
    "redirect_to_slash": "trailing_slash",
    "list_wrapped": "list_wrapped_data",
    "bad_link": "link_repaired",
    "nulls": "null_fields",
}


@pytest.fixture(scope="module")
def router() -> Iterator[Router]:
    with serve() as r:
        yield r


def pkg_of(version: str) -> ModuleType:
    return client_package(load_spec(SPEC_ROOT, version))


def quirks_of(case: str) -> Quirks:
    if case == "none":
        return Quirks()
    return Quirks.all() if case == "all" else Quirks.only(case)


def _mount(router: Router, version: str, name: str, quirks: Quirks = Quirks(), **kw: Any) -> tuple[Peer, str]:
    peer = Peer(load_spec(SPEC_ROOT, version), name, quirks, **kw)
    return peer, router.add(peer)


def _check_deviations(client: Any, case: str, version: str) -> None:
    kinds = {d.kind for d in client.deviations}
    wanted = {EXPECTED_KIND[q] for q in Quirks.names() if q in EXPECTED_KIND and (case == q or case == "all")}
    assert wanted <= kinds, (wanted, kinds)
    if case in ("raw_token_only", "all") and version != "2.1.1":
        assert "token_encoding" in kinds and client.profile.token_encoding == "raw"
    if case == "none":
        assert kinds == set()


@pytest.mark.parametrize("case", QUIRK_CASES)
@pytest.mark.parametrize("version", VERSIONS)
def test_sync_client_gets_every_object_from_a_quirky_peer(router: Router, version: str, case: str) -> None:
    pkg = pkg_of(version)
    peer, url = _mount(router, version, f"sync-{version}-{case}", quirks_of(case))
    with pkg.CpoClient.connect(url, TOKEN, token_encoding="auto", timeout=10) as cpo:
        pages = cpo.locations.list()
        assert [loc.id for loc in pages] == ALL_IDS
        assert pages.pages_fetched == 8
        for ident in ("LOC00", "LOC17", "LOC39"):
            location = cpo.locations.get_location(ident)
            assert isinstance(location, pkg.models.Location) and location.id == ident
        _check_deviations(cpo, case, version)
    if case in ("redirect_to_slash", "all"):
        # The redirect is learnt: after the first list call the slash form is asked for directly.
        redirected = [r for r in peer.requests if r[1].endswith("/locations")]
        assert len(redirected) == 1


@pytest.mark.parametrize("case", ["none", "all"])
@pytest.mark.parametrize("version", VERSIONS)
def test_async_client_gets_every_object_from_a_quirky_peer(router: Router, version: str, case: str) -> None:
    pkg = pkg_of(version)
    _, url = _mount(router, version, f"async-{version}-{case}", quirks_of(case))

    async def go() -> None:
        cpo = await pkg.AsyncCpoClient.connect(url, TOKEN, token_encoding="auto", timeout=10)
        async with cpo:
            ids = [loc.id async for loc in cpo.locations.list()]
            assert ids == ALL_IDS
            location = await cpo.locations.get_location("LOC05")
            assert location.id == "LOC05"
            _check_deviations(cpo, case, version)

    asyncio.run(go())


def test_strict_mode_refuses_a_wrapped_object_with_a_typed_error_unless_the_profile_allows_it(router: Router) -> None:
    pkg = pkg_of("2.2.1")
    _, url = _mount(router, "2.2.1", "strict-wrapped", Quirks(list_wrapped=True))
    with pkg.CpoClient.connect(url, TOKEN, strict=True) as cpo:
        with pytest.raises(pkg.InvalidResponseError) as info:
            cpo.locations.get_location("LOC01")
        error = info.value
        assert error.method == "GET" and error.url.endswith("/locations/LOC01") and error.http_status == 200
        assert error.request_id and error.expected == "Location" and "list of 1" in (error.found or "")
    profile = pkg.PeerProfile(list_wrapped_data=True)
    with pkg.CpoClient.connect(url, TOKEN, strict=True, profile=profile) as cpo:
        assert cpo.locations.get_location("LOC01").id == "LOC01"
        assert cpo.profile is profile and [d.kind for d in profile.deviations] == ["list_wrapped_data"]


def test_strict_mode_hands_out_the_page_before_the_link_error(router: Router) -> None:
    pkg = pkg_of("2.2.1")
    _, url = _mount(router, "2.2.1", "strict-badlink", Quirks(bad_link=True))
    with pkg.CpoClient.connect(url, TOKEN, strict=True) as cpo:
        got: list[str] = []
        with pytest.raises(pkg.UnsafeLinkError):
            got.extend(loc.id for loc in cpo.locations.list())
        assert got == ALL_IDS[:5]
    # The profile lets a strict client repair links too.
    with pkg.CpoClient.connect(url, TOKEN, strict=True, profile=pkg.PeerProfile(link_repair=True)) as cpo:
        assert [loc.id for loc in cpo.locations.list()] == ALL_IDS


@pytest.mark.parametrize("version", ["2.2.1", "2.3.0"])
def test_wrong_token_encoding_is_hinted_and_auto_remembers_the_other(router: Router, version: str) -> None:
    pkg = pkg_of(version)
    peer, url = _mount(router, version, f"enc-{version}", Quirks(raw_token_only=True))
    with pytest.raises(pkg.OcpiServerError, match="base64-encoded"):
        pkg.CpoClient.connect(url, TOKEN)
    peer.requests.clear()
    with pkg.CpoClient.connect(url, TOKEN, token_encoding="auto") as cpo:
        assert cpo.profile.token_encoding == "raw"
        assert len(list(cpo.locations.list())) == 40
    assert len(peer.requests) == 1 + 2 + 8  # one refused versions call, then no more retries


def test_403_with_a_non_ocpi_body_is_an_authentication_error(router: Router) -> None:
    pkg = pkg_of("2.2.1")
    _, url = _mount(router, "2.2.1", "auth403", Quirks(auth_403=True))
    with pytest.raises(pkg.AuthenticationError) as info:
        pkg.CpoClient.connect(url, "WRONG-TOKEN-123")
    assert info.value.http_status == 403 and "Not authenticated" in str(info.value)


def test_a_user_http_client_keeps_its_timeout_and_a_call_can_set_its_own(router: Router) -> None:
    pkg = pkg_of("2.2.1")
    _, url = _mount(router, "2.2.1", "slow-user", hostile="slow_headers")
    with httpx.Client(timeout=0.5, follow_redirects=True) as http:
        cpo = pkg.CpoClient.connect(url, TOKEN, http=http, max_retries=0)
        started = time.monotonic()
        with pytest.raises(pkg.TransportError):
            cpo.locations.get_location("LOC01")
        assert time.monotonic() - started < 2.0  # the client's 0.5 s, not 30 s
        started = time.monotonic()
        with pytest.raises(pkg.DeadlineExceededError):
            cpo.locations.get_location("LOC01", timeout=0.3)
        assert time.monotonic() - started < 1.5


# --------------------------------------------------------------------------------------------------
# Hostile peers: a typed error, within the deadline, in bounded memory
# --------------------------------------------------------------------------------------------------


def _connect(pkg: ModuleType, url: str, **options: Any) -> Any:
    return pkg.CpoClient.connect(url, TOKEN, **options)


def test_link_cycle_stops_after_handing_out_both_pages(router: Router) -> None:
    pkg = pkg_of("2.2.1")
    _, url = _mount(router, "2.2.1", "cycle", hostile="link_cycle")
    with _connect(pkg, url) as cpo:
        got: list[str] = []
        with pytest.raises(pkg.LinkCycleError):
            got.extend(loc.id for loc in cpo.locations.list())
        assert got == ALL_IDS[:10]


@pytest.mark.parametrize("hostile", ["slow_body", "slow_headers"])
def test_a_slow_peer_cannot_hold_a_call_past_its_deadline_sync(router: Router, hostile: str) -> None:
    pkg = pkg_of("2.2.1")
    _, url = _mount(router, "2.2.1", f"{hostile}-sync", hostile=hostile)
    with _connect(pkg, url, timeout=1.0) as cpo:
        started = time.monotonic()
        with pytest.raises(pkg.DeadlineExceededError):
            list(cpo.locations.list())
        assert time.monotonic() - started < 2.5


@pytest.mark.parametrize("hostile", ["slow_body", "slow_headers"])
def test_a_slow_peer_cannot_hold_a_call_past_its_deadline_async(router: Router, hostile: str) -> None:
    pkg = pkg_of("2.3.0")
    _, url = _mount(router, "2.3.0", f"{hostile}-async", hostile=hostile)

    async def go() -> float:
        cpo = await pkg.AsyncCpoClient.connect(url, TOKEN, timeout=1.0)
        async with cpo:
            started = time.monotonic()
            with pytest.raises(pkg.DeadlineExceededError):
                async for _ in cpo.locations.list():
                    pass
            return time.monotonic() - started

    assert asyncio.run(go()) < 2.0


def test_a_huge_page_is_cut_off_at_the_size_cap_in_bounded_memory(router: Router) -> None:
    pkg = pkg_of("2.2.1")
    _, url = _mount(router, "2.2.1", "huge", hostile="huge_body")
    with _connect(pkg, url, max_response_bytes=1_000_000) as cpo:
        tracemalloc.start()
        try:
            with pytest.raises(pkg.ResponseTooLargeError) as info:
                list(cpo.locations.list())
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < 8_000_000, peak
    assert info.value.http_status == 200 and "1000000" in str(info.value)


def test_superscript_total_and_status_give_typed_errors(router: Router) -> None:
    pkg = pkg_of("2.2.1")
    _, url = _mount(router, "2.2.1", "sup-total", hostile="superscript_total")
    with _connect(pkg, url, strict=True) as cpo:
        got: list[str] = []
        with pytest.raises(pkg.InvalidResponseError, match="X-Total-Count"):
            got.extend(loc.id for loc in cpo.locations.list())
        assert got == ALL_IDS[:5]
    with _connect(pkg, url) as cpo:  # lenient: the header is ignored (recorded), the links carry on
        assert [loc.id for loc in cpo.locations.list()] == ALL_IDS
        assert "bad_header" in {d.kind for d in cpo.deviations}
    _, url = _mount(router, "2.2.1", "sup-status", hostile="superscript_status")
    with pytest.raises(pkg.InvalidResponseError, match="status_code is not an integer"):
        _connect(pkg, url)


def test_our_tokens_never_appear_in_messages_built_from_peer_text(router: Router) -> None:
    pkg = pkg_of("2.2.1")
    _, url = _mount(router, "2.2.1", "echo", hostile="echo_token")
    with pytest.raises(pkg.HttpError) as info:
        _connect(pkg, url)
    error = info.value
    encoded = base64.b64encode(TOKEN.encode()).decode()
    for text in (str(error), error.body, error.status_message or "", repr(error.args)):
        assert TOKEN not in text and encoded not in text
    assert "***" in str(error)


def test_userinfo_in_a_link_is_never_followed(router: Router) -> None:
    pkg = pkg_of("2.2.1")
    _, url = _mount(router, "2.2.1", "userinfo", hostile="userinfo_link")
    with _connect(pkg, url, strict=True) as cpo:
        got: list[str] = []
        with pytest.raises(pkg.UnsafeLinkError):
            got.extend(loc.id for loc in cpo.locations.list())
        assert got == ALL_IDS[:5]
    with _connect(pkg, url) as cpo:
        assert [loc.id for loc in cpo.locations.list()] == ALL_IDS  # by offset on the published URL
    with pytest.raises(pkg.UnsafeUrlError):
        _connect(pkg, url.replace("http://", "http://user:pw@"))


@pytest.mark.parametrize("hostile,match", [("redirect_away", "127.0.0.2"), ("redirect_loop", "more than 5 redirects")])
def test_redirects_off_origin_or_in_a_loop_are_typed_errors(router: Router, hostile: str, match: str) -> None:
    pkg = pkg_of("2.2.1")
    peer, url = _mount(router, "2.2.1", hostile, hostile=hostile)
    with httpx.Client(follow_redirects=True) as http:
        with pytest.raises(pkg.RedirectError, match=match) as info:
            _connect(pkg, url, http=http)
    assert info.value.target is not None
    assert len(peer.requests) <= 6
