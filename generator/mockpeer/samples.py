"""Sample OCPI objects built from the transcribed tables: every field set, values of the right type,
length and cardinality, plausible where the field name says what it holds (a city, a currency...).

``sample(spec, "Location", owner=("NL", "MCK"), object_id="LOC0001", stamp=...)`` is one object;
``seed_objects`` makes a list of them with spread ``last_updated`` times for a sender's list.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from generator.ir import EnumType, ObjectType, Spec, TypeRef

#: Plausible values for fields by name (cut to the declared length when longer).
_BY_NAME: dict[str, Any] = {
    "address": "Damrak 1",
    "city": "Amsterdam",
    "postal_code": "1012LG",
    "state": "Noord-Holland",
    "country": "NLD",
    "latitude": "52.373100",
    "longitude": "4.892200",
    "time_zone": "Europe/Amsterdam",
    "currency": "EUR",
    "language": "en",
    "text": "Sample text",
    "name": "Mock Station",
    "website": "https://mock-peer.example.com",
    "url": "https://mock-peer.example.com/info",
    "contract_id": "NL-MCK-C12345678-X",
    "visual_number": "NL-MCK-012345-6",
    "issuer": "Mock Mobility",
    "auth_id": "NL-MCK-C12345678-X",
    "physical_reference": "1",
    "floor_level": "0",
    "category": "PARKING",
}

#: The first instant of sample data; objects are a minute apart after it.
EPOCH = datetime(2025, 1, 6, 8, 0, 0, tzinfo=UTC)


def stamp(minutes: int) -> str:
    """An OCPI DateTime ``minutes`` after ``EPOCH``."""
    return (EPOCH + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def primitive(t: TypeRef, name: str, n: int) -> Any:
    if t.name == "DateTime":
        return stamp(n)
    if t.name == "number":
        return Decimal("12.50")
    if t.name == "int":
        return 1 if t.length is not None and t.length <= 1 else 3
    if t.name == "boolean":
        return True
    if t.name == "any":
        return {"sample": True}
    if t.name == "URL":
        return f"https://mock-peer.example.com/{name or 'x'}"
    text = _BY_NAME.get(name)
    if not isinstance(text, str):
        text = f"{name.upper().replace('_', '')}{n}" if t.name == "CiString" else f"{name.replace('_', ' ')} {n}"
    return text[: t.length] if t.length else text


def _value(spec: Spec, t: TypeRef, name: str, n: int, depth: int) -> Any:
    if t.primitive:
        return primitive(t, name, n)
    target = spec.type(t.name)
    if isinstance(target, EnumType):
        return target.values[0].value
    return _object(spec, target, n, depth + 1)


def _object(spec: Spec, t: ObjectType, n: int, depth: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in t.fields:
        if depth > 5 and not f.required:
            continue
        v = _value(spec, f.type, f.name, n, depth)
        out[f.name] = [v] if f.is_list else v
    return out


def id_field(t: ObjectType) -> str | None:
    """The field that names an object of this type: ``id``, ``uid`` (tokens) or None."""
    return next((name for name in ("id", "uid") if t.field_named(name) is not None), None)


def sample(
    spec: Spec,
    type_name: str,
    *,
    owner: tuple[str, str] | None = None,
    object_id: str | None = None,
    last_updated: str | None = None,
    n: int = 1,
) -> dict[str, Any]:
    """One object of ``type_name`` with every field set; owner, id and ``last_updated`` as given."""
    t = spec.type(type_name)
    if not isinstance(t, ObjectType):
        raise TypeError(f"{type_name} is not an object type")
    data = _object(spec, t, n, 0)
    if owner is not None:
        for name, value in zip(("country_code", "party_id"), owner, strict=True):
            if name in data:
                data[name] = value
    key = id_field(t)
    if key is not None and object_id is not None:
        data[key] = object_id
    if last_updated is not None and "last_updated" in data:
        data["last_updated"] = last_updated
    return data


def seed_objects(spec: Spec, type_name: str, owner: tuple[str, str], count: int) -> list[tuple[str, dict[str, Any]]]:
    """``count`` objects ``(id, data)`` of ``type_name``, a minute apart, for one sender's list."""
    prefix = "".join(c for c in type_name.upper() if c.isalpha())[:4]
    out = []
    for i in range(count):
        oid = f"{prefix}{i + 1:04d}"
        out.append((oid, sample(spec, type_name, owner=owner, object_id=oid, last_updated=stamp(i), n=i + 1)))
    return out
