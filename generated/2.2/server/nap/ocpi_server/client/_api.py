"""Glue between the generated interfaces/clients and the runtime: base classes and parse helpers.

Static: copied verbatim into every generated client package.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any, ClassVar, Generic, Literal, Protocol, Self, TypeVar

import httpx
from pydantic import TypeAdapter

from . import _credentials
from ._discovery import Discovery, adiscover, discover
from ._transport import AsyncTransport, Routing, Settings, SyncTransport
from ._types import OcpiModel, parse_items

T = TypeVar("T")

#: Passed by configuration modules (versions, credentials, hubclientinfo), which are never routed.
NO_ROUTING = Routing()


class _HasToken(Protocol):
    token: str


C = TypeVar("C", bound=OcpiModel)


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def _adapter(tp: Any) -> TypeAdapter[Any]:
    adapter = _ADAPTERS.get(tp)
    if adapter is None:
        adapter = _ADAPTERS[tp] = TypeAdapter(tp)
    return adapter


def parse(tp: type[T], data: Any) -> T:
    """Validate one value of the response data as ``tp`` (a model, an enum or a primitive)."""
    if isinstance(tp, type) and issubclass(tp, OcpiModel):
        model: T = tp.model_validate(data)
        return model
    result: T = _adapter(tp).validate_python(data)
    return result


def parser(tp: type[T]) -> Callable[[Any], T]:
    """A parse function for the items of a paginated list."""
    return lambda raw: parse(tp, raw)


def parse_list(tp: type[T], data: Any, lenient: bool) -> list[T]:
    """Validate a non-paginated list; in lenient mode invalid items are skipped."""
    if not isinstance(data, list):
        data = [] if data is None else [data]
    if isinstance(tp, type) and issubclass(tp, OcpiModel):
        items, _ = parse_items(tp, data, lenient=lenient)
        return items  # type: ignore[return-value]
    return [parse(tp, item) for item in data]


def dump_value(value: Any) -> bytes:
    """JSON body for a primitive or enum payload."""
    return _adapter(type(value)).dump_json(value)


class Interface:
    """A module interface of a peer, bound to the URL the peer published for it."""

    module_id: ClassVar[str]
    role: ClassVar[str]

    def __init__(self, transport: SyncTransport, url: str) -> None:
        self._transport = transport
        self._url = url.rstrip("/")

    @property
    def url(self) -> str:
        return self._url


class AsyncInterface:
    """Asynchronous twin of :class:`Interface`."""

    module_id: ClassVar[str]
    role: ClassVar[str]

    def __init__(self, transport: AsyncTransport, url: str) -> None:
        self._transport = transport
        self._url = url.rstrip("/")

    @property
    def url(self) -> str:
        return self._url


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
        token_encoding: Literal["base64", "raw"] | None = None,
        routing: Routing | None = None,
        timeout: float = 30.0,
        max_retries: int = 3,
        lenient: bool = True,
    ) -> Settings:
        """Settings for this version: its token encoding and header rules unless overridden."""
        return Settings(
            token=token,
            token_encoding=token_encoding or cls.default_token_encoding,
            routing_headers=cls.routing_headers,
            request_id_headers=cls.request_id_headers,
            routing=routing,
            timeout=timeout,
            max_retries=max_retries,
            lenient=lenient,
        )

    @property
    def discovery(self) -> Discovery:
        """The version and endpoint URLs the peer published."""
        return self._discovery

    @property
    def peer_credentials(self) -> C | None:
        """The peer's credentials from the last registration or update, if this client did one."""
        return self._peer_credentials

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
        transport = SyncTransport(cls.settings(token_a, **options), http=http)
        reg = _credentials.register(
            transport,
            versions_url,
            own,
            cls.credentials_model.model_validate,
            [cls.version],
            cls.version,
            token_of=_token_of,
        )
        return cls(transport.with_settings(transport.settings.with_token(reg.token)), reg.discovery, reg.credentials)

    def update_credentials(self, own: C) -> C:
        """PUT new credentials of yours (e.g. a new token B); switch to the token C the peer returns."""
        reg = _credentials.update(
            self._transport, self._discovery, own, self.credentials_model.model_validate, token_of=_token_of
        )
        self._transport = self._transport.with_settings(self._transport.settings.with_token(reg.token))
        credentials: C = reg.credentials
        self._peer_credentials = credentials
        return credentials

    def unregister(self) -> None:
        """DELETE the registration at the peer; its token C stops working."""
        _credentials.unregister(self._transport, self._discovery)

    @property
    def transport(self) -> SyncTransport:
        return self._transport

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
        transport = AsyncTransport(cls.settings(token_a, **options), http=http)
        reg = await _credentials.aregister(
            transport,
            versions_url,
            own,
            cls.credentials_model.model_validate,
            [cls.version],
            cls.version,
            token_of=_token_of,
        )
        return cls(transport.with_settings(transport.settings.with_token(reg.token)), reg.discovery, reg.credentials)

    async def update_credentials(self, own: C) -> C:
        reg = await _credentials.aupdate(
            self._transport, self._discovery, own, self.credentials_model.model_validate, token_of=_token_of
        )
        self._transport = self._transport.with_settings(self._transport.settings.with_token(reg.token))
        credentials: C = reg.credentials
        self._peer_credentials = credentials
        return credentials

    async def unregister(self) -> None:
        await _credentials.aunregister(self._transport, self._discovery)

    @property
    def transport(self) -> AsyncTransport:
        return self._transport

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
