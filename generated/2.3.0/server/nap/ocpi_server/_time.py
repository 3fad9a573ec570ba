"""OCPI ``DateTime`` text for the server runtime.

Static: copied verbatim into every generated server package; names no OCPI version's models.

* ``parse_datetime`` reads RFC 3339 text with ``Z``, a numeric offset or no zone (OCPI: no zone means
  UTC) and returns an aware UTC datetime.
* ``canonical_datetime`` is the fixed-precision form the store writes and compares
  (``2015-06-29T20:39:09.000000Z``): every value has the same length and layout, so text order is
  time order.
* ``format_datetime`` is the short wire form (``Z``, a fraction only when present, at most
  milliseconds: OCPI's DateTime is string(25)).
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta, timezone

__all__ = ["canonical_datetime", "format_datetime", "now_timestamp", "parse_datetime"]

_RFC3339 = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ]"
    r"(?P<h>[0-9]{2}):(?P<m>[0-9]{2}):(?P<s>[0-9]{2})(?:\.(?P<frac>[0-9]{1,9}))?"
    # A space before the offset is a '+' that an unencoded query string turned into a space.
    r"(?P<zone>[Zz]|[+\- ][0-9]{2}:?[0-9]{2})?"
)


def parse_datetime(text: str) -> datetime:
    """Parse OCPI/RFC 3339 date-time text into an aware UTC datetime; ValueError when malformed.

    Digits past microseconds are dropped (``datetime`` keeps microseconds).
    """
    text = text.strip()
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise ValueError(f"not an RFC 3339 date-time: {text[:40]!r}")
    frac = match["frac"] or ""
    zone = match["zone"]
    if text[10] == "T" and (zone is None or zone == "Z") and len(frac) <= 6:
        # The common forms, checked by the pattern above, are read by the C parser.
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError as exc:
            raise ValueError(f"invalid date-time {text[:40]!r}: {exc}") from None
        return parsed if zone else parsed.replace(tzinfo=UTC)
    micro = int((frac + "000000")[:6])
    tz: timezone
    if zone is None or zone in ("Z", "z"):
        tz = UTC
    else:
        digits = zone[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:])
        if hours > 23 or minutes > 59:
            raise ValueError(f"invalid UTC offset in {text[:40]!r}")
        offset = timedelta(hours=hours, minutes=minutes)
        tz = timezone(-offset if zone[0] == "-" else offset)
    year, month, day = (int(part) for part in match["date"].split("-"))
    try:
        parsed = datetime(year, month, day, int(match["h"]), int(match["m"]), int(match["s"]), micro, tzinfo=tz)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"invalid date-time {text[:40]!r}: {exc}") from None


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def canonical_datetime(value: str | datetime) -> str:
    """Fixed-precision UTC text (``YYYY-MM-DDTHH:MM:SS.ffffffZ``) of a datetime or of OCPI text."""
    moment = parse_datetime(value) if isinstance(value, str) else _as_utc(value)
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T"
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}.{moment.microsecond:06d}Z"
    )


def format_datetime(value: datetime) -> str:
    """Short UTC wire form with ``Z`` (naive means UTC). OCPI's DateTime is at most 25 characters,
    so a fraction of a second is written to the millisecond (truncated), without trailing zeros,
    and only when there is one."""
    moment = _as_utc(value)
    if moment.microsecond < 1000:
        return moment.isoformat()[:19] + "Z"
    return moment.isoformat()[:23].rstrip("0") + "Z"  # at least one millisecond digit is not 0


_last_stamp: tuple[int, str] = (-1, "")


def now_timestamp() -> str:
    """The current time as OCPI text, whole seconds, UTC, ``Z`` (``2015-06-30T21:59:59Z``)."""
    global _last_stamp
    second = int(time.time())
    if _last_stamp[0] != second:  # every response needs one: format each second once
        _last_stamp = (second, format_datetime(datetime.fromtimestamp(second, UTC)))
    return _last_stamp[1]
