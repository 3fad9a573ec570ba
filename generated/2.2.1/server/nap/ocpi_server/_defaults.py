"""Store-backed default behaviour of every generated handler, and the request context.

Static: copied verbatim into every generated server. The generator works out, per endpoint, which
stored object a URL addresses (its collection, owner, id and nested steps such as
``Location.evses[uid].connectors[id]``); this engine does the rest.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from ._auth import AuthContext
from ._envelope import INVALID_PARAMETERS, OcpiHTTPError, validation_message
from ._json import RawJSONArray, loads
from ._outbound import allowed
from ._pagination import PageParams
from ._settings import ServerSettings
from ._store import Party, Store
from ._time import now_timestamp
from .client._transport import AsyncTransport, Settings
from .client._types import OcpiModel
from .client._wire import ci_equal
from .client.errors import OcpiError

logger = logging.getLogger("ocpi.server")

M = TypeVar("M", bound=BaseModel)
#: (field holding the child list, key field of the child, key value from the URL)
Step = tuple[str, str, str]
Owner = tuple[str, str]


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


def _key_value(data: dict[str, Any], name: str) -> str:
    """A key field of a body (id, country_code, party_id): a non-empty string, else 400/2001."""
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise OcpiHTTPError(400, INVALID_PARAMETERS, f"body.{name}: a non-empty value is required")
    return value


def _same(a: Any, b: str) -> bool:
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
    if isinstance(model, OcpiModel):
        data = loads(model.to_json(partial=partial))
    else:
        data = loads(model.model_dump_json(by_alias=True, exclude_unset=partial, exclude_none=not partial))
    if not isinstance(data, dict):
        raise TypeError("a model must serialise to a JSON object")
    return data


class Engine:
    """The default, store-backed implementation behind every generated handler."""

    def __init__(
        self,
        store: Store,
        settings: ServerSettings,
        *,
        not_found_code: int,
        routing_headers: bool,
        request_id_headers: bool,
        require_patch_last_updated: bool = True,
    ) -> None:
        self.store = store
        self.settings = settings
        self.not_found_code = not_found_code
        self.routing_headers = routing_headers
        self.request_id_headers = request_id_headers
        self.require_patch_last_updated = require_patch_last_updated

    def context(self, request: Request, auth: AuthContext | None) -> Context:
        return Context(request, auth, self)

    # -- reading ------------------------------------------------------------------------------------

    def not_found(self, what: str) -> OcpiHTTPError:
        return OcpiHTTPError(404, self.not_found_code, f"Unknown {what}")

    def list_objects(self, collection: str, page: PageParams) -> tuple[Sequence[Any], int]:
        """One page of a collection. Stores that keep JSON text (``list_objects_json``) hand it over
        unparsed, as a ``RawJSONArray`` (a sequence of ``RawJSON``): a page is then written without
        decoding a single object.
        That method must return each object as compact JSON, UTF-8 encoded."""
        raw = getattr(self.store, "list_objects_json", None)
        if raw is not None:
            texts, total = raw(
                collection, date_from=page.date_from, date_to=page.date_to, offset=page.offset, limit=page.limit
            )
            return RawJSONArray(texts), total
        items, total = self.store.list_objects(
            collection, date_from=page.date_from, date_to=page.date_to, offset=page.offset, limit=page.limit
        )
        return list(items), total

    def get_object(self, collection: str, owner: Owner, oid: str, steps: Sequence[Step] = ()) -> dict[str, Any]:
        root = self.store.get_object(collection, owner[0], owner[1], oid)
        if root is None:
            raise self.not_found(f"{collection} {oid}")
        target = root
        for field, key, value in steps:
            target = self._child(target, field, key, value, collection)
        return target

    def _child(self, parent: dict[str, Any], field: str, key: str, value: str, collection: str) -> dict[str, Any]:
        for item in parent.get(field) or []:
            if isinstance(item, dict) and _same(item.get(key), value):
                return item
        raise self.not_found(f"{collection} {field[:-1] if field.endswith('s') else field} {value}")

    # -- writing ------------------------------------------------------------------------------------

    def put_object(self, collection: str, owner: Owner, oid: str, steps: Sequence[Step], body: BaseModel) -> bool:
        """Create or replace the addressed object; True when it was created."""
        data = as_json(body)
        stamp = str(data.get("last_updated") or now_timestamp())
        if not steps:
            for name, expected in (("country_code", owner[0]), ("party_id", owner[1])):
                if name in data and not _same(data[name], expected):
                    raise OcpiHTTPError(400, INVALID_PARAMETERS, f"body.{name} does not match the URL")
            return self.store.put_object(collection, owner[0], owner[1], oid, data, stamp)
        root = self.get_object(collection, owner, oid)
        parent = root
        for field, key, value in steps[:-1]:
            parent = self._child(parent, field, key, value, collection)
            parent["last_updated"] = stamp
        field, key, value = steps[-1]
        if key in data and not _same(data[key], value):
            raise OcpiHTTPError(400, INVALID_PARAMETERS, f"body.{key} does not match the URL")
        items = [i for i in (parent.get(field) or []) if not (isinstance(i, dict) and _same(i.get(key), value))]
        created = len(items) == len(parent.get(field) or [])
        parent[field] = items + [data]
        if "last_updated" in parent or parent is root:
            parent["last_updated"] = stamp
        root["last_updated"] = stamp
        self.store.put_object(collection, owner[0], owner[1], oid, root, stamp)
        return created

    def patch_object(self, collection: str, owner: Owner, oid: str, steps: Sequence[Step], patch: BaseModel) -> None:
        """Merge the fields of a PATCH into the addressed object (lists are replaced whole)."""
        data = as_json(patch, partial=True)
        if self.require_patch_last_updated and "last_updated" not in data:
            raise OcpiHTTPError(400, INVALID_PARAMETERS, "body.last_updated: Field required in a PATCH")
        root = self.get_object(collection, owner, oid)
        target = root
        chain = [root]
        for field, key, value in steps:
            target = self._child(target, field, key, value, collection)
            chain.append(target)
        target.update(data)
        stamp = str(data.get("last_updated") or now_timestamp())
        for node in chain:
            if "last_updated" in node:
                node["last_updated"] = stamp
        self.store.put_object(collection, owner[0], owner[1], oid, root, stamp)

    def delete_object(self, collection: str, owner: Owner, oid: str, steps: Sequence[Step] = ()) -> None:
        if not steps:
            if not self.store.delete_object(collection, owner[0], owner[1], oid):
                raise self.not_found(f"{collection} {oid}")
            return
        root = self.get_object(collection, owner, oid)
        parent = root
        for field, key, value in steps[:-1]:
            parent = self._child(parent, field, key, value, collection)
        field, key, value = steps[-1]
        self._child(parent, field, key, value, collection)
        parent[field] = [i for i in parent.get(field) or [] if not (isinstance(i, dict) and _same(i.get(key), value))]
        self.store.put_object(
            collection, owner[0], owner[1], oid, root, str(root.get("last_updated") or now_timestamp())
        )

    def post_object(self, collection: str, owner: Owner | None, id_field: str, body: BaseModel) -> tuple[Owner, str]:
        """Store a POSTed object under its own id (and owner, when it names one); returns both."""
        data = as_json(body)
        oid = _key_value(data, id_field)
        if owner is None:
            owner = (_key_value(data, "country_code"), _key_value(data, "party_id"))
        self.store.put_object(
            collection, owner[0], owner[1], oid, data, str(data.get("last_updated") or now_timestamp())
        )
        return owner, oid

    def record(self, collection: str, party: Party | None, body: BaseModel) -> str:
        """Keep a received result (a command or charging-profile result) that has no id of its own.

        Stored under the calling party's key and a fresh id, with the time of receipt, so that
        ``store.list_objects(collection, ...)`` shows them in order of arrival.
        """
        oid = str(uuid.uuid4())
        self.store.put_object(collection, "-", party.party_key if party else "-", oid, as_json(body), now_timestamp())
        return oid

    # -- asynchronous results -------------------------------------------------------------------------

    async def send_result(self, party: Party | None, url: str, result: BaseModel) -> None:
        """POST a command or charging-profile result to the peer's response_url with its token B."""
        if party is None or not party.token_b:
            logger.warning("no token to send a result to %s; dropped", url)
            return
        if not await allowed(self.settings, url, peer_url=party.versions_url, what="response_url"):
            return
        settings = Settings(
            token=party.token_b,
            token_encoding="base64" if self.settings.token_base64 else "raw",
            routing_headers=self.routing_headers,
            request_id_headers=self.request_id_headers,
            max_retries=2,
        )
        body = result.to_json() if isinstance(result, OcpiModel) else result.model_dump_json(exclude_none=True).encode()
        try:
            async with AsyncTransport(settings) as transport:
                await transport.request("POST", url, body=body)
        except OcpiError as exc:
            logger.warning("sending a result to %s failed: %s", url, exc)
