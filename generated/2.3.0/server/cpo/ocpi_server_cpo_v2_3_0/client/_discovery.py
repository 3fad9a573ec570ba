"""Version negotiation and endpoint discovery (the OCPI versions module).

``discover`` GETs the peer's versions list, picks a version both sides support and GETs that
version's details, which map each module (and, from 2.2 on, each interface role) to a URL.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from ._transport import AsyncTransport, Flow, SyncTransport, adrive, drive
from ._wire import ci_key
from .errors import ModuleNotOfferedError, VersionNegotiationError

__all__ = ["Discovery", "adiscover", "choose_version", "discover", "discovering", "parse_details", "version_key"]

logger = logging.getLogger("ocpi_client")


@dataclass(frozen=True)
class Discovery:
    """The outcome of discovery: the negotiated version and the peer's endpoints for it."""

    version: str
    versions_url: str
    details_url: str
    endpoints: Mapping[tuple[str, str | None], str] = field(default_factory=dict)
    """``(module identifier, "SENDER" | "RECEIVER" | None) -> URL``; the role is None in 2.1.1."""

    def _find(self, module: str, role: str | None) -> str | None:
        wanted_module = ci_key(module)
        wanted_role = role.upper() if role is not None else None
        exact: str | None = None
        roleless: str | None = None
        first: str | None = None
        for (identifier, endpoint_role), url in self.endpoints.items():
            if ci_key(identifier) != wanted_module:
                continue
            if first is None:
                first = url
            if endpoint_role is None:
                roleless = roleless or url
            elif wanted_role is not None and endpoint_role.upper() == wanted_role and exact is None:
                exact = url
        if wanted_role is None:
            return roleless or first
        return exact or roleless

    def url_for(self, module: str, role: str | None) -> str:
        """The URL of ``module`` in ``role`` (a role-less entry also matches; role None takes any).

        Raises ModuleNotOfferedError when the peer does not list it.
        """
        url = self._find(module, role)
        if url is None:
            raise ModuleNotOfferedError(module, role, version=self.version, offered=self.offered())
        return url

    def offers(self, module: str, role: str | None) -> bool:
        """Whether ``url_for(module, role)`` would succeed."""
        return self._find(module, role) is not None

    def offered(self) -> list[str]:
        """The peer's endpoints as ``module`` or ``module/ROLE`` strings, in the peer's order."""
        return [identifier + (f"/{role}" if role else "") for identifier, role in self.endpoints]


def version_key(version: str) -> tuple[int, ...]:
    """Numeric sort key, part by part: 2.0 < 2.1.1 < 2.2 < 2.2.1 < 2.3.0 (a non-numeric part counts as -1)."""
    return tuple(int(part) if part.isdigit() else -1 for part in version.strip().split("."))


def _version_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return str(value)  # a peer that wrote the version as a JSON number (2.2)
    return None


def _peer_versions(peer_versions: Any) -> dict[str, str]:
    if not isinstance(peer_versions, list):
        raise VersionNegotiationError(
            f"the peer's versions reply is not a list of versions (got {type(peer_versions).__name__})"
        )
    found: dict[str, str] = {}
    for entry in peer_versions:
        if not isinstance(entry, Mapping):
            logger.warning("ignoring a versions entry that is not an object: %r", entry)
            continue
        version = _version_text(entry.get("version"))
        url = entry.get("url")
        if version is None or not isinstance(url, str) or not url:
            logger.warning("ignoring a versions entry without version or url: %r", entry)
            continue
        found.setdefault(version, url)
    return found


