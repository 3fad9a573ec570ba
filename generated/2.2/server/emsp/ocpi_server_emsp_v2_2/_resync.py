"""Resync by pull: after an outage the receiving side GETs the current state from the sender.

Static: copied verbatim into every generated server package; names no OCPI version's models.

OCPI does not queue messages for later delivery (``transport_and_format_offline_behaviour``): a
receiver that missed pushes pages through the sender's lists and stores what it gets. The
generated package declares which modules its role receives (``RECEIVES``: ``Receiving`` entries
worked out from the spec transcription); for a registered peer whose endpoints offer the matching
sender interface, ``resync_peer`` pages through each with the embedded client's paginator, with
``date_from`` set to the peer's last complete resync minus ``OVERLAP_SECONDS``, and stores every
object that is new or newer than the stored one (``Store.update_object``).

The peer state (``Store.peer_state``) keeps: ``in_sync`` (True after a complete pass, False after a
failed one or a failed push), ``last_resync`` (start time of the last complete pass),
``resync_error`` (why the last pass was incomplete), and ``lease_until``/``lease_holder``: one pass per
peer at a time, across workers and hosts sharing the database.

``Resyncer`` runs in the application's lifespan: a pass over every peer at start-up (in the
background: start-up is not held up), then every ``resync_seconds``; a peer that is out of sync
(a failed push or resync) is tried again every ``resync_retry_seconds``, the first GET of the pass
being the probe. ``resync_seconds=0`` turns the background work off (``resync PEER`` still works).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import BaseModel

from ._defaults import encoded_json
from ._outbound import RefusedURL, peer_transport
from ._settings import ServerSettings
from ._store import Party, Store
from ._time import canonical_datetime, format_datetime, now_timestamp, parse_datetime, stamp_of
from .client._reading import READ_ERRORS, drop_nulls
from .client._settings import Routing
from .client._transport import AsyncTransport
from .client.errors import OcpiError, TransportError

if TYPE_CHECKING:
    from ._app import AppSpec

__all__ = ["OVERLAP_SECONDS", "ModuleOutcome", "Receiving", "ResyncResult", "Resyncer", "resync_peer", "sender_url"]

logger = logging.getLogger("ocpi.server")

#: ``date_from`` of a pass is the last complete pass's start minus this much: clocks of two
#: parties differ, and an object changed while the last pass ran is fetched again.
OVERLAP_SECONDS = 60
#: How long a pass holds its peer's lease; renewed before each module. A worker that died while
#: holding one blocks its peer's resync for at most this long.
LEASE_SECONDS = 300
#: The id under which an owner's only object of a kind is stored (as ``_defaults.SINGLE``).
SINGLE = "-"


@dataclass(frozen=True)
class Receiving:
    """A module our role receives, as the generated ``RECEIVES`` table declares it."""

    module_id: str
    peer_role: str | None
    """The peer's interface to page: ``SENDER`` (2.2+), or None (2.1.1: the module's only one)."""
    collection: str
    """The stored collection."""
    owner: str
    """``url``/``body``: the object's own country_code and party_id (the peer's, when the object
    has none: 2.1.1); ``self``: our own party (where the receiving endpoint stores it so)."""
    key: str
    """The field with the object's id; empty: the owner's only object."""
    model: type[BaseModel] | None = None
    """The object's model: a received object is validated and stored as the model writes it (UTC
    ``Z`` times, exact numbers, unknown fields kept), as a pushed one is; None: stored as received."""


@dataclass
class ModuleOutcome:
    """What one module's pull did."""

    module_id: str
    received: int = 0
    stored: int = 0
    invalid: int = 0
    error: str | None = None


@dataclass
class ResyncResult:
    """The outcome of ``resync_peer``. ``skipped`` says why nothing was pulled (no lease, no sender
    interface, not registered); ``complete`` is True when every module was paged to its end."""

    peer: str
    started: str | None = None
    date_from: str | None = None
    modules: list[ModuleOutcome] = field(default_factory=list)
    skipped: str | None = None
    seconds: float = 0.0

    @property
    def complete(self) -> bool:
        return self.skipped is None and all(m.error is None for m in self.modules)

    @property
    def received(self) -> int:
        return sum(m.received for m in self.modules)

    @property
    def stored(self) -> int:
        return sum(m.stored for m in self.modules)

    def summary(self) -> str:
        """One line for a log or the CLI (never a token)."""
        if self.skipped is not None:
            return f"resync of {self.peer}: skipped ({self.skipped})"
        parts = ", ".join(
            f"{m.module_id} {m.received}/{m.stored}" + (f" ({m.invalid} invalid)" if m.invalid else "")
            for m in self.modules
        )
        errors = "; ".join(f"{m.module_id}: {m.error}" for m in self.modules if m.error)
        state = "complete" if self.complete else f"INCOMPLETE ({errors})"
        since = self.date_from or "the beginning"
        return (
            f"resync of {self.peer} since {since}: {state}; received/stored {parts or 'nothing'};"
            f" {self.seconds:.2f} s"
        )


