"""Reading response data into typed values without letting anything untyped escape.

``read_one`` / ``read_list`` validate a response's ``data``; anything they cannot read raises
``InvalidResponseError`` (method, URL, request id, HTTP status, expected versus found). Lenient mode
unwraps a single object sent as a one-element list, ignores ``null`` fields and skips invalid list
items, recording each as a deviation on the peer's profile.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from ._settings import Settings
from ._wire import gc_paused
from .errors import InvalidResponseError

if TYPE_CHECKING:
    from ._transport import OcpiResponse

__all__ = [
    "READ_ERRORS",
    "ItemParser",
    "adapter",
    "describe",
    "drop_nulls",
    "error_summary",
    "read_list",
    "read_one",
    "read_with",
    "validate",
]

T = TypeVar("T")

READ_ERRORS: tuple[type[BaseException], ...] = (
    ValidationError,
    ValueError,
    TypeError,
    ArithmeticError,
    RecursionError,
    KeyError,
    IndexError,
    AttributeError,
)
"""What validating peer data may raise (pydantic, a parser's ValueError, an OverflowError, ...)."""

_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def adapter(tp: Any) -> TypeAdapter[Any]:
    """A cached pydantic TypeAdapter for ``tp``."""
    found = _ADAPTERS.get(tp)
    if found is None:
        found = _ADAPTERS[tp] = TypeAdapter(tp)
    return found


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def validate(tp: type[T], data: Any) -> T:
    """Validate one value as ``tp`` (a model, an enum or a primitive); raises one of READ_ERRORS."""
    if _is_model(tp):
        model: T = tp.model_validate(data)  # type: ignore[attr-defined]
        return model
    result: T = adapter(tp).validate_python(data)
    return result


class ItemParser(Generic[T]):
    """The parse function of a paginated list's items (``parser(tp)``): called with one item it
    validates that item; ``many`` validates a whole page's items in one pydantic-core call."""

    __slots__ = ("tp",)

    def __init__(self, tp: type[T]) -> None:
        self.tp = tp

    def __call__(self, raw: Any) -> T:
        return validate(self.tp, raw)

    def many(self, raw_items: list[Any]) -> list[T]:
        """Every item validated as ``tp``, in one call; raises one of READ_ERRORS on the first bad one."""
        with gc_paused():
            result: list[T] = adapter(list[self.tp]).validate_python(raw_items)  # type: ignore[name-defined]
        return result


def drop_nulls(value: Any) -> tuple[Any, int]:
    """``value`` without object fields that are null (at any depth), and how many were dropped."""
    if isinstance(value, dict):
        count = 0
        out: dict[Any, Any] = {}
        for key, item in value.items():
            if item is None:
                count += 1
                continue
            out[key], dropped = drop_nulls(item)
            count += dropped
        return (out, count) if count else (value, 0)
    if isinstance(value, list):
        count = 0
        items = []
        for item in value:
            cleaned, dropped = drop_nulls(item)
            items.append(cleaned)
            count += dropped
        return (items, count) if count else (value, 0)
    return value, 0


def describe(value: Any) -> str:
    """The shape of a JSON value, without its content (which may hold secrets)."""
    if value is None:
        return "null"
    if isinstance(value, dict):
        keys = ", ".join(str(key)[:30] for key in list(value)[:6])
        more = ", ..." if len(value) > 6 else ""
        return f"a JSON object with fields {keys}{more}" if value else "an empty JSON object"
    if isinstance(value, list):
        return f"a JSON list of {len(value)} item(s)"
    if isinstance(value, bool):
        return "a JSON boolean"
    if isinstance(value, str):
        return "a JSON string"
    return "a JSON number"


def error_summary(exc: BaseException) -> str:
    """Where and why validation failed, without the offending values."""
    if isinstance(exc, ValidationError):
        errors = exc.errors(include_url=False, include_input=False)
        parts = []
        for error in errors[:3]:
            loc = ".".join(str(part) for part in error.get("loc", ()))
            parts.append(f"{loc + ': ' if loc else ''}{error.get('msg', 'invalid')}")
        more = f" (+{len(errors) - 3} more)" if len(errors) > 3 else ""
        return "; ".join(parts) + more
    return f"{type(exc).__name__}: {str(exc)[:200]}"


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp)


