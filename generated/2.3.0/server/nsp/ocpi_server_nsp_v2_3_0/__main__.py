"""``python -m <package> issue-token PEER``: create a token A for a new peer, using OCPI_* settings."""

from __future__ import annotations

import argparse
import asyncio
import sys

from ._app import issue_token_a
from ._settings import ServerSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {__package__}")
    sub = parser.add_subparsers(dest="command", required=True)
    issue = sub.add_parser("issue-token", help="create a token A for a new peer (OCPI_DATABASE must be a file)")
    issue.add_argument("peer", help="a name for the peer's connection, e.g. NL/ABC")
    args = parser.parse_args(argv)
    settings = ServerSettings.from_env()
    if settings.database.strip() in ("", ":memory:", "sqlite://", "sqlite:///:memory:"):
        print("OCPI_DATABASE is :memory:, a token would be lost; set it to a file", file=sys.stderr)
        return 2
    token = asyncio.run(issue_token_a(settings, args.peer))
    print(f"token A for {args.peer}: {token}")
    print(f"versions URL: {settings.base_url}/versions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
