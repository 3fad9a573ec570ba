"""The server side of the credentials module (registration), generic over OCPI versions.

Static: copied verbatim into every generated server package; names no OCPI version's models.

Flow (the peer is the Sender, we are the Receiver):

* ``POST`` with token A: read the peer's ``token`` (token B) and ``url`` (its versions endpoint),
  fetch its versions and endpoints with token B, store all of it, issue a fresh token C, forget
  token A and answer with our credentials carrying token C. A party that is already registered
  gets HTTP 405.
* ``PUT`` with token C: the same fetch again (maybe another version), store the new token B,
  issue a NEW token C (the old one stops working at once). Not registered: HTTP 405.
* ``DELETE`` with token C: forget the party (its token C stops working). Not registered: 405.
* ``GET``: our credentials for the caller (with the token it currently uses).

Errors while talking to the peer: the status codes 3001 (unable to use the client's API), 3002
(unsupported version) and 3003 (no matching endpoints) are answered with **HTTP 200** and the
OCPI status code in the envelope. The spec says a request that is valid JSON and addresses an
existing resource has reached the OCPI layer and "a HTTP error MUST NOT be returned"; the failure
is described by the OCPI status code alone (status_codes: "the party should return this error in
the POST response"). An HTTP 5xx would also make clients retry blindly a registration that
cannot succeed. A failed POST or PUT changes nothing: token A (or the old token C) keeps working,
so the peer can fix its side and try again.

A missing or malformed ``token``/``url``, or an empty ``roles`` list (2.2+: at least one role), is
HTTP 400 with 2001. The 405 answers (checked before the body is read) carry OCPI
status 2000.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from ._auth import AuthContext
from ._envelope import (
    GENERIC_CLIENT_ERROR,
    INVALID_PARAMETERS,
    NO_MATCHING_ENDPOINTS,
    UNABLE_TO_USE_CLIENT_API,
    UNSUPPORTED_VERSION,
    OcpiHTTPError,
)
from ._settings import ServerSettings
from ._store import Party, Store, new_token

__all__ = [
    "CredentialsService",
    "NoMatchingEndpoints",
    "NoMutualVersion",
    "PeerInfo",
    "PeerUnreachable",
    "RegistrationError",
]

logger = logging.getLogger("ocpi.server.credentials")

_MAX_TOKEN_LENGTH = 64


@dataclass(frozen=True)
class PeerInfo:
    """What ``fetch_peer`` learnt: the version both sides use and the peer's endpoints for it."""

    version: str
    endpoints: list[dict[str, Any]] = field(default_factory=list)


class RegistrationError(Exception):
    """Base of the errors ``fetch_peer`` raises; ``message`` goes into the envelope (no tokens!)."""

    status_code = UNABLE_TO_USE_CLIENT_API
    default_message = "Unable to use the client's API"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)
        self.message = message or self.default_message


class PeerUnreachable(RegistrationError):
    """The peer's versions or version details could not be fetched or understood (3001)."""

    status_code = UNABLE_TO_USE_CLIENT_API
    default_message = "Unable to use the client's API"


class NoMutualVersion(RegistrationError):
    """The peer offers no version we support (3002)."""

    status_code = UNSUPPORTED_VERSION
    default_message = "Unsupported version"


class NoMatchingEndpoints(RegistrationError):
    """The peer lacks the endpoints we need, or we share no module (3003)."""

    status_code = NO_MATCHING_ENDPOINTS
    default_message = "No matching endpoints"


OwnCredentials = Callable[[Party, str], dict[str, Any]]
FetchPeer = Callable[[str, str], Awaitable[PeerInfo]]


def _invalid(message: str) -> OcpiHTTPError:
    return OcpiHTTPError(400, INVALID_PARAMETERS, message)


def _not_allowed(message: str) -> OcpiHTTPError:
    return OcpiHTTPError(405, GENERIC_CLIENT_ERROR, message, headers={"Allow": "GET, POST, PUT, DELETE"})


@dataclass(frozen=True)
class _PeerCredentials:
    token: str
    url: str
    roles: list[dict[str, Any]]
    raw: dict[str, Any]


def _read_body(body: Any) -> _PeerCredentials:
    if not isinstance(body, Mapping):
        raise _invalid("body: expected a credentials object")
    token = body.get("token")
    if token is None:
        raise _invalid("body.token: Field required")
    if not isinstance(token, str) or not token:
        raise _invalid("body.token: expected a non-empty string")
    if len(token) > _MAX_TOKEN_LENGTH:
        raise _invalid(f"body.token: longer than {_MAX_TOKEN_LENGTH} characters")
    if any(not "\x21" <= char <= "\x7e" for char in token):
        raise _invalid("body.token: only printable non-whitespace ASCII characters are allowed")
    url = body.get("url")
    if url is None:
        raise _invalid("body.url: Field required")
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
        raise _invalid("body.url: expected an absolute http(s) URL")
    roles_value = body.get("roles")
    roles: list[dict[str, Any]]
    if isinstance(roles_value, list):  # 2.2+: a non-empty list of CredentialsRole
        roles = [dict(role) for role in roles_value if isinstance(role, Mapping)]
        if not roles:
            raise _invalid("body.roles: at least one role is required")
    elif body.get("party_id") is not None or body.get("country_code") is not None:  # 2.1.1: one party
        roles = [{key: body[key] for key in ("role", "party_id", "country_code", "business_details") if key in body}]
    else:
        roles = []
    return _PeerCredentials(token=token, url=url, roles=roles, raw=dict(body))


