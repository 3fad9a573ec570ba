"""The credentials handshake (registration), generic over a version's Credentials model.

``register``: with token A (the transport's current token) discover the peer, POST our credentials
(carrying token B, for the peer to call us) to the peer's credentials endpoint and read the peer's
credentials from the reply: their token C is the one to use from then on.
``update``: PUT with token C (the transport already holds it), to the known endpoints or after a
new discovery. ``unregister``: DELETE.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from ._discovery import Discovery, discovering
from ._reading import read_with
from ._settings import Settings
from ._transport import AsyncTransport, Flow, OcpiResponse, SyncTransport, awaiting, blocking
from ._types import OcpiModel

__all__ = [
    "CREDENTIALS_MODULE",
    "Registration",
    "aregister",
    "aunregister",
    "aupdate",
    "register",
    "registering",
    "unregister",
    "update",
    "updating",
]

C = TypeVar("C")

CREDENTIALS_MODULE = "credentials"


@dataclass(frozen=True)
class Registration(Generic[C]):
    """The outcome of a handshake. Neither the credentials nor the token appear in ``repr``."""

    discovery: Discovery
    credentials: C = field(repr=False)
    """The peer's credentials returned by the POST/PUT (they contain token C)."""
    token: str = field(repr=False)
    """Token C: the token to use for every later call to this peer."""


def _registration(
    discovery: Discovery,
    response: OcpiResponse,
    parse: Callable[[Any], C],
    token_of: Callable[[C], str],
    settings: Settings,
) -> Registration[C]:
    """The peer's credentials from the reply; InvalidResponseError (tokens hidden) when unreadable."""
    credentials = read_with(lambda data: _with_token(parse(data), token_of), "Credentials", response, settings)
    return Registration(discovery=discovery, credentials=credentials, token=token_of(credentials))


def _with_token(credentials: C, token_of: Callable[[C], str]) -> C:
    token = token_of(credentials)
    if not isinstance(token, str) or not token:
        raise ValueError("the credentials carry no token")
    return credentials


def _hiding(transport: Any, own: OcpiModel) -> Any:
    """The transport, also hiding our own token (``own.token``) from error messages."""
    token = getattr(own, "token", None)
    if isinstance(token, str) and token:
        return transport.with_settings(transport.settings.with_secret(token))
    return transport


def _sending(
    transport: SyncTransport | AsyncTransport,
    discovery: Discovery,
    method: str,
    own: OcpiModel,
    parse: Callable[[Any], C],
    token_of: Callable[[C], str],
) -> Flow[Registration[C]]:
    """POST or PUT ``own`` to the peer's credentials endpoint; the peer's credentials from the reply."""
    sender = _hiding(transport, own)
    response = yield sender, method, discovery.url_for(CREDENTIALS_MODULE, None), {"body": own.to_json()}
    return _registration(discovery, response, parse, token_of, sender.settings)


def registering(
    transport: SyncTransport | AsyncTransport,
    versions_url: str,
    own: OcpiModel,
    parse: Callable[[Any], C],
    supported: Sequence[str],
    wanted: str | None = None,
    *,
    token_of: Callable[[C], str],
) -> Flow[Registration[C]]:
    """Register with token A (the transport's token): discover, POST ``own``, return token C (sans I/O)."""
    discovery = yield from discovering(transport, versions_url, supported, wanted)
    return (yield from _sending(transport, discovery, "POST", own, parse, token_of))


def updating(
    transport: SyncTransport | AsyncTransport,
    peer: Discovery | str,
    own: OcpiModel,
    parse: Callable[[Any], C],
    supported: Sequence[str] = (),
    wanted: str | None = None,
    *,
    token_of: Callable[[C], str],
) -> Flow[Registration[C]]:
    """Update a registration with token C (the transport's token): PUT ``own``, return the new token C.

    ``peer`` is the Discovery of the registration, or the versions URL to discover again (with
    ``supported``/``wanted``, e.g. to move to another version). Sans I/O: run by ``drive``/``adrive``.
    """
    if isinstance(peer, Discovery):
        discovery = peer
    else:
        discovery = yield from discovering(transport, peer, supported, wanted)
    return (yield from _sending(transport, discovery, "PUT", own, parse, token_of))


def _unregistering(transport: SyncTransport | AsyncTransport, discovery: Discovery) -> Flow[None]:
    """DELETE our credentials at the peer: the peer forgets the tokens of this registration."""
    yield transport, "DELETE", discovery.url_for(CREDENTIALS_MODULE, None), {}


register = blocking(registering)
update = blocking(updating)
unregister = blocking(_unregistering)
aregister = awaiting(registering)
aupdate = awaiting(updating)
aunregister = awaiting(_unregistering)
