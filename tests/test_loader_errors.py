"""Broken spec input: every problem is reported with file, line and key; nothing is written."""

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


def edit(root: Path, name: str, old: str, new: str) -> None:
    path = root / "1.0" / name
    text = path.read_text()
    assert old in text, f"fixture text {old!r} not found in {name}"
    path.write_text(text.replace(old, new, 1))


def problems(root: Path) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_version(root, "1.0")
    return [str(p) for p in info.value.problems]


def line_of(root: Path, name: str, needle: str) -> int:
    for n, line in enumerate((root / "1.0" / name).read_text().splitlines(), 1):
        if needle in line:
            return n
    raise AssertionError(needle)


def test_malformed_yaml_names_file_and_line(spec_root: Path) -> None:
    edit(spec_root, "types.yaml", "    doc: Market roles.", "    doc: [Market roles.")
    (msg,) = problems(spec_root)
    assert msg.startswith("1.0/types.yaml:")
    assert "invalid YAML" in msg


def test_unknown_type_names_file_line_and_key(spec_root: Path) -> None:
    edit(spec_root, "stations.yaml", "type: Status, card", "type: Statsu, card")
    (msg,) = problems(spec_root)
    line = line_of(spec_root, "stations.yaml", "Statsu")
    assert msg == f"1.0/stations.yaml:{line}: [types[Station].fields[status].type] unknown type 'Statsu'"


def test_duplicate_field(spec_root: Path) -> None:
    edit(spec_root, "stations.yaml", "{name: party_id,", "{name: country_code,")
    (msg,) = problems(spec_root)
    line = line_of(spec_root, "stations.yaml", "{name: country_code, type: CiString, length: 3")
    assert msg == f"1.0/stations.yaml:{line}: [types[Station].fields[country_code].name] duplicate field 'country_code'"


def test_undeclared_path_parameter(spec_root: Path) -> None:
    edit(spec_root, "stations.yaml", "path: /{station_id}/{plug_id}", "path: /{station_id}/{plug_uid}")
    msgs = problems(spec_root)
    line = line_of(spec_root, "stations.yaml", "{plug_uid}")
    key = "module.interfaces[SENDER].endpoints[get_plug]"
    assert f"1.0/stations.yaml:{line}: [{key}.path] path placeholder {{plug_uid}} has no path_params entry" in msgs
    assert any(f"[{key}.path_params[plug_id].name] path parameter 'plug_id' does not appear" in m for m in msgs)


def test_unknown_key_is_a_schema_error(spec_root: Path) -> None:
    edit(spec_root, "types.yaml", "    kind: class\n", "    kind: class\n    colour: red\n")
    (msg,) = problems(spec_root)
    assert msg.startswith("1.0/types.yaml:2: [types[DisplayText]]") or msg.startswith("1.0/types.yaml:3:")
    assert "colour" in msg


def test_bad_cardinality(spec_root: Path) -> None:
    edit(spec_root, "stations.yaml", 'card: "?", doc: Power', 'card: "0..1", doc: Power')
    (msg,) = problems(spec_root)
    line = line_of(spec_root, "stations.yaml", "0..1")
    assert msg.startswith(f"1.0/stations.yaml:{line}: [types[Station].fields[power].card]")


def test_duplicate_yaml_key_and_enum_value(spec_root: Path) -> None:
    edit(spec_root, "stations.yaml", "{value: GARAGE,", "{value: STREET,")
    edit(spec_root, "types.yaml", "    anchor: types_role_enum\n", "    anchor: types_role_enum\n    anchor: again\n")
    msgs = problems(spec_root)
    assert any("[types[Role].anchor] duplicate key 'anchor'" in m and m.startswith("1.0/types.yaml:") for m in msgs)
    assert any("[types[StationKind].values[STREET].value] duplicate enum value 'STREET'" in m for m in msgs)


def test_every_problem_is_reported_in_one_run(spec_root: Path) -> None:
    edit(spec_root, "stations.yaml", "type: Status, card", "type: Nope1, card")
    edit(spec_root, "stations.yaml", "type: number, card", "type: Nope2, card")
    edit(spec_root, "credentials.yaml", "type: Role, card", "type: Nope3, card")
    msgs = problems(spec_root)
    assert sum("unknown type 'Nope" in m for m in msgs) == 3


def test_cli_exits_2_and_leaves_output_untouched(spec_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["--spec-root", str(spec_root), "generate", "-o", str(out)]) == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    edit(spec_root, "stations.yaml", "kind: OpenEnum", "kind: open")
    edit(spec_root, "stations.yaml", "doc: Power in kW.", "doc: Power in MW.")
    capsys.readouterr()
    assert main(["--spec-root", str(spec_root), "generate", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "1.0/stations.yaml:" in err and "types[StationKind].kind" in err and "nothing was written" in err
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
