"""OCPI ``DateTime`` text for the server runtime.

Static: copied verbatim into every generated server package; names no OCPI version's models.

* ``parse_datetime``, ``parse_query_datetime`` and ``format_datetime`` are the client runtime's
  (``client/_wire.py``): one reading and one writing of the wire form for both sides.
* ``canonical_datetime`` is the fixed-precision form the store writes and compares
  (``2015-06-29T20:39:09.000000Z``): every value has the same length and layout, so text order is
  time order.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from .client._wire import as_utc, format_datetime, parse_datetime, parse_query_datetime

__all__ = [
    "canonical_datetime",
    "format_datetime",
    "now_timestamp",
    "parse_datetime",
    "parse_query_datetime",
    "stamp_of",
]


def canonical_datetime(value: str | datetime, *, query: bool = False) -> str:
    """Fixed-precision UTC text (``YYYY-MM-DDTHH:MM:SS.ffffffZ``) of a datetime or of OCPI text
    (``query=True``: text from a query parameter, see ``parse_query_datetime``)."""
    if isinstance(value, str):
        moment = parse_query_datetime(value) if query else parse_datetime(value)
    else:
        moment = as_utc(value)
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T"
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}.{moment.microsecond:06d}Z"
    )


_last_stamp: tuple[int, str] = (-1, "")


def now_timestamp() -> str:
    """The current time as OCPI text, whole seconds, UTC, ``Z`` (``2015-06-30T21:59:59Z``)."""
    global _last_stamp
    second = int(time.time())
    if _last_stamp[0] != second:  # every response needs one: format each second once
        _last_stamp = (second, format_datetime(datetime.fromtimestamp(second, UTC)))
    return _last_stamp[1]


def stamp_of(data: Mapping[str, Any]) -> str | None:
    """A JSON object's ``last_updated`` in the store's comparable form; None when it has none or
    it is no valid DateTime."""
    value = data.get("last_updated")
    if not isinstance(value, str):
        return None
    try:
        return canonical_datetime(value)
    except ValueError:
        return None
