"""The pipeline in one direction: load -> validate -> IR -> plan -> render -> format.

Returns rendered files as ``{relative path: text}``; writing or checking them is the writer's job.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from generator.extensions import resolve
from generator.ir import Spec
from generator.ir_build import build_spec
from generator.loader import load_version
from generator.plan import PlannedFile, manifest_file, openapi_files, spec_digest
from generator.pyformat import PYTHON_FORMATTERS, black_blocks, format_many
from generator.render import render


#: Targets in generation order; each maps a Spec to its planned files under generated/<version>/.
def _client(spec: Spec) -> list[PlannedFile]:
    from generator.client import client_files

    return client_files(spec, prefix="client/")


def _servers(spec: Spec) -> list[PlannedFile]:
    from generator.server import roles_with_servers, server_files

    return [f for r in roles_with_servers(spec) for f in server_files(spec, r.slug, prefix=f"server/{r.slug}/")]


def _schemas(spec: Spec) -> list[PlannedFile]:
    from generator.jsonschema_out import schema_files

    return schema_files(spec, prefix="schema/")


TARGETS: dict[str, Callable[[Spec], list[PlannedFile]]] = {
    "openapi": lambda spec: openapi_files(spec, prefix="openapi/"),
    "schema": _schemas,
    "client": _client,
    "server": _servers,
}


@dataclass
class Progress:
    """A line on stderr as each stage starts (``generate``/``check`` on a terminal, or ``--progress``).

    Stages that repeat per version (load, ir, plan) are announced once per version.
    """

    enabled: bool = False
    stream: TextIO | None = None
    _seen: set[str] = field(default_factory=set)
    _started: float = field(default_factory=time.perf_counter)

    def stage(self, name: str, detail: str = "") -> None:
        if not self.enabled or f"{name} {detail}" in self._seen:
            return
        self._seen.add(f"{name} {detail}")
        out = self.stream or sys.stderr
        label = STAGE_LABELS.get(name, name) + (f" ({detail})" if detail else "")
        print(f"[{time.perf_counter() - self._started:5.1f}s] {label}", file=out, flush=True)


STAGE_LABELS = {
    "load": "loading and validating spec files",
    "ir": "building the model",
    "plan": "planning output files",
    "render": "rendering templates",
    "format": "formatting Python (black)",
    "write": "writing output",
}


@dataclass
class Timings:
    """Seconds spent per stage, for ``--timings`` and the benchmarks; ``on_stage`` hears each start."""

    stages: dict[str, float] = field(default_factory=dict)
    on_stage: Callable[[str, str], None] | None = None

    @contextmanager
    def stage(self, name: str, detail: str = "") -> Iterator[None]:
        if self.on_stage is not None:
            self.on_stage(name, detail)
        start = time.perf_counter()
        try:
            yield
        finally:
            self.stages[name] = self.stages.get(name, 0.0) + time.perf_counter() - start


def load_spec(
    spec_root: Path, version: str, timings: Timings | None = None, extensions: Iterable[str] | None = None
) -> Spec:
    """Load one version folder with ``extensions`` (ids, ``all`` or ``none``; ``None``: the default set).

    Raises ``SpecError`` on bad input, ``ValueError`` for an unknown extension.
    """
    t = timings or Timings()
    with t.stage("load", version):
        loaded = load_version(spec_root, version, resolve(spec_root / version, extensions))
    with t.stage("ir", version):
        return build_spec(loaded)


def _black_work(pf: PlannedFile, text: str) -> list[str]:
    """The blocks that formatting ``text`` will send to black, so that they go in one batch."""
    if pf.formatter in PYTHON_FORMATTERS:
        return black_blocks(text, pf.formatter)
    blocks = getattr(pf.formatter, "black_blocks", None)  # a formatter that prepares the text first
    return list(blocks(text)) if blocks is not None else []


def render_files(planned: list[PlannedFile], timings: Timings | None = None) -> dict[str, str]:
    t = timings or Timings()
    rendered: list[tuple[PlannedFile, str]] = []
    with t.stage("render", f"{len(planned)} files"):
        for pf in planned:
            rendered.append((pf, render(pf.template, pf.context) if pf.template else pf.context["text"]))
    with t.stage("format"):
        format_many([block for pf, text in rendered for block in _black_work(pf, text)])
        return {pf.path: pf.formatter(text) if pf.formatter is not None else text for pf, text in rendered}


def plan(
    spec_root: Path,
    versions: list[str],
    targets: list[str],
    timings: Timings | None = None,
    extensions: Iterable[str] | None = None,
) -> list[PlannedFile]:
    """Every planned file of every target of every version, plus the manifest; raises SpecError on bad input.

    ``extensions`` applies to every version (``None``: each version's default set).
    """
    chunks = dict(_plan_chunks(spec_root, versions, targets, timings, extensions))
    return [pf for key in _chunk_order(versions, targets) for pf in chunks[key]]


#: Targets planned without the version's models (datamodel-code-generator): they go first.
_WITHOUT_MODELS = ("openapi", "schema")
_MANIFEST = ("", "manifest")


def _chunk_order(versions: list[str], targets: list[str]) -> list[tuple[str, str]]:
    """The order of the output: each version's targets in turn, then the manifest."""
    return [(version, target) for version in versions for target in targets] + [_MANIFEST]


def _plan_chunks(
    spec_root: Path,
    versions: list[str],
    targets: list[str],
    timings: Timings | None,
    extensions: Iterable[str] | None,
) -> Iterator[tuple[tuple[str, str], list[PlannedFile]]]:
    """The planned files of each (version, target), in the order they can be made fastest: every
    version is loaded (and validated) first; then the targets that need no models, of every
    version; then the others version by version; then the manifest (key ``_MANIFEST``).

    The models of each version (datamodel-code-generator) are made in a worker process meanwhile
    (``_models_ahead``), so that a caller renders what is planned while the next models are made.
    """
    t = timings or Timings()
    digests = {}
    with _models_ahead(any(target not in _WITHOUT_MODELS for target in targets)) as ahead:
        specs = []
        for version in versions:
            spec = load_spec(spec_root, version, t, extensions)
            ahead(spec)
            specs.append(spec)
        for version, spec in zip(versions, specs):
            digests[version] = spec_digest(spec_root / version, [e.id for e in spec.extensions])
        early = [target for target in targets if target in _WITHOUT_MODELS]
        late = [target for target in targets if target not in _WITHOUT_MODELS]
        for phase in (early, late):
            for version, spec in zip(versions, specs):
                for target in phase:
                    with t.stage("plan", version):
                        chunk = [
                            PlannedFile(f"{version}/{pf.path}", pf.template, pf.context, pf.formatter, pf.copy_of)
                            for pf in TARGETS[target](spec)
                        ]
                    yield (version, target), chunk
    yield _MANIFEST, [manifest_file(digests)]


def _warm_models() -> None:
    """datamodel-code-generator's first run costs imports and set-up; pay it on a tiny schema."""
    from generator import models

    tiny = {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string", "enum": ["X"]}}}
    doc = {"openapi": "3.1.0", "info": {"title": "warm-up", "version": "0"}, "paths": {}}
    models.run_datamodel_codegen({**doc, "components": {"schemas": {"A": tiny}}})


def _models_code(schema: dict[str, Any]) -> str:
    """datamodel-code-generator's output for ``schema``, in the worker process."""
    from generator import models

    models.AHEAD.clear()
    return models.run_datamodel_codegen(schema)


@contextmanager
def _models_ahead(wanted: bool) -> Iterator[Callable[[Spec], None]]:
    """A function that starts a spec's models (``run_datamodel_codegen``) in a worker process, so
    that they are made while this process validates, plans and renders the rest.

    ``run_datamodel_codegen`` takes the worker's result when asked for the same input, or, if the
    worker failed in any way, runs here (the same output or the same error as without a worker).
    Off (each spec's models made here, when asked for) on one core, or where forking is unsafe:
    no ``fork`` start method, or other threads running (tests that serve from threads).
    """
    from generator import models

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    usable = wanted and cores > 1 and threading.active_count() == 1
    if not usable or "fork" not in multiprocessing.get_all_start_methods():
        yield lambda spec: None
        return
    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
    pool.submit(_warm_models)  # starts the worker now: it imports and warms up while the specs load
    keys: list[str] = []

    def ahead(spec: Spec) -> None:
        schema = models.models_schema(spec)
        key = models.ahead_key(schema)
        if key not in models.AHEAD:
            models.AHEAD[key] = pool.submit(_models_code, schema)
            keys.append(key)

    try:
        yield ahead
    finally:
        for key in keys:
            models.AHEAD.pop(key, None)
        pool.shutdown(wait=True, cancel_futures=True)


def generate(
    spec_root: Path,
    versions: list[str],
    targets: list[str],
    timings: Timings | None = None,
    extensions: Iterable[str] | None = None,
) -> dict[str, str]:
    """Render every target of every version, plus the manifest; raises SpecError on bad input."""
    t = timings or Timings()
    rendered: dict[tuple[str, str], dict[str, str]] = {}
    for key, chunk in _plan_chunks(spec_root, versions, targets, t, extensions):
        rendered[key] = render_files(chunk, t)  # while the worker makes the next version's models
    return {path: text for key in _chunk_order(versions, targets) for path, text in rendered[key].items()}
