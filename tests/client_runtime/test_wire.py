"""The wire core (``client/_wire.py``) and its one reading on both sides (client and server runtime)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from pydantic import ValidationError

from ocpi_runtime.client import _wire
from ocpi_runtime.client._transport import Settings
from ocpi_runtime.client._types import DateTime, OcpiModel, format_datetime, parse_datetime
from ocpi_runtime.client._wire import (
    ci_equal,
    ci_key,
    encode_authorization,
    json_too_deep,
    load_json,
    parse_authorization,
    parse_query_datetime,
)
from ocpi_runtime.server import _auth, _json, _store, _time


class Stamp(OcpiModel):
    at: DateTime


# -- one implementation -----------------------------------------------------------------------------


def test_server_runtime_uses_the_client_wire_functions() -> None:
    assert _time.parse_datetime is _wire.parse_datetime
    assert _time.format_datetime is _wire.format_datetime
    assert _json.loads is _wire.load_json
    assert _store.ci_key is _wire.ci_key
    assert _auth.parse_authorization is _wire.parse_authorization
    assert _auth.encode_authorization is _wire.encode_authorization


# -- DateTime: the inputs on which the two parsers used to disagree --------------------------------


def test_thirteen_fraction_digits_are_read_alike_on_both_sides() -> None:
    text = "2015-06-29T20:39:09.1234567890123Z"
    expected = datetime(2015, 6, 29, 20, 39, 9, 123456, tzinfo=UTC)  # digits past microseconds dropped
    assert parse_datetime(text) == expected
    assert _time.canonical_datetime(text) == "2015-06-29T20:39:09.123456Z"
    assert Stamp.model_validate({"at": "2015-06-29T20:39:09.1234567890123+01:00"}).at == expected - timedelta(hours=1)


def test_a_space_for_plus_is_read_in_query_text_only() -> None:
    # date_from=2019-01-01T10:00:00+01:00 sent without percent-encoding arrives with a space
    assert parse_query_datetime("2019-01-01T10:00:00 01:00") == datetime(2019, 1, 1, 9, tzinfo=UTC)
    assert _time.canonical_datetime("2019-01-01T10:00:00 01:00", query=True) == "2019-01-01T09:00:00.000000Z"
    for parse in (parse_datetime, _time.canonical_datetime):
        with pytest.raises(ValueError, match="no sign before the offset"):
            parse("2019-01-01T10:00:00 01:00")
    with pytest.raises(ValidationError):
        Stamp.model_validate({"at": "2019-01-01T10:00:00 01:00"})


@pytest.mark.parametrize("text", ["0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00"])
def test_a_date_time_outside_the_datetime_range_is_a_validation_error(text: str) -> None:
    with pytest.raises(ValueError, match="invalid date-time"):
        parse_datetime(text)
    with pytest.raises(ValidationError):
        Stamp.model_validate({"at": text})
    with pytest.raises(ValidationError):
        Stamp.from_json(json.dumps({"at": text}))
    with pytest.raises(ValueError):
        _time.canonical_datetime(text)


@pytest.mark.parametrize("text", ["2015-02-30T00:00:00Z", "2015-06-29T24:00:00+01:00", "2015-06-29T20:39:09+24:00"])
def test_impossible_dates_times_and_offsets_are_value_errors(text: str) -> None:
    with pytest.raises(ValueError):
        parse_datetime(text)


def test_datetime_output_is_string_25_utc_z_milliseconds_truncated() -> None:
    moment = datetime(2016, 12, 29, 18, 45, 9, 129999, tzinfo=timezone(timedelta(hours=1)))
    assert format_datetime(moment) == "2016-12-29T17:45:09.129Z"
    assert format_datetime(datetime(2016, 12, 29, 17, 45, 9, 100000)) == "2016-12-29T17:45:09.1Z"  # naive is UTC
    assert format_datetime(datetime(2016, 12, 29, 17, 45, 9, 999, tzinfo=UTC)) == "2016-12-29T17:45:09Z"
    assert len(format_datetime(datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC))) <= 25


# -- JSON -------------------------------------------------------------------------------------------


def test_load_json_keeps_decimals_and_rejects_constants_bom_and_deep_nesting() -> None:
    assert load_json('{"a": 0.10, "b": 5}') == {"a": Decimal("0.10"), "b": 5}
    assert load_json("[1.5]".encode("utf-16")) == [Decimal("1.5")]
    with pytest.raises(ValueError):
        load_json("[NaN]")
    with pytest.raises(ValueError):
        load_json("\ufeff[]")
    with pytest.raises(ValueError, match="nested too deeply"):  # was a RecursionError
        load_json("[" * 100_000 + "]" * 100_000)


def test_json_too_deep_counts_nesting_not_brackets_in_strings() -> None:
    assert not json_too_deep(b'{"a": [1, [2]]}', 3)
    assert json_too_deep(b'{"a": [1, [[2]]]}', 3)
    assert not json_too_deep(b"[" + b"[]," * 1000 + b"[]]", 2)  # many brackets, depth 2
    assert not json_too_deep(b'["[[[[[[", "{{{{\\"[[[["]', 1)
    assert json_too_deep(b"[" * 65 + b"]" * 65, 64)
    assert not json_too_deep(b"[" * 64 + b"]" * 64, 64)
    assert json_too_deep(b"[{" * 33 + b"}]" * 33, 64)  # arrays and objects count alike
    assert not json_too_deep(b'["a\\\\", "[[[["]', 1)  # an escaped backslash ends no string
    assert not json_too_deep((b"[" * 64 + b"]" * 64 + b",") * 1000, 64)  # wide, 64 deep
    assert json_too_deep(b"[" * 70, 64)  # unclosed
    assert not json_too_deep(b'["\\n\\"[[[["]', 1)  # other escapes before an escaped quote
    assert not json_too_deep(b'["[", "]", ["x"]]', 2)  # brackets split over strings
    assert json_too_deep(b'["]", "[", [["x"]]]', 2)
    assert json_too_deep((b"[[]," * 65 + b"]" * 65 + b",") * 10, 64)  # a deep nest among siblings
    assert not json_too_deep((b"[[]," * 63 + b"]" * 63 + b",") * 10, 64)  # 64 deep: the limit itself


# -- CiString ---------------------------------------------------------------------------------------


def test_cistring_fold_is_ascii_only_everywhere() -> None:
    assert ci_key("nl-Tnm") == "NL-TNM"
    assert ci_key("é-straße") == "é-STRAßE"  # non-ASCII letters untouched
    assert ci_equal("abc", "ABC") and not ci_equal("é", "É")
    # the store and the default handlers compare the same way (Unicode lower() used to say 'É' == 'é')
    from ocpi_runtime.server._defaults import ci_same as _same

    assert _same("Evse-1", "EVSE-1") and not _same("É", "é")


# -- Authorization ----------------------------------------------------------------------------------


def test_authorization_written_by_the_client_is_read_by_the_server() -> None:
    token = "ebf3b399-779f-4497-9b9d-ac6ad3cc44d2"
    for encoding, b64 in (("base64", True), ("raw", False)):
        header = Settings(token=token, token_encoding=encoding).authorization()  # type: ignore[arg-type]
        assert header == encode_authorization(token, base64_encode=b64)
        assert token in parse_authorization(header)
    assert encode_authorization(token, base64_encode=True) == "Token " + base64.b64encode(token.encode()).decode()
    assert parse_authorization("Bearer x") == [] and parse_authorization(None) == []