def _invalid(
    response: OcpiResponse, settings: Settings, tp: Any, data: Any, exc: BaseException
) -> InvalidResponseError:
    name = tp if isinstance(tp, str) else _type_name(tp)
    return InvalidResponseError(
        f"the data is not a valid {name}: {settings.redact(error_summary(exc))}",
        http_status=response.http_status,
        request_id=response.request_id,
        method=response.method,
        url=response.url,
        expected=name,
        found=describe(data),
    )


def _prepare(name: str, is_object: bool, data: Any, response: OcpiResponse, settings: Settings) -> Any:
    profile = settings.profile
    if isinstance(data, list) and len(data) == 1 and is_object and (settings.lenient or profile.list_wrapped_data):
        data = data[0]
        if profile.list_wrapped_data is None:
            profile.list_wrapped_data = True
        profile.record(
            "list_wrapped_data",
            f"a {name} sent as a one-element list",
            method=response.method,
            url=response.url,
        )
    if settings.lenient and response.may_hold_null:
        data, dropped = drop_nulls(data)
        if dropped:
            profile.record(
                "null_fields", f"null in {dropped} field(s) ignored", method=response.method, url=response.url
            )
    return data


def read_with(parse: Callable[[Any], T], name: str, response: OcpiResponse, settings: Settings) -> T:
    """The response's data read by ``parse`` (an object named ``name``); InvalidResponseError on failure."""
    data = _prepare(name, True, response.data, response, settings)
    try:
        return parse(data)
    except READ_ERRORS as exc:
        raise _invalid(response, settings, name, data, exc) from None


def read_one(tp: type[T], response: OcpiResponse, settings: Settings) -> T:
    """The response's data as one ``tp``; InvalidResponseError when it cannot be read."""
    data = _prepare(_type_name(tp), _is_model(tp), response.data, response, settings)
    try:
        return validate(tp, data)
    except READ_ERRORS as exc:
        raise _invalid(response, settings, tp, data, exc) from None


def read_list(tp: type[T], response: OcpiResponse, settings: Settings) -> list[T]:
    """The response's data as a list of ``tp`` (lenient: invalid items skipped and recorded)."""
    data = response.data
    profile = settings.profile
    if data is None:
        return []
    if not isinstance(data, list):
        if not settings.lenient:
            raise _invalid(response, settings, list, data, TypeError("not a JSON list"))
        profile.record(
            "list_expected",
            f"a single value where a list of {_type_name(tp)} was expected",
            method=response.method,
            url=response.url,
        )
        data = [data]
    check_nulls = settings.lenient and response.may_hold_null
    if not check_nulls:
        try:  # every item in one pydantic-core call; on a bad item, the loop below finds and reports it
            with gc_paused():
                items: list[T] = adapter(list[tp]).validate_python(data)  # type: ignore[valid-type]
            return items
        except READ_ERRORS:
            pass
    out: list[T] = []
    for index, raw in enumerate(data):
        if check_nulls:
            raw, dropped = drop_nulls(raw)
            if dropped:
                profile.record(
                    "null_fields", f"null in {dropped} field(s) ignored", method=response.method, url=response.url
                )
        try:
            out.append(validate(tp, raw))
        except READ_ERRORS as exc:
            if not settings.lenient:
                raise _invalid(response, settings, tp, raw, exc) from None
            profile.record(
                "invalid_item",
                f"item {index}: {settings.redact(error_summary(exc))}",
                method=response.method,
                url=response.url,
            )
    return out
