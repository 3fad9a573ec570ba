"""The one authority for names: every identifier in generated output comes from here.

Python keywords (``from``, ``class``, ``in``...; not the soft keywords ``match``, ``case``, ``type``,
which are valid names) plus ``self`` and ``cls`` get a trailing underscore wherever an OCPI name
becomes a Python identifier: a field ``from`` is the attribute ``from_`` (its JSON name stays ``from``, through the model's alias) and a
query parameter ``from`` is the argument ``from_``. Builtins (``type``, ``id``, ``list``, ``filter``,
...) are kept as written, since users pass them by their OCPI names (``tokens.put(..., type=...)``,
``location.id``): they are attributes, keyword arguments or methods, never module-level names. The
price is paid in the templates: inside a class with a method named ``list`` the builtin is spelled
``builtins.list``, and a function never uses a builtin that one of its parameters shadows
(``tests/test_client_models.py`` checks both rules).
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
#: Hard keywords, written out so that output does not depend on the Python running the generator
#: (3.12 made ``type`` a soft keyword). Soft keywords (``match``, ``case``, ``type``, ``_``) are valid
#: identifiers and stay. ``tests/test_client_models.py`` checks this list against ``keyword.kwlist``.
KEYWORDS = frozenset(
    "False None True and as assert async await break class continue def del elif else except finally for from"
    " global if import in is lambda nonlocal not or pass raise return try while with yield".split()
)
_RESERVED = KEYWORDS | {"self", "cls"}


def words(name: str) -> list[str]:
    """Split an identifier or phrase into words: 'EVSEPosition' -> ['EVSE', 'Position']."""
    return _WORD.findall(name)


def snake(name: str) -> str:
    """snake_case: 'ChargingProfileResponse' -> 'charging_profile_response'."""
    return "_".join(w.lower() for w in words(name))


def pascal(name: str) -> str:
    """PascalCase, keeping all-caps acronyms: 'start_session' -> 'StartSession', 'EVSE' -> 'EVSE'."""
    return "".join(w if w.isupper() else w[:1].upper() + w[1:] for w in words(name))


def constant(value: str) -> str:
    """An enum member name for an OCPI value: '2.2.1' -> 'V2_2_1', 'IEC_62196_T2' stays."""
    name = re.sub(r"[^0-9A-Za-z]+", "_", value).strip("_").upper()
    if not name or name[0].isdigit():
        name = "V" + name if value[:1].isdigit() else "VALUE_" + name
    return py_identifier(name)


def py_identifier(name: str) -> str:
    """Escape Python keywords, ``self`` and ``cls``: 'from' -> 'from_'; builtins such as 'type' stay."""
    return name + "_" if name in _RESERVED else name


def field_name(name: str) -> str:
    """A model attribute for a JSON field: the name as written, keywords escaped ('from' -> 'from_').

    This is the attribute datamodel-code-generator gives the field (``RFID_auth_required`` stays), so
    expressions built from the IR can pass it to a model's constructor; ``tests/test_typemap.py``
    checks every field of every version against the generated models.
    """
    return py_identifier(re.sub(r"\W", "_", name))


def operation_id(module_id: str, role: str, operation: str) -> str:
    """Stable OpenAPI operationId: ('locations', 'SENDER', 'get_evse') -> 'locations_sender_get_evse'."""
    return f"{module_id}_{role.lower()}_{operation}"


def interface_slug(module_id: str, role: str) -> str:
    """File stem of a per-interface document: 'locations-sender'."""
    return f"{module_id}-{role.lower()}"


def role_slug(role: str) -> str:
    """File stem of a per-role document: 'cpo', 'emsp', 'hub'."""
    return role.lower()


def envelope_schema(type_name: str, is_list: bool) -> str:
    """Component name of the response envelope carrying a given data type."""
    return f"{type_name}{'List' if is_list else ''}Envelope"


def patch_schema(type_name: str) -> str:
    """Component name of the partial object a PATCH carries."""
    return f"{type_name}Patch"


def header_parameter(header: str) -> str:
    """Component name of a header parameter: 'X-Request-ID' -> 'XRequestId'... kept readable."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[-_]", header))


def tag(module_name: str) -> str:
    """OpenAPI tag of a module."""
    return module_name


def interface_role(role: str) -> str:
    """The role part of an interface class: 'SENDER' -> 'Sender'; 'BOTH' (versions, credentials) -> 'Api'."""
    return "Api" if role == "BOTH" else pascal(role.lower())


def interface_class(module_name: str, role: str) -> str:
    """Client class of a module interface: ('Charging Profiles', 'RECEIVER') -> 'ChargingProfilesReceiver'."""
    return pascal(module_name.replace(" ", "")) + interface_role(role)


def handler_class(module_name: str, role: str) -> str:
    """Server handler class of a module interface: ('Tokens', 'RECEIVER') -> 'TokensReceiverHandlers'."""
    return pascal(module_name.replace(" ", "")) + pascal(role.lower()) + "Handlers"


def interface_attr(module_id: str, role: str) -> str:
    """Attribute holding one interface of a module: ('locations', 'SENDER') -> 'locations_sender'."""
    return f"{module_id}_{role.lower()}"


def role_client_class(role: str) -> str:
    """Client class for a peer in a role: 'CPO' -> 'CpoClient'."""
    return pascal(role.lower()) + "Client"


def argument(type_name: str) -> str:
    """Argument name of a model passed to a method: 'ChargingProfile' -> 'charging_profile'."""
    return py_identifier(snake(type_name))


def client_package(version: str) -> str:
    """Import name of a version's client package: '2.2.1' -> 'ocpi_client_v2_2_1'."""
    return "ocpi_client_v" + version.replace(".", "_")


def distribution(package: str) -> str:
    """Distribution (pip) name of a package: 'ocpi_client_v2_2_1' -> 'ocpi-client-v2-2-1'."""
    return package.replace("_", "-")


def server_package(role_slug: str, version: str) -> str:
    """Import name of a scaffold's generated package: ('cpo', '2.2.1') -> 'ocpi_server_cpo_v2_2_1'.

    Distinct per role and version, so that several scaffolds install side by side in one venv."""
    return f"ocpi_server_{role_slug}_v" + version.replace(".", "_")


def server_project(role_slug: str, version: str) -> str:
    """Distribution name of a scaffolded server: ('cpo', '2.2.1') -> 'ocpi-server-cpo-v2-2-1'."""
    return distribution(server_package(role_slug, version))


def interface_path(module_id: str, role: str, both: bool) -> str:
    """URL path of an interface below the version base: '/locations', or '/locations/sender' where
    one server holds both interfaces of the module (a hub), so that no two paths collide."""
    return f"/{module_id}/{role.lower()}" if both and role != "BOTH" else f"/{module_id}"
