"""Results of a conformance run and their three renderings: text (terminal), JSON and JUnit XML."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal
from xml.etree import ElementTree as ET

Outcome = Literal["pass", "fail", "skip"]

#: How much of an answer body a report keeps.
BODY_LIMIT = 600


@dataclass
class Exchange:
    """One request and its answer, as the report shows them (tokens never appear)."""

    method: str
    url: str
    request_headers: dict[str, str] = field(default_factory=dict)
    request_body: str | None = None
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    error: str | None = None

    def summary(self) -> str:
        answer = f"HTTP {self.status}" if self.status is not None else f"no answer ({self.error})"
        return f"{self.method} {self.url} -> {answer}"


@dataclass
class Result:
    area: str
    name: str
    outcome: Outcome
    anchor: str
    detail: str = ""
    exchanges: list[Exchange] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class Report:
    version: str
    role: str
    target: str
    started: str
    results: list[Result] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)

    @property
    def passed(self) -> bool:
        """Every check that ran passed (skipped checks did not run)."""
        return self.count("fail") == 0

    def totals(self) -> str:
        return f"{self.count('pass')} passed, {self.count('fail')} failed, {self.count('skip')} skipped"

    def to_json(self) -> str:
        data: dict[str, Any] = {
            "version": self.version,
            "role": self.role,
            "target": self.target,
            "started": self.started,
            "passed": self.passed,
            "totals": {o: self.count(o) for o in ("pass", "fail", "skip")},
            "notes": self.notes,
            "results": [asdict(r) for r in self.results],
        }
        return json.dumps(data, indent=2) + "\n"

    def to_junit(self) -> str:
        suites = ET.Element("testsuites", name=f"OCPI {self.version} {self.role.upper()} conformance")
        areas: dict[str, list[Result]] = {}
        for r in self.results:
            areas.setdefault(r.area, []).append(r)
        for area, results in areas.items():
            suite = ET.SubElement(
                suites,
                "testsuite",
                name=area,
                tests=str(len(results)),
                failures=str(sum(r.outcome == "fail" for r in results)),
                skipped=str(sum(r.outcome == "skip" for r in results)),
                time=f"{sum(r.seconds for r in results):.3f}",
            )
            for r in results:
                case = ET.SubElement(suite, "testcase", classname=f"ocpi.{area}", name=r.name, time=f"{r.seconds:.3f}")
                if r.outcome == "fail":
                    failure = ET.SubElement(case, "failure", message=r.detail[:200], type=r.anchor)
                    failure.text = _evidence(r)
                elif r.outcome == "skip":
                    ET.SubElement(case, "skipped", message=r.detail[:200])
                ET.SubElement(case, "system-out").text = f"spec: {r.anchor}\n" + "\n".join(
                    e.summary() for e in r.exchanges
                )
        ET.indent(suites)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"

    def to_text(self) -> str:
        lines = [f"OCPI {self.version} {self.role.upper()} conformance of {self.target} ({self.started})"]
        lines += [f"note: {n}" for n in self.notes]
        area = None
        for r in self.results:
            if r.area != area:
                area = r.area
                lines.append(f"\n{area}")
            lines.append(result_line(r))
            if r.outcome == "fail":
                lines += ["      " + line for line in _evidence(r).splitlines()]
        lines.append("")
        lines.append(f"{self.totals()}: {'every check that ran passed' if self.passed else 'NOT CONFORMANT'}")
        return "\n".join(lines) + "\n"


def result_line(r: Result) -> str:
    mark = {"pass": "PASS", "fail": "FAIL", "skip": "skip"}[r.outcome]
    why = f" ({r.detail})" if r.outcome == "skip" and r.detail else ""
    return f"  {mark}  {r.name}{why}  [{r.anchor}]"


def _evidence(r: Result) -> str:
    lines = [f"why: {r.detail}"] if r.detail else []
    for e in r.exchanges[-3:]:
        lines.append(e.summary())
        shown = {k: v for k, v in e.response_headers.items() if k.lower() != "content-type"}
        if shown:
            lines.append("  headers: " + ", ".join(f"{k}: {v}" for k, v in shown.items()))
        if e.body:
            lines.append("  answer: " + e.body[:160].replace("\n", " ") + ("..." if len(e.body) > 160 else ""))
    return "\n".join(lines)
