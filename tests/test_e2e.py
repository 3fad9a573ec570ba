"""End to end over real HTTP on 127.0.0.1: the scaffolded CPO and eMSP servers of every version,
driven by the generated clients: the credentials handshake in both directions, push (PUT/PATCH/POST)
of every receiver module's objects, paginated pull of every sender module's objects, and a command
with its asynchronous result."""

from __future__ import annotations

import asyncio
import base64
import functools
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from generator.client import PyInterface, PyRoleClient, view
from generator.ir import ObjectType, Spec
from generator.paths import SPEC_ROOT, available_versions
from generator.pipeline import load_spec as _load_spec
from generator.server_check import key_field as _key_field
from tests.blocking import blocking, sync
from tests.client_support import client_package
from tests.samples import obj
from tests.server_support import RunningServer, free_port, server_package

VERSIONS = available_versions(SPEC_ROOT)
load_spec = functools.cache(_load_spec)
STAMP = "2024-05-06T07:08:09Z"


def role_client(spec: Spec, role: str) -> PyRoleClient:
    _, clients = view(spec)
    return next(c for c in clients if c.role == role)


def sample(spec: Spec, type_name: str, owner: tuple[str, str], oid: str) -> dict[str, Any]:
    t = spec.type(type_name)
    assert isinstance(t, ObjectType)
    data = obj(spec, t)
    if t.field_named("country_code") and t.field_named("party_id"):
        data["country_code"], data["party_id"] = owner
    key = _key_field(t)
    if key:
        data[key] = oid
    return data


def auth(token: str, spec: Spec) -> dict[str, str]:
    return {"Authorization": "Token " + (base64.b64encode(token.encode()).decode() if spec.token_base64 else token)}


class Pair:
    """A CPO and an eMSP server of one version, each with its own store, on free ports."""

    def __init__(self, version: str) -> None:
        self.spec = load_spec(SPEC_ROOT, version)
        self.version = version
        self.client = client_package(self.spec)
        self.cpo_pkg, self.emsp_pkg = server_package(version, "cpo"), server_package(version, "emsp")
        self.ports = {"cpo": free_port(), "emsp": free_port()}
        packages = {"cpo": self.cpo_pkg, "emsp": self.emsp_pkg}
        ids = {"cpo": ("NL", "CPO"), "emsp": ("DE", "EMS")}
        self.settings = {
            who: packages[who].ServerSettings(
                base_url=self.base(who),
                country_code=ids[who][0],
                party_id=ids[who][1],
                token_base64=self.spec.token_base64,
                max_limit=3,
                default_limit=3,
                allow_private_peers=True,  # both servers are on 127.0.0.1
            )
            for who in ("cpo", "emsp")
        }
        self.stores = {"cpo": self.cpo_pkg.SqliteStore(":memory:"), "emsp": self.emsp_pkg.SqliteStore(":memory:")}

    def base(self, who: str) -> str:
        return f"http://127.0.0.1:{self.ports[who]}/ocpi"

    def versions(self, who: str) -> str:
        return f"{self.base(who)}/versions"

    def cpo_handlers(self) -> Any:
        """The CPO's handlers with a command policy of its own: commands are the operator's decision
        (the default answers 501), so this CPO accepts START_SESSION and reports it ACCEPTED."""
        pkg, models = self.cpo_pkg, self.cpo_pkg.handlers
        attr = "commands_receiver" if self.spec.routing_headers else "commands_cpo"
        base = type(getattr(pkg.Handlers(), attr))
        answer = {"result": "ACCEPTED", **({"timeout": 30} if self.spec.routing_headers else {})}
        result_type = "CommandResult" if self.spec.routing_headers else "CommandResponse"

        class Commands(base):  # type: ignore[misc,valid-type]
            async def start_session(self, ctx: Any, body: Any) -> Any:
                return models.CommandResponse.model_validate(answer)

            async def start_session_result(self, ctx: Any, body: Any) -> Any:
                return getattr(models, result_type).model_validate({"result": "ACCEPTED"})

        return pkg.Handlers(**{attr: Commands()})

    def servers(self) -> tuple[RunningServer, RunningServer]:
        return (
            RunningServer(
                self.cpo_pkg.create_app(self.settings["cpo"], store=self.stores["cpo"], handlers=self.cpo_handlers()),
                self.ports["cpo"],
            ),
            RunningServer(
                self.emsp_pkg.create_app(self.settings["emsp"], store=self.stores["emsp"]), self.ports["emsp"]
            ),
        )

    def register(self, initiator: str, other: str) -> tuple[Any, Any]:
        """``initiator`` registers with ``other``, which issued a token A; both sides' parties."""
        pkgs = {"cpo": self.cpo_pkg, "emsp": self.emsp_pkg}
        key = {"cpo": "NL/CPO", "emsp": "DE/EMS"}
        token_a = blocking(pkgs[other].issue_token_a(self.settings[other], key[initiator], self.stores[other]))
        mine = asyncio.run(
            pkgs[initiator].register_with_peer(
                self.settings[initiator], self.stores[initiator], key[other], self.versions(other), token_a
            )
        )
        theirs = sync(self.stores[other]).party(key[initiator])
        assert theirs is not None and theirs.registered and mine.version == self.version
        assert theirs.token_b == mine.token_c and mine.token_b == theirs.token_c  # B and C crossed over
        assert httpx.get(self.versions(other), headers=auth(token_a, self.spec)).status_code == 401  # A is spent
        return mine, theirs


