"""The OCPI wire format, written once: DateTime text, exact-number JSON, CiString, Authorization.

Copied verbatim into every generated client package; the server runtime embeds the client and
imports these from it (``from ..client._wire import ...``), so client and server read and write
the wire the same way.

* ``parse_datetime`` reads RFC 3339 text (``Z``, a numeric offset, or no zone, which OCPI reads as
  UTC) into an aware UTC datetime; any number of fraction digits (past microseconds dropped). A
  date-time ``datetime`` cannot hold (``0001-01-01T00:30:00+01:00`` is before year 1 in UTC) is a
  ``ValueError`` like any other malformed text. ``parse_query_datetime`` reads the same text from
  a query parameter, where an unencoded ``+`` of the offset arrives as a space.
* ``format_datetime`` writes OCPI's string(25) form: UTC with ``Z``, a fraction only when there is
  one, truncated to milliseconds, without trailing zeros.
* ``load_json`` parses JSON with non-integer numbers as exact ``Decimal``; NaN/Infinity and
  nesting too deep for the parser are ``ValueError``. ``json_too_deep`` checks nesting cheaply
  before parsing.
* ``gc_paused`` holds the cyclic garbage collector off while a body is decoded or validated.
* ``ci_key`` is the one CiString fold (ASCII letters upper-cased, nothing else touched);
  ``ci_equal`` compares with it; ``printable_ascii`` is the CiString character rule.
* ``encode_authorization``/``parse_authorization``: the ``Authorization: Token ...`` header.
"""

from __future__ import annotations

import base64
import binascii
import gc
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

__all__ = [
    "as_utc",
    "ci_equal",
    "ci_key",
    "encode_authorization",
    "format_datetime",
    "gc_paused",
    "json_too_deep",
    "load_json",
    "parse_authorization",
    "parse_datetime",
    "parse_query_datetime",
    "printable_ascii",
]

# --------------------------------------------------------------------------------------------------
# DateTime
# --------------------------------------------------------------------------------------------------

_RFC3339 = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ]"
    r"(?P<h>[0-9]{2}):(?P<m>[0-9]{2}):(?P<s>[0-9]{2})(?:\.(?P<frac>[0-9]+))?"
    # A space for the sign is accepted by parse_query_datetime only (see there).
    r"(?P<zone>[Zz]|[+\- ][0-9]{2}:?[0-9]{2})?"
)


def _parse(text: str, *, space_is_plus: bool) -> datetime:
    text = text.strip()
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise ValueError(f"not an RFC 3339 date-time: {text[:40]!r}")
    zone = match["zone"]
    frac = match["frac"] or ""
    if text[10] == "T" and (zone is None or zone == "Z") and len(frac) <= 6:
        # The common forms, checked by the pattern above, are read by the C parser.
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError as exc:
            raise ValueError(f"invalid date-time {text[:40]!r}: {exc}") from None
        return parsed if zone else parsed.replace(tzinfo=UTC)
    micro = int((frac + "000000")[:6])  # datetime keeps microseconds; further digits are dropped
    if zone is None or zone in "Zz":
        tz: timezone = UTC
    else:
        if zone[0] == " " and not space_is_plus:
            raise ValueError(f"not an RFC 3339 date-time (no sign before the offset): {text[:40]!r}")
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
    except (ValueError, OverflowError) as exc:  # e.g. day 31 of April; before year 1 or after 9999 in UTC
        raise ValueError(f"invalid date-time {text[:40]!r}: {exc}") from None


# What nearly every peer sends: UTC with "Z" and at most microseconds. The C parser reads it alone
# (its result carries datetime.UTC itself); anything else, and its errors, go through _parse.
_COMMON_UTC = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?Z").fullmatch
_fromisoformat = datetime.fromisoformat


def parse_datetime(text: str) -> datetime:
    """Parse RFC 3339 text (``Z``, an offset or no zone meaning UTC) into an aware UTC datetime.

    ``ValueError`` for anything else, including valid-looking text outside ``datetime``'s range."""
    if _COMMON_UTC(text) is not None:
        try:
            return _fromisoformat(text)
        except ValueError:
            pass  # e.g. day 31 of April: _parse says so in its own words
    return _parse(text, space_is_plus=False)


def parse_query_datetime(text: str) -> datetime:
    """``parse_datetime`` for a query parameter: a space where the offset's sign belongs is read as
    ``+`` (``date_from=2019-01-01T10:00:00+01:00`` sent without percent-encoding decodes to a
    space). Only query text gets this reading; a JSON body must carry the ``+``."""
    return _parse(text, space_is_plus=True)


def as_utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive datetime is taken to be UTC already (OCPI: no zone means UTC)."""
    if value.tzinfo is UTC:
        return value
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def format_datetime(value: datetime) -> str:
    """UTC with ``Z`` (naive means UTC). OCPI's DateTime is at most 25 characters, so a fraction
    of a second is written to the millisecond (truncated), without trailing zeros, and only when
    there is one: ``2015-06-29T20:39:09Z``, ``2015-06-29T20:39:09.12Z``."""
    value = as_utc(value)
    # isoformat() starts with YYYY-MM-DDTHH:MM:SS (4-digit year) and, when there are microseconds,
    # .ffffff; the rest is the zone.
    if value.microsecond < 1000:
        return value.isoformat()[:19] + "Z"
    return value.isoformat()[:23].rstrip("0") + "Z"  # at least one millisecond digit is not 0


# --------------------------------------------------------------------------------------------------
# JSON with exact numbers
# --------------------------------------------------------------------------------------------------


_GC_LOCK = threading.Lock()
_gc_depth = 0
_gc_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Hold the cyclic garbage collector off for a bounded piece of work (decoding a body,
    validating a page): the JSON trees and models it builds hold no reference cycles, so a
    collection could free nothing, yet every few hundred new objects one would scan them all,
    and the older ones again and again (measured: more than half of a 2,000-CDR parse).
    Reference counting still frees everything as usual. Nests and is shared across threads: the
    collector is switched back on when the last pause ends, and only if it was on at the first."""
    global _gc_depth, _gc_was_enabled
    with _GC_LOCK:
        if _gc_depth == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_depth += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _gc_depth -= 1
            if _gc_depth == 0 and _gc_was_enabled:
                gc.enable()


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a valid JSON number")


