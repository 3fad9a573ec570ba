"""Store-backed default behaviour of every generated handler, and the request context.

Static: copied verbatim into every generated server. What each endpoint does is declared in the
spec transcription (``server:``, spec/README.md); the generated handlers address the stored object
with an ``ObjectPath`` (collection, owner, id and nested steps such as
``Location.evses[uid].connectors[id]``) and call this engine, which does the rest.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from ._auth import AuthContext
from ._envelope import GENERIC_CLIENT_ERROR, GENERIC_SERVER_ERROR, INVALID_PARAMETERS, OcpiHTTPError, validation_message
from ._json import RawJSONArray, Stored, dumps_bytes, loads
from ._outbound import allowed
from ._pagination import PageParams
from ._settings import ServerSettings
from ._store import EncodedObject, Mutation, Party, RawJSONStore, Store
from ._time import canonical_datetime, now_timestamp, stamp_of
from .client._transport import AsyncTransport, Routing
from .client._types import OcpiModel
from .client._wire import ci_equal, printable_ascii
from .client.errors import OcpiError

logger = logging.getLogger("ocpi.server")

M = TypeVar("M", bound=BaseModel)
Owner = tuple[str, str]
#: What a list handler returns: one page of objects and the count of all matching ones. The
#: objects are JSON objects (``dict``) or, as the default handlers hand them over, ``RawJSON``
#: fragments of stored JSON (a ``RawJSONArray``), written to the response without decoding.
Page = tuple[Sequence[Any], int]
#: The id under which an owner's only object of a kind is stored (hubclientinfo: one per party).
SINGLE = "-"
#: OCPI status of "not implemented": the endpoint is the operator's business decision.
NOT_IMPLEMENTED_STATUS = GENERIC_SERVER_ERROR


@dataclass(frozen=True)
class Step:
    """One step below a stored object: the item of list ``field`` whose ``key`` equals ``value``."""

    field: str
    key: str
    value: str


@dataclass(frozen=True)
class ObjectPath:
    """Where an object lives in the store: a root object (collection, owner, id) and nested steps.

    ``ObjectPath("Location", ("NL", "CPO"), "LOC1").child("evses", "uid", "EVSE1")`` is the EVSE
    ``EVSE1`` of location ``LOC1`` of party NL/CPO. ``id`` left out: the owner's only object.
    """

    collection: str
    owner: Owner
    id: str = SINGLE
    steps: tuple[Step, ...] = ()

    def child(self, field: str, key: str, value: str) -> ObjectPath:
        return replace(self, steps=(*self.steps, Step(field, key, value)))

    @property
    def root(self) -> ObjectPath:
        return replace(self, steps=())

    def describe(self) -> str:
        last = self.steps[-1] if self.steps else None
        if last is None:
            return (
                f"{self.collection} {self.id}" if self.id != SINGLE else f"{self.collection} of {'/'.join(self.owner)}"
            )
        return f"{self.collection} {self.id} {last.field.rstrip('s')} {last.value}"


@dataclass(frozen=True)
class Context:
    """One request as handlers see it: who calls, and the engine to reach the store."""

    request: Request
    auth: AuthContext | None
    engine: Engine

    @property
    def party(self) -> Party | None:
        return None if self.auth is None else self.auth.party

    @property
    def own(self) -> Owner:
        """This server's own country code and party id."""
        return (self.engine.settings.country_code, self.engine.settings.party_id)

    def routing_back(self) -> Routing:
        """Routing headers for a request back to the caller (an asynchronous result): the request's
        ``OCPI-from-*`` become ``OCPI-to-*``, its ``OCPI-to-*`` (or our own ids) ``OCPI-from-*``."""
        headers = self.request.headers
        return Routing(
            from_country_code=headers.get("ocpi-to-country-code") or self.own[0],
            from_party_id=headers.get("ocpi-to-party-id") or self.own[1],
            to_country_code=headers.get("ocpi-from-country-code") or None,
            to_party_id=headers.get("ocpi-from-party-id") or None,
        )


def _key_value(data: dict[str, Any], name: str) -> str:
    """A key field of a body (id, country_code, party_id): a non-empty string, else 400/2001."""
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise OcpiHTTPError(400, INVALID_PARAMETERS, f"body.{name}: a non-empty value is required")
    return value


#: The routing headers and the CiString length of each (transport_and_format_message_routing).
ROUTING_HEADERS = (
    ("ocpi-from-country-code", 2),
    ("ocpi-from-party-id", 3),
    ("ocpi-to-country-code", 2),
    ("ocpi-to-party-id", 3),
)


