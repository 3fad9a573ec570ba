"""``ocpi-codegen diff FROM TO``: what changed between two version transcriptions.

Works on the IR only. Every change is a ``Change`` value; the three output formats print the same list,
in a stable order (by category, then subject), so the JSON form can be relied on by scripts.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Any

from generator.ir import Endpoint, EnumType, Field, ObjectType, Param, Payload, Spec, TypeRef

CATEGORIES = (
    "version",
    "extension",
    "module",
    "interface",
    "endpoint",
    "parameter",
    "type",
    "field",
    "enum_value",
    "header",
    "status_code",
)
_PLACEHOLDER = re.compile(r"\{[^}]+\}")


@dataclass(frozen=True, order=True)
class Change:
    """One difference: ``op`` is added, removed or changed; ``before``/``after`` say what changed."""

    category: str
    subject: str
    op: str
    aspect: str = ""
    before: str = ""
    after: str = ""


@dataclass(frozen=True)
class SpecDiff:
    old: str
    new: str
    changes: tuple[Change, ...]


def _type_text(t: TypeRef) -> str:
    return f"{t.name}({t.length})" if t.length is not None and t.name != "URL" else t.name


def _payload_text(p: Payload | None) -> str:
    return "" if p is None else f"{p.type.name} [{p.card}]"


def _endpoints(spec: Spec, roles: dict[tuple[str, str], str] | None = None) -> dict[str, tuple[str, Endpoint]]:
    """Endpoints keyed by module, role, method and path shape (placeholder names may differ).

    ``roles`` renames interface roles (an old version's CPO/EMSP to the new SENDER/RECEIVER).
    """
    out = {}
    for i in spec.interfaces:
        role = (roles or {}).get((i.module_id, i.role), i.role)
        for e in i.endpoints:
            out[f"{i.module_id}.{role} {e.method} {_PLACEHOLDER.sub('{}', e.path)}"] = (
                f"{i.module_id}.{role} {e.method} {e.path or '/'}",
                e,
            )
    return out


def role_map(old: Spec, new: Spec) -> dict[tuple[str, str], str]:
    """How the old version's interface roles correspond to the new one's, where the names changed.

    2.1.1 names interfaces after the party (CPO, EMSP); 2.2 on after the direction (SENDER,
    RECEIVER). An old interface matches the one new interface of its module that a common market
    role implements (the CPO's tokens interface is the 2.2 tokens RECEIVER, which the CPO implements).
    """
    if set(old.interface_roles) == set(new.interface_roles):
        return {}
    out = {}
    for o in old.interfaces:
        matches = [
            n
            for n in new.interfaces
            if n.module_id == o.module_id
            and n.role != o.role
            and set(n.implemented_by) & set(o.implemented_by)
            and n.role in new.interface_roles
        ]
        if len(matches) == 1:
            out[(o.module_id, o.role)] = matches[0].role
    return out


def diff_specs(old: Spec, new: Spec) -> SpecDiff:
    out: list[Change] = []
    _diff_modules(old, new, out)
    _diff_types(old, new, out)
    _diff_transport(old, new, out)
    _diff_version(old, new, out)
    _diff_extensions(old, new, out)
    order = {c: n for n, c in enumerate(CATEGORIES)}
    changes = sorted(out, key=lambda c: (order[c.category], c.subject, c.aspect, c.op))
    return SpecDiff(old.label, new.label, tuple(changes))


def _added_removed(
    category: str, old: dict[str, Any], new: dict[str, Any], out: list[Change], label: Any = None
) -> list[str]:
    for key in new.keys() - old.keys():
        out.append(Change(category, key, "added", after=label(new[key]) if label else ""))
    for key in old.keys() - new.keys():
        out.append(Change(category, key, "removed", before=label(old[key]) if label else ""))
    return sorted(old.keys() & new.keys())


def _changed(out: list[Change], category: str, subject: str, aspect: str, before: Any, after: Any) -> None:
    if before != after:
        out.append(Change(category, subject, "changed", aspect, str(before), str(after)))


def _diff_modules(old: Spec, new: Spec, out: list[Change]) -> None:
    om = {m.id: m for m in old.modules}
    nm = {m.id: m for m in new.modules}
    _added_removed("module", om, nm, out)
    roles = role_map(old, new)
    oi = {f"{i.module_id}.{roles.get((i.module_id, i.role), i.role)}": i for i in old.interfaces}
    ni = {f"{i.module_id}.{i.role}": i for i in new.interfaces}
    for key in _added_removed("interface", oi, ni, out):
        _changed(out, "interface", key, "role", oi[key].role, ni[key].role)
        _changed(
            out,
            "interface",
            key,
            "implemented_by",
            ", ".join(oi[key].implemented_by),
            ", ".join(ni[key].implemented_by),
        )
    by_shape_old, by_shape_new = _endpoints(old, roles), _endpoints(new)
    # Display an endpoint by its real path; one that exists in both versions by its new path.
    oe = {(by_shape_new.get(k) or v)[0]: v[1] for k, v in by_shape_old.items()}
    ne = {v[0]: v[1] for v in by_shape_new.values()}
    for key in _added_removed("endpoint", oe, ne, out):
        a, b = oe[key], ne[key]
        _changed(out, "endpoint", key, "path", a.path, b.path)
        _changed(out, "endpoint", key, "body", _payload_text(a.body), _payload_text(b.body))
        _changed(out, "endpoint", key, "response", _payload_text(a.response), _payload_text(b.response))
        _changed(out, "endpoint", key, "paginated", a.paginated, b.paginated)
        _diff_params(key, a.path_params + a.query_params, b.path_params + b.query_params, out)


def _diff_params(prefix: str, old: tuple[Param, ...], new: tuple[Param, ...], out: list[Change]) -> None:
    op = {f"{prefix} {p.location}:{p.name}": p for p in old}
    np_ = {f"{prefix} {p.location}:{p.name}": p for p in new}
    for key in _added_removed("parameter", op, np_, out, lambda p: _type_text(p.type)):
        _changed(out, "parameter", key, "type", _type_text(op[key].type), _type_text(np_[key].type))
        _changed(out, "parameter", key, "required", op[key].required, np_[key].required)


def _diff_types(old: Spec, new: Spec, out: list[Change]) -> None:
    ot = {t.name: t for t in old.types}
    nt = {t.name: t for t in new.types}
    for name in _added_removed("type", ot, nt, out, lambda t: t.kind):
        a, b = ot[name], nt[name]
        _changed(out, "type", name, "kind", a.kind, b.kind)
        if isinstance(a, ObjectType) and isinstance(b, ObjectType):
            _diff_fields(name, a.fields, b.fields, out)
        elif isinstance(a, EnumType) and isinstance(b, EnumType):
            av = {f"{name}.{v.value}": v for v in a.values}
            bv = {f"{name}.{v.value}": v for v in b.values}
            _added_removed("enum_value", av, bv, out)


def _diff_extensions(old: Spec, new: Spec, out: list[Change]) -> None:
    """Which optional extensions each side includes; what they add shows up as ordinary changes."""
    oe = {e.id: e for e in old.extensions}
    ne = {e.id: e for e in new.extensions}
    for key in _added_removed("extension", oe, ne, out, lambda e: f"{e.name} {e.release}"):
        _changed(out, "extension", key, "release", oe[key].release, ne[key].release)


def _diff_version(old: Spec, new: Spec, out: list[Change]) -> None:
    for aspect in ("edition", "interface_roles", "routing_headers", "token_base64", "patch_last_updated"):
        before, after = getattr(old, aspect), getattr(new, aspect)
        if isinstance(before, tuple):
            before, after = ", ".join(before), ", ".join(after)
        _changed(out, "version", "index", aspect, before, after)


def _diff_transport(old: Spec, new: Spec, out: list[Change]) -> None:
    oh = {h.name: h for h in old.transport.headers}
    nh = {h.name: h for h in new.transport.headers}
    _added_removed("header", oh, nh, out)
    oc = {str(c.code): c for c in old.transport.status_codes}
    nc = {str(c.code): c for c in new.transport.status_codes}
    _added_removed("status_code", oc, nc, out)


def _field_label(f: Field) -> str:
    return f"{_type_text(f.type)} [{f.card}]"


def _diff_fields(owner: str, old: tuple[Field, ...], new: tuple[Field, ...], out: list[Change]) -> None:
    of = {f"{owner}.{f.name}": f for f in old}
    nf = {f"{owner}.{f.name}": f for f in new}
    for key in _added_removed("field", of, nf, out, _field_label):
        a, b = of[key], nf[key]
        _changed(out, "field", key, "type", a.type.name, b.type.name)
        _changed(out, "field", key, "length", a.type.length, b.type.length)
        _changed(out, "field", key, "card", a.card, b.card)


def format_diff(d: SpecDiff, fmt: str) -> str:
    if fmt == "json":
        data = {"from": d.old, "to": d.new, "count": len(d.changes), "changes": [asdict(c) for c in d.changes]}
        return json.dumps(data, indent=2) + "\n"
    if fmt == "markdown":
        return _markdown(d)
    return _text(d)


_SIGN = {"added": "+", "removed": "-", "changed": "~"}


def _describe(c: Change) -> str:
    if c.op == "changed":
        return f"{c.subject}: {c.aspect} {c.before or '(none)'} -> {c.after or '(none)'}"
    extra = c.after or c.before
    return f"{c.subject}" + (f" ({extra})" if extra else "")


def _text(d: SpecDiff) -> str:
    lines = [f"OCPI {d.old} -> {d.new}: {len(d.changes)} change(s)"]
    for c in d.changes:
        lines.append(f"{_SIGN[c.op]} {c.category:<10} {_describe(c)}")
    return "\n".join(lines) + "\n"


def _markdown(d: SpecDiff) -> str:
    lines = [f"# OCPI {d.old} -> {d.new}", "", f"{len(d.changes)} change(s).", ""]
    for category in CATEGORIES:
        rows = [c for c in d.changes if c.category == category]
        if not rows:
            continue
        lines += [
            f"## {category.replace('_', ' ').title()}s ({len(rows)})",
            "",
            "| change | subject | what | before | after |",
            "| --- | --- | --- | --- | --- |",
        ]
        for c in rows:
            cells = [c.op, c.subject, c.aspect, c.before, c.after]
            lines.append("| " + " | ".join(x.replace("|", "\\|") for x in cells) + " |")
        lines.append("")
    return "\n".join(lines)
