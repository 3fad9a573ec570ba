"""Sample OCPI JSON built from the transcribed tables: every field of every object set.

Used by the client and server tests to exercise every object and endpoint of every version without
hand-writing thousands of fixtures; values respect the types, lengths and cardinalities of the tables.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from generator.ir import EnumType, ObjectType, Spec, TypeRef

DATETIME = "2024-03-04T05:06:07Z"
NUMBER = Decimal("12.3456")


def primitive(t: TypeRef, name: str = "") -> Any:
    if t.name == "DateTime":
        return DATETIME
    if t.name == "number":
        return NUMBER
    if t.name == "int":
        return 7 if t.length is None or t.length > 1 else 3
    if t.name == "boolean":
        return True
    if t.name == "URL":
        return f"https://peer.example.com/{name or 'x'}"
    if t.name == "any":
        return {"any": "value"}
    text = (name or "v").upper().replace("_", "")
    return text[: t.length] if t.length else text


def value(spec: Spec, t: TypeRef, name: str = "", *, unknown_enums: bool = False, depth: int = 0) -> Any:
    if t.primitive:
        return primitive(t, name)
    target = spec.type(t.name)
    if isinstance(target, EnumType):
        if unknown_enums and target.open:
            return "X_FUTURE_VALUE"
        return target.values[0].value
    return obj(spec, target, unknown_enums=unknown_enums, depth=depth + 1)


def obj(
    spec: Spec, t: ObjectType, *, unknown_enums: bool = False, extra: bool = False, depth: int = 0
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in t.fields:
        if depth > 6 and not f.required:
            continue
        v = value(spec, f.type, f.name, unknown_enums=unknown_enums, depth=depth)
        out[f.name] = [v] if f.is_list else v
    if extra:
        out["x_vendor_extension"] = {"kept": True, "n": 1}
    return out


def dumps(data: Any) -> str:
    """JSON text with Decimals written as exact numbers."""
    return json.dumps(_mark(data))[:].replace('"\\u0000', "").replace('\\u0000"', "")


def _mark(data: Any) -> Any:
    if isinstance(data, Decimal):
        return f"\u0000{data}\u0000"
    if isinstance(data, dict):
        return {k: _mark(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_mark(v) for v in data]
    return data


def loads(text: str | bytes) -> Any:
    return json.loads(text, parse_float=Decimal)
