"""``ocpi-codegen validate``'s cross-check of the server declarations against the names.

The generator reads only the ``server:`` declarations of the spec transcription. The name and URL
heuristics that once guessed the same facts (which object an endpoint stores, its owner, id,
nesting and asynchronous result) live on here as a review aid: where a declaration and the guess
disagree, ``validate`` prints a warning with file and line, and exits 0. A warning is not an
error: several declarations are meant to differ from the guess (see spec/ERRATA.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.errors import Problem
from generator.ir import Endpoint, Interface, ObjectType, Spec, TypeRef
from generator.loader import LoadedVersion

OWNER_KEYS = ("country_code", "party_id")
#: Charging profiles answer later with a result type that depends on the method (mod_charging_profiles).
_PROFILE_RESULTS = {
    "GET": "ActiveChargingProfileResult",
    "PUT": "ChargingProfileResult",
    "DELETE": "ClearProfileResult",
}


@dataclass(frozen=True)
class Guess:
    """What the names suggest an endpoint does."""

    kind: str
    object: str | None
    owner: str | None
    id: str | None
    nested: tuple[tuple[str, str, str], ...]
    result: str | None


def key_field(t: ObjectType) -> str | None:
    """The field that looks like an object's key: ``id``/``uid``, else a required ``*_id``."""
    for f in t.fields:
        if f.name in ("id", "uid") and f.required:
            return f.name
    for f in t.fields:
        if f.name.endswith("_id") and f.name not in OWNER_KEYS and f.required and f.type.primitive:
            return f.name
    return None


def _payload_type(ep: Endpoint) -> TypeRef | None:
    p = ep.body if ep.method in ("PUT", "PATCH", "POST") and ep.body is not None else ep.response
    return None if p is None else p.type


def _chain(
    spec: Spec, iface: Interface, ep: Endpoint
) -> tuple[str | None, str | None, tuple[tuple[str, str, str], ...], str]:
    params = [p.name for p in ep.path_params]
    owner = "url" if params[:2] == list(OWNER_KEYS) else "self"
    keys = params[2:] if owner == "url" else params
    target = _payload_type(ep)
    if not keys or target is None or target.primitive:
        return (target.name if target is not None and not target.primitive else None), None, (), owner
    by_prefix: dict[tuple[str, ...], str] = {}
    for other in iface.endpoints:
        names = [p.name for p in other.path_params]
        oks = names[2:] if names[:2] == list(OWNER_KEYS) else names
        t = _payload_type(other)
        prefix = other.path.rsplit("{", 1)[0]
        if t is not None and not t.primitive and oks and prefix == ep.path[: len(prefix)]:
            by_prefix.setdefault(tuple(oks), t.name)
    types = [by_prefix.get(tuple(keys[: i + 1])) for i in range(len(keys))]
    types[-1] = target.name
    root = types[0] or target.name
    steps: list[tuple[str, str, str]] = []
    for i in range(1, len(keys)):
        parent, child = spec.type(types[i - 1] or ""), types[i]
        if not isinstance(parent, ObjectType) or child is None:
            return target.name, keys[-1], (), owner
        fld = next((f for f in parent.fields if f.type.name == child and f.is_list), None)
        child_t = spec.type(child)
        key = next(
            (
                k
                for k in ("uid", "id")
                if isinstance(child_t, ObjectType) and child_t.field_named(k) and keys[i].endswith(k)
            ),
            None,
        )
        if fld is None or key is None:
            return target.name, keys[-1], (), owner
        steps.append((fld.name, key, keys[i]))
    return root, keys[0], tuple(steps), owner


def _async_result(spec: Spec, iface: Interface, ep: Endpoint) -> str | None:
    has_url = any(p.name == "response_url" for p in ep.query_params)
    body_t = spec.type(ep.body.type.name) if ep.body is not None and not ep.body.type.primitive else None
    if isinstance(body_t, ObjectType) and body_t.field_named("response_url"):
        has_url = True
    if not has_url:
        return None
    if iface.module_id == "chargingprofiles":
        return _PROFILE_RESULTS.get(ep.method)
    module = next(m for m in spec.modules if m.id == iface.module_id)
    for other in module.interfaces:
        if other.role != iface.role:
            for o in other.endpoints:
                if o.method == "POST" and o.body is not None and not o.body.type.primitive:
                    return o.body.type.name
    return None


def guess(spec: Spec, iface: Interface, ep: Endpoint) -> Guess:
    """The behaviour the endpoint's names and URL suggest."""
    result = _async_result(spec, iface, ep)
    if ep.paginated:
        return Guess("list", ep.response.type.name if ep.response else None, None, None, (), None)
    if result is not None:
        return Guess("command", None, None, None, (), result)
    kind = "decision"
    if ep.method == "GET" and ep.path_params:
        kind = "get"
    elif ep.method in ("PUT", "PATCH", "DELETE") and ep.path_params and (ep.method == "DELETE" or ep.body is not None):
        kind = "decision" if ep.response is not None and ep.method != "DELETE" else ep.method.lower()
    elif ep.method == "POST" and ep.body is not None and ep.response is None:
        body_t = spec.type(ep.body.type.name) if not ep.body.type.primitive else None
        if isinstance(body_t, ObjectType):
            kind = "post" if key_field(body_t) else "receive"
            owner = "body" if body_t.field_named("country_code") and body_t.field_named("party_id") else "self"
            return Guess(kind, body_t.name, owner if kind == "post" else None, None, (), None)
    if kind in ("get", "put", "patch", "delete"):
        obj, oid, nested, owner = _chain(spec, iface, ep)
        return Guess(kind, obj, owner, oid, nested, None)
    return Guess(kind, None, None, None, (), None)


def behaviour_warnings(loaded: LoadedVersion, spec: Spec) -> list[Problem]:
    """Warnings where an endpoint's ``server:`` declaration and its names disagree."""
    out: list[Problem] = []
    for f in loaded.files:
        raw = f.data.get("module")
        if raw is None:
            continue
        module = next(m for m in spec.modules if m.id == raw["id"])
        for i, iface in enumerate(module.interfaces):
            for j, ep in enumerate(iface.endpoints):
                decl = ep.server
                if decl is None:
                    continue
                g = guess(spec, iface, ep)
                declared = {
                    "kind": decl.kind,
                    "object": decl.object,
                    "owner": decl.owner,
                    "id": decl.id,
                    "nested": tuple((n.field, n.key, n.param) for n in decl.nested),
                    "result": decl.result.type if decl.result else None,
                }
                guessed = {
                    "kind": g.kind,
                    "object": g.object,
                    "owner": g.owner,
                    "id": g.id,
                    "nested": g.nested,
                    "result": g.result,
                }
                for name, value in declared.items():
                    if guessed[name] is not None and guessed[name] != () and value != guessed[name]:
                        where = ("module", "interfaces", i, "endpoints", j, "server")
                        out.append(
                            Problem(
                                f.display,
                                f.line(where),
                                f.key(where),
                                f"declared {name} {value!r}, the names suggest {guessed[name]!r}",
                                level="warning",
                            )
                        )
    return out