# One decoder for every call: json.loads builds a new one per call when given options.
_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_reject_constant)


def load_json(data: bytes | bytearray | str) -> Any:
    """Parse JSON text; non-integer numbers become exact ``Decimal``; NaN/Infinity are rejected.

    Like ``json.loads`` with those options (bytes in UTF-8, -16 or -32; a leading BOM is an
    error), except that nesting deeper than the parser can follow is a ``ValueError`` too."""
    if isinstance(data, str):
        if data.startswith("\ufeff"):
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", data, 0)
        text = data
    elif isinstance(data, (bytes, bytearray)):
        text = data.decode(json.detect_encoding(data), "surrogatepass")
    else:
        raise TypeError(f"the JSON object must be str, bytes or bytearray, not {type(data).__name__}")
    try:
        with gc_paused():
            return _DECODER.decode(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


_NOT_BRACKETS_OR_QUOTES = bytes(byte for byte in range(256) if byte not in b'[]{}"')
_SQUARE = bytes.maketrans(b"{}", b"[]")


def json_too_deep(data: bytes | bytearray, max_depth: int) -> bool:
    """True when arrays and objects in the JSON text ``data`` nest more than ``max_depth`` deep
    (or their brackets do not pair up, which is no JSON either). Brackets inside strings do not
    count. Only C-level passes over the bytes: a typical body takes microseconds, 1 MiB made to be
    slow tens of milliseconds (one pass per level)."""
    if data.count(b"[") + data.count(b"{") <= max_depth:
        return False
    text = bytes(data)
    if b"\\" in text:  # drop escaped backslashes, then escaped quotes: every '"' left delimits a string
        text = text.replace(b"\\\\", b"").replace(b'\\"', b"")
    # Keep brackets (all as '[' and ']') and quotes. Dropping a '""' pair (a string without
    # brackets) keeps the parity of the quotes, so every other '"'-separated piece is still outside.
    reduced = text.translate(_SQUARE, _NOT_BRACKETS_OR_QUOTES).replace(b'""', b"")
    if b'"' in reduced:
        reduced = b"".join(reduced.split(b'"')[::2])
    if b"[" * (max_depth + 1) in reduced:
        return True
    for _ in range(max_depth):  # a pass drops every empty pair: exactly one level of every nest
        shorter = reduced.replace(b"[]", b"")
        if len(shorter) == len(reduced):
            break
        reduced = shorter
    return bool(reduced)


# --------------------------------------------------------------------------------------------------
# CiString
# --------------------------------------------------------------------------------------------------

_ASCII_UPPER = {code: code - 32 for code in range(ord("a"), ord("z") + 1)}


def ci_key(value: str) -> str:
    """The one CiString fold: ASCII letters upper-cased, anything else (``é``, ``ß``) untouched.

    Two CiString values are equal when their keys are; the server's store keys are these."""
    return value.translate(_ASCII_UPPER)


def ci_equal(a: str, b: str) -> bool:
    """Compare two CiString values, ignoring the case of ASCII letters only."""
    return len(a) == len(b) and ci_key(a) == ci_key(b)


def printable_ascii(value: str) -> bool:
    """Only printable ASCII (space to ``~``), as a CiString must be (types_cistring_type)."""
    return value.isascii() and value.isprintable()


# --------------------------------------------------------------------------------------------------
# Authorization header
# --------------------------------------------------------------------------------------------------


def encode_authorization(token: str, *, base64_encode: bool) -> str:
    """The ``Authorization`` value we send: ``Token <base64(utf-8 token)>`` (2.2+) or ``Token <token>``."""
    if base64_encode:
        return "Token " + base64.b64encode(token.encode("utf-8")).decode("ascii")
    return "Token " + token


def _decoded(value: str) -> str | None:
    """The text a Base64 value encodes, when it is Base64 of printable UTF-8; else None."""
    padded = value + "=" * (-len(value) % 4)
    try:
        raw = base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    # A trailing newline is a classic of `echo token | base64` (the spec's own example has one).
    text = text.strip()
    if not text or not text.isprintable():
        return None
    return text


def parse_authorization(header: str | None) -> list[str]:
    """Candidate tokens of a received Authorization value: the Base64-decoded text (when the value
    is valid Base64 of printable UTF-8) first, then the raw value (2.1.1 peers send it raw). ``[]``
    when the header is missing or not of the form ``Token <value>``."""
    if header is None:
        return []
    parts = header.strip().split(None, 1)
    if len(parts) != 2 or parts[0].lower() != "token":
        return []
    value = parts[1].strip()
    if not value:
        return []
    candidates: list[str] = []
    decoded = _decoded(value)
    if decoded is not None and decoded != value:
        candidates.append(decoded)
    candidates.append(value)
    return candidates
