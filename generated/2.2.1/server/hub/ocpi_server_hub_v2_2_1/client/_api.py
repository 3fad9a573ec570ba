"""Glue between the generated interfaces/clients and the runtime: base classes and parse helpers.

Static: copied verbatim into every generated client package.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any, ClassVar, Generic, Literal, Protocol, Self, TypeVar

import httpx

from . import _credentials
from ._discovery import Discovery, adiscover, discover
from ._links import join_path
from ._reading import ItemParser, adapter, read_list, read_one
from ._settings import PeerDeviation, PeerProfile
from ._transport import AsyncTransport, Flow, OcpiResponse, Routing, Settings, SyncTransport, adrive, drive
from ._types import OcpiModel

T = TypeVar("T")

#: Passed by configuration modules (versions, credentials, hubclientinfo), which are never routed.
NO_ROUTING = Routing()


class _HasToken(Protocol):
    token: str


C = TypeVar("C", bound=OcpiModel)


class _HasSettings(Protocol):
    @property
    def settings(self) -> Settings: ...


def parse(tp: type[T], response: OcpiResponse, transport: _HasSettings) -> T:
    """The response's data as one ``tp`` (a model, an enum or a primitive).

    Lenient settings unwrap a one-element list and ignore null fields (recorded as deviations);
    anything unreadable raises InvalidResponseError.
    """
    return read_one(tp, response, transport.settings)


def parser(tp: type[T]) -> Callable[[Any], T]:
    """A parse function for the items of a paginated list (the paginator catches what it raises);
    its ``many`` validates a whole page in one call."""
    return ItemParser(tp)


def parse_list(tp: type[T], response: OcpiResponse, transport: _HasSettings) -> list[T]:
    """The response's data as a non-paginated list; lenient settings skip invalid items."""
    return read_list(tp, response, transport.settings)


def dump_value(value: Any) -> bytes:
    """JSON body for a primitive or enum payload."""
    return adapter(type(value)).dump_json(value)


def _at(url: str, path: str, profile: PeerProfile) -> str:
    if not path and profile.trailing_slash and not url.endswith("/"):
        return url + "/"
    return join_path(url, path)


class _InterfaceBase:
    """What the sync and async module interfaces share: the transport and the URL the peer published."""

    module_id: ClassVar[str]
    role: ClassVar[str]

    def __init__(self, transport: SyncTransport | AsyncTransport, url: str) -> None:
        self._transport = transport
        self._url = url

    @property
    def url(self) -> str:
        """The URL exactly as the peer published it."""
        return self._url

    def _at(self, path: str) -> str:
        """The published URL followed by ``path`` (one ``/`` between them)."""
        return _at(self._url, path, self._transport.settings.profile)


class Interface(_InterfaceBase):
    """A module interface of a peer, bound to the URL the peer published for it."""

    _transport: SyncTransport

    def __init__(self, transport: SyncTransport, url: str) -> None:
        super().__init__(transport, url)


class AsyncInterface(_InterfaceBase):
    """Asynchronous twin of :class:`Interface`."""

    _transport: AsyncTransport

    def __init__(self, transport: AsyncTransport, url: str) -> None:
        super().__init__(transport, url)


class _Base(Generic[C]):
    version: ClassVar[str]
    credentials_model: ClassVar[type[Any]]
    default_token_encoding: ClassVar[Literal["base64", "raw"]]
    routing_headers: ClassVar[bool]
    request_id_headers: ClassVar[bool]

    def __init__(self, discovery: Discovery, peer_credentials: C | None = None) -> None:
        self._discovery = discovery
        self._peer_credentials = peer_credentials

    @classmethod
    def settings(
        cls,
        token: str,
        *,
        token_encoding: Literal["base64", "raw", "auto"] | None = None,
        routing: Routing | None = None,
        timeout: float | None = None,
        max_retries: int = 3,
        lenient: bool = True,
        strict: bool = False,
        profile: PeerProfile | None = None,
        max_response_bytes: int | None = Settings.max_response_bytes,
        max_pages: int | None = Settings.max_pages,
    ) -> Settings:
        """Settings for this version: its token encoding and header rules unless overridden.

        ``token_encoding="auto"`` tries the other encoding once when the peer refuses the token.
        ``timeout`` is the deadline of each call (None: the ``httpx`` client's, or 30 s).
        ``strict=True`` turns lenient reading off. ``profile`` holds the peer's known quirks.
        """
        return Settings(
            token=token,
            token_encoding=token_encoding or cls.default_token_encoding,
            routing_headers=cls.routing_headers,
            request_id_headers=cls.request_id_headers,
            routing=routing,
            timeout=timeout,
            max_retries=max_retries,
            lenient=lenient and not strict,
            max_response_bytes=max_response_bytes,
            max_pages=max_pages,
            default_encoding=cls.default_token_encoding,
            profile=profile if profile is not None else PeerProfile(),
        )

    @property
    def discovery(self) -> Discovery:
        """The version and endpoint URLs the peer published."""
        return self._discovery

    @property
    def peer_credentials(self) -> C | None:
        """The peer's credentials from the last registration or update, if this client did one."""
        return self._peer_credentials

    @property
    def profile(self) -> PeerProfile:
        """The peer's quirks, as set and as detected."""
        return self._transport_settings().profile

    @property
    def deviations(self) -> list[PeerDeviation]:
        """Every deviation from the spec seen from this peer and worked around."""
        return self._transport_settings().profile.deviations

    def _transport_settings(self) -> Settings:
        raise NotImplementedError

    @classmethod
    def _registering(
        cls, transport: SyncTransport | AsyncTransport, versions_url: str, own: C
    ) -> Flow[_credentials.Registration[C]]:
        """The registration handshake for this version, sans I/O."""
        return _credentials.registering(
            transport,
            versions_url,
            own,
            cls.credentials_model.model_validate,
            [cls.version],
            cls.version,
            token_of=_token_of,
        )

    def _updating(self, transport: SyncTransport | AsyncTransport, own: C) -> Flow[_credentials.Registration[C]]:
        """The credentials update at the known endpoints, sans I/O."""
        return _credentials.updating(
            transport,
            self._discovery,
            own,
            self.credentials_model.model_validate,
            token_of=_token_of,
        )

    def _adopt(self, reg: _credentials.Registration[C]) -> C:
        """Keep the peer's credentials from a registration or update and return them."""
        credentials: C = reg.credentials
        self._peer_credentials = credentials
        return credentials

    def _url_for(self, module: str, role: str | None) -> str:
        return self._discovery.url_for(module, role)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(version={self._discovery.version!r}, versions_url={self._discovery.versions_url!r})"
        )


