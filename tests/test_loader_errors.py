"""Broken spec input: every problem is reported with file, line and key; nothing is written."""

from __future__ import annotations

import re
import shutil
import time
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


def test_cli_exits_2_and_leaves_output_untouched(
    spec_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
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


BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8)
)


def _append(name: str, text: str) -> object:
    def change(root: Path) -> None:
        path = root / "1.0" / name
        path.write_bytes(path.read_bytes() + text.encode("utf-8", "surrogateescape"))

    return change


def _edit(name: str, old: str, new: str) -> object:
    return lambda root: edit(root, name, old, new)


HOSTILE = {
    "non-utf8": (
        lambda root: (root / "1.0" / "types.yaml").write_bytes(
            (root / "1.0" / "types.yaml").read_bytes() + b"# \xff\n"
        ),
        "types.yaml",
        "not UTF-8 text: byte 0xff",
    ),
    "control-char": (_append("types.yaml", "# a\x01b\n"), "types.yaml", "character #x0001 is not allowed"),
    "custom-tag": (
        _edit("types.yaml", "doc: Market roles.", "doc: !custom_tag Market roles."),
        "types.yaml",
        "YAML tag !custom_tag is not allowed",
    ),
    "python-tag": (
        _edit("types.yaml", "doc: Market roles.", "doc: !!python/name:os.system x"),
        "types.yaml",
        "is not allowed",
    ),
    "bad-date": (
        _edit("types.yaml", "doc: Market roles.", "doc: 2020-13-45"),
        "types.yaml",
        "[types[Role].doc] cannot read value '2020-13-45'",
    ),
    "recursive-alias": (
        _append("types.yaml", "x: &b [*b]\n"),
        "types.yaml",
        "a YAML alias refers to a node that contains it",
    ),
    "alias-bomb": (_append("types.yaml", BOMB), "types.yaml", "YAML aliases expand to too much data"),
    "deep-nesting": (_append("types.yaml", "deep: " + "[" * 3000 + "]" * 3000 + "\n"), "types.yaml", "nesting"),
    "list-as-key": (_append("types.yaml", "? [a, b]\n: c\n"), "types.yaml", "a mapping key must be plain text"),
    "files-true": (
        _edit("index.yaml", "files: [", "files: true\nx: ["),
        "index.yaml",
        "[files] True is not of type 'array'",
    ),
    "huge-length": (
        _edit("stations.yaml", "length: 3", "length: 10000000000000000000000000000000000000000"),
        "stations.yaml",
        "is greater than the maximum of 100000",
    ),
    "int-digits": (
        _edit("stations.yaml", "type: CiString, length: 3", "type: int, length: 40"),
        "stations.yaml",
        "int length 40 is more than 18 digits",
    ),
    "unknown-market-role": (
        _edit("stations.yaml", "implemented_by: [CPO]", "implemented_by: [NOSUCHROLE]"),
        "stations.yaml",
        "unknown market role 'NOSUCHROLE'",
    ),
    "both-outside-config": (
        _edit("stations.yaml", "role: SENDER", "role: BOTH"),
        "stations.yaml",
        "role BOTH is only for credentials and versions",
    ),
    "wrong-interface-role": (
        _edit("stations.yaml", "role: SENDER", "role: CPO"),
        "stations.yaml",
        "interface role 'CPO' is not one of this version's interface roles",
    ),
    "second-authorization": (
        _edit(
            "transport.yaml",
            "  status_codes:",
            "    - {name: authorization, anchor: transport_authorization, doc: Again., request: true, response: false}\n  status_codes:",
        ),
        "transport.yaml",
        "header 'authorization' is declared twice",
    ),
    "no-transport": (_edit("index.yaml", "transport.yaml, ", ""), "index.yaml", "no listed file defines 'transport'"),
    "no-credentials": (
        _edit("index.yaml", "credentials.yaml, ", ""),
        "index.yaml",
        "no listed file defines module 'credentials'",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_input_is_a_problem_with_file_and_line(
    case: str, spec_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    change, name, needle = HOSTILE[case]
    change(spec_root)  # type: ignore[operator]
    started = time.perf_counter()
    msgs = problems(spec_root)
    assert time.perf_counter() - started < 5
    assert any(m.startswith(f"1.0/{name}:") and needle in m for m in msgs), msgs
    assert all(re.match(r"^1\.0/[a-z_]+\.yaml:\d+: ", m) for m in msgs), msgs  # file and line, always
    capsys.readouterr()
    assert main(["--spec-root", str(spec_root), "validate", "1.0"]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_large_enum_validates_in_linear_time(spec_root: Path) -> None:
    def add_enum(n: int) -> float:
        path = spec_root / "1.0" / "types.yaml"
        base = path.read_text().split("  - name: Huge\n")[0]
        values = "".join(f"      - {{value: V{i}, doc: Value {i}.}}\n" for i in range(n))
        path.write_text(
            base + f"  - name: Huge\n    kind: enum\n    anchor: huge\n    doc: Big.\n    values:\n{values}"
        )
        # CPU time of this process, not wall time: other work on a shared machine does not count.
        started = time.process_time()
        load_version(spec_root, "1.0")
        return time.process_time() - started

    small, large = add_enum(2_000), add_enum(20_000)
    assert large < 20  # was about 40 s
    assert large < 25 * max(small, 0.05)  # ten times the values, not a hundred times the time
