"""Push: every change of the party's own objects goes out at once to every peer that receives it.

Static: copied verbatim into every generated server. Which modules this role sends, where they are
stored and which receiver endpoints a push calls are computed by the generator from the spec
transcription (``PushModule``/``PushOp``, the ``PUSH_MODULES`` table of the generated package).

Following ``transport_and_format_offline_behaviour``, nothing is queued for a later retry: a push
that fails is logged and marks the peer out of sync in its peer state (``in_sync`` False,
``last_push_error``); the peer catches up by pulling (resync). Changes of one object go out to one
peer in the order they were made; changes of different objects may overlap.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI

from ._json import dumps_bytes
from ._outbound import allowed, peer_http_client
from ._settings import ServerSettings
from ._store import Party, Store
from ._time import now_timestamp
from .client._transport import AsyncTransport, Routing
from .client.errors import OcpiError

logger = logging.getLogger("ocpi.push")

#: The id under which an owner's only object of a kind is stored (as ``_defaults.SINGLE``).
SINGLE = "-"


@dataclass(frozen=True)
class PushOp:
    """One receiver endpoint a push can call: method, path below the receiver's endpoint URL (with
    ``{country_code}``, ``{party_id}``, the id and nested parameters) and how deep it addresses."""

    method: str
    path: str
    depth: int = 0


@dataclass(frozen=True)
class PushModule:
    """A module this role sends: its stored collection, the root object's key field and id
    parameter, the nesting (``(field, key, param)`` per step), the model of the root and of each
    nested level, and the receiver interface (discovery role, the roles implementing it, its ops)."""

    module_id: str
    collection: str
    key: str | None
    id_param: str | None
    nesting: tuple[tuple[str, str, str], ...] = ()
    models: tuple[Any, ...] = ()
    interface_role: str | None = None
    receivers: tuple[str, ...] = ()
    ops: tuple[PushOp, ...] = ()

    @property
    def single(self) -> bool:
        """One object per owner (a hub's ClientInfo), stored under the id ``SINGLE``."""
        return self.key is None

    def op(self, method: str, depth: int) -> PushOp | None:
        return next((o for o in self.ops if o.method == method and o.depth == depth), None)


@dataclass(frozen=True)
class Change:
    """One change of a stored object, with what each kind of push would send.

    ``kind``: put, patch or delete; ``ids``: the root id then the nested values down to ``depth``;
    ``body``: the fields of a patch, the new object of a put; ``target``: the whole object at
    ``depth`` after the change; ``root``: the whole root object after the change (None if deleted).
    """

    module: PushModule
    kind: str
    owner: tuple[str, str]
    ids: tuple[str, ...]
    body: dict[str, Any] | None
    target: dict[str, Any] | None
    root: dict[str, Any] | None

    @property
    def depth(self) -> int:
        return max(len(self.ids) - 1, 0)


@dataclass(frozen=True)
class Delivery:
    """What goes to one peer for a change: method, path (below the endpoint URL) and body."""

    method: str
    path: str
    body: dict[str, Any] | None


def delivery(change: Change) -> Delivery | None:
    """The request a change makes: PATCH of a partial change where the receiver has it, else PUT of
    the whole object at that depth, else PUT (or POST) of the whole root object; DELETE of a root
    object where the receiver has it. None: the module's receiver has no way to take the change."""
    m, depth = change.module, change.depth
    if change.kind == "delete" and depth == 0:
        op = m.op("DELETE", 0)
        return Delivery(op.method, op.path, None) if op else None
    if change.kind == "patch":
        op = m.op("PATCH", depth)
        if op is not None:
            return Delivery(op.method, op.path, change.body)
    if change.kind in ("put", "patch") and change.target is not None:
        op = m.op("PUT", depth)
        if op is not None:
            return Delivery(op.method, op.path, change.target)
    if change.root is None:
        return None
    for method in ("PUT", "POST"):
        op = m.op(method, 0)
        if op is not None:
            return Delivery(op.method, op.path, change.root)
    return None


def fill_path(module: PushModule, path: str, owner: tuple[str, str], ids: Sequence[str]) -> str:
    """The path of a receiver endpoint with the owner, id and nested values, each URL-quoted."""
    values = {"country_code": owner[0], "party_id": owner[1]}
    if module.id_param is not None and ids:
        values[module.id_param] = ids[0]
    for (_, _, param), value in zip(module.nesting, ids[1:], strict=False):
        values[param] = value
    return path.format_map({k: quote(v, safe="") for k, v in values.items()})


def receiver_url(party: Party, module: PushModule) -> str | None:
    """The peer's endpoint of the module's receiver interface, if it offers it."""
    for endpoint in party.endpoints:
        if endpoint.get("identifier") != module.module_id:
            continue
        if module.interface_role is not None and endpoint.get("role") != module.interface_role:
            continue
        url = endpoint.get("url")
        if isinstance(url, str) and url:
            return url
    return None


def _peer_role(party: Party, module: PushModule) -> tuple[str | None, str | None]:
    """The peer's country code and party id for the routing headers: its role that implements the
    receiver interface, else its first role."""
    roles = [r for r in party.roles if isinstance(r, dict)]
    chosen = next((r for r in roles if r.get("role") in module.receivers), roles[0] if roles else None)
    if chosen is None:
        return None, None
    cc, pid = chosen.get("country_code"), chosen.get("party_id")
    return (cc if isinstance(cc, str) else None), (pid if isinstance(pid, str) else None)


@dataclass
class _Peer:
    transport: AsyncTransport
    token: str
    versions_url: str | None


@dataclass
class Pusher:
    """Sends changes to peers in background tasks (one chain per (peer, object) keeps order)."""

    store: Store
    settings: ServerSettings
    version: str
    routing_headers: bool
    modules: Sequence[PushModule] = ()
    _tails: dict[tuple[str, str, str, str, str], asyncio.Task[None]] = field(default_factory=dict)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _peers: dict[str, _Peer] = field(default_factory=dict)
    _loop: asyncio.AbstractEventLoop | None = None
    on_result: list[Callable[[Party, Change, Delivery, bool], None]] = field(default_factory=list)

    def module(self, name: str) -> PushModule:
        """A sent module by its module id (``locations``) or collection (``Location``)."""
        for m in self.modules:
            if name in (m.module_id, m.collection):
                return m
        sent = ", ".join(m.module_id for m in self.modules) or "none"
        raise KeyError(f"this role does not send {name!r} (it sends: {sent})")

    # -- scheduling ----------------------------------------------------------------------------------

    def _bound_loop(self) -> asyncio.AbstractEventLoop:
        """The loop push tasks run on: the first one used, as long as it runs."""
        current = asyncio.get_running_loop()
        if self._loop is None or self._loop.is_closed() or not self._loop.is_running():
            if self._loop is not current:
                self._peers.clear()  # transports belong to the loop that made them
                self._tails.clear()
                self._tasks.clear()
            self._loop = current
        return self._loop

    async def submit(self, change: Change) -> int:
        """Start the pushes of ``change`` to every peer that receives its module; the count."""
        parties = await self.store.parties()
        jobs: list[tuple[Party, str, Delivery]] = []
        for party in parties:
            if not party.registered or not party.token_b or (party.version and party.version != self.version):
                continue
            url = receiver_url(party, change.module)
            if url is None:
                continue
            d = delivery(change)
            if d is None:
                logger.info(
                    "%s %s not pushed to %s: its receiver interface has no endpoint for this change",
                    change.module.collection,
                    "/".join(change.ids),
                    party.party_key,
                )
                continue
            jobs.append((party, url, d))
        if not jobs:
            return 0
        loop = self._bound_loop()
        if loop is asyncio.get_running_loop():
            self._start(change, jobs)
        else:
            loop.call_soon_threadsafe(self._start, change, jobs)
        return len(jobs)

    def _start(self, change: Change, jobs: list[tuple[Party, str, Delivery]]) -> None:
        for party, url, d in jobs:
            key = (party.party_key, change.module.collection, *change.owner, change.ids[0] if change.ids else SINGLE)
            previous = self._tails.get(key)
            task = asyncio.get_running_loop().create_task(self._after(previous, party, url, change, d))
            self._tails[key] = task
            self._tasks.add(task)
            task.add_done_callback(functools.partial(self._done, key))

    def _done(self, key: tuple[str, str, str, str, str], task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if self._tails.get(key) is task:
            del self._tails[key]

    async def _after(
        self, previous: asyncio.Task[None] | None, party: Party, url: str, change: Change, d: Delivery
    ) -> None:
        if previous is not None:
            await asyncio.wait([previous])
        await self._send(party, url, change, d)

    # -- sending -------------------------------------------------------------------------------------

    async def _peer(self, party: Party) -> _Peer:
        token = party.token_b or ""
        peer = self._peers.get(party.party_key)
        if peer is not None and peer.token == token and peer.versions_url == party.versions_url:
            return peer
        if peer is not None:
            await peer.transport.aclose()
        client_settings = self.settings.client_settings(token, ocpi_headers=self.routing_headers, max_retries=0)
        http = peer_http_client(self.settings, party.versions_url or "", timeout=30.0)
        peer = _Peer(AsyncTransport(client_settings, http=http), token, party.versions_url)
        self._peers[party.party_key] = peer
        return peer

    async def _send(self, party: Party, endpoint: str, change: Change, d: Delivery) -> None:
        m = change.module
        url = endpoint.rstrip("/") + fill_path(m, d.path, change.owner, change.ids) if d.path else endpoint
        start = time.perf_counter()
        status: int | str = "-"
        try:
            if not await allowed(self.settings, url, peer_url=party.versions_url, what=f"{m.module_id} receiver"):
                raise OcpiError("refused by this server's outbound URL policy")
            peer = await self._peer(party)
            routing = None
            if self.routing_headers:
                cc, pid = _peer_role(party, m)
                routing = Routing(self.settings.country_code, self.settings.party_id, cc, pid)
            body = None if d.body is None else dumps_bytes(d.body)
            response = await peer.transport.request(d.method, url, body=body, routing=routing)
            status = response.http_status
            location = response.headers.get("location") if d.method == "POST" else None
        except (OcpiError, OSError) as exc:
            ms = (time.perf_counter() - start) * 1000
            status = getattr(exc, "http_status", None) or status
            message = f"{d.method} {url}: {exc}"
            logger.warning(
                "push failed: peer %s %s %s status %s %.0f ms: %s", party.party_key, d.method, url, status, ms, exc
            )
            await self._record(party.party_key, ok=False, error=message[:500])
            self._notify(party, change, d, False)
            return
        except asyncio.CancelledError:
            logger.warning("push cancelled: peer %s %s %s (shutdown)", party.party_key, d.method, url)
            await asyncio.shield(self._record(party.party_key, ok=False, error=f"{d.method} {url}: cancelled"))
            raise
        except Exception:
            logger.exception("push failed: peer %s %s %s: unexpected error", party.party_key, d.method, url)
            await self._record(party.party_key, ok=False, error=f"{d.method} {url}: unexpected error")
            self._notify(party, change, d, False)
            return
        ms = (time.perf_counter() - start) * 1000
        logger.info("push delivered: peer %s %s %s status %s %.0f ms", party.party_key, d.method, url, status, ms)
        oid = change.ids[0] if change.ids else SINGLE
        await self._record(party.party_key, ok=True, location=(oid, location) if location else None)
        self._notify(party, change, d, True)

    def _notify(self, party: Party, change: Change, d: Delivery, ok: bool) -> None:
        for callback in self.on_result:
            callback(party, change, d, ok)

    async def _record(
        self, party_key: str, *, ok: bool, error: str | None = None, location: tuple[str, str] | None = None
    ) -> None:
        stamp = now_timestamp()

        def mutate(state: dict[str, Any] | None) -> dict[str, Any]:
            state = dict(state or {})
            if ok:
                state["last_push"] = stamp
                if location is not None:
                    locations = state.get("cdr_locations")
                    state["cdr_locations"] = {
                        **(locations if isinstance(locations, dict) else {}),
                        location[0]: location[1],
                    }
            else:
                state["in_sync"] = False
                state["last_push_error"] = error
            return state

        try:
            await self.store.update_peer_state(party_key, mutate)
        except Exception:  # the party may have been deleted meanwhile
            logger.exception("could not record the push result for peer %s", party_key)

    # -- waiting and closing -------------------------------------------------------------------------

    async def drain(self) -> None:
        """Wait until every push started so far has finished (delivered or failed)."""
        loop = self._loop
        if loop is not None and loop is not asyncio.get_running_loop() and loop.is_running():
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._drain(), loop))
            return
        await self._drain()

    async def _drain(self) -> None:
        while self._tasks:
            await asyncio.wait(list(self._tasks))

    async def close(self, grace: float = 5.0) -> None:
        """On shutdown: give the pushes in flight ``grace`` seconds to finish, cancel the rest (they
        are not queued: the peers resync), and close the peers' HTTP clients."""
        if self._loop is not None and self._loop is not asyncio.get_running_loop():
            return  # the pushes run on another (still running) loop, which owns them
        tasks = list(self._tasks)
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                logger.warning("shutdown: %d push(es) cancelled", len(pending))
                await asyncio.wait(pending)
        peers, self._peers = list(self._peers.values()), {}
        for peer in peers:
            await peer.transport.aclose()


def install_push(app: FastAPI, pusher: Pusher) -> None:
    """Close ``pusher`` when the app shuts down (wrapping whatever lifespan the app has)."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        async with inner(application) as state:
            try:
                yield state
            finally:
                await pusher.close()

    app.router.lifespan_context = lifespan


def configure_logging() -> None:
    """INFO lines of the ``ocpi`` loggers on stderr, unless logging is configured already (the
    ``ocpi`` logger or the root logger has a handler): users' own configuration wins."""
    log = logging.getLogger("ocpi")
    if log.handlers or logging.getLogger().handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log.addHandler(handler)
    if log.level == logging.NOTSET:
        log.setLevel(logging.INFO)
