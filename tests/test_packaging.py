"""Generated artefacts work where users put them: clients pip-install into a fresh venv; scaffolded
servers pass their own tests; scaffolding never overwrites the user's files."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from generator.cli import main
from generator.client import default_package
from generator.paths import SPEC_ROOT, available_versions
from generator.pipeline import load_spec
from tests.conftest import ROOT

VERSIONS = available_versions(SPEC_ROOT)


def make_venv(path: Path) -> Path:
    """A fresh venv that also sees this interpreter's packages (after its own), without installing them."""
    import site
    import sysconfig

    venv.EnvBuilder(with_pip=True).create(path)
    python = path / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    parents = [p for p in [*site.getsitepackages(), sysconfig.get_paths()["purelib"]] if Path(p).is_dir()]
    Path(purelib, "_parent_env.pth").write_text("\n".join(dict.fromkeys(parents)) + "\n")
    return python


def test_every_client_installs_side_by_side_in_a_fresh_venv(tmp_path: Path) -> None:
    env = tmp_path / "venv"
    python = make_venv(env)
    folders = [str(ROOT / "generated" / v / "client") for v in VERSIONS]
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--no-deps", *folders], check=True, cwd=tmp_path)
    names = [default_package(load_spec(SPEC_ROOT, v)) for v in VERSIONS]
    code = "; ".join(f"import {n}; assert {n}.OCPI_VERSION" for n in names) + "; print('ok')"
    out = subprocess.run([python, "-c", code], check=True, cwd=tmp_path, capture_output=True, text=True)
    assert out.stdout.strip() == "ok"
    site = subprocess.run(
        [python, "-c", f"import {names[0]}, os; print(os.path.dirname({names[0]}.__file__))"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert str(env) in site.stdout and (Path(site.stdout.strip()) / "py.typed").is_file()


def test_two_scaffolds_share_one_venv(tmp_path: Path) -> None:
    """Each scaffold installs only its own generated package (distinct per role and version), so a
    CPO of 2.2.1 and an eMSP of 2.3.0 live in one environment; each runs its app from its folder."""
    python = make_venv(tmp_path / "venv")
    projects = {("cpo", "2.2.1"): tmp_path / "cpo", ("emsp", "2.3.0"): tmp_path / "emsp"}
    for (role, version), folder in projects.items():
        assert main(["server", version, "--role", role, "-o", str(folder)]) == 0
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--no-deps", *map(str, projects.values())], check=True, cwd=tmp_path
    )
    listed = subprocess.run(
        [python, "-m", "pip", "list", "--format=freeze"], capture_output=True, text=True, check=True
    ).stdout
    assert "ocpi-server-cpo-v2-2-1==" in listed and "ocpi-server-emsp-v2-3-0==" in listed
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert not (Path(purelib) / "app.py").exists() and not (Path(purelib) / "handlers.py").exists()
    for (role, version), folder in projects.items():
        code = "import app; print(app.app.title if hasattr(app.app, 'title') else 'ok', app.__file__)"
        out = subprocess.run([python, "-c", code], cwd=folder, capture_output=True, text=True, check=True).stdout
        assert str(folder / "app.py") in out


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built and installed (without dependencies) in a fresh venv; returns the venv."""
    tmp = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp / "dist"), str(ROOT)],
        check=True,
        cwd=tmp,
    )
    (wheel,) = (tmp / "dist").glob("ocpi_codegen-*.whl")
    python = make_venv(tmp / "venv")
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--no-deps", str(wheel)], check=True, cwd=tmp)
    return tmp / "venv"


def test_project_installs_and_finds_its_spec_and_templates_from_elsewhere(installed: Path, tmp_path: Path) -> None:
    python = installed / "bin" / "python"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run(
        [python, "-c", "import generator.paths as p; print(p.SPEC_ROOT)"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        check=True,
    )
    assert str(installed) in where.stdout  # the wheel's bundled copy, not this checkout
    out = subprocess.run(
        [installed / "bin" / "ocpi-codegen", "openapi", "2.2.1", "--role", "cpo"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("# Generated by ocpi-codegen") and "operationId: locations_sender_list" in out.stdout
    client = subprocess.run(
        [installed / "bin" / "ocpi-codegen", "client", "2.1.1", "-o", "c"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
    )
    assert client.returncode == 0, client.stderr
    assert (elsewhere / "c" / "ocpi_client_v2_1_1" / "_transport.py").is_file()


def test_installed_wheel_answers_every_verbs_mistakes_in_one_line(installed: Path, tmp_path: Path) -> None:
    """As a new user would meet them: each mistake, for each verb, is one line and its exit status."""
    cli = str(installed / "bin" / "ocpi-codegen")
    a_file = tmp_path / "a_file"
    a_file.write_text("not a folder")
    locked = tmp_path / "locked"
    locked.mkdir()
    if os.geteuid() == 0:  # root writes through mode bits: put a file where the output's first folder goes
        (locked / "2.2").write_text("in the way")
        (locked / "ocpi_server_cpo_v2_2").write_text("in the way")
    else:
        locked.chmod(0o555)
    verbs = {
        "generate": ["generate", "{v}", "-o", "{o}"],
        "check": ["check", "{v}", "-o", "{o}"],
        "validate": ["validate", "{v}"],
        "openapi": ["openapi", "{v}", "-o", "{o}"],
        "client": ["client", "{v}", "-o", "{o}"],
        "server": ["server", "{v}", "--role", "cpo", "-o", "{o}"],
        "diff": ["diff", "{v}", "2.2"],
    }
    cases: list[tuple[list[str], int, str]] = []
    for verb, args in verbs.items():
        fill = lambda v, o: [a.format(v=v, o=o) for a in args]  # noqa: E731
        cases.append((fill("9.9", tmp_path / "o"), 2, "unknown OCPI version '9.9' in "))
        cases.append((["--spec-root", str(tmp_path / "nowhere"), *fill("2.2", tmp_path / "o")], 2, "does not exist"))
        cases.append((["--spec-root", str(a_file), *fill("2.2", tmp_path / "o")], 2, "is not a folder"))
        if "{o}" in args:
            cases.append((fill("2.2", a_file), 3, "is a file, not a folder"))
        if verb in ("openapi", "client", "server"):
            target = locked / "2.2" if verb != "server" else locked
            cases.append((fill("2.2", target), 3, str(locked)))
    cases.append((["generate", "2.2", "-o", str(locked)], 3, str(locked)))
    failures = []
    for argv, code, needle in cases:
        r = subprocess.run([cli, *argv], capture_output=True, text=True, cwd=tmp_path)
        lines = r.stderr.splitlines()
        if (
            r.returncode != code
            or len(lines) != 1
            or not lines[0].startswith("ocpi-codegen: error: ")
            or needle not in lines[0]
            or "Traceback" in r.stderr
        ):
            failures.append(f"{argv}: exit {r.returncode}, stderr {r.stderr[-300:]!r}")
    if os.geteuid() != 0:
        locked.chmod(0o755)
    assert not failures, "\n".join(failures)
    assert not (tmp_path / "o").exists() and a_file.read_text() == "not a folder"


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("role", ["cpo", "emsp"])
def test_scaffolded_server_passes_its_own_tests(version: str, role: str, tmp_path: Path) -> None:
    project = tmp_path / "myserver"
    assert main(["server", version, "--role", role, "-o", str(project)]) == 0
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-2000:]


def test_scaffold_update_and_force_protect_user_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = tmp_path / "p"
    assert main(["server", "2.2.1", "--role", "cpo", "-o", str(project)]) == 0
    (project / "handlers.py").write_text("# mine\n")
    (project / "ocpi_server_cpo_v2_2_1" / "routers.py").write_text("# stale\n")
    assert main(["server", "2.2.1", "--role", "cpo", "-o", str(project)]) == 4  # refuses to overwrite
    assert "--update" in capsys.readouterr().err
    assert main(["server", "2.2.1", "--role", "cpo", "-o", str(project), "--update"]) == 0
    assert (project / "handlers.py").read_text() == "# mine\n"
    assert (project / "ocpi_server_cpo_v2_2_1" / "routers.py").read_text() != "# stale\n"
    assert main(["server", "2.2.1", "--role", "cpo", "-o", str(project), "--force"]) == 0
    assert (project / "handlers.py").read_text() != "# mine\n"
    assert main(["server", "2.2.1", "--role", "other", "-o", str(tmp_path / "x")]) == 2


def test_client_command_with_package_name(tmp_path: Path) -> None:
    assert main(["client", "2.2", "-o", str(tmp_path / "c"), "--package-name", "my_ocpi"]) == 0
    assert (tmp_path / "c" / "my_ocpi" / "models.py").is_file()
    assert 'packages = ["my_ocpi"]' in (tmp_path / "c" / "pyproject.toml").read_text()
    assert main(["client", "2.2", "-o", str(tmp_path / "d"), "--package-name", "not-valid"]) == 2
