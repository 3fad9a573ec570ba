"""The ``server:`` declarations: checked by the loader, cross-checked by ``validate`` (warnings with
file and line, exit 0), and the only source the server generator reads."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from generator.cli import main
from generator.errors import SpecError
from generator.loader import load_version
from tests.conftest import FIXTURES


@pytest.fixture
def spec_root(tmp_path: Path) -> Path:
    root = tmp_path / "spec"
    shutil.copytree(FIXTURES / "basic", root)
    return root


def edit(root: Path, old: str, new: str) -> None:
    path = root / "1.0" / "stations.yaml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def messages(root: Path) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_version(root, "1.0")
    return [str(p) for p in info.value.problems]


def test_every_function_endpoint_must_declare_its_behaviour(spec_root: Path) -> None:
    edit(spec_root, "          server: {kind: patch, object: Station, owner: url, id: station_id, key: id}\n", "")
    (problem,) = messages(spec_root)
    assert "stations.yaml:" in problem and "endpoints[patch]" in problem and "lacks a server: declaration" in problem


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "kind: get, object: Station, owner: url, id: station_id}",
            "kind: get, object: Station, owner: url}",
            "'station_id' is not bound",
        ),
        (
            "kind: get, object: Station, owner: url, id: station_id}",
            "kind: get, object: Nope, owner: url, id: station_id}",
            "unknown object type 'Nope'",
        ),
        (
            "kind: put, object: Station, owner: url, id: station_id, key: id}",
            "kind: put, object: Station, owner: url, id: station_id, key: code}",
            "Station has no field 'code'",
        ),
        (
            "kind: patch, object: Station, owner: url, id: station_id, key: id}",
            "kind: patch, object: Station, owner: url, id: station_id, key: id, append: [status]}",
            "'status' is not a list field",
        ),
        (
            "kind: get, object: Station, owner: self, id: station_id}",
            "kind: get, object: Station, owner: url, id: station_id}",
            "owner 'url' needs path parameter 'country_code'",
        ),
        (
            "kind: list, object: Station}",
            "kind: command, result: {type: Station, url: response_url}}",
            "'response_url' is neither",
        ),
    ],
)
def test_declarations_must_resolve(spec_root: Path, old: str, new: str, expected: str) -> None:
    edit(spec_root, old, new)
    assert any(expected in m for m in messages(spec_root)), messages(spec_root)


def test_validate_warns_where_declaration_and_names_disagree(
    spec_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(
        spec_root,
        "kind: get, object: Station, owner: self, id: station_id}",
        "kind: get, object: Plug, owner: self, id: station_id}",
    )
    assert main(["--spec-root", str(spec_root), "validate", "1.0"]) == 0
    out = capsys.readouterr().out
    (warning,) = [line for line in out.splitlines() if line.startswith("warning:")]
    assert "1.0/stations.yaml:" in warning and "declared object 'Plug', the names suggest 'Station'" in warning


def test_the_generator_follows_the_declaration_not_the_names(spec_root: Path) -> None:
    """The receiver's GET looks store-backed by its name and URL; declared a decision, it is one."""
    from generator.pipeline import load_spec, render_files
    from generator.server import server_files

    edit(spec_root, "kind: get, object: Station, owner: url, id: station_id}", "kind: decision}")
    spec = load_spec(spec_root, "1.0")
    handlers = render_files(server_files(spec, "emsp"))["ocpi_server_emsp_v1_0/handlers.py"]
    get = handlers[handlers.index("    async def get(") :]
    get = get[: get.index("    async def put(")]
    assert 'raise ctx.engine.not_implemented("StationsReceiverHandlers.get")' in get and "ObjectPath" not in get
