"""The pipeline in one direction: load -> validate -> IR -> plan -> render -> format.

Returns rendered files as ``{relative path: text}``; writing or checking them is the writer's job.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

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
class Timings:
    """Seconds spent per stage, for ``--timings`` and the benchmarks."""

    stages: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.stages[name] = self.stages.get(name, 0.0) + time.perf_counter() - start


def load_spec(spec_root: Path, version: str, timings: Timings | None = None) -> Spec:
    t = timings or Timings()
    with t.stage("load"):
        loaded = load_version(spec_root, version)
    with t.stage("ir"):
        return build_spec(loaded)


def render_files(planned: list[PlannedFile], timings: Timings | None = None) -> dict[str, str]:
    t = timings or Timings()
    rendered: list[tuple[PlannedFile, str]] = []
    with t.stage("render"):
        for pf in planned:
            rendered.append((pf, render(pf.template, pf.context) if pf.template else pf.context["text"]))
    with t.stage("format"):
        format_many([b for pf, text in rendered if pf.formatter in PYTHON_FORMATTERS for b in black_blocks(text, pf.formatter)])
        return {pf.path: pf.formatter(text) if pf.formatter is not None else text for pf, text in rendered}


def plan(spec_root: Path, versions: list[str], targets: list[str], timings: Timings | None = None) -> list[PlannedFile]:
    """Every planned file of every target of every version, plus the manifest; raises SpecError on bad input."""
    t = timings or Timings()
    planned: list[PlannedFile] = []
    digests = {}
    for version in versions:
        spec = load_spec(spec_root, version, t)
        digests[version] = spec_digest(spec_root / version)
        with t.stage("plan"):
            for target in targets:
                planned += [
                    PlannedFile(f"{version}/{pf.path}", pf.template, pf.context, pf.formatter, pf.copy_of)
                    for pf in TARGETS[target](spec)
                ]
    planned.append(manifest_file(digests))
    return planned


def generate(spec_root: Path, versions: list[str], targets: list[str], timings: Timings | None = None) -> dict[str, str]:
    """Render every target of every version, plus the manifest; raises SpecError on bad input."""
    t = timings or Timings()
    return render_files(plan(spec_root, versions, targets, t), t)
