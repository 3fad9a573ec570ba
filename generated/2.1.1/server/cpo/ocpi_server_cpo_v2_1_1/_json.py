"""JSON text for the server runtime: exact numbers, pydantic models and pre-serialised fragments.

Static: copied verbatim into every generated server package; names no OCPI version's models.

* ``dumps`` writes compact UTF-8 JSON. ``Decimal`` values become bare JSON numbers with exactly
  their digits (never strings, never through a binary float); pydantic models are written by alias
  without None fields; ``RawJSON`` fragments are spliced in verbatim.
* ``loads`` parses JSON text keeping non-integer numbers as exact ``Decimal`` values and rejecting
  NaN/Infinity, which are not JSON.
"""

from __future__ import annotations

import enum
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Generic, TypeVar, overload
from uuid import UUID

from pydantic import BaseModel

from .client._types import OcpiModel
from .client._wire import format_datetime, load_json

__all__ = ["RawJSON", "RawJSONArray", "Stored", "dumps", "dumps_bytes", "loads", "model_to_jsonable"]

M = TypeVar("M", bound=BaseModel)

_encode_string: Callable[[str], str] = json.encoder.encode_basestring


class RawJSON:
    """A pre-serialised JSON value (for example ``model.to_json()`` bytes), written verbatim.

    ``RawJSON(b'{"id": "1"}')`` can stand wherever a value may: as the ``data`` of a response or
    as an item of a list. The fragment is kept as UTF-8 bytes (``data``), so a response made of
    fragments is joined without decoding any of them. With ``validate=True`` the text is parsed
    once to make sure it is JSON.
    """

    __slots__ = ("data",)

    def __init__(self, data: bytes | bytearray | str, *, validate: bool = False) -> None:
        raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        if validate:
            loads(raw)
        if raw[:1].isspace() or raw[-1:].isspace():
            raw = raw.strip()
        if not raw:
            raise ValueError("RawJSON needs a JSON value, got empty text")
        self.data = raw

    @classmethod
    def trusted(cls, data: bytes) -> RawJSON:
        """Wrap bytes known to be compact JSON (e.g. what a store wrote with ``dumps``): no checks."""
        raw = cls.__new__(cls)
        raw.data = data
        return raw

    @property
    def text(self) -> str:
        """The fragment as text."""
        return self.data.decode("utf-8")

    def __repr__(self) -> str:
        return f"RawJSON({self.data[:60]!r}{'...' if len(self.data) > 60 else ''})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RawJSON) and other.data == self.data

    def __hash__(self) -> int:
        return hash(self.data)


class Stored(RawJSON, Generic[M]):
    """An object as the store holds it (compact UTF-8 JSON), standing for a ``model`` instance.

    What the default single-object handlers return: the response splices the bytes in as they are
    (a ``RawJSON``), nothing decoded, validated or re-encoded. ``model()`` reads it as the model
    (exact numbers, unknown fields kept) for code that wants the typed object.
    """

    __slots__ = ("model_type",)

    def __init__(self, data: bytes, model_type: type[M]) -> None:
        self.data = data
        self.model_type = model_type

    def model(self) -> M:
        """The stored JSON validated as the model."""
        return self.model_type.model_validate(loads(self.data))

    def __repr__(self) -> str:
        return f"Stored[{self.model_type.__name__}]({self.data[:60]!r}{'...' if len(self.data) > 60 else ''})"


class RawJSONArray(Sequence[RawJSON]):
    """A JSON array of pre-serialised items (compact UTF-8 JSON each), e.g. a page of stored
    objects. It reads as a sequence of ``RawJSON``; written, its items are spliced in directly."""

    __slots__ = ("items",)

    def __init__(self, items: list[bytes]) -> None:
        self.items = items

    def __len__(self) -> int:
        return len(self.items)

    @overload
    def __getitem__(self, index: int) -> RawJSON: ...

    @overload
    def __getitem__(self, index: slice) -> list[RawJSON]: ...

    def __getitem__(self, index: int | slice) -> RawJSON | list[RawJSON]:
        if isinstance(index, slice):
            return [RawJSON.trusted(item) for item in self.items[index]]
        return RawJSON.trusted(self.items[index])

    def __repr__(self) -> str:
        return f"RawJSONArray(<{len(self.items)} items>)"


loads = load_json
"""The client runtime's ``load_json``: exact ``Decimal`` numbers, NaN/Infinity rejected."""


