"""Strict validation of OCPI JSON against the transcribed object tables (the IR), with a path per problem.

Strict in what it reports: a missing required field, ``null`` where a value is required, a wrong JSON
type, a string longer than its declared length, a value outside a closed enum, a DateTime that is not
RFC 3339, a list where one value is expected (and the other way round). Fields the tables do not know
are not errors (vendors add their own); they are counted so that the report can mention them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from generator.ir import IMPLIED_LENGTH, EnumType, ObjectType, Spec, TypeRef

#: RFC 3339 as OCPI writes it (types_datetime_type): seconds required, fraction and zone optional.
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")


@dataclass
class Validation:
    problems: list[str] = field(default_factory=list)
    unknown_fields: set[str] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return not self.problems


def validate_object(spec: Spec, type_name: str, data: Any, where: str = "$") -> Validation:
    """Problems of ``data`` as an instance of the named object (or enum) type of ``spec``."""
    out = Validation()
    _value(spec, TypeRef(type_name, primitive=False), data, where, out, 0)
    return out


def _value(spec: Spec, t: TypeRef, data: Any, where: str, out: Validation, depth: int) -> None:
    if depth > 32:
        return
    if t.primitive:
        problem = primitive_problem(t, data)
        if problem:
            out.problems.append(f"{where}: {problem}")
        return
    target = spec.type(t.name)
    if isinstance(target, EnumType):
        if not isinstance(data, str):
            out.problems.append(f"{where}: expected a {t.name} value (string), got {_kind(data)}")
        elif not target.open and data not in {v.value for v in target.values}:
            out.problems.append(f"{where}: {data!r} is not a {t.name} value")
        return
    _object(spec, target, data, where, out, depth)


def _object(spec: Spec, t: ObjectType, data: Any, where: str, out: Validation, depth: int) -> None:
    if not isinstance(data, dict):
        out.problems.append(f"{where}: expected a {t.name} object, got {_kind(data)}")
        return
    known = {f.name for f in t.fields}
    out.unknown_fields.update(f"{t.name}.{k}" for k in data if k not in known)
    for f in t.fields:
        path = f"{where}.{f.name}"
        if f.name not in data or data[f.name] is None:
            if f.required:
                out.problems.append(f"{path}: required field is {'null' if f.name in data else 'missing'}")
            continue
        value = data[f.name]
        if f.is_list:
            if not isinstance(value, list):
                out.problems.append(f"{path}: expected a list, got {_kind(value)}")
                continue
            if f.card == "+" and not value:
                out.problems.append(f"{path}: at least one item is required")
            for n, item in enumerate(value):
                _value(spec, f.type, item, f"{path}[{n}]", out, depth + 1)
        else:
            _value(spec, f.type, value, path, out, depth + 1)


def primitive_problem(t: TypeRef, data: Any) -> str | None:
    """What is wrong with ``data`` as a value of primitive ``t``, or None."""
    name = t.name
    if name == "any":
        return None
    if name == "boolean":
        return None if isinstance(data, bool) else f"expected a boolean, got {_kind(data)}"
    if name == "int":
        return None if isinstance(data, int) and not isinstance(data, bool) else f"expected an int, got {_kind(data)}"
    if name == "number":
        ok = isinstance(data, (int, float, Decimal)) and not isinstance(data, bool)
        return None if ok else f"expected a number, got {_kind(data)}"
    if not isinstance(data, str):
        return f"expected a {name} (string), got {_kind(data)}"
    if name == "DateTime":
        return None if _DATETIME.match(data) else f"{data!r} is not an RFC 3339 DateTime"
    if name == "URL" and not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", data):
        return f"{data!r} is not an absolute URL"
    if name == "CiString" and not all(" " <= c <= "~" for c in data):
        return f"{data!r} is not printable ASCII (CiString)"
    length = t.length or IMPLIED_LENGTH.get(name)
    if length is not None and len(data) > length:
        return f"{len(data)} characters, longer than {name}({length})"
    return None


def _kind(data: Any) -> str:
    if data is None:
        return "null"
    if isinstance(data, bool):
        return "a boolean"
    if isinstance(data, (int, float, Decimal)):
        return "a number"
    if isinstance(data, str):
        return "a string"
    if isinstance(data, list):
        return "a list"
    if isinstance(data, dict):
        return "an object"
    return type(data).__name__