def choose_version(peer_versions: Any, supported: Sequence[str], wanted: str | None) -> tuple[str, str]:
    """Pick the version to use: ``wanted`` if given, else the highest one both sides support.

    ``peer_versions`` is the data of the peer's versions endpoint (a list of ``{version, url}``).
    Returns ``(version, details_url)``; raises VersionNegotiationError.
    """
    offered = _peer_versions(peer_versions)
    ours = list(supported)
    theirs = sorted(offered, key=version_key)
    if wanted is not None:
        if wanted not in ours:
            problem = f"OCPI {wanted} was asked for but this client supports only {', '.join(ours) or 'nothing'}"
        elif wanted not in offered:
            problem = f"the peer does not offer OCPI {wanted}; it offers {', '.join(theirs) or 'nothing'}"
        else:
            return wanted, offered[wanted]
        raise VersionNegotiationError(problem, peer_versions=theirs, supported=ours, wanted=wanted)
    mutual = [version for version in ours if version in offered]
    if not mutual:
        raise VersionNegotiationError(
            f"no OCPI version in common: the peer offers {', '.join(theirs) or 'nothing'}, "
            f"this client supports {', '.join(ours) or 'nothing'}",
            peer_versions=theirs,
            supported=ours,
        )
    best = max(mutual, key=version_key)
    return best, offered[best]


def parse_details(data: Any, version: str, details_url: str, versions_url: str) -> Discovery:
    """Build a Discovery from the data of a version details reply (``{version, endpoints}``).

    Relative endpoint URLs are resolved against ``details_url``; malformed endpoints are skipped.
    """
    if not isinstance(data, Mapping):
        raise VersionNegotiationError(
            f"the version details of OCPI {version} are not an object (got {type(data).__name__})"
        )
    endpoints_raw = data.get("endpoints")
    if not isinstance(endpoints_raw, list):
        raise VersionNegotiationError(f"the version details of OCPI {version} have no list of endpoints")
    stated = _version_text(data.get("version"))
    if stated is not None and stated != version:
        logger.warning("version details at %s state version %s, expected %s", details_url, stated, version)
    base = httpx.URL(details_url)
    endpoints: dict[tuple[str, str | None], str] = {}
    for entry in endpoints_raw:
        if not isinstance(entry, Mapping):
            logger.warning("ignoring an endpoint that is not an object: %r", entry)
            continue
        identifier = entry.get("identifier")
        url = entry.get("url")
        role = entry.get("role")
        if not isinstance(identifier, str) or not identifier or not isinstance(url, str) or not url:
            logger.warning("ignoring an endpoint without identifier or url: %r", entry)
            continue
        if role is not None and not isinstance(role, str):
            logger.warning("ignoring an endpoint with an invalid role: %r", entry)
            continue
        key = (identifier, role.upper() if role else None)
        if key in endpoints:
            continue
        try:
            endpoints[key] = str(base.join(url))
        except httpx.InvalidURL:
            logger.warning("ignoring an endpoint with an invalid url: %r", entry)
    return Discovery(version=version, versions_url=versions_url, details_url=details_url, endpoints=endpoints)


def _absolute(base: str, url: str) -> str:
    try:
        return str(httpx.URL(base).join(url))
    except httpx.InvalidURL as exc:
        raise VersionNegotiationError(f"the peer's version details URL {url!r} is invalid: {exc}") from None


def discovering(
    transport: SyncTransport | AsyncTransport, versions_url: str, supported: Sequence[str], wanted: str | None = None
) -> Flow[Discovery]:
    """GET the versions list, choose a version, GET its details (sans I/O: run by ``drive``/``adrive``)."""
    versions = yield transport, "GET", versions_url, {"probe": True}
    version, details_url = choose_version(versions.data, supported, wanted)
    details_url = _absolute(versions_url, details_url)
    details = yield transport, "GET", details_url, {}
    return parse_details(details.data, version, details_url, versions_url)


def discover(
    transport: SyncTransport, versions_url: str, supported: Sequence[str], wanted: str | None = None
) -> Discovery:
    """GET the versions list, choose a version, GET its details."""
    return drive(discovering(transport, versions_url, supported, wanted))


async def adiscover(
    transport: AsyncTransport, versions_url: str, supported: Sequence[str], wanted: str | None = None
) -> Discovery:
    """Async ``discover``."""
    return await adrive(discovering(transport, versions_url, supported, wanted))
