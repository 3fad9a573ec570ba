"""Imports as data: generated code is ruff F/I clean, has no ``import *``, and never lets a parameter
or method named after a builtin hide that builtin where the code still needs it."""

from __future__ import annotations

import ast
import builtins
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from generator.pyimports import Imports
from tests.conftest import GOLDEN, ROOT

GENERATED = ROOT / "generated"
BUILTINS = frozenset(dir(builtins))


def _python_files() -> list[ast.Module]:
    return [ast.parse(p.read_text(), str(p)) for p in sorted(GENERATED.rglob("*.py"))]


def test_generated_code_is_ruff_f_and_i_clean() -> None:
    """Unused or undefined names (F) and import order (I, isort rules as configured in pyproject.toml),
    over generated/ and the golden trees of the fixture specs."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--select",
            "F,I",
            "--no-cache",
            "--output-format",
            "concise",
            str(GENERATED),
            str(GOLDEN),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_no_import_star_in_generated_code() -> None:
    for p in GENERATED.rglob("*.py"):
        tree = ast.parse(p.read_text())
        stars = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names)]
        assert not stars, p


def test_parameters_named_after_builtins_do_not_hide_a_builtin_the_function_uses() -> None:
    """A parameter ``type``/``id``/``list`` is data: the function must not call or subscript that name."""
    checked = 0
    for tree in _python_files():
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            args = fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs
            shadowing = {a.arg for a in args} & BUILTINS
            for node in ast.walk(fn):
                used_as_builtin = (
                    isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in shadowing
                ) or (
                    isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id in shadowing
                )
                assert not used_as_builtin, f"{fn.name}: {ast.unparse(node)}"
            checked += bool(shadowing)
    assert checked > 0  # there are such parameters (e.g. tokens' ``type``)


def test_methods_named_after_builtins_are_not_read_as_the_builtin_in_their_class() -> None:
    """A class with a method ``list`` spells the builtin ``builtins.list`` in its annotations."""
    checked = 0
    for tree in _python_files():
        for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
            methods = {n.name for n in cls.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)} & BUILTINS
            for fn in (n for n in cls.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)):
                annotations = [a.annotation for a in fn.args.args + fn.args.kwonlyargs if a.annotation] + [fn.returns]
                for ann in filter(None, annotations):
                    names = {n.id for n in ast.walk(ann) if isinstance(n, ast.Name)}
                    assert not names & methods, f"{cls.name}.{fn.name}: {ast.unparse(ann)}"
            checked += bool(methods)
    assert checked > 0


def test_import_block_sections_and_order() -> None:
    imports = Imports(first_party=frozenset({"ocpi_server"}))
    imports.add("", "builtins").add("fastapi", "Query", "Depends").add("._defaults", "read_model", "Engine", "NO_X")
    imports.add(".client.models", "CDR", "Location").add("..x", "y").add("ocpi_server", "create_app").add(
        "typing", "Any"
    )
    imports.add("._app", "AppSpec", "register_with_peer as _register_with_peer")
    assert str(imports) == (
        "from __future__ import annotations\n\n"
        "import builtins\nfrom typing import Any\n\n"
        "from fastapi import Depends, Query\n\n"
        "from ocpi_server import create_app\n\n"
        "from ..x import y\n"
        "from ._app import AppSpec\n"
        "from ._app import register_with_peer as _register_with_peer\n"
        "from ._defaults import NO_X, Engine, read_model\n"
        "from .client.models import CDR, Location"
    )


def test_import_block_wraps_long_lines_and_uses_only_known_names() -> None:
    names = [f"Name{i:02d}" for i in range(20)]
    imports = Imports(future=False).use({n: ".models" for n in names}, "list[Name01] | Name02", '"Name03"', "x.Name04")
    assert str(imports) == "from .models import Name01, Name02"
    long = Imports(future=False).add(".models", *names)
    assert str(long).startswith("from .models import (\n    Name00,\n") and str(long).endswith("    Name19,\n)")
    assert max(len(line) for line in str(long).splitlines()) <= 120


def test_ruff_is_the_one_configured_in_pyproject() -> None:
    """``make check`` and this test read the same [tool.ruff] section."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]
    assert config["line-length"] == 120
    assert set(config["lint"]["select"]) >= {"F", "I"}


@pytest.mark.parametrize("project", ["2.2.1/client", "2.2.1/server/cpo", "2.3.0/server/hub", "2.1.1/server/emsp"])
def test_a_generated_project_passes_ruff_with_its_own_rule_set(project: str, tmp_path: Path) -> None:
    """As a user would run it: ``ruff check`` inside the project, outside this repository, with the
    rule set the project's own pyproject.toml declares."""
    copy = tmp_path / "project"
    shutil.copytree(ROOT / "generated" / project, copy)
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=copy, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-3000:]
