"""Our side of a credentials registration (``--register HOST:PORT``): a small versions endpoint,
version details and empty module endpoints served by uvicorn in a thread while the peer calls back."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from generator.ir import Role, Spec
from generator.mockpeer.samples import sample
from generator.mockpeer.serving import serve_in_thread


class OwnPeer:
    def __init__(
        self, spec: Spec, role: Role, address: str, party: tuple[str, str], public_url: str | None = None
    ) -> None:
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"--register needs HOST:PORT, not {address!r}")
        self.spec = spec
        self.role = role
        self.host, self.port = host, int(port)
        self.party = party
        self.token_b = "conformance-b-" + secrets.token_urlsafe(16)
        self.calls: list[str] = []
        self.tokens: list[str] = []
        #: Where the peer reaches us: ``public_url`` (e.g. a tunnel to ``address``) or ``address`` itself.
        self.base = (public_url or f"http://{address}").rstrip("/") + "/ocpi"

    def credentials(self, spec: Spec) -> dict[str, Any]:
        """Our credentials object (token B, our versions URL, our party as the counterpart role)."""
        data = sample(spec, "Credentials")
        data["token"] = self.token_b
        data["url"] = f"{self.base}/versions"
        counterpart = "EMSP" if self.role.slug != "emsp" else "CPO"
        for item in data.get("roles") or []:
            item.update(role=counterpart, country_code=self.party[0], party_id=self.party[1])
            item["business_details"] = {"name": "ocpi-codegen conformance"}
        if "roles" not in data:
            data.update(country_code=self.party[0], party_id=self.party[1])
            data["business_details"] = {"name": "ocpi-codegen conformance"}
        return data

    def _endpoints(self) -> list[dict[str, str]]:
        out = [{"identifier": "credentials", "url": f"{self.base}/{self.spec.version}/credentials"}]
        if self.spec.routing_headers:
            out[0]["role"] = "SENDER"
        seen = set()
        for interface in self.role.interfaces:
            if interface.module_id in ("versions", "credentials") or interface.module_id in seen:
                continue
            seen.add(interface.module_id)
            entry = {"identifier": interface.module_id, "url": f"{self.base}/{self.spec.version}/{interface.module_id}"}
            if self.spec.routing_headers:
                entry["role"] = "RECEIVER" if interface.role == "SENDER" else "SENDER"
            out.append(entry)
        return out

    def app(self) -> Any:
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import JSONResponse
        from starlette.routing import Route

        version = self.spec.version

        def envelope(data: Any, status: int = 200, code: int = 1000) -> JSONResponse:
            stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            return JSONResponse({"data": data, "status_code": code, "timestamp": stamp}, status_code=status)

        def authorized(request: Request) -> bool:
            header = request.headers.get("authorization", "")
            self.calls.append(request.url.path)
            value = header[6:].strip() if header.lower().startswith("token ") else header
            import base64

            try:
                decoded = base64.b64decode(value, validate=True).decode()
            except ValueError:
                decoded = ""
            token = self.token_b if self.token_b in (value, decoded) else value
            self.tokens.append(token)
            return token == self.token_b

        async def versions(request: Request) -> JSONResponse:
            if not authorized(request):
                return envelope(None, 401, 2000)
            return envelope([{"version": version, "url": f"{self.base}/{version}"}])

        async def details(request: Request) -> JSONResponse:
            if not authorized(request):
                return envelope(None, 401, 2000)
            return envelope({"version": version, "endpoints": self._endpoints()})

        async def module(request: Request) -> JSONResponse:
            if not authorized(request):
                return envelope(None, 401, 2000)
            return envelope([] if request.method == "GET" else None)

        methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
        return Starlette(
            routes=[
                Route("/ocpi/versions", versions),
                Route(f"/ocpi/{version}", details),
                Route(f"/ocpi/{version}/{{rest:path}}", module, methods=methods),
            ]
        )

    @contextmanager
    def serving(self) -> Iterator[OwnPeer]:
        with serve_in_thread(self.app(), self.host, self.port, what="our versions endpoint"):
            yield self
