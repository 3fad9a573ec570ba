"""Which URLs a peer gives us this server may call: the outbound URL policy.

Static: copied verbatim into every generated server package; names no OCPI version's models.

A peer names URLs we then call: its versions URL and version details (registration), its module
endpoints, and the ``response_url`` of a command or charging-profile request. Each passes
``OutboundPolicy`` first, so that a peer cannot make this server call its own loopback address or
a host on the operator's internal network (server-side request forgery):

* the scheme is ``http`` or ``https``, the URL has a host and no user info (``user:pw@``);
* the host is the peer's own (the host of its versions URL; any port) or one the operator lists in
  ``ServerSettings.peer_hosts`` (``OCPI_PEER_HOSTS``; ``*.example.com`` covers a domain and its
  subdomains);
* every address the host has is a public one: no loopback, private, link-local, shared, multicast
  or reserved address, unless ``ServerSettings.allow_private_peers`` (``OCPI_ALLOW_PRIVATE_PEERS``)
  is true: for tests on 127.0.0.1 and for labs. Names are resolved to check this; the connection
  resolves again, so a name that changes its address between the two is not caught.

A refused URL is not called, and a warning says which and why (never a token).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from ._registration import PeerUnreachable
from ._settings import ServerSettings
from .client._transport import AsyncTransport, shared_ssl_context

__all__ = ["OutboundPolicy", "RefusedURL", "allowed", "check_endpoints", "peer_http_client"]

logger = logging.getLogger("ocpi.server.outbound")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedURL(PeerUnreachable):
    """A URL the policy refused; during registration this is OCPI 3001 with the reason."""


def _public(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def _host_matches(host: str, pattern: str) -> bool:
    if pattern.startswith("*."):
        return host == pattern[2:] or host.endswith(pattern[1:])
    return host == pattern


@dataclass(frozen=True)
class OutboundPolicy:
    """The rules of the module docstring; ``from_settings`` reads them from ``ServerSettings``."""

    allow_private: bool = False
    peer_hosts: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: ServerSettings) -> OutboundPolicy:
        return cls(allow_private=settings.allow_private_peers, peer_hosts=settings.peer_hosts)

    def static_refusal(self, url: str, peer_url: str) -> str | None:
        """Why ``url`` may not be called, judged from its text alone, or None.

        ``peer_url`` is the peer's versions URL: its host is the peer's (so the versions URL itself
        always passes the host rule); ``""`` when we know none (then only ``peer_hosts`` pass)."""
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
        except ValueError:
            return "not a valid URL"
        if parts.scheme.lower() not in ("http", "https"):
            return "only http and https URLs are called"
        if not host:
            return "the URL has no host"
        if parts.username is not None or parts.password is not None or "@" in parts.netloc:
            return "the URL carries user info"
        own = (urlsplit(peer_url).hostname or "").lower()
        if host != own and not any(_host_matches(host, pattern) for pattern in self.peer_hosts):
            return f"host {host} is neither the peer's ({own or 'unknown'}) nor in peer_hosts"
        if not self.allow_private:
            try:
                if not _public(ipaddress.ip_address(host)):
                    return f"address {host} is not public (allow_private_peers is off)"
            except ValueError:
                pass  # a name: resolved by ``refusal``
        return None

    async def refusal(self, url: str, peer_url: str) -> str | None:
        """``static_refusal``, then (unless private addresses are allowed) every address of the
        host must be public; a host that does not resolve is refused."""
        reason = self.static_refusal(url, peer_url)
        if reason is not None or self.allow_private:
            return reason
        host = urlsplit(url).hostname or ""
        try:
            ipaddress.ip_address(host)
            return None  # a literal address, checked above
        except ValueError:
            pass
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except OSError:
            return f"host {host} does not resolve"
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
            if not _public(address):
                return f"host {host} has the address {address}, which is not public (allow_private_peers is off)"
        return None


async def allowed(settings: ServerSettings, url: str, *, peer_url: str | None, what: str) -> bool:
    """True when ``url`` may be called (``peer_url``: the peer's versions URL, None when unknown);
    otherwise a warning names ``what`` and why, and False."""
    reason = await OutboundPolicy.from_settings(settings).refusal(url, peer_url or "")
    if reason is not None:
        logger.warning("not calling the %s %s: %s", what, url, reason)
        return False
    return True


def peer_http_client(settings: ServerSettings, peer_url: str, *, timeout: float = 30.0) -> httpx.AsyncClient:
    """An HTTP client for talking to the peer whose versions URL is ``peer_url``: every request
    it sends first passes the policy, and a refused one raises ``RefusedURL`` without being sent
    (the reason is logged; the peer is told only that the URL is refused)."""
    policy = OutboundPolicy.from_settings(settings)

    async def check(request: httpx.Request) -> None:
        await _require(policy, str(request.url), peer_url)

    return httpx.AsyncClient(
        timeout=timeout, follow_redirects=False, verify=shared_ssl_context(), event_hooks={"request": [check]}
    )


@asynccontextmanager
async def peer_transport(
    settings: ServerSettings, peer_url: str, token: str, *, ocpi_headers: bool
) -> AsyncIterator[AsyncTransport]:
    """A transport for calls to the peer whose versions URL is ``peer_url``, with ``token`` in our
    encoding, the version's OCPI headers (``ocpi_headers``), and every request through the policy
    (``peer_http_client``)."""
    async with (
        peer_http_client(settings, peer_url) as http,
        AsyncTransport(settings.client_settings(token, ocpi_headers=ocpi_headers), http=http) as transport,
    ):
        yield transport


async def _require(policy: OutboundPolicy, url: str, peer_url: str) -> None:
    reason = await policy.refusal(url, peer_url)
    if reason is not None:
        logger.warning("not calling %s: %s", url, reason)
        raise RefusedURL(f"Refused to call {url}: not allowed by this server's outbound URL policy")


async def check_endpoints(settings: ServerSettings, peer_url: str, endpoints: list[dict[str, Any]]) -> None:
    """Registration: every endpoint URL the peer lists must pass the policy, or ``RefusedURL``."""
    policy = OutboundPolicy.from_settings(settings)
    for endpoint in endpoints:
        await _require(policy, str(endpoint.get("url", "")), peer_url)
