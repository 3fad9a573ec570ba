"""Base model and wire types shared by every generated OCPI client.

This module is copied verbatim into each generated package: it names no OCPI version's models.

* ``OcpiModel`` keeps unknown fields, leaves unset optional fields out of the JSON it writes and
  writes ``Number`` values as exact JSON numbers.
* ``Number`` is a ``Decimal`` that never passes through a binary float when read from JSON text.
* ``DateTime`` reads RFC 3339 with ``Z``, an offset or no zone (UTC) and writes UTC with ``Z``.
* ``OpenStrEnum`` keeps values it does not know instead of failing.
* ``parse_items`` validates a list item by item, skipping (lenient) or raising (strict) on bad items.
"""

from __future__ import annotations

import enum
import re
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, AnyStr, Self, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    GetCoreSchemaHandler,
    PlainSerializer,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
)
from pydantic_core import CoreSchema, InitErrorDetails, PydanticCustomError, core_schema

from ._wire import as_utc, ci_equal, ci_key, format_datetime, gc_paused, load_json, parse_datetime

__all__ = [
    "CiString",
    "DateTime",
    "Deviation",
    "Number",
    "OcpiModel",
    "OpenStrEnum",
    "ci_equal",
    "ci_key",
    "format_datetime",
    "json_number",
    "load_json",
    "parse_datetime",
    "parse_items",
    "parse_one",
    "to_decimal",
    "to_json_list",
]

M = TypeVar("M", bound=BaseModel)

# --------------------------------------------------------------------------------------------------
# JSON text <-> Python values, numbers kept exact
# --------------------------------------------------------------------------------------------------


# While a dump runs with this set, Number values (and Decimals in unknown fields) are written as
# marked strings, "~N~1.50~N~", that ``_restore_numbers`` turns back into bare JSON numbers. N is
# a random per-process nonce (64 bits), so no string a peer or a user supplies can be mistaken
# for a mark; it is short because every number of a dump carries it twice.
_NONCE = secrets.token_urlsafe(8).replace("-", "+").replace("_", "/")  # no JSON escaping needed
_NUMBER_MARK = f"~{_NONCE}~"
_EXACT_NUMBERS: ContextVar[bool] = ContextVar("ocpi_exact_numbers", default=False)


@contextmanager
def _exact_numbers() -> Iterator[None]:
    token = _EXACT_NUMBERS.set(True)
    try:
        yield
    finally:
        _EXACT_NUMBERS.reset(token)


_MARKS: dict[type, tuple[Any, Any]] = {
    str: ('"' + _NUMBER_MARK, _NUMBER_MARK + '"'),
    bytes: (('"' + _NUMBER_MARK).encode("ascii"), (_NUMBER_MARK + '"').encode("ascii")),
}


def _restore_numbers(data: AnyStr) -> AnyStr:
    """'"<mark>1.50<mark>"' -> '1.50' in the text or bytes of a dump; two passes of replace, no
    per-number Python."""
    opening, closing = _MARKS[type(data)]
    if opening not in data:
        return data
    return data.replace(opening, data[:0]).replace(closing, data[:0])


def json_number(value: Decimal) -> int | float:
    """A number as plain ``json`` writes one: ``int`` for a whole number written without a
    fraction (``5``, ``1E+2``), else ``float``. The float is the nearest binary value: exact to
    the value for up to 15 significant digits, but ``1.50`` comes back as ``1.5``. For the exact
    digits write JSON with ``OcpiModel.to_json()``."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= 0:
        return int(value)
    return float(value)


def _numbers_from_marks(value: Any, number: Callable[[Decimal], Any]) -> Any:
    """Turn marked number strings of a JSON-mode dump into ``number(Decimal)``, in place."""
    if isinstance(value, str):
        if len(value) > 2 * len(_NUMBER_MARK) and value.startswith(_NUMBER_MARK) and value.endswith(_NUMBER_MARK):
            return number(Decimal(value[len(_NUMBER_MARK) : -len(_NUMBER_MARK)]))
        return value
    if isinstance(value, dict):
        for key, item in value.items():
            value[key] = _numbers_from_marks(item, number)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            value[i] = _numbers_from_marks(item, number)
    return value


def _marked_decimals(value: Any) -> Any:
    """Copy of a JSON value from an unknown field with its Decimals marked for exact output."""
    if isinstance(value, Decimal):
        return _NUMBER_MARK + str(value) + _NUMBER_MARK if value.is_finite() else str(value)
    if isinstance(value, dict):
        return {key: _marked_decimals(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_marked_decimals(item) for item in value]
    return value


def _serialize_extra(value: Any) -> Any:
    """An unknown field's value in a JSON dump: its Decimals marked, so that they come out as numbers."""
    return _marked_decimals(value) if _EXACT_NUMBERS.get() else value


