"""Authorization of incoming requests: ``Authorization: Token ...`` against the stored parties.

Static: copied verbatim into every generated server package; names no OCPI version's models.

OCPI 2.2+ sends ``Token <base64(token)>``; 2.1.1 (and many 2.2 implementations) send the token
raw. A server cannot know which, so ``parse_authorization`` (the client runtime's, as is
``encode_authorization``) returns both readings and the ``Authenticator`` accepts whichever names
a known party.

Token kinds: a party's token A (handed out before registration) may only be used on the
credentials module and the versions endpoints; everything else needs its token C. No token value
ever appears in an error message or a log line.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from fastapi import Request

from ._envelope import GENERIC_CLIENT_ERROR, OcpiHTTPError
from ._settings import ServerSettings
from ._store import Party, Store
from .client._wire import encode_authorization, parse_authorization

__all__ = ["AuthContext", "Authenticator", "encode_authorization", "parse_authorization"]

_UNAUTHORIZED_HEADERS = {"WWW-Authenticate": "Token"}


@dataclass(frozen=True)
class AuthContext:
    """Who is calling: the party and whether it used its token A or its token C."""

    party: Party
    token_kind: Literal["A", "C"]


def _unauthorized() -> OcpiHTTPError:
    return OcpiHTTPError(401, GENERIC_CLIENT_ERROR, "Unauthorized", headers=_UNAUTHORIZED_HEADERS)


def _authorization(request: Request) -> str | None:
    """The request's (first) Authorization header, as ``request.headers.get`` reads it."""
    for name, value in request.scope["headers"]:
        if name == b"authorization" or name.lower() == b"authorization":
            return str(value.decode("latin-1"))
    return None


class Authenticator:
    """Checks the Authorization header of requests against the store's parties."""

    def __init__(self, store: Store, settings: ServerSettings) -> None:
        self.store = store
        self.settings = settings
        # parse_authorization of the header values seen (a pure function of the text): a peer sends
        # the same value on every request, so its Base64 is decoded once. Bounded; nothing else kept.
        self._candidates: dict[str, tuple[str, ...]] = {}

    def candidates(self, header: str) -> tuple[str, ...]:
        """``parse_authorization(header)``, remembered for the last 1,024 distinct values."""
        found = self._candidates.get(header)
        if found is None:
            found = tuple(parse_authorization(header))
            if len(self._candidates) >= 1024:
                self._candidates.clear()
            self._candidates[header] = found
        return found

    async def identify(self, header: str | None) -> AuthContext | None:
        """The party an Authorization header value names, or None (no exception). The store answers
        every time: a token saved or removed is seen by the next request."""
        for candidate in self.candidates(header) if header is not None else ():
            found = await self.store.party_by_token(candidate)
            if found is not None:
                party, kind = found
                return AuthContext(party=party, token_kind=kind)
        return None

    async def require(self, request: Request, *, allow_token_a: bool) -> AuthContext:
        """The caller, or OcpiHTTPError 401/2000 ``Unauthorized`` when the header is missing, not
        ``Token ...``, names no party, or is a token A where only a token C may be used."""
        context = await self.identify(_authorization(request))
        if context is None:
            raise _unauthorized()
        if context.token_kind == "A" and not allow_token_a:
            raise _unauthorized()
        return context

    async def optional(self, request: Request, *, allow_token_a: bool = True) -> AuthContext | None:
        """None for a request without an Authorization header; otherwise like ``require``."""
        if _authorization(request) is None:
            return None
        return await self.require(request, allow_token_a=allow_token_a)

    async def for_versions(self, request: Request) -> AuthContext | None:
        """Access to the versions list and version details: token A or C, or anonymous when
        ``settings.versions_require_token`` is False (a token that is sent must still be valid)."""
        if self.settings.versions_require_token:
            return await self.require(request, allow_token_a=True)
        return await self.optional(request, allow_token_a=True)

    # -- FastAPI dependencies ----------------------------------------------------------------------

    def dependency(self, *, allow_token_a: bool = False) -> Callable[[Request], Awaitable[AuthContext]]:
        """``Depends(auth.dependency())`` for function modules; ``allow_token_a=True`` for credentials."""

        async def authorized(request: Request) -> AuthContext:
            return await self.require(request, allow_token_a=allow_token_a)

        return authorized

    def versions_dependency(self) -> Callable[[Request], Awaitable[AuthContext | None]]:
        """``Depends(auth.versions_dependency())`` for the versions list and version details."""

        async def versions_access(request: Request) -> AuthContext | None:
            return await self.for_versions(request)

        return versions_access