def sender_url(party: Party, receiving: Receiving) -> str | None:
    """The URL of the peer's interface ``receiving`` pages, from the endpoints it gave us."""
    for endpoint in party.endpoints:
        if str(endpoint.get("identifier", "")).lower() != receiving.module_id.lower():
            continue
        role = endpoint.get("role")
        if receiving.peer_role is None or role is None or str(role).upper() == receiving.peer_role:
            url = endpoint.get("url")
            if isinstance(url, str) and url:
                return url
    return None


def _peer_owner(party: Party) -> tuple[str, str] | None:
    """The peer's own country_code and party_id (its first role), or None."""
    for role in party.roles:
        cc, pid = role.get("country_code"), role.get("party_id")
        if isinstance(cc, str) and cc and isinstance(pid, str) and pid:
            return cc, pid
    return None


def _later(now: str, seconds: float) -> str:
    return format_datetime(parse_datetime(now) + timedelta(seconds=seconds))


def _as_object(raw: Any) -> Any:
    return raw


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class _Pass:
    """One resync pass over one peer."""

    def __init__(self, spec: AppSpec, settings: ServerSettings, store: Store, party: Party) -> None:
        self.spec = spec
        self.settings = settings
        self.store = store
        self.party = party
        self.holder = uuid.uuid4().hex
        self.peer_owner = _peer_owner(party)
        self.result = ResyncResult(party.party_key)

    async def take_lease(self) -> dict[str, Any] | None:
        """The peer state with our lease in it, or None when another pass holds a live lease."""
        now = canonical_datetime(now_timestamp())
        until = _later(now_timestamp(), LEASE_SECONDS)
        taken: dict[str, Any] | None = None

        def lease(state: dict[str, Any] | None) -> dict[str, Any] | None:
            nonlocal taken
            current = dict(state or {})
            held = current.get("lease_until")
            if isinstance(held, str) and current.get("lease_holder") != self.holder:
                try:
                    if canonical_datetime(held) > now:
                        taken = None
                        return None
                except ValueError:
                    pass
            current["lease_until"] = until
            current["lease_holder"] = self.holder
            taken = current
            return current

        await self.store.update_peer_state(self.party.party_key, lease)
        return taken

    async def finish(self, result: ResyncResult) -> None:
        """Release the lease; after a complete pass ``in_sync`` and ``last_resync``, else the error."""

        def done(state: dict[str, Any] | None) -> dict[str, Any] | None:
            current = dict(state or {})
            if current.get("lease_holder") == self.holder:
                current.pop("lease_until", None)
                current.pop("lease_holder", None)
            if result.complete:
                current["in_sync"] = True
                current["last_resync"] = result.started
                current.pop("resync_error", None)
            else:
                current["in_sync"] = False
                current["resync_error"] = "; ".join(f"{m.module_id}: {m.error}" for m in result.modules if m.error)
            return current

        await self.store.update_peer_state(self.party.party_key, done)

    def owner_of(self, receiving: Receiving, data: dict[str, Any]) -> tuple[str, str] | None:
        if receiving.owner == "self":
            return self.settings.country_code, self.settings.party_id
        cc, pid = data.get("country_code"), data.get("party_id")
        if isinstance(cc, str) and cc and isinstance(pid, str) and pid:
            return cc, pid
        return self.peer_owner

    async def keep(self, receiving: Receiving, data: Any, outcome: ModuleOutcome) -> None:
        """Store one received object when it is new or newer than the stored one."""
        outcome.received += 1
        if not isinstance(data, dict):
            outcome.invalid += 1
            return
        oid = data.get(receiving.key) if receiving.key else SINGLE
        owner = self.owner_of(receiving, data)
        if not isinstance(oid, str) or not oid or owner is None:
            outcome.invalid += 1
            return
        obj: dict[str, Any] = data
        if receiving.model is not None:
            # As a pushed object is: validated, then stored as the model writes it (that JSON text
            # goes to the store as it is). A peer's null fields are dropped first (we never store
            # nulls); an invalid object is counted, not kept.
            try:
                obj = encoded_json(receiving.model.model_validate(drop_nulls(data)[0]))[1]
            except READ_ERRORS as exc:
                outcome.invalid += 1
                logger.info(
                    "resync of %s: %s %s skipped, invalid: %s",
                    self.party.party_key,
                    receiving.collection,
                    oid,
                    _first_line(exc),
                )
                return
        new_stamp = stamp_of(obj)

        def newer(current: dict[str, Any] | None) -> dict[str, Any] | None:
            if current is None:
                return obj
            old_stamp = stamp_of(current)
            if new_stamp is None or old_stamp is None or new_stamp > old_stamp:
                return obj
            if new_stamp == old_stamp and current != obj:
                return obj
            return None

        # A read first (no write transaction) for what the overlap and an unchanged peer send again.
        stored = await self.store.get_object(receiving.collection, owner[0], owner[1], oid)
        if stored is not None and newer(stored) is None:
            return
        if await self.store.update_object(receiving.collection, owner[0], owner[1], oid, newer) is not None:
            outcome.stored += 1

    async def pull(self, transport: AsyncTransport, receiving: Receiving, url: str, date_from: str | None) -> None:
        outcome = ModuleOutcome(receiving.module_id)
        self.result.modules.append(outcome)
        routing = None
        if self.spec.routing_headers:
            to = self.peer_owner
            routing = Routing(
                from_country_code=self.settings.country_code,
                from_party_id=self.settings.party_id,
                to_country_code=to[0] if to else None,
                to_party_id=to[1] if to else None,
            )
        params = {"date_from": date_from} if date_from else None
        try:
            async for item in transport.paginate(url, parse=_as_object, params=params, routing=routing):
                await self.keep(receiving, item, outcome)
        except (OcpiError, httpx.HTTPError, RefusedURL) as exc:
            outcome.error = str(exc) or type(exc).__name__
            raise

    async def run(self) -> ResyncResult:
        loop = asyncio.get_running_loop()
        begun = loop.time()
        result = self.result
        targets = [(r, url) for r in self.spec.receives if (url := sender_url(self.party, r)) is not None]
        if not self.party.registered or not self.party.token_b:
            result.skipped = "not registered: no token to call the peer with"
            return result
        if not targets:
            result.skipped = "the peer offers no sender interface of a module we receive"
            return result
        state = await self.take_lease()
        if state is None:
            result.skipped = "another worker is resyncing this peer"
            return result
        result.started = now_timestamp()
        last = state.get("last_resync")
        if isinstance(last, str) and last:
            try:
                result.date_from = _later(last, -OVERLAP_SECONDS)
            except ValueError:
                result.date_from = None
        peer_url = self.party.versions_url or targets[0][1]
        try:
            async with peer_transport(
                self.settings, peer_url, self.party.token_b, ocpi_headers=self.spec.routing_headers
            ) as transport:
                for receiving, url in targets:
                    try:
                        await self.pull(transport, receiving, url, result.date_from)
                    except (TransportError, httpx.HTTPError, RefusedURL):
                        break  # the peer is unreachable: the other modules would fail the same way
                    except OcpiError:
                        continue
        finally:
            result.seconds = loop.time() - begun
            await self.finish(result)
        return result


