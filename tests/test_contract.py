"""Contract fuzzing: schemathesis sends generated requests (fixed seed, bounded examples) from each
role's OpenAPI document to the running scaffolded server of that role: no 5xx, and every response
matches the document (status code, content type, headers, body schema)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from generator.paths import SPEC_ROOT, available_versions  # noqa: E402
from generator.pipeline import load_spec  # noqa: E402
from tests.blocking import sync
from tests.conftest import ROOT  # noqa: E402
from tests.server_support import RunningServer, free_port, server_package  # noqa: E402

EXAMPLES = 8
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
#: A declared business decision (server kind command/decision) answers 501 until the operator
#: overrides its handler: documented in the OpenAPI document, so not a server error here.
DECISION_CHECKS = [c for c in CHECKS if c is not not_a_server_error]
#: Registration state changes are exercised by the end-to-end tests, not fuzzed.
SKIP = {("POST", "/credentials"), ("PUT", "/credentials"), ("DELETE", "/credentials")}


@pytest.mark.parametrize("role", ["cpo", "emsp"])
@pytest.mark.parametrize("version", available_versions(SPEC_ROOT))
def test_server_honours_its_openapi_document(version: str, role: str) -> None:
    spec = load_spec(SPEC_ROOT, version)
    pkg = server_package(version, role)
    port = free_port()
    settings_ = pkg.ServerSettings(
        base_url=f"http://127.0.0.1:{port}/ocpi", country_code="NL", party_id="FUZ", token_base64=spec.token_base64
    )
    store = pkg.SqliteStore(":memory:")
    party = pkg.Party(
        "fuzzer",
        token_b="peer-token",
        token_c="fuzz-token",
        versions_url="http://127.0.0.1:9/versions",
        version=version,
    )
    sync(store).save_party(party)
    token = base64.b64encode(b"fuzz-token").decode() if spec.token_base64 else "fuzz-token"
    headers = {"Authorization": f"Token {token}"}
    schema = schemathesis.openapi.from_path(str(Path(ROOT, "generated", version, "openapi", "roles", f"{role}.yaml")))
    base_url = f"http://127.0.0.1:{port}/ocpi/{version}"
    kinds = {ep.operation_id: ep.server.kind for i in spec.interfaces for ep in i.endpoints if ep.server is not None}
    failures: list[str] = []
    tested = 0
    with RunningServer(pkg.create_app(settings_, store=store), port):
        for result in schema.get_all_operations():
            operation = result.ok()
            if (operation.method.upper(), operation.path) in SKIP:
                continue
            tested += 1

            @settings(
                max_examples=EXAMPLES,
                derandomize=True,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy())
            def run(case: schemathesis.Case) -> None:
                response = case.call(base_url=base_url, headers=headers)
                undecided = response.status_code == 501 and kinds.get(operation.definition.raw.get("operationId")) in (
                    "command",
                    "decision",
                )
                case.validate_response(response, checks=DECISION_CHECKS if undecided else CHECKS)

            try:
                run()
            except (Exception, BaseExceptionGroup) as exc:  # collect every operation's failures
                failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:600]}")
    assert tested > 5
    assert not failures, "\n\n".join(failures)