def _interfaces(spec: Spec, role: str, iface_roles: tuple[str, ...]) -> list[tuple[str, PyInterface]]:
    return [(a.name, a.interface) for a in role_client(spec, role).attrs if a.interface.role in iface_roles]


def push_everything(pair: Pair, peer: Any, receiver: str, owner: tuple[str, str]) -> int:
    """PUT, PATCH and POST every object the peer's receiver interfaces take; check each stored."""
    spec, pushed = pair.spec, 0
    store = pair.stores[receiver]
    roles = ("RECEIVER",) if spec.routing_headers else (receiver.upper(),)
    for attr, iface in _interfaces(spec, receiver.upper(), roles):
        api = getattr(peer, attr)
        methods = {m.name: m for m in iface.methods}
        for m in iface.methods:
            names = [p.wire for p in m.path_params]
            if (
                m.http_method == "PUT"
                and names[:2] == ["country_code", "party_id"]
                and len(names) == 3
                and m.body_annotation
            ):
                model = getattr(pair.client.models, m.body_annotation)
                oid = f"{attr[:3].upper()}1"
                body = model.model_validate(sample(spec, m.body_annotation, owner, oid))
                api_args = [owner[0], owner[1], oid]
                getattr(api, m.name)(*api_args, body)
                getter = next(
                    (g for g in methods.values() if g.http_method == "GET" and g.path_expr == m.path_expr), None
                )
                if getter is not None:
                    got = getattr(api, getter.name)(*api_args)
                    assert got.to_json() == body.to_json(), f"{attr}.{getter.name}"
                patcher = next(
                    (p for p in methods.values() if p.http_method == "PATCH" and p.path_expr == m.path_expr), None
                )
                if patcher is not None:
                    patch = getattr(pair.client.models, patcher.body_annotation).model_validate({"last_updated": STAMP})
                    getattr(api, patcher.name)(*api_args, patch)
                    if getter is not None:
                        assert getattr(api, getter.name)(*api_args).last_updated == datetime(
                            2024, 5, 6, 7, 8, 9, tzinfo=UTC
                        )
                pushed += 1
            if m.http_method == "POST" and not m.path_params and m.body_annotation and m.returns == "OcpiResponse":
                t = spec.type(m.body_annotation)
                if isinstance(t, ObjectType) and _key_field(t):
                    body = getattr(pair.client.models, m.body_annotation).model_validate(
                        sample(spec, m.body_annotation, owner, "POSTED1")
                    )
                    getattr(api, m.name)(body)
                    items, total = sync(store).list_objects(
                        m.body_annotation, date_from=None, date_to=None, offset=0, limit=10
                    )
                    assert total == 1 and items[0][_key_field(t)] == "POSTED1"
                    pushed += 1
    return pushed


