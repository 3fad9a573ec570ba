"""Generated artefacts work where users put them: clients pip-install into a fresh venv; scaffolded
servers pass their own tests; scaffolding never overwrites the user's files."""

from __future__ import annotations

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


def test_every_client_installs_side_by_side_in_a_fresh_venv(tmp_path: Path) -> None:
    env = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=True).create(env)
    python = env / "bin" / "python"
    folders = [str(ROOT / "generated" / v / "client") for v in VERSIONS]
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--no-deps", *folders], check=True, cwd=tmp_path)
    names = [default_package(load_spec(SPEC_ROOT, v)) for v in VERSIONS]
    code = "; ".join(f"import {n}; assert {n}.OCPI_VERSION" for n in names) + "; print('ok')"
    out = subprocess.run([python, "-c", code], check=True, cwd=tmp_path, capture_output=True, text=True)
    assert out.stdout.strip() == "ok"
    site = subprocess.run([python, "-c", f"import {names[0]}, os; print(os.path.dirname({names[0]}.__file__))"], capture_output=True, text=True, cwd=tmp_path)
    assert str(env) in site.stdout and (Path(site.stdout.strip()) / "py.typed").is_file()


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("role", ["cpo", "emsp"])
def test_scaffolded_server_passes_its_own_tests(version: str, role: str, tmp_path: Path) -> None:
    project = tmp_path / "myserver"
    assert main(["server", version, "--role", role, "-o", str(project)]) == 0
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-2000:]


def test_scaffold_update_and_force_protect_user_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = tmp_path / "p"
    assert main(["server", "2.2.1", "--role", "cpo", "-o", str(project)]) == 0
    (project / "handlers.py").write_text("# mine\n")
    (project / "ocpi_server" / "routers.py").write_text("# stale\n")
    assert main(["server", "2.2.1", "--role", "cpo", "-o", str(project)]) == 2  # refuses to overwrite
    assert "--update" in capsys.readouterr().err
    assert main(["server", "2.2.1", "--role", "cpo", "-o", str(project), "--update"]) == 0
    assert (project / "handlers.py").read_text() == "# mine\n"
    assert (project / "ocpi_server" / "routers.py").read_text() != "# stale\n"
    assert main(["server", "2.2.1", "--role", "cpo", "-o", str(project), "--force"]) == 0
    assert (project / "handlers.py").read_text() != "# mine\n"
    assert main(["server", "2.2.1", "--role", "nap", "-o", str(tmp_path / "x")]) == 2


def test_client_command_with_package_name(tmp_path: Path) -> None:
    assert main(["client", "2.2", "-o", str(tmp_path / "c"), "--package-name", "my_ocpi"]) == 0
    assert (tmp_path / "c" / "my_ocpi" / "models.py").is_file()
    assert 'packages = ["my_ocpi"]' in (tmp_path / "c" / "pyproject.toml").read_text()
    assert main(["client", "2.2", "-o", str(tmp_path / "d"), "--package-name", "not-valid"]) == 2