_ExtraValue = Annotated[Any, PlainSerializer(_serialize_extra, when_used="json")]


# --------------------------------------------------------------------------------------------------
# Number
# --------------------------------------------------------------------------------------------------

_NUMERIC_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def to_decimal(value: Any) -> Decimal:
    """Validate one OCPI number: Decimal, int, float (through ``str``) or numeric text; finite only."""
    if isinstance(value, bool):
        raise PydanticCustomError("ocpi_number", "a boolean is not a number")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(str(value))
    elif isinstance(value, str):
        text = value.strip()
        if not _NUMERIC_TEXT.fullmatch(text):
            raise PydanticCustomError("ocpi_number", "not a number: {value}", {"value": value[:40]})
        try:
            result = Decimal(text)
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid literals
            raise PydanticCustomError("ocpi_number", "not a number: {value}", {"value": value[:40]}) from None
    else:
        raise PydanticCustomError("ocpi_number", "expected a number, got {type}", {"type": type(value).__name__})
    if not result.is_finite():
        raise PydanticCustomError("ocpi_number", "NaN and infinity are not valid numbers")
    return result


def _serialize_number(value: Decimal) -> str:
    # str() of a finite Decimal is a valid JSON number with the value's exact digits.
    # Concatenation, not an f-string: format() of a Decimal costs twice str() (once per number).
    if _EXACT_NUMBERS.get():
        return _NUMBER_MARK + str(value) + _NUMBER_MARK
    return str(value)  # a foreign JSON dump (not through OcpiModel): pydantic's own form


class _NumberSchema:
    """Validation of ``Number``: a finite ``Decimal`` (what ``load_json`` makes of a JSON number)
    is taken by pydantic-core itself; anything else goes through ``to_decimal``."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.union_schema(
            [
                core_schema.decimal_schema(strict=True, allow_inf_nan=False),
                core_schema.no_info_plain_validator_function(to_decimal),
            ],
            mode="left_to_right",
            custom_error_type="ocpi_number",
            custom_error_message="expected a finite number (a JSON number, an int, a Decimal or numeric text)",
            serialization=core_schema.plain_serializer_function_ser_schema(_serialize_number, when_used="json"),
        )


Number = Annotated[Decimal, _NumberSchema(), WithJsonSchema({"type": "number"})]
"""An OCPI ``number``: an exact ``Decimal``, written as a bare JSON number with the same digits."""

# --------------------------------------------------------------------------------------------------
# DateTime
# --------------------------------------------------------------------------------------------------


def _to_utc_datetime(value: Any) -> datetime:
    if isinstance(value, str):
        try:
            return parse_datetime(value)
        except ValueError as exc:
            raise PydanticCustomError("ocpi_datetime", "{error}", {"error": str(exc)}) from None
    if isinstance(value, datetime):
        return as_utc(value)
    raise PydanticCustomError(
        "ocpi_datetime", "expected an RFC 3339 date-time string, got {type}", {"type": type(value).__name__}
    )


def _datetime_form(value: Any) -> str:
    """Which writer a DateTime value needs: pydantic-core's own ("whole", for a whole second in
    UTC, which it writes as ``2015-06-29T20:39:09Z`` exactly as OCPI does) or ``format_datetime``
    (a fraction, which pydantic would write with six digits, past string(25); or anything else)."""
    if type(value) is datetime and value.tzinfo is UTC and not value.microsecond:
        return "whole"
    return "other"


class _DateTimeSchema:
    """Validation of ``DateTime``: ``_to_utc_datetime``. Writing: most values (whole seconds in
    UTC) by pydantic-core alone; the rest by ``format_datetime``. The second step of the chain
    only picks the writer: it takes any datetime the first step returns, unchanged."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.chain_schema(
            [
                core_schema.no_info_plain_validator_function(_to_utc_datetime),
                core_schema.tagged_union_schema(
                    {
                        "whole": core_schema.datetime_schema(),
                        "other": core_schema.any_schema(
                            serialization=core_schema.plain_serializer_function_ser_schema(
                                format_datetime, when_used="json"
                            )
                        ),
                    },
                    discriminator=_datetime_form,
                ),
            ]
        )