def pull_everything(pair: Pair, peer: Any, sender: str) -> int:
    """Seed every collection the peer's sender lists serve, then pull it over several pages."""
    spec, pulled = pair.spec, 0
    store = pair.stores[sender]
    roles = ("SENDER",) if spec.routing_headers else (sender.upper(),)
    for attr, iface in _interfaces(spec, sender.upper(), roles):
        for m in iface.methods:
            if not m.paginated or m.item_type is None:
                continue
            collection = m.item_type
            # A role with both interfaces of a module (2.3.0 Invoice Reconciliation: CPO and eMSP each
            # send and receive records) keeps what it received in the same collection: pull from a clean one.
            key = _key_field(spec.type(collection)) or "id"  # type: ignore[arg-type]
            received, _ = sync(store).list_objects(collection, date_from=None, date_to=None, offset=0, limit=100)
            for item in received:
                sync(store).delete_object(collection, item["country_code"], item["party_id"], item[key])
            ids = [f"{collection[:4].upper()}{n}" for n in range(7)]
            for n, oid in enumerate(ids):
                data = sample(spec, collection, ("NL", "CPO"), oid)
                data["last_updated"] = f"2024-01-0{n + 1}T00:00:00Z" if "last_updated" in data else None
                if data["last_updated"] is None:
                    del data["last_updated"]
                sync(store).put_object(collection, "NL", "CPO", oid, data, f"2024-01-0{n + 1}T00:00:00Z")
            kwargs: dict[str, Any] = {"limit": 3}
            if any(q.name == "date_from" and q.required for q in m.query_params):
                kwargs["date_from"] = datetime(2023, 1, 1, tzinfo=UTC)
            pages = getattr(getattr(peer, attr), m.name)(**kwargs)
            got = [getattr(item, _key_field(spec.type(collection)) or "id") for item in pages]  # type: ignore[arg-type]
            assert got == ids, f"{attr}.{m.name}"
            assert pages.total_count == 7 and pages.pages_fetched == 3 and not pages.deviations
            pulled += 1
    return pulled


@pytest.mark.parametrize("version", VERSIONS)
def test_cpo_and_emsp_servers_with_generated_clients(version: str) -> None:
    pair = Pair(version)
    cpo_server, emsp_server = pair.servers()
    with cpo_server, emsp_server:
        # 1. The CPO registers with the eMSP.
        cpo_side, emsp_side = pair.register("cpo", "emsp")
        emsp_peer = pair.client.EmspClient.connect(pair.versions("emsp"), cpo_side.token_b)  # the CPO talks to the eMSP
        cpo_peer = pair.client.CpoClient.connect(pair.versions("cpo"), emsp_side.token_b)  # the eMSP talks to the CPO

        # 2. Push from the CPO to the eMSP's receiver modules; tokens from the eMSP to the CPO.
        assert push_everything(pair, emsp_peer, "emsp", ("NL", "CPO")) >= 3
        assert push_everything(pair, cpo_peer, "cpo", ("DE", "EMS")) >= 1

        # Nested objects: an EVSE status change reaches the stored location.
        loc = emsp_peer.locations.get_location("NL", "CPO", "LOC1")
        evse_uid = loc.evses[0].uid
        patch = pair.client.models.EVSEPatch.model_validate({"status": "CHARGING", "last_updated": STAMP})
        emsp_peer.locations.patch_evse("NL", "CPO", "LOC1", evse_uid, patch)
        assert emsp_peer.locations.get_evse("NL", "CPO", "LOC1", evse_uid).status == "CHARGING"
        stored = sync(pair.stores["emsp"]).get_object("Location", "NL", "CPO", "LOC1")
        assert stored["evses"][0]["status"] == "CHARGING" and stored["last_updated"].startswith("2024-05-06T07:08:09")

        # 3. Pull every sender list of the CPO (from the eMSP), and the eMSP's (from the CPO), page by page.
        assert pull_everything(pair, cpo_peer, "cpo") >= 4
        assert pull_everything(pair, emsp_peer, "emsp") >= 1

        # 4. A command, answered at once and then with a result at the eMSP's response_url.
        start = sample(pair.spec, "StartSession", ("DE", "EMS"), "X")
        start["response_url"] = f"{pair.base('emsp')}/{version}/commands"
        answer = cpo_peer.commands.start_session(pair.client.models.StartSession.model_validate(start))
        assert answer.result == "ACCEPTED"
        result_type = "CommandResult" if pair.spec.routing_headers else "CommandResponse"
        deadline = time.monotonic() + 10
        while (
            sync(pair.stores["emsp"]).list_objects(result_type, date_from=None, date_to=None, offset=0, limit=5)[1] == 0
        ):
            assert time.monotonic() < deadline, "no command result arrived"
            time.sleep(0.05)
        (result,), _ = sync(pair.stores["emsp"]).list_objects(
            result_type, date_from=None, date_to=None, offset=0, limit=5
        )
        assert result["result"] == "ACCEPTED"

        # 5. The eMSP unregisters from the CPO, then registers the other way round.
        cpo_peer.unregister()
        with pytest.raises(pair.client.AuthenticationError):
            cpo_peer.locations.list().__next__()
        sync(pair.stores["cpo"]).delete_party("DE/EMS")
        sync(pair.stores["emsp"]).delete_party("NL/CPO")
        emsp_again, cpo_again = pair.register("emsp", "cpo")
        again = pair.client.CpoClient.connect(pair.versions("cpo"), emsp_again.token_b)
        assert [loc.id for loc in again.locations.list()][:1] == ["LOCA0"]
