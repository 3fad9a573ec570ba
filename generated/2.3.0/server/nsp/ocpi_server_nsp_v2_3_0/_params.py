"""Path parameters of plain routes (``ModuleRouter.plain_get``), checked without FastAPI.

Static: copied verbatim into every generated server package; names no OCPI version's models.

A plain route gets the bare ``Request``; ``path_args`` checks its path parameters with the rules
FastAPI applied to ``Path(min_length=1, max_length=N, pattern=r"^[ -~]+$")`` and answers a bad one
the way FastAPI's validation error did (``_envelope``'s handler): HTTP 400, OCPI 2001, a message
such as ``path.location_id: String should have at most 36 characters``, one entry per bad
parameter in the order of the URL. Lengths count characters of the percent-decoded segment; a
value that is too long is reported as such even when it is not printable (pydantic's order).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from ._envelope import INVALID_PARAMETERS, OcpiHTTPError, validation_message
from .client._wire import printable_ascii

__all__ = ["PRINTABLE_PATTERN", "PathParam", "check_path_value", "path_args"]

#: The pattern a CiString in a URL must match (types_cistring_type), as the messages quote it.
PRINTABLE_PATTERN = "^[ -~]+$"


@dataclass(frozen=True, slots=True)
class PathParam:
    """One path parameter: its name in the route's path, its longest length, and whether it must
    be printable ASCII (a CiString or string id)."""

    name: str
    max_length: int | None = None
    printable: bool = True


def _chars(n: int) -> str:
    return "character" if n == 1 else "characters"


def check_path_value(param: PathParam, value: str) -> str | None:
    """What is wrong with ``value`` for ``param`` as pydantic words it, or None when it is fine."""
    if not value:
        return "String should have at least 1 character"
    if param.max_length is not None and len(value) > param.max_length:
        return f"String should have at most {param.max_length} {_chars(param.max_length)}"
    if param.printable and not printable_ascii(value):
        return f"String should match pattern '{PRINTABLE_PATTERN}'"
    return None


def path_args(request: Request, params: Sequence[PathParam]) -> list[str]:
    """The values of ``params`` in the request's path, in order; OcpiHTTPError 400/2001 naming
    every bad one (``path.<name>: <reason>``)."""
    values: dict[str, Any] = request.scope["path_params"]
    out: list[str] = []
    errors: list[dict[str, Any]] = []
    for param in params:
        value = values[param.name]
        problem = check_path_value(param, value)
        if problem is not None:
            errors.append({"loc": ("path", param.name), "msg": problem})
        out.append(value)
    if errors:
        raise OcpiHTTPError(400, INVALID_PARAMETERS, validation_message(errors))
    return out
