"""Import generated client packages from generated/ and drive them with httpx.MockTransport."""

from __future__ import annotations

import base64
import importlib
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

import httpx

from generator.client import default_package
from generator.ir import Spec
from tests.conftest import ROOT
from tests.samples import dumps

BASE = "https://peer.example.com/ocpi/2x"


def client_package(spec: Spec) -> ModuleType:
    path = str(ROOT / "generated" / spec.version / "client")
    if path not in sys.path:
        sys.path.insert(0, path)
    return importlib.import_module(default_package(spec))


def envelope(data: Any = None, status_code: int = 1000) -> dict[str, Any]:
    out: dict[str, Any] = {"status_code": status_code, "status_message": "Success", "timestamp": "2024-03-04T05:06:07Z"}
    if data is not None:
        out["data"] = data
    return out


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status, content=dumps(body).encode(), headers={"content-type": "application/json", **(headers or {})}
    )


def transport(pkg: ModuleType, handler: Callable[[httpx.Request], httpx.Response], **settings: Any) -> Any:
    s = pkg.OcpiClient.settings("secret-token", **settings)
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return pkg._transport.SyncTransport(s, http=http, sleep=lambda _: None)


def expected_auth(token: str = "secret-token", raw: bool = False) -> str:
    return "Token " + (token if raw else base64.b64encode(token.encode()).decode())