_ROUTING_LENGTHS = {name.encode("latin-1"): length for name, length in ROUTING_HEADERS}


def ci_same(a: Any, b: str) -> bool:
    """``a`` is a string equal to ``b`` as CiStrings compare (ASCII case ignored)."""
    return isinstance(a, str) and ci_equal(a, b)


async def read_model(request: Request, model: type[M]) -> M:
    """Parse the request body as ``model`` with exact numbers; 400/2001 naming the field otherwise."""
    raw = await request.body()
    if not raw.strip():
        raise OcpiHTTPError(400, INVALID_PARAMETERS, "Missing JSON body")
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        errors = [dict(e, loc=("body", *e["loc"])) for e in exc.errors(include_url=False, include_input=False)]
        raise OcpiHTTPError(400, INVALID_PARAMETERS, validation_message(errors)) from None


async def read_models(request: Request, model: type[M]) -> list[M]:
    """A JSON array body of ``model`` objects."""
    data = loads(await request.body() or b"null")
    if not isinstance(data, list):
        raise OcpiHTTPError(400, INVALID_PARAMETERS, "body: a JSON array is expected")
    try:
        return [model.model_validate(item) for item in data]
    except ValidationError as exc:
        raise OcpiHTTPError(
            400, INVALID_PARAMETERS, validation_message(exc.errors(include_url=False, include_input=False))
        ) from None


def as_json(model: BaseModel, *, partial: bool = False) -> dict[str, Any]:
    """A model as a JSON object with exact numbers (unknown fields kept)."""
    return _as_json_text(model, partial=partial)[0]


def _as_json_text(model: BaseModel, *, partial: bool = False) -> tuple[dict[str, Any], str]:
    """``as_json`` and the JSON text it was read from: the object as a store writes it."""
    if isinstance(model, OcpiModel):
        raw = model.to_json(partial=partial)
    else:
        raw = model.model_dump_json(by_alias=True, exclude_unset=partial, exclude_none=not partial).encode()
    data = loads(raw)
    if not isinstance(data, dict):
        raise TypeError("a model must serialise to a JSON object")
    return data, raw.decode("utf-8")


def encoded_json(model: BaseModel) -> tuple[dict[str, Any], EncodedObject]:
    """A body as a JSON object, and a copy of it that carries its JSON text, which the store writes
    as it is (no second encoding). The text is the one the object was read from, so both agree."""
    data, text = _as_json_text(model)
    return data, EncodedObject(data, text)


def _newer(a: str, b: Any) -> str:
    """The later of two OCPI DateTimes (``b`` may be missing or no string)."""
    if not isinstance(b, str):
        return a
    try:
        return a if canonical_datetime(a) >= canonical_datetime(b) else b
    except ValueError:
        return a


def touch_parents(chain: Sequence[dict[str, Any]], stamp: str) -> None:
    """A change below an object is a change of the object: each object of ``chain`` (the root
    first) that has a ``last_updated``, and the root always, moves forward to ``stamp`` (never back)."""
    for node in chain:
        if "last_updated" in node or node is chain[0]:
            node["last_updated"] = _newer(stamp, node.get("last_updated"))