DateTime = Annotated[datetime, _DateTimeSchema(), WithJsonSchema({"type": "string", "format": "date-time"})]
"""An OCPI ``DateTime``: always an aware datetime in UTC; written as ``2015-06-29T20:39:09Z``."""

# --------------------------------------------------------------------------------------------------
# Enums and case-insensitive strings
# --------------------------------------------------------------------------------------------------


class OpenStrEnum(enum.StrEnum):
    """Base of OCPI OpenEnums: a value the enum does not list is kept rather than rejected.

    ``MyEnum("NEW_VALUE")`` returns a pseudo-member whose ``value`` is ``"NEW_VALUE"`` and whose
    ``is_known`` is False; it compares equal to its string and is written back unchanged.
    """

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = value
        member._value_ = value
        return member

    @property
    def is_known(self) -> bool:
        """True when the value is one the enum lists; False for a kept unknown value."""
        member = type(self)._value2member_map_.get(self._value_)
        return member is self


CiString = str
"""OCPI ``CiString``: a plain ``str``; compare values with ``ci_equal`` (ASCII case-insensitive)."""


# --------------------------------------------------------------------------------------------------
# Base model
# --------------------------------------------------------------------------------------------------


class OcpiModel(BaseModel):
    """Base of every generated OCPI object.

    Unknown JSON fields are kept and written back. ``to_json`` writes by alias, leaves out optional
    fields that are None and were never set, and writes numbers as exact JSON numbers.
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
        arbitrary_types_allowed=True,
        validate_assignment=True,
    )

    # Unknown fields: their values go through one small serialiser (exact numbers), while known
    # fields are written by pydantic-core alone; no Python runs per model when writing JSON.
    # Hidden from type checkers, which would take it for a constructor argument.
    if not TYPE_CHECKING:
        __pydantic_extra__: dict[str, _ExtraValue]

    def to_json(self, *, partial: bool = False) -> bytes:
        """JSON body for this object, by alias.

        Fields that were never set are left out: OCPI optional fields are absent, not null (every
        optional field of a generated model defaults to None), while a None set on purpose is
        written as null. ``partial=True`` says the object is a PATCH body: only the fields the
        caller set (the same rule, so a PATCH never sends a default it did not choose).
        """
        with _exact_numbers():
            data = self.__pydantic_serializer__.to_json(self, by_alias=True, exclude_unset=True)
        return _restore_numbers(data)

    def wire_json(self, *, exclude_unset: bool = True, exclude_none: bool = False) -> bytes:
        """JSON bytes by alias with exact numbers, written by pydantic-core in one call; ``to_json()``
        is ``wire_json()``. The server writes an object with ``exclude_unset=False, exclude_none=True``."""
        with _exact_numbers():
            data = self.__pydantic_serializer__.to_json(
                self, by_alias=True, exclude_unset=exclude_unset, exclude_none=exclude_none
            )
        return _restore_numbers(data)

    @classmethod
    def from_json(cls, data: bytes | bytearray | str) -> Self:
        """Parse JSON text into this model (numbers stay exact)."""
        return cls.model_validate_json(data)

    @classmethod
    def model_validate_json(cls, json_data: str | bytes | bytearray, **kwargs: Any) -> Self:
        """Like pydantic's, but JSON numbers reach ``Number`` fields as exact Decimals."""
        try:
            obj = load_json(json_data)
        except (ValueError, UnicodeDecodeError) as exc:
            text = json_data if isinstance(json_data, str) else bytes(json_data).decode("utf-8", "replace")
            details: InitErrorDetails = {
                "type": PydanticCustomError("json_invalid", "Invalid JSON: {error}", {"error": str(exc)}),
                "loc": (),
                "input": text[:200],
            }
            raise ValidationError.from_exception_data(cls.__name__, [details]) from None
        with gc_paused():
            return cls.model_validate(obj, **kwargs)

    def model_dump_json(self, **kwargs: Any) -> str:
        """Like pydantic's, but ``Number`` values are written as exact JSON numbers, and by default
        (``by_alias=True, exclude_unset=True``) the same text as ``to_json()``: unset fields absent."""
        kwargs.setdefault("by_alias", True)
        kwargs.setdefault("exclude_unset", True)
        with _exact_numbers():
            text = super().model_dump_json(**kwargs)
        return _restore_numbers(text)

    def model_dump(self, *, mode: str = "python", **kwargs: Any) -> dict[str, Any]:
        """Like pydantic's in python mode (numbers are ``Decimal``).

        ``mode="json"`` gives what ``json.dumps`` accepts: the values of ``to_json()`` (by default
        by alias, unset fields absent) with each number an ``int`` or a ``float`` (``json_number``:
        exact up to 15 significant digits). To write a number's exact digits, use ``to_json()``.
        """
        if mode != "json":
            return super().model_dump(mode=mode, **kwargs)
        return self._json_values(json_number, kwargs)

    def exact_json_values(self, **kwargs: Any) -> dict[str, Any]:
        """JSON-mode values (like ``model_dump(mode="json")``, same defaults) with numbers as exact
        ``Decimal``: for an encoder that writes a ``Decimal`` as a bare number with its digits."""
        return self._json_values(Decimal, kwargs)

    def _json_values(self, number: Callable[[Decimal], Any], kwargs: dict[str, Any]) -> dict[str, Any]:
        kwargs.setdefault("by_alias", True)
        kwargs.setdefault("exclude_unset", True)
        with _exact_numbers():
            out = super().model_dump(mode="json", **kwargs)
        result: dict[str, Any] = _numbers_from_marks(out, number)
        return result


