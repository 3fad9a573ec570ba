"""The models of each version are made in a worker process while the rest is planned
(``pipeline._models_ahead``); the output must be what the same run makes in-process, and a worker
that fails must not change the output or the error."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from concurrent.futures import Future
from pathlib import Path

import pytest

from generator import models
from generator.pipeline import load_spec

SPEC_ROOT = Path(__file__).resolve().parent.parent / "spec"


def test_worker_output_is_the_in_process_output() -> None:
    # A fresh process: no other threads, so the worker is used (the test process may serve from threads).
    script = textwrap.dedent(f"""
        import json, sys
        from pathlib import Path
        from generator import models
        from generator.pipeline import generate, load_spec

        files = generate(Path({str(SPEC_ROOT)!r}), ["2.2.1"], ["client"])
        used_worker = "datamodel_code_generator" not in sys.modules
        spec = load_spec(Path({str(SPEC_ROOT)!r}), "2.2.1")
        here = models.run_datamodel_codegen(models.models_schema(spec))
        from generator.client import _MODELS_MEMO
        print(json.dumps({{"used_worker": used_worker, "left": len(models.AHEAD),
                          "same": list(_MODELS_MEMO.values())[0].split("class ", 1)[1] == models.postprocess(
                              here, spec, "x").split("class ", 1)[1]}}))
        """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"used_worker": True, "left": 0, "same": True}


@pytest.mark.parametrize("failure", [RuntimeError("worker died"), ValueError("cannot pickle")])
def test_a_failed_worker_means_the_run_is_made_here(failure: Exception) -> None:
    spec = load_spec(SPEC_ROOT, "2.1.1")
    schema = models.models_schema(spec)
    expected = models.run_datamodel_codegen(schema)
    failed: Future[str] = Future()
    failed.set_exception(failure)
    models.AHEAD[models.ahead_key(schema)] = failed
    try:
        assert models.run_datamodel_codegen(schema) == expected
        assert models.AHEAD == {}  # taken once
    finally:
        models.AHEAD.clear()


def test_a_result_made_ahead_is_taken_for_its_input_only() -> None:
    spec = load_spec(SPEC_ROOT, "2.1.1")
    schema = models.models_schema(spec)
    done: Future[str] = Future()
    done.set_result("made ahead")
    models.AHEAD[models.ahead_key(schema)] = done
    try:
        other = json.loads(json.dumps(schema))
        other["info"]["title"] = "another input"
        assert models.run_datamodel_codegen(other) != "made ahead"
        assert models.run_datamodel_codegen(schema) == "made ahead"
    finally:
        models.AHEAD.clear()


def test_output_is_in_version_then_target_order() -> None:
    from generator.pipeline import generate, plan

    versions, targets = ["2.1.1", "2.2"], ["client", "openapi"]
    files = generate(SPEC_ROOT, versions, targets)
    paths = list(files)
    assert paths == [pf.path for pf in plan(SPEC_ROOT, versions, targets)]
    assert paths[-1] == "manifest.json"
    keys = [(versions.index(p.split("/")[0]), targets.index(p.split("/")[1])) for p in paths[:-1]]
    assert keys == sorted(keys) and len(set(keys)) == 4  # the client before the OpenAPI documents, as asked