class CredentialsService:
    """Handles GET/POST/PUT/DELETE of the credentials module; the router wraps results in envelopes.

    ``own_credentials(party, token)`` builds our credentials object for ``party`` carrying the
    token it must use to call us. ``fetch_peer(versions_url, token_b)`` fetches the peer's
    versions and details and returns ``PeerInfo`` or raises ``PeerUnreachable``,
    ``NoMutualVersion`` or ``NoMatchingEndpoints``.
    """

    def __init__(
        self, store: Store, settings: ServerSettings, own_credentials: OwnCredentials, fetch_peer: FetchPeer
    ) -> None:
        self.store = store
        self.settings = settings
        self.own_credentials = own_credentials
        self.fetch_peer = fetch_peer

    async def get(self, auth: AuthContext) -> dict[str, Any]:
        """Our credentials for the caller, with the token it uses now (C, or A before registering)."""
        party = await self.store.party(auth.party.party_key) or auth.party
        token = party.token_c if auth.token_kind == "C" else party.token_a
        if token is None:  # the token was replaced between authentication and now
            raise OcpiHTTPError(401, GENERIC_CLIENT_ERROR, "Unauthorized")
        return self.own_credentials(party, token)

    @staticmethod
    def check_post(auth: AuthContext) -> None:
        """405 unless the caller may register (token A of a party not registered yet)."""
        if auth.token_kind != "A" or auth.party.registered:
            raise _not_allowed("Client already registered; use PUT to update the credentials")

    @staticmethod
    def check_put(auth: AuthContext) -> None:
        """405 unless the caller is registered (token C): before its body is even read."""
        if auth.token_kind != "C" or not auth.party.registered:
            raise _not_allowed("Client not registered; use POST to register")

    async def post(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        """Register the caller (token A only)."""
        self.check_post(auth)
        peer = _read_body(body)
        info = await self._fetch(peer)
        token_a = auth.party.token_a

        def still_pending(current: Party) -> None:
            if current.registered or current.token_a is None or current.token_a != token_a:
                raise _not_allowed("Client already registered; use PUT to update the credentials")

        return await self._complete(auth.party.party_key, still_pending, peer, info)

    async def put(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        """Update the caller's credentials and endpoints, and issue a new token C (token C only)."""
        self.check_put(auth)
        peer = _read_body(body)
        info = await self._fetch(peer)
        token_c = auth.party.token_c

        def still_current(current: Party) -> None:
            if current.token_c is None or current.token_c != token_c:
                # Unregistered, or another PUT replaced the token meanwhile: this token is gone.
                raise OcpiHTTPError(401, GENERIC_CLIENT_ERROR, "Unauthorized")

        return await self._complete(auth.party.party_key, still_current, peer, info)

    async def delete(self, auth: AuthContext) -> None:
        """Unregister the caller (token C only): its token C stops working."""
        if auth.token_kind != "C" or not auth.party.registered:
            raise _not_allowed("Client not registered")
        await self.store.delete_party(auth.party.party_key)
        logger.info("party %s unregistered", auth.party.party_key)

    # -- internals ---------------------------------------------------------------------------------

    async def _fetch(self, peer: _PeerCredentials) -> PeerInfo:
        try:
            info = await self.fetch_peer(peer.url, peer.token)
        except RegistrationError as exc:
            logger.warning("registration with %s failed: %s", peer.url, exc.message)
            raise OcpiHTTPError(200, exc.status_code, exc.message) from None
        except Exception:
            logger.exception("registration with %s failed: unexpected error while calling the peer", peer.url)
            raise OcpiHTTPError(200, UNABLE_TO_USE_CLIENT_API, PeerUnreachable.default_message) from None
        if not isinstance(info, PeerInfo):
            raise TypeError("fetch_peer must return a PeerInfo")
        return info

    async def _complete(
        self, party_key: str, check: Callable[[Party], None], peer: _PeerCredentials, info: PeerInfo
    ) -> dict[str, Any]:
        """Save the peer's credentials and a new token C, in one store transaction with ``check``
        (which raises when the caller's token is no longer the current one)."""
        token_c = new_token()

        def complete(current: Party | None) -> Party:
            if current is None:
                raise OcpiHTTPError(401, GENERIC_CLIENT_ERROR, "Unauthorized")  # unregistered meanwhile
            check(current)
            return replace(
                current,
                token_a=None,
                token_b=peer.token,
                token_c=token_c,
                versions_url=peer.url,
                version=info.version,
                endpoints=[dict(endpoint) for endpoint in info.endpoints],
                credentials=peer.raw,
                roles=peer.roles,
            )

        party = await self.store.update_party(party_key, complete)
        if party is None:  # complete() returns a party or raises
            raise RuntimeError("the store did not save the registration")
        logger.info("party %s registered for version %s", party.party_key, info.version)
        return self.own_credentials(party, token_c)