@cache
def _list_adapter(model: type[OcpiModel]) -> TypeAdapter[list[Any]]:
    return TypeAdapter(list[model])  # type: ignore[valid-type]


def to_json_list(items: Sequence[OcpiModel]) -> bytes:
    """JSON array of models, each written as its ``to_json()`` writes it; models of one class are
    written by pydantic-core in a single call."""
    if not items:
        return b"[]"
    model = type(items[0])
    if any(type(item) is not model for item in items):
        return b"[" + b",".join(item.to_json() for item in items) + b"]"
    with _exact_numbers():
        data = _list_adapter(model).dump_json(list(items), by_alias=True, exclude_unset=True)
    return _restore_numbers(data)


# --------------------------------------------------------------------------------------------------
# Parsing lists leniently
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deviation:
    """An item of a list that failed validation and was skipped (lenient mode)."""

    index: int
    """Position of the item in the list (in a paginated stream: in the whole stream)."""
    errors: list[dict[str, Any]]
    """pydantic's error details for the item."""
    raw: Any
    """The item as received."""

    def __str__(self) -> str:
        first = self.errors[0] if self.errors else {}
        loc = ".".join(str(part) for part in first.get("loc", ()))
        msg = first.get("msg", "invalid")
        more = f" (+{len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
        return f"item {self.index}: {loc + ': ' if loc else ''}{msg}{more}"


def error_details(exc: ValidationError) -> list[dict[str, Any]]:
    """pydantic's error details as plain dicts, without documentation URLs."""
    return [dict(detail) for detail in exc.errors(include_url=False)]


def parse_one(model: type[M], raw: Any) -> M:
    """Validate one JSON value (already parsed) into ``model``; raises pydantic.ValidationError."""
    return model.model_validate(raw)


def parse_items(model: type[M], items: Iterable[Any], *, lenient: bool) -> tuple[list[M], list[Deviation]]:
    """Validate every item; strict raises on the first bad one, lenient skips and records it."""
    parsed: list[M] = []
    deviations: list[Deviation] = []
    with gc_paused():
        for index, raw in enumerate(items):
            try:
                parsed.append(model.model_validate(raw))
            except ValidationError as exc:
                if not lenient:
                    raise
                deviations.append(Deviation(index=index, errors=error_details(exc), raw=raw))
    return parsed, deviations
