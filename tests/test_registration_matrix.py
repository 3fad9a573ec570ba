"""Registration matrix over real HTTP on 127.0.0.1: for every version, a generated server of every
role registers with one of every other role, both ways (the credentials handshake of
``credentials``: token A, versions, details, token B and C crossed over). A registration that fails
halfway leaves both stores as they were."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import itertools
from typing import Any

import httpx
import pytest

from generator.paths import SPEC_ROOT, available_versions
from generator.pipeline import load_spec
from generator.server import roles_with_servers
from tests.blocking import blocking, sync
from tests.server_support import RunningServer, free_port, server_package

COUNTRY = {"cpo": "NL", "emsp": "DE", "hub": "BE", "nsp": "FR", "scsp": "AT", "ptp": "CH", "nap": "LU"}


class Node:
    """One role's generated server on a free port with its own store."""

    def __init__(self, version: str, role: str, token_base64: bool) -> None:
        self.role = role
        self.pkg = server_package(version, role)
        self.port = free_port()
        self.settings = self.pkg.ServerSettings(
            base_url=f"http://127.0.0.1:{self.port}/ocpi",
            country_code=COUNTRY[role],
            party_id=role.upper()[:3],
            token_base64=token_base64,
            allow_private_peers=True,  # the peers are on 127.0.0.1
        )
        self.store = self.pkg.SqliteStore(":memory:")
        self.server = RunningServer(self.pkg.create_app(self.settings, store=self.store), self.port)

    @property
    def versions_url(self) -> str:
        return f"{self.settings.base_url}/versions"


def _snapshot(store: Any) -> list[dict[str, Any]]:
    return [dataclasses.asdict(p) for p in sync(store).parties()]


def _auth(token: str, base64_encode: bool) -> dict[str, str]:
    return {"Authorization": "Token " + (base64.b64encode(token.encode()).decode() if base64_encode else token)}


@pytest.mark.parametrize("version", available_versions(SPEC_ROOT))
def test_every_role_registers_with_every_other_both_ways(version: str) -> None:
    spec = load_spec(SPEC_ROOT, version)
    roles = [r.slug for r in roles_with_servers(spec)]
    nodes = {role: Node(version, role, spec.token_base64) for role in roles}
    pairs = list(itertools.permutations(roles, 2))
    for node in nodes.values():
        node.server.__enter__()
    http = httpx.Client()  # one client for our own checks (each new one loads the CA bundle)
    try:
        for initiator, responder in pairs:
            a, b = nodes[initiator], nodes[responder]
            key = f"{initiator}>{responder}"
            token_a = blocking(b.pkg.issue_token_a(b.settings, key, b.store))
            mine = asyncio.run(a.pkg.register_with_peer(a.settings, a.store, key, b.versions_url, token_a))
            theirs = sync(b.store).party(key)
            assert theirs is not None and theirs.registered and mine.version == version, key
            assert theirs.token_b == mine.token_c and mine.token_b == theirs.token_c, key
            assert http.get(b.versions_url, headers=_auth(token_a, spec.token_base64)).status_code == 401  # A spent
            # each side knows the other's role as its credentials name it
            if spec.routing_headers:
                assert [r["country_code"] for r in mine.roles] == [COUNTRY[responder]], key
                assert [r["country_code"] for r in theirs.roles] == [COUNTRY[initiator]], key
            # the registered peer calls us with its token C
            answer = http.get(
                f"{b.settings.base_url}/{version}/credentials", headers=_auth(mine.token_b, spec.token_base64)
            )
            assert answer.status_code == 200 and answer.json()["data"]["token"] == mine.token_b, key
        assert len(pairs) == len(roles) * (len(roles) - 1) >= 2
    finally:
        http.close()
        for node in nodes.values():
            node.server.__exit__()


@pytest.mark.parametrize("version", available_versions(SPEC_ROOT))
def test_a_registration_failing_halfway_leaves_both_stores_as_they_were(version: str) -> None:
    """The responder cannot fetch the initiator's versions (its URL points at a closed port): it
    answers 3001, and neither side keeps anything of the attempt; token A still works."""
    spec = load_spec(SPEC_ROOT, version)
    a, b = Node(version, "cpo", spec.token_base64), Node(version, "emsp", spec.token_base64)
    closed = free_port()
    unreachable = dataclasses.replace(a.settings, base_url=f"http://127.0.0.1:{closed}/ocpi")
    with b.server:
        token_a = blocking(b.pkg.issue_token_a(b.settings, "newcomer", b.store))
        before = (_snapshot(a.store), _snapshot(b.store))
        with pytest.raises(Exception):  # noqa: B017 - the client's error type for 3001
            asyncio.run(a.pkg.register_with_peer(unreachable, a.store, "peer", b.versions_url, token_a))
        assert (_snapshot(a.store), _snapshot(b.store)) == before
        assert httpx.get(b.versions_url, headers=_auth(token_a, spec.token_base64)).status_code == 200  # A still valid
