"""Every CLI mistake is one line and an exit status; a failed write leaves the output exactly as it was."""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from generator import writer
from generator.cli import EXIT_INPUT, EXIT_OUTPUT, EXIT_REFUSED, SCAFFOLD_MARKER, main
from generator.errors import OutputError
from tests.conftest import FIXTURES

VERBS_WITH_VERSION = {
    "validate": ["validate", "{v}"],
    "generate": ["generate", "{v}", "-o", "{out}"],
    "check": ["check", "{v}", "-o", "{out}"],
    "openapi": ["openapi", "{v}", "-o", "{out}"],
    "client": ["client", "{v}", "-o", "{out}"],
    "server": ["server", "{v}", "--role", "cpo", "-o", "{out}"],
    "diff": ["diff", "{v}", "1.0"],
}


@pytest.fixture
def spec_root(tmp_path: Path) -> Path:
    root = tmp_path / "spec"
    shutil.copytree(FIXTURES / "basic", root)
    return root


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(argv))
    return code, capsys.readouterr().err


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mode) for p in root.rglob("*") if p.is_file()}


def argv(verb: str, version: str, out: Path) -> list[str]:
    return [a.format(v=version, out=out) for a in VERBS_WITH_VERSION[verb]]


@pytest.mark.parametrize("verb", sorted(VERBS_WITH_VERSION))
def test_unknown_version_is_the_same_sentence_for_every_verb(
    verb: str, spec_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run(capsys, "--spec-root", str(spec_root), *argv(verb, "9.9", tmp_path / "out"))
    assert code == EXIT_INPUT
    assert err == f"ocpi-codegen: error: unknown OCPI version '9.9' in {spec_root}; known: 1.0, 1.1\n"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("verb", sorted(VERBS_WITH_VERSION))
def test_missing_or_wrong_spec_root_is_one_line(verb: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere"
    code, err = run(capsys, "--spec-root", str(missing), *argv(verb, "1.0", tmp_path / "out"))
    assert (code, err) == (EXIT_INPUT, f"ocpi-codegen: error: spec root {missing} does not exist\n")
    empty = tmp_path / "empty"
    (empty / "latest").mkdir(parents=True)
    (empty / "latest" / "index.yaml").write_text("version: '1.0'\n")  # not a version folder name
    code, err = run(capsys, "--spec-root", str(empty), *argv(verb, "1.0", tmp_path / "out"))
    assert code == EXIT_INPUT and err.startswith(f"ocpi-codegen: error: spec root {empty} has no version folders")
    a_file = tmp_path / "file"
    a_file.write_text("x")
    code, err = run(capsys, "--spec-root", str(a_file), *argv(verb, "1.0", tmp_path / "out"))
    assert (code, err) == (EXIT_INPUT, f"ocpi-codegen: error: spec root {a_file} is not a folder\n")


@pytest.mark.parametrize("verb", ["generate", "check", "openapi", "client", "server"])
def test_output_path_that_is_a_file(
    verb: str, spec_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.write_text("keep me")
    code, err = run(capsys, "--spec-root", str(spec_root), *argv(verb, "1.0", out))
    assert code == EXIT_OUTPUT
    assert err.count("\n") == 1 and f"output path {out} is a file, not a folder" in err
    assert out.read_text() == "keep me"


def test_versions_folder_named_latest_is_skipped(spec_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(spec_root / "1.0", spec_root / "latest")
    code, _ = run(capsys, "--spec-root", str(spec_root), "validate")
    assert code == 0
    code, err = run(capsys, "--spec-root", str(spec_root), "validate", "latest")
    assert code == EXIT_INPUT and "unknown OCPI version 'latest'" in err


@pytest.fixture
def generated(spec_root: Path, tmp_path: Path) -> Path:
    out = tmp_path / "gen"
    assert main(["--spec-root", str(spec_root), "generate", "1.0", "-o", str(out), "-q"]) == 0
    # a spec change, so that the next generate has something to write
    path = spec_root / "1.0" / "stations.yaml"
    path.write_text(path.read_text().replace("doc: Power in kW.", "doc: Power in MW."))
    (out / "1.0" / "stale.txt").write_text("pruned by a successful generate\n")
    return out


def test_full_disk_in_the_middle_leaves_tree_and_manifest_as_they_were(
    generated: Path, spec_root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(generated)
    calls = {"n": 0}
    real = writer._write_file

    def fill_up(path: Path, data: bytes) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(path, data)

    monkeypatch.setattr(writer, "_write_file", fill_up)
    code, err = run(capsys, "--spec-root", str(spec_root), "generate", "1.0", "-o", str(generated), "-q")
    assert code == EXIT_OUTPUT
    assert err.count("\n") == 1 and "No space left on device" in err and "nothing was changed" in err
    assert snapshot(generated) == before
    assert not [p for p in generated.rglob(".*") if p.is_file()], "temporary files left behind"


def test_failure_while_swapping_rolls_every_file_back(
    generated: Path, spec_root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(generated)
    real = os.replace
    calls = {"n": 0}

    def flaky(src: str | Path, dst: str | Path) -> None:
        calls["n"] += 1
        if calls["n"] == 3:  # after two files are already swapped in
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real(src, dst)

    monkeypatch.setattr(writer.os, "replace", flaky)
    code, err = run(capsys, "--spec-root", str(spec_root), "generate", "1.0", "-o", str(generated), "-q")
    assert code == EXIT_OUTPUT and "Input/output error" in err
    monkeypatch.setattr(writer.os, "replace", real)
    assert snapshot(generated) == before
    assert not [p for p in generated.rglob(".*") if p.is_file()]


def test_read_only_subfolder_fails_before_anything_changes(
    generated: Path, spec_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(generated)
    sub = generated / "1.0" / "client"
    if os.geteuid() == 0:  # root writes through mode bits; a file where a folder must be fails for everyone
        shutil.rmtree(sub)
        sub.write_text("in the way")
        before = snapshot(generated)
    else:
        sub.chmod(0o555)
    try:
        code, err = run(capsys, "--spec-root", str(spec_root), "generate", "1.0", "-o", str(generated), "-q")
    finally:
        if sub.is_dir():
            sub.chmod(0o755)
    assert code == EXIT_OUTPUT and err.count("\n") == 1 and str(sub) in err
    assert snapshot(generated) == before


def test_successful_generate_prunes_and_writes_with_normal_modes(
    generated: Path, spec_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = os.umask(0o027)
    try:
        code, _ = run(capsys, "--spec-root", str(spec_root), "generate", "1.0", "-o", str(generated), "-q")
        writer.write_tree(generated.parent / "fresh", {"a/b.txt": "x\n"})
    finally:
        os.umask(old)
    assert code == 0 and not (generated / "1.0" / "stale.txt").exists()
    assert stat.S_IMODE((generated.parent / "fresh" / "a" / "b.txt").stat().st_mode) == 0o640
    assert stat.S_IMODE((generated.parent / "fresh" / "a").stat().st_mode) == 0o750
    modes = {stat.S_IMODE(p.stat().st_mode) for p in generated.rglob("*") if p.is_file()}
    assert modes == {0o644}, modes  # written under umask 022 by the fixture; a rewrite keeps the mode


def test_write_tree_modes_follow_the_umask(tmp_path: Path) -> None:
    for mask, mode in ((0o022, 0o644), (0o002, 0o664), (0o077, 0o600)):
        old = os.umask(mask)
        try:
            writer.write_tree(tmp_path / f"m{mask:o}", {"f.txt": "x", "d/g.py": "y"})
        finally:
            os.umask(old)
        assert stat.S_IMODE((tmp_path / f"m{mask:o}" / "f.txt").stat().st_mode) == mode
        assert stat.S_IMODE((tmp_path / f"m{mask:o}" / "d" / "g.py").stat().st_mode) == mode
    script = tmp_path / "m22" / "f.txt"
    script.chmod(0o755)
    writer.write_tree(tmp_path / "m22", {"f.txt": "changed"})
    assert stat.S_IMODE(script.stat().st_mode) == 0o755 and script.read_text() == "changed"


def test_write_tree_error_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "x").write_text("a file")
    with pytest.raises(OutputError) as info:
        writer.write_tree(tmp_path, {"x/y.txt": "z"})
    assert "\n" not in str(info.value) and str(tmp_path / "x") in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x"]


def test_server_update_refuses_another_version_or_role(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = tmp_path / "p"
    assert main(["server", "2.2.1", "--role", "cpo", "-o", str(project)]) == 0
    marker = json.loads((project / SCAFFOLD_MARKER).read_text())
    assert (marker["version"], marker["role"]) == ("2.2.1", "cpo")
    before = snapshot(project)
    for version, role in (("2.2", "cpo"), ("2.2.1", "emsp")):
        code, err = run(capsys, "server", version, "--role", role, "-o", str(project), "--update")
        assert code == EXIT_REFUSED and err.count("\n") == 1
        assert f"scaffolded for OCPI 2.2.1 CPO, not {version} {role.upper()}" in err and "--force" in err
        assert snapshot(project) == before
    (project / "handlers.py").write_text("# mine\n")
    assert main(["server", "2.2.1", "--role", "emsp", "-o", str(project), "--update", "--force"]) == 0
    assert (project / "handlers.py").read_text() == "# mine\n"
    assert json.loads((project / SCAFFOLD_MARKER).read_text())["role"] == "emsp"


def test_server_update_on_an_empty_folder_says_what_it_did(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = tmp_path / "empty"
    capsys.readouterr()
    assert main(["server", "2.2.1", "--role", "cpo", "-o", str(project), "--update"]) == 0
    out = capsys.readouterr().out
    assert "wrote only the generated package" in out and "untouched" not in out
    assert not (project / "handlers.py").exists() and (project / "ocpi_server_cpo_v2_2_1").is_dir()


def test_unknown_role_and_interface(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, err = run(capsys, "server", "2.2.1", "--role", "other", "-o", str(tmp_path / "s"))
    assert code == EXIT_INPUT and err.startswith(
        "ocpi-codegen: error: OCPI 2.2.1 has no server role 'other'; choose from:"
    )
    code, err = run(capsys, "openapi", "2.2.1", "--interface", "nope")
    assert code == EXIT_INPUT and err.startswith(
        "ocpi-codegen: error: OCPI 2.2.1 has no interface 'nope'; choose from:"
    )


def test_progress_lines_only_when_asked_or_on_a_terminal(
    spec_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run(capsys, "--spec-root", str(spec_root), "generate", "1.0", "-o", str(tmp_path / "a"))
    assert code == 0 and err == ""  # stderr is not a terminal here
    code = main(["--spec-root", str(spec_root), "generate", "1.0", "-o", str(tmp_path / "b"), "--progress"])
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert code == 0 and any("loading and validating spec files (1.0)" in line for line in lines)
    assert any("writing output" in line for line in lines) and all(line.startswith("[") for line in lines)
    assert "files generated for 1 version(s)" in captured.out and " in " in captured.out


def test_tool_caches_in_the_output_are_neither_extra_nor_pruned(tmp_path: Path) -> None:
    """Running ruff, mypy or pytest inside a generated project leaves caches there; they are not output."""
    from generator.writer import compare, write_tree

    write_tree(tmp_path, {"p/a.py": "x = 1\n"})
    for cache in (".ruff_cache", ".mypy_cache", ".pytest_cache", "__pycache__"):
        (tmp_path / "p" / cache).mkdir()
        (tmp_path / "p" / cache / "entry").write_text("cached")
    assert compare(tmp_path, {"p/a.py": "x = 1\n"}, owned={"p/"}) == []
    write_tree(tmp_path, {"p/a.py": "x = 2\n"}, prune={"p/"})
    assert (tmp_path / "p" / ".ruff_cache" / "entry").is_file()


def test_pruning_removes_the_folders_it_empties(tmp_path: Path) -> None:
    """A package renamed between generations leaves no empty folder (nor one holding only its
    ``__pycache__``) behind; folders that still hold something stay."""
    from generator.writer import write_tree

    write_tree(tmp_path, {"p/old_pkg/sub/a.py": "x = 1\n", "p/old_pkg/b.py": "y = 1\n", "p/keep/c.py": "z = 1\n"})
    (tmp_path / "p" / "old_pkg" / "__pycache__").mkdir()
    (tmp_path / "p" / "old_pkg" / "__pycache__" / "b.pyc").write_bytes(b"cached")
    (tmp_path / "p" / "keep" / "user.txt").write_text("not ours")
    write_tree(tmp_path, {"p/new_pkg/a.py": "x = 1\n"}, prune={"p/old_pkg/", "p/keep/c.py"})
    assert not (tmp_path / "p" / "old_pkg").exists()
    assert (tmp_path / "p" / "new_pkg" / "a.py").is_file()
    assert (tmp_path / "p" / "keep" / "user.txt").is_file() and not (tmp_path / "p" / "keep" / "c.py").exists()