class ClientBase(_Base[C]):
    """Synchronous OCPI client: holds the transport (token, headers, retries) and the discovery."""

    def __init__(self, transport: SyncTransport, discovery: Discovery, peer_credentials: C | None = None) -> None:
        super().__init__(discovery, peer_credentials)
        self._transport = transport

    @classmethod
    def connect(cls, versions_url: str, token: str, *, http: httpx.Client | None = None, **options: Any) -> Self:
        """Discover the peer (GET versions, then version details) with a token it already knows."""
        transport = SyncTransport(cls.settings(token, **options), http=http)
        return cls(transport, discover(transport, versions_url, [cls.version], cls.version))

    @classmethod
    def register(
        cls, versions_url: str, token_a: str, own: C, *, http: httpx.Client | None = None, **options: Any
    ) -> Self:
        """Run the registration handshake with token A; the client returned uses the peer's token C.

        ``own`` is your Credentials object (carrying your token B, your versions URL and roles).
        """
        transport = SyncTransport(cls.settings(token_a, **options).with_secret(_token_of(own)), http=http)
        reg = drive(cls._registering(transport, versions_url, own))
        return cls(transport.with_settings(transport.settings.with_token(reg.token)), reg.discovery, reg.credentials)

    def update_credentials(self, own: C) -> C:
        """PUT new credentials of yours (e.g. a new token B); switch to the token C the peer returns."""
        reg = drive(self._updating(self._transport, own))
        self._transport = self._transport.with_settings(self._transport.settings.with_token(reg.token))
        return self._adopt(reg)

    def unregister(self) -> None:
        """DELETE the registration at the peer; its token C stops working."""
        _credentials.unregister(self._transport, self._discovery)

    @property
    def transport(self) -> SyncTransport:
        return self._transport

    def _transport_settings(self) -> Settings:
        return self._transport.settings

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncClientBase(_Base[C]):
    """Asynchronous twin of :class:`ClientBase`."""

    def __init__(self, transport: AsyncTransport, discovery: Discovery, peer_credentials: C | None = None) -> None:
        super().__init__(discovery, peer_credentials)
        self._transport = transport

    @classmethod
    async def connect(
        cls, versions_url: str, token: str, *, http: httpx.AsyncClient | None = None, **options: Any
    ) -> Self:
        transport = AsyncTransport(cls.settings(token, **options), http=http)
        return cls(transport, await adiscover(transport, versions_url, [cls.version], cls.version))

    @classmethod
    async def register(
        cls, versions_url: str, token_a: str, own: C, *, http: httpx.AsyncClient | None = None, **options: Any
    ) -> Self:
        transport = AsyncTransport(cls.settings(token_a, **options).with_secret(_token_of(own)), http=http)
        reg = await adrive(cls._registering(transport, versions_url, own))
        return cls(transport.with_settings(transport.settings.with_token(reg.token)), reg.discovery, reg.credentials)

    async def update_credentials(self, own: C) -> C:
        reg = await adrive(self._updating(self._transport, own))
        self._transport = self._transport.with_settings(self._transport.settings.with_token(reg.token))
        return self._adopt(reg)

    async def unregister(self) -> None:
        await _credentials.aunregister(self._transport, self._discovery)

    @property
    def transport(self) -> AsyncTransport:
        return self._transport

    def _transport_settings(self) -> Settings:
        return self._transport.settings

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


def _token_of(credentials: Any) -> str:
    token: str = credentials.token
    return token