# Strings of a JSON-mode dump that may stand for a Decimal, or for a datetime not in OCPI's form.
_SUSPECT_STRING = re.compile(
    r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?" r"|[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(?:[+-][0-9:]+)?"
)


def _has_suspect_string(value: Any) -> bool:
    if isinstance(value, str):
        return _SUSPECT_STRING.fullmatch(value) is not None
    if isinstance(value, dict):
        return any(_has_suspect_string(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_suspect_string(item) for item in value)
    return False


def _restore(json_value: Any, python_value: Any) -> Any:
    """Where the JSON-mode dump wrote a string for a ``Decimal`` or a ``datetime`` of the
    python-mode dump, put the Decimal back (a number) or write the datetime as OCPI UTC ``Z``."""
    if isinstance(json_value, str):
        if isinstance(python_value, Decimal) and python_value.is_finite():
            return python_value
        if isinstance(python_value, datetime):
            return format_datetime(python_value)
        return json_value
    if isinstance(json_value, dict) and isinstance(python_value, dict):
        return {key: _restore(item, python_value.get(key)) for key, item in json_value.items()}
    if (
        isinstance(json_value, list)
        and isinstance(python_value, (list, tuple))
        and len(json_value) == len(python_value)
    ):
        return [_restore(a, b) for a, b in zip(json_value, python_value, strict=True)]
    return json_value


def model_to_jsonable(model: BaseModel) -> Any:
    """A pydantic model as JSON-ready values: by alias, None fields left out, Decimals kept exact.

    JSON mode stays authoritative (custom serialisers apply). Where plain pydantic writes a
    ``Decimal`` as a string, the Decimal is put back so that ``dumps`` writes a number; a plain
    ``datetime`` is written as OCPI wants it (UTC, ``Z``; naive means UTC) instead of pydantic's
    zone-less or offset form. Models whose JSON dump holds no such string are dumped once. An
    ``OcpiModel`` marks its own numbers and needs no second dump.
    """
    if isinstance(model, OcpiModel):
        return model.exact_json_values(by_alias=True, exclude_unset=False, exclude_none=True)
    dumped = model.model_dump(mode="json", by_alias=True, exclude_unset=False, exclude_none=True)
    if _has_suspect_string(dumped):
        python = model.model_dump(mode="python", by_alias=True, exclude_unset=False, exclude_none=True)
        dumped = _restore(dumped, python)
    return dumped


def _key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, enum.Enum):
        return _key(key.value)
    if isinstance(key, (int, float, Decimal, UUID)) and not isinstance(key, bool):
        return str(key)
    raise TypeError(f"JSON object keys must be strings, not {type(key).__name__}")


def _string(value: str) -> bytes:
    return _encode_string(value).encode("utf-8")


def _encode(value: Any, out: list[bytes]) -> None:
    """Append the JSON of ``value`` to ``out`` as UTF-8 pieces (bytes only: joined once)."""
    if value is None:
        out.append(b"null")
    elif value is True:
        out.append(b"true")
    elif value is False:
        out.append(b"false")
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, RawJSON):
        out.append(value.data)
    elif isinstance(value, RawJSONArray):
        if value.items:
            parts = [b","] * (2 * len(value.items) - 1)
            parts[::2] = value.items
            out.append(b"[")
            out.extend(parts)
            out.append(b"]")
        else:
            out.append(b"[]")
    elif isinstance(value, int):
        out.append(int.__repr__(value).encode("ascii"))
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("NaN and infinity cannot be written as JSON")
        out.append(float.__repr__(value).encode("ascii"))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("NaN and infinity cannot be written as JSON")
        out.append(str(value).encode("ascii"))  # str() of a finite Decimal: a JSON number, its exact digits
    elif isinstance(value, OcpiModel):  # pydantic-core writes it whole: no Python per field
        out.append(value.wire_json(exclude_unset=False, exclude_none=True))
    elif isinstance(value, BaseModel):
        _encode(model_to_jsonable(value), out)
    elif isinstance(value, Mapping):
        separator = b"{"
        for key, item in value.items():
            out.append(separator)
            separator = b","
            out.append(_string(_key(key)))
            out.append(b":")
            _encode(item, out)
        out.append(b"}" if separator == b"," else b"{}")
    elif isinstance(value, (list, tuple, set, frozenset)):
        separator = b"["
        for item in value:
            out.append(separator)
            separator = b","
            _encode(item, out)
        out.append(b"]" if separator == b"," else b"[]")
    elif isinstance(value, datetime):
        out.append(_string(format_datetime(value)))
    elif isinstance(value, (date, time)):
        out.append(_string(value.isoformat()))
    elif isinstance(value, enum.Enum):
        _encode(value.value, out)
    elif isinstance(value, UUID):
        out.append(_string(str(value)))
    elif isinstance(value, (bytes, bytearray)):
        raise TypeError("bytes are not JSON: wrap pre-serialised JSON in RawJSON")
    else:
        raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps_bytes(value: Any) -> bytes:
    """Compact UTF-8 JSON of ``value`` (see the module docstring for the types it knows).

    ``RawJSON`` fragments go in as they are, and the pieces are joined once: a page of stored
    objects costs one allocation of its size."""
    out: list[bytes] = []
    _encode(value, out)
    return b"".join(out)


def dumps(value: Any) -> str:
    """``dumps_bytes`` as text."""
    return dumps_bytes(value).decode("utf-8")
