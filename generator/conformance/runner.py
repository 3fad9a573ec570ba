"""The conformance run: areas of checks derived from the transcription, run in order against one peer.

``run(spec, role, versions_url, token, ...)`` returns a ``Report``. The checks live in ``checks.py``
(one function per area); this module holds what they share: the ``Context`` (the spec, the probe,
what discovery found) and ``Context.check``, which times a check, collects its exchanges and turns
``Fail``/``Skip`` (or a transport error) into its outcome.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from generator.conformance.probe import Answer, Probe
from generator.conformance.report import Report, Result
from generator.ir import Endpoint, Interface, Role, Spec


class Fail(Exception):
    """The check failed; the message says why."""


class Skip(Exception):
    """The check could not run; the message says why."""


@dataclass
class Check:
    """One running check: its requests go to the report with it."""

    ctx: Context
    result: Result
    start: int
    #: Exchanges of earlier requests this check judges too.
    earlier: list[Any] = field(default_factory=list)

    def request(self, method: str, url: str, **kwargs: Any) -> Answer:
        return self.ctx.probe.request(method, url, **kwargs)

    def get(self, url: str, **kwargs: Any) -> Answer:
        return self.request("GET", url, **kwargs)

    def expect(self, condition: object, message: str) -> None:
        if not condition:
            raise Fail(message)

    def note(self, text: str) -> None:
        self.result.detail = f"{self.result.detail}; {text}" if self.result.detail else text


@dataclass
class Options:
    write: bool = False
    register: str | None = None
    #: The base URL the peer reaches ``register``'s address at, when that is not the address itself.
    register_url: str | None = None
    party: tuple[str, str] = ("NL", "TST")
    max_objects: int = 1000
    timeout: float = 20.0


@dataclass
class Context:
    spec: Spec
    role: Role
    versions_url: str
    probe: Probe
    options: Options
    report: Report
    on_result: Callable[[Result], None] = lambda r: None
    #: Endpoint URLs from version details: (identifier, role or None) -> URL.
    endpoints: dict[tuple[str, str | None], str] = field(default_factory=dict)
    details_url: str | None = None
    #: The peer's own country code and party id (from its credentials), when known.
    peer_party: tuple[str, str] | None = None

    @contextmanager
    def check(self, area: str, name: str, anchor: str) -> Iterator[Check]:
        result = Result(area, name, "pass", anchor)
        start = len(self.probe.log)
        began = time.perf_counter()
        check = Check(self, result, start)
        try:
            yield check
        except Fail as exc:
            result.outcome, result.detail = "fail", str(exc)
        except Skip as exc:
            result.outcome, result.detail = "skip", str(exc)
        except Exception as exc:  # noqa: BLE001 - an answer no check expected: a failure, with the evidence
            result.outcome, result.detail = "fail", f"unexpected answer ({type(exc).__name__}: {exc})"
        failed = [e for e in self.probe.log[start:] if e.status is None]
        result.exchanges = check.earlier + self.probe.log[start:]
        if result.outcome == "pass" and failed:
            result.outcome, result.detail = "fail", f"no answer: {failed[-1].error}"
        result.seconds = time.perf_counter() - began
        self.report.results.append(result)
        self.on_result(result)

    def skip(self, area: str, name: str, anchor: str, why: str) -> None:
        with self.check(area, name, anchor):
            raise Skip(why)

    # -- what the transcription says ----------------------------------------------------------------

    def interfaces(self) -> list[Interface]:
        """The role's module interfaces (versions and credentials left out)."""
        return [i for i in self.role.interfaces if i.module_id not in ("versions", "credentials")]

    def url_of(self, interface: Interface) -> str | None:
        """The URL version details gave for the interface (by identifier, and role from 2.2 on)."""
        if self.spec.routing_headers:
            return self.endpoints.get((interface.module_id, interface.role))
        found = [url for (ident, _), url in self.endpoints.items() if ident == interface.module_id]
        return found[0] if found else None

    def anchor(self, name: str) -> str:
        """A header's or the envelope's section anchor."""
        for h in self.spec.transport.headers:
            if h.name.lower() == name.lower():
                return h.anchor
        return self.spec.transport.envelope_anchor

    def status_anchor(self, code: int) -> str:
        found = [s.anchor for s in self.spec.transport.status_codes if s.code == code]
        return found[0] if found else self.spec.transport.envelope_anchor

    def module_anchor(self, module_id: str) -> str:
        return next((m.anchor for m in self.spec.modules if m.id == module_id), "")

    def probe_target(self) -> tuple[str, tuple[int, ...]] | None:
        """A module URL to probe transport behaviour on and the HTTP statuses a valid token gets there:
        a sender list (200), else an object a receiver would hold, with ids nobody uses (404)."""
        for kind, ok in (("list", (200,)), ("get", (404,))):
            for interface in self.interfaces():
                base = self.url_of(interface)
                for e in interface.endpoints:
                    if base and e.method == "GET" and e.server is not None and e.server.kind == kind:
                        values = {p.name: self.placeholder(p.name, "UNKNOWN-PROBE") for p in e.path_params}
                        return endpoint_url(base, e, values), ok
        return None

    def placeholder(self, name: str, object_id: str) -> str:
        """A path parameter's value: our party for ``country_code``/``party_id``, else ``object_id``."""
        if name == "country_code":
            return self.options.party[0]
        if name == "party_id":
            return self.options.party[1]
        return object_id

    def credentials_url(self) -> str | None:
        return next((u for (ident, _), u in self.endpoints.items() if ident == "credentials"), None)


def endpoint_url(base: str, endpoint: Endpoint, values: dict[str, str]) -> str:
    path = endpoint.path
    for p in endpoint.path_params:
        path = path.replace("{" + p.name + "}", values.get(p.name, "X"))
    return base.rstrip("/") + path


def now_stamp(offset_seconds: int = 0) -> str:
    moment = datetime.now(UTC).replace(microsecond=0)
    return datetime.fromtimestamp(moment.timestamp() + offset_seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def run(
    spec: Spec,
    role_slug: str,
    versions_url: str,
    token: str,
    options: Options | None = None,
    on_result: Callable[[Result], None] | None = None,
) -> Report:
    """Run every area against the peer at ``versions_url``; never raises for what the peer does."""
    from generator.conformance import checks

    options = options or Options()
    roles = {r.slug: r for r in spec.roles}
    if role_slug not in roles:
        raise ValueError(f"OCPI {spec.label} has no role {role_slug!r}; choose from: {', '.join(roles)}")
    report = Report(spec.label, role_slug, versions_url, now_stamp())
    probe = Probe(token, spec.token_base64, timeout=options.timeout)
    ctx = Context(spec, roles[role_slug], versions_url, probe, options, report, on_result or (lambda r: None))
    try:
        if not checks.discovery(ctx):
            return report
        if options.register:
            checks.register(ctx)
        checks.transport(ctx)
        checks.lists(ctx)
        if options.write:
            checks.write(ctx)
    finally:
        probe.close()
    return report
