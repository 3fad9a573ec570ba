"""The scaffold README's quick start works as written (issue 15): a scaffold is generated into a
temporary folder with ``ocpi-codegen server``, and the README's quick-start commands are run one by
one in it, as a user would (``.venv/bin/`` is this test run's interpreter, port 8000 a free port),
against a peer of the other role on 127.0.0.1."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from generator import naming
from generator.paths import SPEC_ROOT
from tests.blocking import blocking, sync
from tests.conftest import ROOT
from tests.server_support import RunningServer, free_port, server_package
from tests.test_e2e import load_spec, sample


def quick_start(readme: str) -> list[str]:
    block = readme.split("<!-- quick-start -->", 1)[1].split("<!-- /quick-start -->", 1)[0]
    return [line for line in block.splitlines() if line.strip() and not line.startswith("```")]


@pytest.mark.parametrize(("version", "role"), [("2.2.1", "cpo")])
def test_readme_quick_start_runs_as_written(version: str, role: str, tmp_path: Path) -> None:
    spec = load_spec(SPEC_ROOT, version)
    folder = tmp_path / role
    subprocess.run(
        [sys.executable, "-m", "generator", "server", version, "--role", role, "-o", str(folder)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    lines = quick_start((folder / "README.md").read_text())
    package = naming.server_package(role, version)
    assert any(f"-m {package} add-peer" in line for line in lines)

    # The peer of the other role, which gives us its versions URL and a token A, and has objects.
    other = "emsp" if role == "cpo" else "cpo"
    peer_pkg = server_package(version, other)
    peer_port = free_port()
    peer_settings = peer_pkg.ServerSettings(
        base_url=f"http://127.0.0.1:{peer_port}/ocpi",
        country_code="DE",
        party_id="ABC",
        token_base64=spec.token_base64,
        allow_private_peers=True,
        resync_seconds=0,
    )
    peer_store = peer_pkg.SqliteStore(":memory:")
    received = [r for r in server_package(version, role).RECEIVES if r.module_id != "hubclientinfo"]
    for r in received:
        for n in range(4):
            data = sample(spec, r.collection, ("DE", "ABC"), f"Q{n}")
            data["last_updated"] = f"2025-01-0{n + 1}T00:00:00Z"
            sync(peer_store).put_object(r.collection, "DE", "ABC", f"Q{n}", data, data["last_updated"])
    token_a = blocking(peer_store.create_token_a("NL/EXA"))

    port = free_port()
    env = {
        **os.environ,
        "OCPI_ALLOW_PRIVATE_PEERS": "true",
        "OCPI_TOKEN_BASE64": "true" if spec.token_base64 else "false",
        "PEER_VERSIONS_URL": f"http://127.0.0.1:{peer_port}/ocpi/versions",
        "PEER_TOKEN_A": token_a,
    }
    bin_dir = f"{Path(sys.executable).parent}/"
    server: subprocess.Popen[bytes] | None = None
    outputs: list[str] = []
    try:
        with RunningServer(peer_pkg.create_app(peer_settings, store=peer_store), peer_port):
            for raw in lines:
                line = raw.replace("8000", str(port)).replace(".venv/bin/", bin_dir)
                if line.startswith("export "):
                    for name, value in re.findall(r"(\w+)=(\S+)", line):
                        env[name] = value
                    continue
                if line.endswith("&"):
                    server = subprocess.Popen(["bash", "-c", f"exec {line[:-1]}"], cwd=folder, env=env)
                    deadline = time.monotonic() + 30
                    while True:
                        try:
                            if httpx.get(f"http://127.0.0.1:{port}/ocpi/versions", timeout=1).status_code == 401:
                                break
                        except httpx.HTTPError:
                            pass
                        assert server.poll() is None and time.monotonic() < deadline, "the server did not start"
                        time.sleep(0.1)
                    continue
                done = subprocess.run(["bash", "-c", line], cwd=folder, env=env, capture_output=True, text=True)
                assert done.returncode == 0, f"{raw}\n{done.stdout}\n{done.stderr}"
                outputs.append(done.stdout)
                if " add-peer " in line:
                    env["EXPORT_TOKEN"] = done.stdout.splitlines()[0].rsplit(": ", 1)[1]
                if line.startswith("curl "):
                    answer = json.loads(done.stdout)
                    assert answer["status_code"] == 1000 and isinstance(answer["data"], list)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
    text = "\n".join(outputs)
    assert "token A for NL/NEW" in text and f"registered with DE/ABC: OCPI {version}" in text
    assert "complete" in text and all(f"{r.module_id} 4/4" in text for r in received), text
    table = outputs[-1]
    assert re.search(r"^DE/ABC .* -BC .* yes$", table, re.M) and re.search(r"^EXPORT .* --C ", table, re.M), table
    assert token_a not in text and env["EXPORT_TOKEN"] not in table
    assert (folder / "ocpi.db").is_file()
