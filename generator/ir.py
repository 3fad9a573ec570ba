"""The typed intermediate representation: frozen, fully resolved, in spec order.

Built by ``generator.ir_build`` from validated YAML; every renderer reads only these objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

#: Maximum lengths that OCPI defines for a primitive itself.
IMPLIED_LENGTH = {"URL": 255}


@dataclass(frozen=True)
class TypeRef:
    """A use of a type: a primitive (with an optional maximum length) or a named type."""

    name: str
    primitive: bool
    length: int | None = None
    open_enum: bool = False
    is_enum: bool = False


@dataclass(frozen=True)
class Field:
    name: str
    type: TypeRef
    card: str
    doc: str
    py_name: str

    @property
    def required(self) -> bool:
        return self.card in ("1", "+")

    @property
    def is_list(self) -> bool:
        return self.card in ("*", "+")


@dataclass(frozen=True)
class ObjectType:
    name: str
    kind: Literal["object", "class"]
    anchor: str
    doc: str
    fields: tuple[Field, ...]
    source: str

    @property
    def is_enum(self) -> bool:
        return False

    def field_named(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


@dataclass(frozen=True)
class EnumValue:
    value: str
    doc: str
    py_name: str


@dataclass(frozen=True)
class EnumType:
    name: str
    open: bool
    anchor: str
    doc: str
    values: tuple[EnumValue, ...]
    source: str

    @property
    def kind(self) -> str:
        return "OpenEnum" if self.open else "enum"

    @property
    def is_enum(self) -> bool:
        return True


NamedType = ObjectType | EnumType


@dataclass(frozen=True)
class Param:
    name: str
    type: TypeRef
    required: bool
    doc: str
    location: Literal["path", "query"]
    py_name: str


@dataclass(frozen=True)
class Payload:
    type: TypeRef
    card: str
    doc: str = ""

    @property
    def is_list(self) -> bool:
        return self.card in ("*", "+")

    @property
    def required(self) -> bool:
        return self.card in ("1", "+")


@dataclass(frozen=True)
class Nesting:
    """One step below a stored root object: the item of list ``field`` whose ``key`` equals path parameter ``param``."""

    field: str
    key: str
    param: str


@dataclass(frozen=True)
class AsyncResult:
    """A result posted later to the peer: its type and the query parameter or body field with the URL."""

    type: str
    url: str


@dataclass(frozen=True)
class ServerBehaviour:
    """What a generated server does for an endpoint, as ``server:`` declares it (spec/README.md)."""

    kind: str  # list get put patch delete post created receive authorize command decision
    object: str | None = None
    owner: str | None = None  # url body self
    id: str | None = None
    key: str | None = None
    nested: tuple[Nesting, ...] = ()
    append: tuple[str, ...] = ()
    status: int = 200
    location: bool = False
    result: AsyncResult | None = None
    anchor: str = ""


@dataclass(frozen=True)
class Endpoint:
    module_id: str
    role: str
    operation: str
    method: str
    path: str
    anchor: str
    doc: str
    paginated: bool
    path_params: tuple[Param, ...]
    query_params: tuple[Param, ...]
    body: Payload | None
    response: Payload | None
    operation_id: str
    #: Whether the hub routing headers apply (function modules only).
    routed: bool = True
    #: The declared server behaviour (None for versions and credentials, served by the runtime).
    server: ServerBehaviour | None = None
    #: OCPI status code for an unknown object of this endpoint's module.
    not_found: int = 2000

    @property
    def is_patch(self) -> bool:
        return self.method == "PATCH"


@dataclass(frozen=True)
class Interface:
    module_id: str
    module_name: str
    role: str
    anchor: str
    doc: str
    implemented_by: tuple[str, ...]
    endpoints: tuple[Endpoint, ...]
    slug: str


@dataclass(frozen=True)
class Module:
    id: str
    name: str
    anchor: str
    doc: str
    interfaces: tuple[Interface, ...]
    source: str
    #: OCPI status code (with HTTP 404) for an unknown object of this module.
    not_found: int = 2000


@dataclass(frozen=True)
class Header:
    name: str
    anchor: str
    doc: str
    request: bool
    response: bool
    routing: bool
    paginated_only: bool
    component: str


@dataclass(frozen=True)
class StatusCode:
    code: int
    anchor: str
    doc: str


@dataclass(frozen=True)
class Transport:
    envelope_anchor: str
    envelope_doc: str
    envelope_fields: tuple[Field, ...]
    headers: tuple[Header, ...]
    status_codes: tuple[StatusCode, ...]


@dataclass(frozen=True)
class Role:
    """A market role and the interfaces a server in that role exposes."""

    name: str
    slug: str
    interfaces: tuple[Interface, ...]


@dataclass(frozen=True)
class Extension:
    """An optional extension included in this generation (``spec/<version>/extensions/<id>/``)."""

    id: str
    name: str
    release: str
    edition: str
    anchor: str
    doc: str
    #: Ids of the modules the extension defines.
    modules: tuple[str, ...]
    #: One readable line per thing it adds to the core ("field CDR.booking_id", ...).
    adds: tuple[str, ...]


@dataclass(frozen=True)
class Spec:
    version: str
    edition: str
    interface_roles: tuple[str, ...]
    routing_headers: bool
    token_base64: bool
    types: tuple[NamedType, ...]
    modules: tuple[Module, ...]
    transport: Transport
    roles: tuple[Role, ...]
    #: The optional extensions merged into this spec, in their folder order; empty for the core alone.
    extensions: tuple[Extension, ...] = ()
    #: A PATCH body must carry ``last_updated`` when its object has it (2.2 on).
    patch_last_updated: bool = False
    _by_name: dict[str, NamedType] = field(default_factory=dict, compare=False, repr=False)

    @property
    def label(self) -> str:
        """The version with its extensions, as the CLI accepts it: ``2.3.0``, ``2.3.0+payments+bookings``."""
        return "+".join((self.version, *(e.id for e in self.extensions)))

    def type(self, name: str) -> NamedType:
        return self._by_name[name]

    @property
    def interfaces(self) -> tuple[Interface, ...]:
        return tuple(i for m in self.modules for i in m.interfaces)

    def reachable_types(self, roots: list[str]) -> tuple[NamedType, ...]:
        """Named types reachable from ``roots``, in spec order."""
        seen: set[str] = set()
        stack = list(roots)
        while stack:
            name = stack.pop()
            if name in seen or name not in self._by_name:
                continue
            seen.add(name)
            t = self._by_name[name]
            if isinstance(t, ObjectType):
                stack.extend(f.type.name for f in t.fields if not f.type.primitive)
        return tuple(t for t in self.types if t.name in seen)
