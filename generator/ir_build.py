"""Turn a validated ``LoadedVersion`` into the typed IR (``generator.ir.Spec``)."""

from __future__ import annotations

from typing import Any

from generator import naming
from generator.extensions import extensions_of
from generator.ir import (
    IMPLIED_LENGTH,
    AsyncResult,
    Endpoint,
    EnumType,
    EnumValue,
    Field,
    Header,
    Interface,
    Module,
    NamedType,
    Nesting,
    ObjectType,
    Param,
    Payload,
    Role,
    ServerBehaviour,
    Spec,
    StatusCode,
    Transport,
    TypeRef,
)
from generator.loader import PRIMITIVES, LoadedVersion

#: The role that relays every module: a hub server exposes both interfaces of each.
HUB = "HUB"
#: Interfaces that every party implements (versions, credentials).
BOTH = "BOTH"
#: Configuration modules: platform-to-platform, never routed, so no routing headers
#: (transport_and_format_message_routing).
CONFIGURATION_MODULES = frozenset({"versions", "credentials", "hubclientinfo"})


def build_spec(loaded: LoadedVersion) -> Spec:
    raw_types: dict[str, dict[str, Any]] = {}
    for f in loaded.files:
        for t in f.data.get("types", []):
            raw_types[t["name"]] = t

    def ref(name: str, length: int | None = None) -> TypeRef:
        if name in PRIMITIVES:
            return TypeRef(name, True, length or IMPLIED_LENGTH.get(name))
        target = raw_types[name]
        is_enum = "values" in target
        return TypeRef(name, False, None, is_enum and target["kind"] == "OpenEnum", is_enum)

    def fields(items: list[dict[str, Any]]) -> tuple[Field, ...]:
        return tuple(
            Field(f["name"], ref(f["type"], f.get("length")), f["card"], f["doc"], naming.field_name(f["name"]))
            for f in items
        )

    types: list[NamedType] = []
    modules: list[Module] = []
    transport: Transport | None = None
    for f in loaded.files:
        source = f.path.name
        for t in f.data.get("types", []):
            if "values" in t:
                values = tuple(
                    EnumValue(str(v["value"]), v["doc"], naming.constant(str(v["value"]))) for v in t["values"]
                )
                types.append(EnumType(t["name"], t["kind"] == "OpenEnum", t["anchor"], t["doc"], values, source))
            else:
                types.append(ObjectType(t["name"], t["kind"], t["anchor"], t["doc"], fields(t["fields"]), source))
        if "module" in f.data:
            modules.append(_module(f.data["module"], source, ref))
        if "transport" in f.data:
            transport = _transport(f.data["transport"], fields)
    if transport is None:
        transport = Transport("", "", (), (), ())
    by_name = {t.name: t for t in types}
    index = loaded.index.data
    role_enum = by_name.get("Role")
    role_order = [v.value for v in role_enum.values] if isinstance(role_enum, EnumType) else []
    return Spec(
        version=loaded.version,
        edition=index["edition"],
        interface_roles=tuple(index["interface_roles"]),
        routing_headers=bool(index.get("routing_headers", False)),
        token_base64=bool(index.get("token_base64", False)),
        patch_last_updated=bool(index.get("patch_last_updated", False)),
        types=tuple(types),
        modules=tuple(modules),
        transport=transport,
        roles=_roles(modules, role_order),
        extensions=extensions_of(loaded),
        _by_name=by_name,
    )


def _params(items: list[dict[str, Any]], location: str, ref: Any) -> tuple[Param, ...]:
    return tuple(
        Param(p["name"], ref(p["type"], p.get("length")), p["required"], p["doc"], location, naming.py_identifier(p["name"]))  # type: ignore[arg-type]
        for p in items
    )


def _payload(raw: dict[str, Any] | None, ref: Any) -> Payload | None:
    if raw is None:
        return None
    return Payload(ref(raw["type"]), raw["card"], raw.get("doc", ""))


def _module(raw: dict[str, Any], source: str, ref: Any) -> Module:
    interfaces = []
    for i in raw["interfaces"]:
        endpoints = tuple(
            Endpoint(
                module_id=raw["id"],
                role=i["role"],
                operation=e["operation"],
                method=e["method"],
                path=e["path"],
                anchor=e["anchor"],
                doc=e["doc"],
                paginated=bool(e.get("paginated", False)),
                path_params=_params(e.get("path_params", []), "path", ref),
                query_params=_params(e.get("query_params", []), "query", ref),
                body=_payload(e.get("body"), ref),
                response=_payload(e.get("response"), ref),
                operation_id=naming.operation_id(raw["id"], i["role"], e["operation"]),
                routed=raw["id"] not in CONFIGURATION_MODULES,
                server=_server(e.get("server")),
                not_found=int(raw.get("not_found", 2000)),
            )
            for e in i["endpoints"]
        )
        interfaces.append(
            Interface(
                module_id=raw["id"],
                module_name=raw["name"],
                role=i["role"],
                anchor=i["anchor"],
                doc=i.get("doc", raw["doc"]),
                implemented_by=tuple(i["implemented_by"]),
                endpoints=endpoints,
                slug=naming.interface_slug(raw["id"], i["role"]),
            )
        )
    return Module(
        raw["id"], raw["name"], raw["anchor"], raw["doc"], tuple(interfaces), source, int(raw.get("not_found", 2000))
    )


def _server(raw: dict[str, Any] | None) -> ServerBehaviour | None:
    if raw is None:
        return None
    result = raw.get("result")
    return ServerBehaviour(
        kind=raw["kind"],
        object=raw.get("object"),
        owner=raw.get("owner"),
        id=raw.get("id"),
        key=raw.get("key"),
        nested=tuple(Nesting(n["field"], n["key"], n["param"]) for n in raw.get("nested", [])),
        append=tuple(raw.get("append", [])),
        status=int(raw.get("status", 200)),
        location=bool(raw.get("location", False)),
        result=None if result is None else AsyncResult(result["type"], result["url"]),
        anchor=raw.get("anchor", ""),
    )


def _transport(raw: dict[str, Any], fields: Any) -> Transport:
    env = raw["envelope"]
    headers = tuple(
        Header(
            h["name"],
            h["anchor"],
            h["doc"],
            h["request"],
            h["response"],
            bool(h.get("routing", False)),
            bool(h.get("paginated_only", False)),
            naming.header_parameter(h["name"]),
        )
        for h in raw["headers"]
    )
    codes = tuple(StatusCode(c["code"], c.get("anchor", ""), c["doc"]) for c in raw["status_codes"])
    return Transport(env["anchor"], env["doc"], fields(env["fields"]), headers, codes)


def _roles(modules: list[Module], role_order: list[str]) -> tuple[Role, ...]:
    """Which interfaces a server of each role exposes.

    A role exposes the interfaces whose ``implemented_by`` names it, plus the interfaces every party
    has (versions, credentials). A hub, where the version defines one, relays every module and so
    exposes every interface (2.3.0 dropped HUB from its Role enum but still names it as implementer).
    """
    interfaces = [i for m in modules for i in m.interfaces]
    named = {r for i in interfaces for r in i.implemented_by if i.role != BOTH}
    if HUB in role_order or any(HUB in i.implemented_by for i in interfaces):
        named.add(HUB)
    order = {r: n for n, r in enumerate(role_order)}
    roles = []
    for name in sorted(named, key=lambda r: (order.get(r, len(order)), r)):
        chosen = tuple(i for i in interfaces if i.role == BOTH or name == HUB or name in i.implemented_by)
        roles.append(Role(name, naming.role_slug(name), chosen))
    return tuple(roles)