class Engine:
    """The default, store-backed implementation behind every generated handler.

    Objects are addressed with an ``ObjectPath``. An unknown object is HTTP 404 with the OCPI
    status that its module declares (``not_found_codes``: collection -> status, 2000 otherwise).
    """

    def __init__(
        self,
        store: Store,
        settings: ServerSettings,
        *,
        not_found_codes: Mapping[str, int],
        routing_headers: bool,
        request_id_headers: bool,
        require_patch_last_updated: bool = True,
    ) -> None:
        self.store = store
        self.settings = settings
        self.not_found_codes = dict(not_found_codes)
        self.routing_headers = routing_headers
        self.request_id_headers = request_id_headers
        self.require_patch_last_updated = require_patch_last_updated
        # One semaphore per event loop (an asyncio primitive belongs to the loop it first waits on).
        self._slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    def write_slot(self) -> asyncio.Semaphore:
        """Write admission: the routes that write (PUT, PATCH, DELETE, POST) read their body and run
        their handler holding one of ``settings.write_slots`` slots (0: no limit).

        Parsing and validating a body is CPU work on the event loop, and the store writes one
        transaction at a time anyway: ten writes parsed at once would only make every read queue
        behind all ten. Reads take no slot."""
        loop = asyncio.get_running_loop()
        slot = self._slots.get(loop)
        if slot is None:
            slots = self.settings.write_slots
            slot = self._slots[loop] = asyncio.Semaphore(slots if slots > 0 else 1 << 30)
        return slot

    def context(self, request: Request, auth: AuthContext | None) -> Context:
        """The handlers' view of a request to a function module; routing headers (2.2+) that are not
        CiString(2) country codes or CiString(3) party ids are refused with 400/2001."""
        if self.routing_headers:
            seen: set[bytes] = set()
            for raw_name, raw_value in request.scope["headers"]:  # as request.headers.get: the first of a name
                name = raw_name.lower()
                length = _ROUTING_LENGTHS.get(name)
                if length is None or name in seen:
                    continue
                seen.add(name)
                value = raw_value.decode("latin-1")
                if not (0 < len(value) <= length and printable_ascii(value)):
                    raise OcpiHTTPError(
                        400,
                        INVALID_PARAMETERS,
                        f"Invalid header {name.decode('latin-1')}: {length} printable ASCII characters at most",
                    )
        return Context(request, auth, self)

    # -- errors -------------------------------------------------------------------------------------

    def not_found(self, path: ObjectPath) -> OcpiHTTPError:
        """HTTP 404 with the module's declared status (2003 Unknown Location, 2004 Unknown Token, ...)."""
        return OcpiHTTPError(
            404, self.not_found_codes.get(path.collection, GENERIC_CLIENT_ERROR), f"Unknown {path.describe()}"
        )

    def unknown(self, collection: str, message: str) -> OcpiHTTPError:
        """HTTP 404 with the status declared for ``collection`` and a message of your own."""
        return OcpiHTTPError(404, self.not_found_codes.get(collection, GENERIC_CLIENT_ERROR), message)

    @staticmethod
    def not_implemented(handler: str) -> OcpiHTTPError:
        """The answer of an endpoint that is the operator's business decision, until overridden."""
        return OcpiHTTPError(
            501,
            NOT_IMPLEMENTED_STATUS,
            f"Not implemented: override {handler} in your handlers.py to answer this request",
        )

    # -- reading ------------------------------------------------------------------------------------

    async def list_objects(self, collection: str, page: PageParams) -> Page:
        """One page of a collection. A store with the ``RawJSONStore`` capability hands the objects
        over unparsed, as a ``RawJSONArray`` (a sequence of ``RawJSON``): a page is then written
        without decoding a single object."""
        if self._raw_store is not None:
            texts, total = await self._raw_store.list_objects_json(
                collection, date_from=page.date_from, date_to=page.date_to, offset=page.offset, limit=page.limit
            )
            return RawJSONArray(texts), total
        items, total = await self.store.list_objects(
            collection, date_from=page.date_from, date_to=page.date_to, offset=page.offset, limit=page.limit
        )
        return list(items), total

    async def get_object(self, path: ObjectPath) -> dict[str, Any]:
        """The stored object (or nested object) at ``path``; 404 with the declared status if unknown."""
        root = await self.store.get_object(path.collection, path.owner[0], path.owner[1], path.id)
        return self._find(root, path)

    async def get_model(self, path: ObjectPath, model: type[M]) -> M:
        """``get_object`` read as ``model`` (unknown fields kept)."""
        return model.model_validate(await self.get_object(path))

    @cached_property
    def _raw_store(self) -> RawJSONStore | None:
        """The store, when it can hand objects over as stored JSON (checked once)."""
        return self.store if isinstance(self.store, RawJSONStore) else None

    async def get_stored(self, path: ObjectPath, model: type[M]) -> Stored[M]:
        """The object at ``path`` as stored JSON (``Stored``), for a response to send as it is;
        404 with the declared status if unknown. A root object of a ``RawJSONStore`` is its stored
        bytes, not decoded; a nested one (an EVSE of a Location) is found in the decoded root and
        written once. Nothing is validated: what is stored came in through the models (a body, or a
        resync's object), as in a page of ``list_objects``. ``Stored.model()`` (or
        ``get_model``) gives the typed object."""
        if not path.steps and self._raw_store is not None:
            raw = await self._raw_store.get_object_json(path.collection, path.owner[0], path.owner[1], path.id)
            if raw is None:
                raise self.not_found(path)
            return Stored(raw, model)
        return Stored(dumps_bytes(await self.get_object(path)), model)

    def _find(self, root: dict[str, Any] | None, path: ObjectPath) -> dict[str, Any]:
        """The object at ``path`` inside its stored root object; 404 if the root or a step is unknown."""
        if root is None:
            raise self.not_found(path.root)
        target = root
        for n, step in enumerate(path.steps):
            target = self._child(target, step, replace(path, steps=path.steps[: n + 1]))
        return target

    def _child(self, parent: dict[str, Any], step: Step, path: ObjectPath) -> dict[str, Any]:
        for item in parent.get(step.field) or []:
            if isinstance(item, dict) and ci_same(item.get(step.key), step.value):
                return item
        raise self.not_found(path)

    def _chain(self, root: dict[str, Any] | None, path: ObjectPath) -> list[dict[str, Any]]:
        """The root object and each object down to the one at ``path`` (404 if one is unknown)."""
        if root is None:
            raise self.not_found(path.root)
        chain = [root]
        for n, step in enumerate(path.steps):
            chain.append(self._child(chain[-1], step, replace(path, steps=path.steps[: n + 1])))
        return chain

    async def _update(self, path: ObjectPath, mutate: Mutation) -> dict[str, Any] | None:
        """Change the root object of ``path`` in one store transaction (no lost updates)."""
        return await self.store.update_object(path.collection, path.owner[0], path.owner[1], path.id, mutate)

    # -- writing ------------------------------------------------------------------------------------

    @staticmethod
    def _check(data: dict[str, Any], name: str | None, expected: str, what: str = "the URL") -> None:
        if name is not None and name in data and not ci_same(data[name], expected):
            raise OcpiHTTPError(400, INVALID_PARAMETERS, f"body.{name} does not match {what}")

    def _check_keys(self, path: ObjectPath, data: dict[str, Any], key: str | None, owned: bool) -> None:
        """Key fields of a body must equal the URL's (ids and owners never change: 400/2001)."""
        if path.steps:
            last = path.steps[-1]
            self._check(data, last.key, last.value)
            return
        if owned:
            self._check(data, "country_code", path.owner[0])
            self._check(data, "party_id", path.owner[1])
        self._check(data, key, path.id)

    async def put_object(
        self, path: ObjectPath, body: BaseModel, *, key: str | None = None, owned: bool = True
    ) -> bool:
        """Create or replace the addressed object; True when it was created.

        ``key``: the body field that must equal the URL's id; ``owned``: the body's country_code and
        party_id must equal the URL's. A body older (``last_updated``) than the stored object is
        not stored: the newest data wins. A nested object's time also moves its parents' forward.
        """
        data, encoded = encoded_json(body)
        self._check_keys(path, data, key, owned)
        stamp = str(data.get("last_updated") or now_timestamp())
        created = False

        def put_root(current: dict[str, Any] | None) -> dict[str, Any] | None:
            nonlocal created
            created = current is None
            if current is not None and self._stale(data, current, path):
                return None
            return encoded

        def put_nested(root: dict[str, Any] | None) -> dict[str, Any] | None:
            nonlocal created
            chain = self._chain(root, replace(path, steps=path.steps[:-1]))
            parent, last = chain[-1], path.steps[-1]
            items = parent.get(last.field) or []
            existing = next((i for i in items if isinstance(i, dict) and ci_same(i.get(last.key), last.value)), None)
            created = existing is None
            if existing is not None and self._stale(data, existing, path):
                return None
            if existing is None:
                parent[last.field] = [*items, data]
            else:
                parent[last.field] = [data if i is existing else i for i in items]
            touch_parents(chain, stamp)
            return chain[0]

        await self._update(path, put_nested if path.steps else put_root)
        return created

    async def patch_object(
        self,
        path: ObjectPath,
        patch: BaseModel,
        *,
        key: str | None = None,
        owned: bool = True,
        append: Sequence[str] = (),
    ) -> None:
        """Merge the fields of a PATCH into the addressed object.

        Every field replaces the stored one, except the list fields in ``append`` (declared in the
        spec transcription), whose items are added to the stored list. Key fields cannot change
        (400/2001); a PATCH older than the stored object changes nothing.
        """
        data = as_json(patch, partial=True)
        if self.require_patch_last_updated and "last_updated" not in data:
            raise OcpiHTTPError(400, INVALID_PARAMETERS, "body.last_updated: Field required in a PATCH")
        self._check_keys(path, data, key, owned)
        stamp = str(data.get("last_updated") or now_timestamp())

        def merge(root: dict[str, Any] | None) -> dict[str, Any] | None:
            chain = self._chain(root, path)
            target = chain[-1]
            if self._stale(data, target, path):
                return None
            for name, value in data.items():
                if name in append and isinstance(value, list):
                    stored = target.get(name)
                    target[name] = [*(stored if isinstance(stored, list) else []), *value]
                else:
                    target[name] = value
            touch_parents(chain, stamp)
            return chain[0]

        await self._update(path, merge)

    def _stale(self, data: dict[str, Any], current: dict[str, Any], path: ObjectPath) -> bool:
        new, old = stamp_of(data), stamp_of(current)
        if new is not None and old is not None and new < old:
            logger.info("kept %s: the update is older than the stored object", path.describe())
            return True
        return False

    async def delete_object(self, path: ObjectPath) -> None:
        """Remove the addressed object (or nested object); 404 with the declared status if unknown."""
        if not path.steps:
            if not await self.store.delete_object(path.collection, path.owner[0], path.owner[1], path.id):
                raise self.not_found(path)
            return

        def remove(root: dict[str, Any] | None) -> dict[str, Any] | None:
            chain = self._chain(root, path)
            parent, last = chain[-2], path.steps[-1]
            parent[last.field] = [
                i
                for i in parent.get(last.field) or []
                if not (isinstance(i, dict) and ci_same(i.get(last.key), last.value))
            ]
            return chain[0]

        await self._update(path, remove)

    async def post_object(self, collection: str, owner: Owner | None, key: str, body: BaseModel) -> tuple[Owner, str]:
        """Store a POSTed object under its own id (``key`` field) and owner (the body's when
        ``owner`` is None); returns both."""
        data, encoded = encoded_json(body)
        oid = _key_value(data, key)
        if owner is None:
            owner = (_key_value(data, "country_code"), _key_value(data, "party_id"))
        await self.store.put_object(
            collection, owner[0], owner[1], oid, encoded, str(data.get("last_updated") or now_timestamp())
        )
        return owner, oid

    async def record(self, collection: str, party: Party | None, body: BaseModel) -> str:
        """Keep a received result (a command or charging-profile result) that has no id of its own.

        Stored under the calling party's key and a fresh id, with the time of receipt, so that
        ``store.list_objects(collection, ...)`` shows them in order of arrival.
        """
        oid = str(uuid.uuid4())
        await self.store.put_object(
            collection, "-", party.party_key if party else "-", oid, encoded_json(body)[1], now_timestamp()
        )
        return oid

    async def authorize(
        self, path: ObjectPath, *, token_type: str | None, location: BaseModel | None, fields: Sequence[str]
    ) -> dict[str, Any]:
        """An authorization answered from the store: the stored token at ``path`` (of ``token_type``
        when given) is ALLOWED when it is valid, BLOCKED when not; an unknown token is 404 with the
        declared status (2004 Unknown Token from 2.2 on). ``fields``: the AuthorizationInfo fields
        of this version among ``allowed``, ``token`` and ``location``."""
        token = await self.get_object(path)
        if token_type is not None and not ci_same(token.get("type", "RFID"), token_type):
            raise self.not_found(path)
        answer: dict[str, Any] = {"allowed": "ALLOWED" if token.get("valid") is True else "BLOCKED"}
        if "token" in fields:
            answer["token"] = token
        if "location" in fields and location is not None:
            answer["location"] = as_json(location)
        return answer

    # -- asynchronous results -------------------------------------------------------------------------

    async def send_result(self, ctx: Context, url: str, result: BaseModel) -> None:
        """POST a command or charging-profile result to the peer's response_url with its token B,
        routed back to the party that asked (``Context.routing_back``)."""
        party = ctx.party
        if party is None or not party.token_b:
            logger.warning("no token to send a result to %s; dropped", url)
            return
        if not await allowed(self.settings, url, peer_url=party.versions_url, what="response_url"):
            return
        settings = self.settings.client_settings(party.token_b, ocpi_headers=self.routing_headers, max_retries=2)
        body = result.to_json() if isinstance(result, OcpiModel) else result.model_dump_json(exclude_none=True).encode()
        try:
            async with AsyncTransport(settings) as transport:
                await transport.request(
                    "POST", url, body=body, routing=ctx.routing_back() if self.routing_headers else None
                )
        except OcpiError as exc:
            logger.warning("sending a result to %s failed: %s", url, exc)
