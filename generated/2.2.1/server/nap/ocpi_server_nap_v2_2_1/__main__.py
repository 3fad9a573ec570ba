"""``python -m <package> COMMAND``: manage this server's peers, with the OCPI_* settings.

* ``issue-token PEER``: a token A for a peer that will register with us;
* ``register PEER VERSIONS_URL TOKEN_A``: register with a peer that gave us a token A;
* ``peers``: every peer, its roles, version, endpoints, which tokens are set (never a token),
  last push, last resync and whether it is in sync;
* ``add-peer NAME --role CPO --country-code NL --party-id ABC``: a pull-only peer (an export tool,
  a monitoring job) that never registers: a token C with those roles, printed once;
* ``update-credentials PEER``: PUT our credentials with a new token to the peer, keep its new one;
* ``unregister PEER``: DELETE at the peer, then forget it (``--force``: forget it anyway);
* ``resync PEER``: pull every module we receive from the peer now.

Every command works on ``OCPI_DATABASE``, which must be a database file or server (``:memory:``
would forget at once). The generated package's ``SPEC`` says the version and role.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from ._app import (
    AppSpec,
    issue_token_a,
    register_with_peer,
    unregister_from_peer,
    update_credentials_with_peer,
)
from ._resync import resync_peer
from ._settings import ServerSettings
from ._store import Party, Store, new_token, open_store

_MEMORY = ("", ":memory:", "sqlite://", "sqlite:///:memory:")


def _spec() -> AppSpec:
    package = importlib.import_module(__package__ or "")
    spec = getattr(package, "SPEC", None)
    if not isinstance(spec, AppSpec):
        raise SystemExit(f"{__package__} is not a generated server package (no SPEC)")
    return spec


def _token_state(party: Party) -> str:
    """Which of tokens A, B and C are set: ``A--``, ``-BC``... (never a token itself)."""
    return "".join(letter if getattr(party, f"token_{letter.lower()}") else "-" for letter in "ABC")


def _roles(party: Party) -> str:
    out = []
    for role in party.roles:
        name = role.get("role") or "?"
        out.append(f"{name} {role.get('country_code', '?')}/{role.get('party_id', '?')}")
    return ", ".join(out) or "-"


async def _peers_table(store: Store) -> list[list[str]]:
    rows = [["peer", "roles", "version", "endpoints", "tokens", "last push", "last resync", "in sync"]]
    for party in await store.parties():
        state = await store.peer_state(party.party_key) or {}
        in_sync = state.get("in_sync")
        rows.append(
            [
                party.party_key,
                _roles(party),
                party.version or "-",
                str(len(party.endpoints)),
                _token_state(party),
                str(state.get("last_push") or "-"),
                str(state.get("last_resync") or "-"),
                "-" if in_sync is None else ("yes" if in_sync else "NO"),
            ]
        )
    return rows


def _print_table(rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


async def add_peer(
    store: Store, name: str, roles: list[str], country_code: str, party_id: str, business_name: str | None = None
) -> str:
    """A pull-only peer: a party with a token C and the given roles, no handshake; returns the token."""
    if await store.party(name) is not None:
        raise ValueError(f"peer {name!r} exists already")
    token = new_token()
    entries: list[dict[str, Any]] = []
    for role in roles:
        entry: dict[str, Any] = {"role": role.upper(), "country_code": country_code, "party_id": party_id}
        if business_name:
            entry["business_details"] = {"name": business_name}
        entries.append(entry)
    await store.save_party(Party(name, token_c=token, roles=entries))
    return token


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"python -m {__package__}", description="Manage this OCPI server's peers.")
    sub = parser.add_subparsers(dest="command", required=True)
    issue = sub.add_parser("issue-token", help="create a token A for a peer that will register with us")
    issue.add_argument("peer", help="a name for the peer's connection, e.g. NL/ABC")
    register = sub.add_parser("register", help="register with a peer that gave us its versions URL and a token A")
    register.add_argument("peer", help="a name for the peer's connection, e.g. NL/ABC")
    register.add_argument("versions_url")
    register.add_argument("token_a")
    sub.add_parser("peers", help="list the peers and their state")
    add = sub.add_parser("add-peer", help="add a pull-only peer: a token C with the given roles, no handshake")
    add.add_argument("peer", help="a name for the peer, e.g. NL/ABC")
    add.add_argument("--role", action="append", required=True, help="its role (repeat for several), e.g. CPO")
    add.add_argument("--country-code", required=True)
    add.add_argument("--party-id", required=True)
    add.add_argument("--business-name")
    update = sub.add_parser("update-credentials", help="send the peer a new token for us and take its new one")
    update.add_argument("peer")
    unregister = sub.add_parser("unregister", help="unregister at the peer and forget it")
    unregister.add_argument("peer")
    unregister.add_argument("--force", action="store_true", help="forget the peer even when it cannot be reached")
    resync = sub.add_parser("resync", help="pull every module we receive from the peer now")
    resync.add_argument("peer")
    return parser


async def _run(args: argparse.Namespace, settings: ServerSettings, store: Store) -> int:
    command = args.command
    if command == "issue-token":
        token = await issue_token_a(settings, args.peer, store)
        print(f"token A for {args.peer}: {token}")
        print(f"versions URL: {settings.base_url}/versions")
        return 0
    if command == "peers":
        _print_table(await _peers_table(store))
        return 0
    if command == "add-peer":
        token = await add_peer(
            store, args.peer, args.role, args.country_code, args.party_id, getattr(args, "business_name", None)
        )
        print(f"token C for {args.peer} (shown once; it works on every module at once): {token}")
        print(f"versions URL: {settings.base_url}/versions")
        return 0
    spec = _spec()
    if command == "register":
        party = await register_with_peer(spec, settings, store, args.peer, args.versions_url, args.token_a)
        print(f"registered with {party.party_key}: OCPI {party.version}, {len(party.endpoints)} endpoints")
        return 0
    if command == "update-credentials":
        party = await update_credentials_with_peer(spec, settings, store, args.peer)
        print(f"credentials updated with {party.party_key}: both sides hold new tokens")
        return 0
    if command == "unregister":
        confirmed = await unregister_from_peer(spec, settings, store, args.peer, force=args.force)
        print(f"unregistered from {args.peer}" + ("" if confirmed else " (the peer did not confirm)") + "; forgotten")
        return 0
    if command == "resync":
        result = await resync_peer(spec, settings, store, args.peer)
        print(result.summary())
        return 0 if result.complete else 1
    raise AssertionError(command)  # pragma: no cover - argparse refuses other commands


async def _with_store(work: Callable[[Store], Awaitable[int]], settings: ServerSettings) -> int:
    store = open_store(settings.database)
    try:
        return await work(store)
    finally:
        await store.close()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = ServerSettings.from_env()
    if settings.database.strip() in _MEMORY:
        print(
            "OCPI_DATABASE is :memory:, nothing would be kept; set it to the server's database,"
            " e.g. OCPI_DATABASE=sqlite:///ocpi.db",
            file=sys.stderr,
        )
        return 2
    try:
        return asyncio.run(_with_store(lambda store: _run(args, settings, store), settings))
    except (LookupError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # a peer's refusal or an unreachable peer: one line, no traceback
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
