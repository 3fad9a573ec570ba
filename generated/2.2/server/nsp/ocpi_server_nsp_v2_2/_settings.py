"""Settings of a generated OCPI server, from code or from ``OCPI_*`` environment variables.

Static: copied verbatim into every generated server package; names no OCPI version's models.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from .client._settings import Settings

__all__ = ["ServerSettings"]

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    text = raw.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{name} must be a boolean (true/false, 1/0, yes/no, on/off), got {raw!r}")


def _env_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return int(raw.strip())
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None


def _env_str(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(name)
    return default if raw is None or not raw.strip() else raw.strip()


@dataclass(frozen=True, kw_only=True)
class ServerSettings:
    """How this server presents itself and pages its lists.

    Keyword-only, so that the order of the fields is no part of the contract.
    """

    base_url: str
    """Public base URL of the OCPI API, e.g. ``http://127.0.0.1:8000/ocpi`` (no trailing slash)."""
    country_code: str
    """Our own country code (CiString(2)), used in our credentials and routing headers."""
    party_id: str
    """Our own party id (CiString(3))."""
    database: str = ":memory:"
    """Where the store keeps its data, as a URL for ``open_store``: ``:memory:`` (this process
    only), ``sqlite:///path.db`` (a file) or ``postgresql://...`` (several workers or hosts)."""
    max_limit: int = 100
    """The most objects one page of a list returns; a larger ``limit`` is capped to it."""
    default_limit: int = 50
    """The page size when the request gives no ``limit``."""
    versions_require_token: bool = True
    """False lets anyone read the versions list and version details without a token."""
    token_base64: bool = True
    """How WE write tokens in outgoing Authorization headers (2.2+: Base64); input accepts both."""
    business_name: str = "ocpi-codegen server"
    """Our business name, for the business details of our credentials."""
    max_body_bytes: int = 1_048_576
    """The largest request body accepted (1 MiB); a larger one is answered 413 / OCPI 2001."""
    max_json_depth: int = 64
    """How deep arrays and objects of a request body may nest; deeper is answered 400 / 2001."""
    allow_private_peers: bool = False
    """True lets us call peer URLs on loopback, private or link-local addresses (tests, labs)."""
    peer_hosts: tuple[str, ...] = ()
    """Hosts we may call besides the host of a peer's own versions URL (``*.example.com`` for a
    domain and its subdomains), e.g. where a peer's modules or a ``response_url`` live."""
    docs: bool = True
    """Serve ``/openapi.json``, ``/docs`` (Swagger UI) and ``/redoc``; False turns them off."""
    resync_seconds: float = 900
    """Pull every module we receive from every registered peer at start-up and then this often
    (seconds); 0 turns the background resync off (``python -m <package> resync PEER`` still works)."""
    resync_retry_seconds: float = 30
    """How often a peer that is out of sync (a failed push or resync) is tried again; 0: only on
    the ``resync_seconds`` schedule."""
    write_slots: int = 1
    """How many store writes (PUT, PATCH, DELETE, POST) a worker parses and runs at once; the
    others wait their turn before their body is read, so that a read waits behind at most this
    many writes' work (the store has one writer anyway). 0: no limit."""

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"base_url must be an absolute http(s) URL, got {self.base_url!r}")
        if parts.query or parts.fragment:
            raise ValueError(f"base_url must not have a query or fragment, got {self.base_url!r}")
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))
        if self.max_limit < 1:
            raise ValueError(f"max_limit must be at least 1, got {self.max_limit}")
        if not 1 <= self.default_limit <= self.max_limit:
            raise ValueError(
                f"default_limit must be between 1 and max_limit ({self.max_limit}), got {self.default_limit}"
            )
        if self.max_body_bytes < 1 or self.max_json_depth < 1:
            raise ValueError("max_body_bytes and max_json_depth must be at least 1")
        object.__setattr__(self, "peer_hosts", tuple(host.strip().lower() for host in self.peer_hosts if host.strip()))
        if self.write_slots < 0:
            raise ValueError(f"write_slots must not be negative, got {self.write_slots}")
        if self.resync_seconds < 0 or self.resync_retry_seconds < 0:
            raise ValueError("resync_seconds and resync_retry_seconds must not be negative")
        if not self.country_code or not self.party_id:
            raise ValueError("country_code and party_id must not be empty")

    @property
    def base_path(self) -> str:
        """The path part of ``base_url`` without a trailing slash (``/ocpi``; ``""`` for the root)."""
        return urlsplit(self.base_url).path.rstrip("/")

    def client_settings(self, token: str, *, ocpi_headers: bool, max_retries: int = 1) -> Settings:
        """Settings of the embedded client for a call we make to a peer with ``token``: our token
        encoding, and the routing and request-id headers when the version has them (2.2 on)."""
        return Settings(
            token=token,
            token_encoding="base64" if self.token_base64 else "raw",
            routing_headers=ocpi_headers,
            request_id_headers=ocpi_headers,
            max_retries=max_retries,
        )

    @classmethod
    def from_env(cls, prefix: str = "OCPI_", environ: Mapping[str, str] | None = None) -> ServerSettings:
        """Read ``{prefix}BASE_URL``, ``DATABASE``, ``COUNTRY_CODE``, ``PARTY_ID``, ``MAX_LIMIT``,
        ``DEFAULT_LIMIT``, ``VERSIONS_REQUIRE_TOKEN``, ``TOKEN_BASE64``, ``BUSINESS_NAME``,
        ``MAX_BODY_BYTES``, ``MAX_JSON_DEPTH``, ``ALLOW_PRIVATE_PEERS``, ``PEER_HOSTS``
        (comma-separated), ``DOCS``, ``RESYNC_SECONDS``, ``RESYNC_RETRY_SECONDS`` and ``WRITE_SLOTS``.

        Unset or empty variables take the defaults (country/party ``NL``/``EXA``, base URL
        ``http://127.0.0.1:8000/ocpi``). ``environ`` replaces ``os.environ`` (for tests).
        """
        env = os.environ if environ is None else environ
        max_limit = _env_int(env, prefix + "MAX_LIMIT", 100)
        return cls(
            base_url=_env_str(env, prefix + "BASE_URL", "http://127.0.0.1:8000/ocpi"),
            database=_env_str(env, prefix + "DATABASE", ":memory:"),
            country_code=_env_str(env, prefix + "COUNTRY_CODE", "NL"),
            party_id=_env_str(env, prefix + "PARTY_ID", "EXA"),
            max_limit=max_limit,
            # An unset default follows a smaller max_limit instead of failing the check.
            default_limit=_env_int(env, prefix + "DEFAULT_LIMIT", min(50, max_limit)),
            versions_require_token=_env_bool(env, prefix + "VERSIONS_REQUIRE_TOKEN", True),
            token_base64=_env_bool(env, prefix + "TOKEN_BASE64", True),
            business_name=_env_str(env, prefix + "BUSINESS_NAME", "ocpi-codegen server"),
            max_body_bytes=_env_int(env, prefix + "MAX_BODY_BYTES", 1_048_576),
            max_json_depth=_env_int(env, prefix + "MAX_JSON_DEPTH", 64),
            allow_private_peers=_env_bool(env, prefix + "ALLOW_PRIVATE_PEERS", False),
            peer_hosts=tuple(_env_str(env, prefix + "PEER_HOSTS", "").split(",")),
            docs=_env_bool(env, prefix + "DOCS", True),
            resync_seconds=_env_int(env, prefix + "RESYNC_SECONDS", 900),
            resync_retry_seconds=_env_int(env, prefix + "RESYNC_RETRY_SECONDS", 30),
            write_slots=_env_int(env, prefix + "WRITE_SLOTS", 1),
        )