async def resync_peer(spec: AppSpec, settings: ServerSettings, store: Store, peer: str | Party) -> ResyncResult:
    """Pull every module we receive from ``peer`` (a party key or a Party) and store what is newer.

    Returns the outcome (also logged, one line). Another pass already running for the peer (this or
    another worker) makes this one skip; a pass never raises for a peer's failure, it records it in
    the peer state (``in_sync: false``, ``resync_error``)."""
    party = peer if isinstance(peer, Party) else await store.party(peer)
    if party is None:
        raise LookupError(f"no peer {peer!r} in the store")
    result = await _Pass(spec, settings, store, party).run()
    if result.skipped is None:
        (logger.info if result.complete else logger.warning)("%s", result.summary())
    return result


class Resyncer:
    """The background resync of an application (its lifespan starts and stops it)."""

    def __init__(self, spec: AppSpec, settings: ServerSettings, store: Store) -> None:
        self.spec = spec
        self.settings = settings
        self.store = store
        self.task: asyncio.Task[None] | None = None

    def start(self) -> asyncio.Task[None] | None:
        """Start the background task (None when ``resync_seconds`` is 0 or nothing is received)."""
        if self.settings.resync_seconds <= 0 or not self.spec.receives:
            return None
        self.task = asyncio.get_running_loop().create_task(self._loop(), name="ocpi-resync")
        return self.task

    async def stop(self) -> None:
        task, self.task = self.task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    async def peers(self) -> Sequence[Party]:
        """The registered peers we can call."""
        return [p for p in await self.store.parties() if p.registered and p.token_b and p.endpoints]

    async def pass_over(self, only_out_of_sync: bool) -> None:
        for party in await self.peers():
            if only_out_of_sync:
                state = await self.store.peer_state(party.party_key) or {}
                if state.get("in_sync", True) is not False:
                    continue
            try:
                await resync_peer(self.spec, self.settings, self.store, party)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("resync of %s failed", party.party_key)

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        full = float(self.settings.resync_seconds)
        retry = float(self.settings.resync_retry_seconds) or full
        await asyncio.sleep(0)  # after start-up
        await self.pass_over(only_out_of_sync=False)
        last_full = loop.time()
        while True:
            await asyncio.sleep(min(full, retry))
            if loop.time() - last_full >= full:
                await self.pass_over(only_out_of_sync=False)
                last_full = loop.time()
            else:
                await self.pass_over(only_out_of_sync=True)
