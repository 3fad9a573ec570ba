"""The one authority for names: every identifier in generated output comes from here."""

from __future__ import annotations

import keyword
import re

_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_RESERVED = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | {"self", "cls"}


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
    """Escape Python keywords and builtins that would shadow names: 'type' stays, 'from' -> 'from_'."""
    return name + "_" if name in _RESERVED else name


_PRIMITIVE_PY = {"number": "Decimal", "int": "int", "boolean": "bool", "DateTime": "datetime", "any": "Any"}


def python_type(type_name: str, primitive: bool) -> str:
    """The Python annotation of one value of an OCPI type: a primitive's Python type or the model name."""
    return _PRIMITIVE_PY.get(type_name, "str") if primitive else type_name


def field_name(name: str) -> str:
    """A model attribute for a JSON field: snake_case, keywords escaped ('RFID_auth_required' -> 'rfid_auth_required')."""
    return py_identifier(name if name.islower() or not any(c.isalpha() for c in name) else name.lower())


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
