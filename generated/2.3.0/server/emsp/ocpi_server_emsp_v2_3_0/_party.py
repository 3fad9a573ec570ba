"""The operator API: load and change the party's OWN objects, each change pushed to the peers.

Static: copied verbatim into every generated server. ``OcpiParty.of(app)`` is the party of an app
made by ``create_app``; the modules it can change are the ones this role sends (``PUSH_MODULES``)::

    party = OcpiParty.of(app)
    await party.put("locations", location)                      # a whole Location (model or dict)
    await party.patch("locations", {"status": "CHARGING"}, "LOC1", "EVSE1")   # an EVSE's status
    await party.delete("tariffs", "TARIFF1")
    await party.drain()                                         # wait for the pushes (tests)

Objects are addressed by their module (``locations``) or collection (``Location``) and the ids of
the receiver's URL: the root object's id, then the nested ids (EVSE uid, connector id). Each change
sets ``last_updated`` (now, when the caller gave none) on the changed object and moves its
parents' forward, is stored with one ``update_object`` transaction, and starts the pushes.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, ValidationError

from ._defaults import as_json, ci_same, touch_parents
from ._push import SINGLE, Change, Pusher, PushModule
from ._settings import ServerSettings
from ._store import Store
from ._time import now_timestamp

Body = BaseModel | Mapping[str, Any]


class OperatorError(ValueError):
    """A change the operator API refuses (unknown object, a body that does not fit its model...)."""


class OcpiParty:
    """This server's own party: create, replace, patch and delete its objects of the modules its
    role sends; each change goes to every registered peer whose endpoints offer the receiver."""

    def __init__(self, store: Store, settings: ServerSettings, pusher: Pusher) -> None:
        self.store = store
        self.settings = settings
        self.pusher = pusher

    @classmethod
    def of(cls, app: FastAPI) -> OcpiParty:
        """The party of an app built by ``create_app``."""
        party: OcpiParty = app.state.party
        return party

    @property
    def own(self) -> tuple[str, str]:
        return (self.settings.country_code, self.settings.party_id)

    @property
    def modules(self) -> Sequence[PushModule]:
        """The modules this role sends."""
        return self.pusher.modules

    def module(self, name: str) -> PushModule:
        try:
            return self.pusher.module(name)
        except KeyError as exc:
            raise OperatorError(str(exc.args[0])) from None

    # -- reading -------------------------------------------------------------------------------------

    async def get(self, module: str, *ids: str, owner: tuple[str, str] | None = None) -> dict[str, Any] | None:
        """The stored object (or nested object) at ``ids``, or None."""
        m = self.module(module)
        owner = owner or self.own
        root = await self.store.get_object(m.collection, owner[0], owner[1], ids[0] if ids and not m.single else SINGLE)
        steps = ids[1:] if not m.single else ids
        chain = self._chain(m, root, steps, missing_ok=True)
        return None if chain is None else chain[-1]

    # -- changing ------------------------------------------------------------------------------------

    async def put(self, module: str, body: Body, *ids: str) -> bool:
        """Create or replace an object; True when it was created. Without ``ids``, a root object
        whose id is its key field (``id``, ``uid``...); with them, the object at those ids (e.g.
        ``"LOC1", "EVSE1"``: an EVSE of location LOC1, which must exist)."""
        m = self.module(module)
        depth = self._depth(m, ids)
        if depth == 0 and not m.single and not isinstance(body, BaseModel) and m.models:
            body = dict(body)
            for name, value in zip(("country_code", "party_id"), self.own, strict=True):
                if name in m.models[0].model_fields:
                    body.setdefault(name, value)  # our own object: our own ids, when left out
        stamped = self._has_stamp(m, depth)
        if stamped and not isinstance(body, BaseModel):
            body = {**body, "last_updated": body.get("last_updated") or now_timestamp()}
        data = self._validate(m, body, depth)
        if stamped:
            data.setdefault("last_updated", now_timestamp())
        if depth == 0:
            owner, oid = self._root_keys(m, data, ids[0] if ids else None)
            ids = (oid,) if not m.single else ()
        else:
            owner = self.own
            _, key, _ = m.nesting[depth - 1]
            if key in data and not ci_same(data[key], ids[-1]):
                raise OperatorError(f"{key} {data[key]!r} does not match {ids[-1]!r}")
            data.setdefault(key, ids[-1])
        created = False
        stamp = str(data.get("last_updated") or now_timestamp())

        def mutate(root: dict[str, Any] | None) -> dict[str, Any] | None:
            nonlocal created
            if depth == 0:
                created = root is None
                return copy.deepcopy(data)
            chain = self._chain(m, root, ids[1:-1])
            assert chain is not None
            parent = chain[-1]
            field, key, _ = m.nesting[depth - 1]
            items = parent.get(field) or []
            existing = next((i for i in items if isinstance(i, dict) and ci_same(i.get(key), ids[-1])), None)
            created = existing is None
            new = copy.deepcopy(data)
            parent[field] = [*items, new] if existing is None else [new if i is existing else i for i in items]
            touch_parents(chain, stamp)
            return chain[0]

        root = await self._update(m, owner, ids, mutate)
        await self._push(m, "put", owner, ids, data, root)
        return created

    async def patch(self, module: str, fields: Body, *ids: str, owner: tuple[str, str] | None = None) -> dict[str, Any]:
        """Change some fields of a stored object (e.g. ``{"status": "AVAILABLE"}`` of an EVSE);
        returns the whole object after the change. The receivers get a PATCH of these fields and
        ``last_updated`` where the module has PATCH, else the whole object."""
        m = self.module(module)
        data = as_json(fields, partial=True) if isinstance(fields, BaseModel) else dict(fields)
        data.setdefault("last_updated", now_timestamp())
        depth = self._depth(m, ids)
        if not m.single and not ids:
            raise OperatorError(f"patch of {m.collection}: the object's id is required")
        owner = owner or self._owner_of(m, data)
        stamp = str(data["last_updated"])
        if depth > 0:
            _, key, _ = m.nesting[depth - 1]
        else:
            key = m.key or ""
        if key in data and not ci_same(data[key], ids[-1]):
            raise OperatorError(f"{key} cannot change")

        def mutate(root: dict[str, Any] | None) -> dict[str, Any] | None:
            chain = self._chain(m, root, ids[1:] if not m.single else ids)
            assert chain is not None
            target = chain[-1]
            target.update(copy.deepcopy(data))
            self._validate(m, target, depth)
            touch_parents(chain, stamp)
            return chain[0]

        root = await self._update(m, owner, ids, mutate)
        await self._push(m, "patch", owner, ids, data, root)
        found = self._chain(m, root, ids[1:] if not m.single else ids)
        assert found is not None
        return found[-1]

    async def delete(self, module: str, *ids: str, owner: tuple[str, str] | None = None) -> bool:
        """Delete a root object (pushed as DELETE where the receiver has one; OCPI has none for
        locations and sessions: set their status instead) or a nested one (the parent is pushed
        whole); True when something was deleted."""
        m = self.module(module)
        owner = owner or self.own
        depth = self._depth(m, ids)
        if depth == 0:
            deleted = await self.store.delete_object(m.collection, owner[0], owner[1], ids[0] if ids else SINGLE)
            if deleted:
                await self._push(m, "delete", owner, ids, None, None)
            return deleted
        stamp = now_timestamp()

        def mutate(root: dict[str, Any] | None) -> dict[str, Any] | None:
            chain = self._chain(m, root, ids[1:-1])
            assert chain is not None
            field, key, _ = m.nesting[depth - 1]
            items = chain[-1].get(field) or []
            kept = [i for i in items if not (isinstance(i, dict) and ci_same(i.get(key), ids[-1]))]
            if len(kept) == len(items):
                return None
            chain[-1][field] = kept
            touch_parents(chain, stamp)
            return chain[0]

        root = await self._update(m, owner, ids, mutate, missing_ok=True)
        if root is None:
            return False
        await self._push(m, "delete", owner, ids, None, root)
        return True

    async def drain(self) -> None:
        """Wait for the pushes in flight (delivered or failed)."""
        await self.pusher.drain()

    # -- helpers -------------------------------------------------------------------------------------

    def _validate(self, m: PushModule, body: Body | dict[str, Any], depth: int) -> dict[str, Any]:
        """The body as a JSON object, checked against the model of its level when it is a dict."""
        if isinstance(body, BaseModel):
            return as_json(body)
        data = dict(body)
        model = m.models[depth] if depth < len(m.models) else None
        if model is not None:
            try:
                model.model_validate(data)
            except ValidationError as exc:
                raise OperatorError(f"{m.collection}: {exc.errors(include_url=False, include_input=False)}") from None
        return data

    @staticmethod
    def _depth(m: PushModule, ids: Sequence[str]) -> int:
        """How many nested steps below the root ``ids`` address (the root id comes first)."""
        depth = len(ids) - 1 if ids and not m.single else len(ids)
        if depth > len(m.nesting):
            raise OperatorError(f"{m.collection}: too many ids ({', '.join(ids)})")
        return depth

    @staticmethod
    def _has_stamp(m: PushModule, depth: int) -> bool:
        """Whether objects at ``depth`` have a ``last_updated`` (a root always gets one)."""
        model = m.models[depth] if depth < len(m.models) else None
        return depth == 0 or model is None or "last_updated" in model.model_fields

    def _owner_of(self, m: PushModule, data: Mapping[str, Any]) -> tuple[str, str]:
        """Our own objects are stored under our own country code and party id; an owner's only
        object (a hub's ClientInfo) under the body's."""
        if m.single:
            cc, pid = data.get("country_code"), data.get("party_id")
            if isinstance(cc, str) and isinstance(pid, str):
                return (cc, pid)
        return self.own

    def _root_keys(self, m: PushModule, data: dict[str, Any], oid: str | None) -> tuple[tuple[str, str], str]:
        if m.single:
            owner = self._owner_of(m, data)
            return owner, SINGLE
        own = self.own
        for name, value in (("country_code", own[0]), ("party_id", own[1])):
            if name in data and not ci_same(data[name], value):
                raise OperatorError(f"{name} {data[name]!r} is not this party's ({value!r})")
        key = m.key or "id"
        found = data.get(key)
        if oid is None:
            if not isinstance(found, str) or not found:
                raise OperatorError(f"{m.collection}: the key field {key} is required")
            oid = found
        elif found is not None and not ci_same(found, oid):
            raise OperatorError(f"{key} {found!r} does not match {oid!r}")
        return own, oid

    def _chain(
        self, m: PushModule, root: dict[str, Any] | None, steps: Sequence[str], *, missing_ok: bool = False
    ) -> list[dict[str, Any]] | None:
        if root is None:
            if missing_ok:
                return None
            raise OperatorError(f"unknown {m.collection}")
        chain = [root]
        for (field, key, _), value in zip(m.nesting, steps, strict=False):
            item = next(
                (i for i in chain[-1].get(field) or [] if isinstance(i, dict) and ci_same(i.get(key), value)), None
            )
            if item is None:
                if missing_ok:
                    return None
                raise OperatorError(f"unknown {field.rstrip('s')} {value} in {m.collection}")
            chain.append(item)
        return chain

    async def _update(
        self, m: PushModule, owner: tuple[str, str], ids: Sequence[str], mutate: Any, *, missing_ok: bool = False
    ) -> dict[str, Any] | None:
        oid = ids[0] if ids and not m.single else SINGLE
        root = await self.store.update_object(m.collection, owner[0], owner[1], oid, mutate)
        if root is None and not missing_ok:
            raise OperatorError(f"{m.collection} {oid}: not changed")
        return root

    async def _push(
        self,
        m: PushModule,
        kind: str,
        owner: tuple[str, str],
        ids: Sequence[str],
        body: dict[str, Any] | None,
        root: dict[str, Any] | None,
    ) -> None:
        target = None
        if root is not None and kind != "delete":
            chain = self._chain(m, root, ids[1:] if not m.single else ids, missing_ok=True)
            target = None if chain is None else chain[-1]
        key_ids = tuple(ids) if not m.single else (SINGLE, *ids)
        await self.pusher.submit(Change(m, kind, owner, key_ids, body, target, root))
