"""The committed generated/ tree is the largest golden file: it must equal a fresh generation."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest
from openapi_spec_validator import validate

from generator.openapi import path_collisions
from generator.paths import SPEC_ROOT, available_versions
from generator.pipeline import TARGETS, generate
from generator.writer import compare
from tests.conftest import ROOT

VERSIONS = available_versions(SPEC_ROOT)


@pytest.fixture(scope="module")
def fresh() -> dict[str, str]:
    return generate(SPEC_ROOT, VERSIONS, list(TARGETS))


def test_versions_are_present() -> None:
    assert VERSIONS, "spec/ holds no version"


def test_generated_is_up_to_date(fresh: dict[str, str]) -> None:
    diffs = compare(ROOT / "generated", fresh)
    assert (
        not diffs
    ), f"generated/ is out of date ({[f'{d.kind}: {d.path}' for d in diffs][:10]}); run: ocpi-codegen generate"


def _openapi_docs(files: dict[str, str]) -> list[str]:
    return sorted(p for p in files if "/openapi/" in p and p.endswith(".yaml"))


def test_every_openapi_document_validates_and_has_no_colliding_paths(fresh: dict[str, str]) -> None:
    import yaml

    docs = _openapi_docs(fresh)
    assert docs
    for path in docs:
        document = yaml.safe_load(fresh[path])
        validate(document)
        assert path_collisions(document) == [], path


def test_generation_is_deterministic_across_hash_seeds(tmp_path: os.PathLike[str]) -> None:
    digests = set()
    for seed in ("1", "2"):
        out = f"{tmp_path}/out{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run(
            [sys.executable, "-m", "generator", "generate", "-o", out],
            check=True,
            env=env,
            cwd=ROOT,
            capture_output=True,
        )
        h = hashlib.sha256()
        for dirpath, _, names in sorted(os.walk(out)):
            for name in sorted(names):
                full = os.path.join(dirpath, name)
                h.update(os.path.relpath(full, out).encode() + open(full, "rb").read())
        digests.add(h.hexdigest())
    assert len(digests) == 1
