"""How the client talks to one peer: ``Settings`` (token, headers, limits), ``Routing`` and the
``PeerProfile`` of the peer's known quirks, which also records every deviation seen from it.
"""

from __future__ import annotations

import base64
import logging
import re
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from ._wire import encode_authorization

__all__ = ["DEFAULT_TIMEOUT", "PeerDeviation", "PeerProfile", "Routing", "Settings", "TokenEncoding"]

logger = logging.getLogger("ocpi_client")

TokenEncoding = Literal["base64", "raw"]

DEFAULT_TIMEOUT = 30.0
"""Seconds a call may take when neither the settings nor the caller's ``httpx`` client say otherwise."""

DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024

_TOKEN_FIELD = re.compile(r'("token"\s*:\s*")((?:[^"\\]|\\.)*)(")')


@dataclass(frozen=True)
class Routing:
    """OCPI 2.2+ routing headers: which party a request comes from and is meant for."""

    from_country_code: str | None = None
    from_party_id: str | None = None
    to_country_code: str | None = None
    to_party_id: str | None = None

    def headers(self) -> dict[str, str]:
        """The ``OCPI-from-*`` / ``OCPI-to-*`` headers for the fields that are set."""
        pairs = (
            ("OCPI-from-country-code", self.from_country_code),
            ("OCPI-from-party-id", self.from_party_id),
            ("OCPI-to-country-code", self.to_country_code),
            ("OCPI-to-party-id", self.to_party_id),
        )
        return {name: value for name, value in pairs if value is not None}


@dataclass(frozen=True)
class PeerDeviation:
    """Something the peer did that the spec does not allow and the client worked around."""

    kind: str
    """``list_wrapped_data``, ``null_fields``, ``link_repaired``, ``trailing_slash``, ``token_encoding``,
    ``bad_header``, ``invalid_item``."""
    detail: str
    method: str | None = None
    url: str | None = None

    def __str__(self) -> str:
        where = f" ({self.method} {self.url})" if self.method and self.url else ""
        return f"{self.kind}: {self.detail}{where}"


@dataclass(eq=False)
class PeerProfile:
    """Known quirks of one peer. Set what you know; the client fills in what it detects.

    None means "not known": lenient mode then works around the quirk when it shows up (and records it),
    strict mode refuses it. A field set to True allows the workaround in strict mode too.
    """

    trailing_slash: bool | None = None
    """The peer's endpoint URLs want a trailing slash (it redirects ``/locations`` to ``/locations/``)."""
    list_wrapped_data: bool | None = None
    """The peer wraps single objects in a one-element list."""
    token_encoding: TokenEncoding | None = None
    """How the peer wants the token in the Authorization header (overrides the version's default)."""
    link_repair: bool | None = None
    """The peer's ``Link`` headers are unusable: page on by offset and limit instead."""
    max_deviations: int = 1000
    """How many deviations ``deviations`` keeps (the oldest are dropped)."""
    deviations: list[PeerDeviation] = field(default_factory=list, repr=False)
    """Every deviation seen from this peer (each kind is logged once)."""
    _logged: set[str] = field(default_factory=set, repr=False)
    _encoding_confirmed: bool = field(default=False, repr=False)

    def record(self, kind: str, detail: str, *, method: str | None = None, url: str | None = None) -> None:
        """Note a deviation; the first of each kind is logged as a warning."""
        deviation = PeerDeviation(kind, detail, method, url)
        self.deviations.append(deviation)
        if len(self.deviations) > self.max_deviations:
            del self.deviations[0]
        if kind not in self._logged:
            self._logged.add(kind)
            logger.warning("peer deviation (logged once per kind): %s", deviation)


@dataclass(frozen=True)
class Settings:
    """How a transport talks to one peer. Tokens never appear in ``repr``."""

    token: str = field(repr=False)
    token_encoding: Literal["base64", "raw", "auto"] = "base64"
    """``auto``: start with ``default_encoding`` (or the profile's) and, when the peer refuses the
    token, try the other encoding once; what works is remembered in ``profile``."""
    routing_headers: bool = True
    """False for OCPI 2.1.1: routing headers are then never sent."""
    request_id_headers: bool = True
    """False for OCPI 2.1.1: no X-Request-ID / X-Correlation-ID headers."""
    routing: Routing | None = None
    timeout: float | None = None
    """Deadline of one call in seconds (connect, headers, body, retries). None: the timeout of the
    ``httpx`` client passed in, or ``DEFAULT_TIMEOUT`` for a client the transport creates."""
    max_retries: int = 3
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    lenient: bool = True
    """Work around known peer quirks (recorded as deviations) instead of raising; False is strict."""
    user_agent: str = "ocpi-codegen-client"
    max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES
    """Largest response body read (after decompression); larger ones raise ResponseTooLargeError."""
    max_redirects: int = 5
    """Same-origin redirects followed per call."""
    max_pages: int | None = 100_000
    """Pages one paginated list may have before PaginationError (a guard against endless lists)."""
    default_encoding: TokenEncoding = "base64"
    """The encoding ``auto`` starts with (a version's client sets its version's default)."""
    profile: PeerProfile = field(default_factory=PeerProfile, compare=False)
    """The peer's quirks; shared by every transport derived from these settings."""
    secrets: tuple[str, ...] = field(default=(), repr=False)
    """Other tokens of ours (e.g. token A and B) to hide from error messages, besides ``token``."""

    def __post_init__(self) -> None:
        if not isinstance(self.token, str):
            raise TypeError("Settings.token must be a str")
        if self.token_encoding not in ("base64", "raw", "auto"):
            raise ValueError(f"token_encoding must be 'base64', 'raw' or 'auto', not {self.token_encoding!r}")
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if self.timeout is not None and not self.timeout > 0:
            raise ValueError("timeout must be > 0")
        if self.backoff_base < 0 or self.backoff_max < 0:
            raise ValueError("backoff_base and backoff_max must be >= 0")
        if self.max_response_bytes is not None and self.max_response_bytes < 1:
            raise ValueError("max_response_bytes must be >= 1")
        if self.max_redirects < 0:
            raise ValueError("max_redirects must be >= 0")

    def with_token(self, token: str) -> Settings:
        """The same settings (and profile) with another token; the old one stays hidden in messages."""
        return replace(self, token=token, secrets=(*self.secrets, self.token))

    def with_secret(self, secret: str) -> Settings:
        """The same settings, also hiding ``secret`` (e.g. our token B) in messages."""
        return replace(self, secrets=(*self.secrets, secret))

    def encoding(self) -> TokenEncoding:
        """The encoding the next request uses."""
        if self.token_encoding != "auto":
            return self.token_encoding
        return self.profile.token_encoding or self.default_encoding

    def authorization(self, encoding: TokenEncoding | None = None) -> str:
        """The ``Authorization`` header value: ``Token <base64(utf-8 token)>`` or ``Token <token>``."""
        return encode_authorization(self.token, base64_encode=(encoding or self.encoding()) != "raw")

    def redact(self, text: str) -> str:
        """``text`` (built from what a peer sent) with our tokens, and any JSON ``token`` value, hidden."""
        for secret in (self.token, *self.secrets):
            if len(secret) < 4:
                continue
            encoded = base64.b64encode(secret.encode("utf-8")).decode("ascii")
            text = text.replace(secret, "***").replace(encoded, "***")
        return _TOKEN_FIELD.sub(r"\1***\3", text)

    def redact_any(self, value: Any) -> str | None:
        return None if value is None else self.redact(value if isinstance(value, str) else str(value))
