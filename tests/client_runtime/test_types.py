"""OcpiModel, Number, DateTime, OpenStrEnum, ci_equal and lenient list parsing."""

from __future__ import annotations

import enum
import json
import pickle
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from pydantic import Field, ValidationError

from ocpi_runtime.client._types import (
    DateTime,
    Deviation,
    Number,
    OcpiModel,
    OpenStrEnum,
    ci_equal,
    format_datetime,
    load_json,
    parse_items,
    parse_one,
    to_json_list,
)


class ConnectorKind(OpenStrEnum):
    CHADEMO = "CHADEMO"
    IEC_62196_T2 = "IEC_62196_T2"


class PowerType(enum.StrEnum):  # a closed enum
    AC_1_PHASE = "AC_1_PHASE"
    DC = "DC"


class Price(OcpiModel):
    excl_vat: Number
    incl_vat: Number | None = None


class Element(OcpiModel):
    kind: ConnectorKind
    power: PowerType | None = None
    prices: list[Price] = []


class Tariff(OcpiModel):
    country_code: str
    party_id: str
    tariff_id: str = Field(alias="id")
    currency: str
    min_price: Price | None = None
    elements: list[Element] = []
    start_date_time: DateTime | None = None
    last_updated: DateTime


TARIFF_JSON = (
    b'{"country_code":"NL","party_id":"EXA","id":"12","currency":"EUR",'
    b'"min_price":{"excl_vat":0.1,"incl_vat":1234567890.123456789},'
    b'"elements":[{"kind":"CHADEMO","power":"DC","prices":[{"excl_vat":1E+2}]}],'
    b'"last_updated":"2015-06-29T20:39:09Z"}'
)


# -- Number --------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["0.1", "1234567890.123456789", "1E+2", "-0.000001", "10.50", "3", "2.5e-3"])
def test_number_from_json_text_is_exact_and_written_back_with_same_digits(text: str) -> None:
    price = Price.from_json('{"excl_vat": %s}' % text)
    assert price.excl_vat == Decimal(text)
    assert str(price.excl_vat) == str(Decimal(text))  # same digits, not a float's
    assert price.to_json() == b'{"excl_vat":%s}' % str(Decimal(text)).encode()


def test_number_is_never_a_json_string() -> None:
    price = Price(excl_vat=Decimal("0.1"), incl_vat=Decimal("1234567890.123456789"))
    parsed = json.loads(price.to_json(), parse_float=Decimal)
    assert parsed == {"excl_vat": Decimal("0.1"), "incl_vat": Decimal("1234567890.123456789")}
    assert all(isinstance(v, Decimal) for v in parsed.values())
    assert json.loads(price.model_dump_json(), parse_float=Decimal)["incl_vat"] == Decimal("1234567890.123456789")


def test_model_validate_json_is_exact_too() -> None:
    assert Price.model_validate_json(b'{"excl_vat": 1234567890.123456789}').excl_vat == Decimal("1234567890.123456789")


def test_number_accepts_ints_floats_through_str_and_numeric_strings() -> None:
    assert Price(excl_vat=0.1).excl_vat == Decimal("0.1")  # via str(), not Decimal(0.1)
    assert Price(excl_vat=7).excl_vat == Decimal(7)
    assert Price(excl_vat=" 2.50 ").excl_vat == Decimal("2.50")
    assert Price.model_validate({"excl_vat": "1e3"}).excl_vat == Decimal("1E+3")


@pytest.mark.parametrize(
    "bad", [True, False, "NaN", "Infinity", float("nan"), float("inf"), Decimal("NaN"), "1_000", "abc", "", None, [1]]
)
def test_number_rejects_nan_inf_booleans_and_junk(bad: object) -> None:
    with pytest.raises(ValidationError):
        Price.model_validate({"excl_vat": bad})


def test_nan_literal_in_json_text_is_rejected() -> None:
    with pytest.raises(ValidationError):
        Price.from_json(b'{"excl_vat": NaN}')


def test_model_dump_json_mode_is_ready_for_json_dumps() -> None:
    tariff = Tariff.from_json(TARIFF_JSON)
    dumped = tariff.model_dump(mode="json")
    assert dumped["min_price"] == {"excl_vat": 0.1, "incl_vat": 1234567890.1234567}  # floats: nearest binary
    assert type(dumped["min_price"]["excl_vat"]) is float
    assert (
        dumped["elements"][0]["prices"][0]["excl_vat"] == 100
        and type(dumped["elements"][0]["prices"][0]["excl_vat"]) is int
    )
    assert dumped["last_updated"] == "2015-06-29T20:39:09Z"
    assert "id" in dumped and "start_date_time" not in dumped  # by alias, unset fields absent (as to_json)
    # json.dumps accepts it, and numbers of up to 15 significant digits come back with their value
    again = json.loads(json.dumps(dumped), parse_float=Decimal)
    assert again["min_price"]["excl_vat"] == Decimal("0.1")
    assert tariff.model_dump()["min_price"]["excl_vat"] == Decimal("0.1")  # python mode untouched
    # the exact digits: to_json()
    assert json.loads(tariff.to_json(), parse_float=Decimal)["min_price"]["incl_vat"] == Decimal("1234567890.123456789")


def test_model_dump_json_mode_numbers_of_unknown_fields_are_json_numbers() -> None:
    price = Price.from_json(b'{"excl_vat": 1.25, "extra": {"rate": 0.5, "list": [2.0, 7]}}')
    dumped = price.model_dump(mode="json")
    assert dumped == {"excl_vat": 1.25, "extra": {"rate": 0.5, "list": [2.0, 7]}}
    assert json.dumps(dumped) == '{"excl_vat": 1.25, "extra": {"rate": 0.5, "list": [2.0, 7]}}'
    assert price.exact_json_values()["extra"]["rate"] == Decimal("0.5")


def test_model_dump_json_and_to_json_agree_on_unset_fields() -> None:
    price = Price(excl_vat=Decimal("1.50"))
    assert price.model_dump_json() == price.to_json().decode() == '{"excl_vat":1.50}'
    tariff = Tariff.from_json(TARIFF_JSON)
    assert tariff.model_dump_json().encode() == tariff.to_json() == TARIFF_JSON
    explicit = Price(excl_vat=Decimal("2"), incl_vat=None)  # None set on purpose: written as null by both
    assert explicit.model_dump_json() == explicit.to_json().decode() == '{"excl_vat":2,"incl_vat":null}'
    assert explicit.model_dump_json(exclude_none=True) == '{"excl_vat":2}'


def test_round_trip_of_a_whole_object_is_byte_exact() -> None:
    tariff = Tariff.from_json(TARIFF_JSON)
    assert tariff.to_json() == TARIFF_JSON


def test_validate_assignment_keeps_numbers_exact() -> None:
    price = Price(excl_vat=1)
    price.excl_vat = 0.3  # type: ignore[assignment]
    assert price.excl_vat == Decimal("0.3")
    with pytest.raises(ValidationError):
        price.excl_vat = "nope"  # type: ignore[assignment]


# -- DateTime ------------------------------------------------------------------------------------


class Stamp(OcpiModel):
    at: DateTime


@pytest.mark.parametrize(
    ("text", "expected", "written"),
    [
        ("2015-06-29T20:39:09Z", datetime(2015, 6, 29, 20, 39, 9, tzinfo=UTC), "2015-06-29T20:39:09Z"),
        ("2015-06-29T20:39:09", datetime(2015, 6, 29, 20, 39, 9, tzinfo=UTC), "2015-06-29T20:39:09Z"),
        ("2015-06-29T22:39:09+02:00", datetime(2015, 6, 29, 20, 39, 9, tzinfo=UTC), "2015-06-29T20:39:09Z"),
        ("2015-06-29T18:09:09-0230", datetime(2015, 6, 29, 20, 39, 9, tzinfo=UTC), "2015-06-29T20:39:09Z"),
        ("2016-12-29T17:45:09.2Z", datetime(2016, 12, 29, 17, 45, 9, 200000, tzinfo=UTC), "2016-12-29T17:45:09.2Z"),
        (
            "2016-12-29T17:45:09.123456789",
            datetime(2016, 12, 29, 17, 45, 9, 123456, tzinfo=UTC),
            "2016-12-29T17:45:09.123Z",  # OCPI DateTime is string(25): milliseconds at most
        ),
        ("2016-12-29t17:45:09.500z", datetime(2016, 12, 29, 17, 45, 9, 500000, tzinfo=UTC), "2016-12-29T17:45:09.5Z"),
    ],
)
def test_datetime_parsing_always_yields_utc_and_writes_z(text: str, expected: datetime, written: str) -> None:
    stamp = Stamp.model_validate({"at": text})
    assert stamp.at == expected
    assert stamp.at.tzinfo is not None and stamp.at.utcoffset() == timedelta(0)
    assert stamp.to_json() == b'{"at":"%s"}' % written.encode()


def test_datetime_objects_naive_means_utc_and_aware_is_converted() -> None:
    assert Stamp(at=datetime(2020, 1, 1, 12, 0)).at == datetime(2020, 1, 1, 12, 0, tzinfo=UTC)
    cet = timezone(timedelta(hours=1))
    stamp = Stamp(at=datetime(2020, 1, 1, 13, 0, tzinfo=cet))
    assert stamp.at.tzinfo == UTC and stamp.at.hour == 12
    assert stamp.model_dump(mode="json") == {"at": "2020-01-01T12:00:00Z"}


@pytest.mark.parametrize(
    "bad", ["2015-06-29", "yesterday", "2015-06-29T25:00:00Z", "2015-06-29T20:39:09+25:00", 1435610349, None]
)
def test_datetime_rejects_invalid_values(bad: object) -> None:
    with pytest.raises(ValidationError):
        Stamp.model_validate({"at": bad})


@pytest.mark.parametrize(
    ("micro", "written"), [(0, "09Z"), (999, "09Z"), (1000, "09.001Z"), (120000, "09.12Z"), (999999, "09.999Z")]
)
def test_written_datetimes_fit_ocpi_string_25(micro: int, written: str) -> None:
    text = format_datetime(datetime(2016, 12, 29, 17, 45, 9, micro, tzinfo=UTC))
    assert text == "2016-12-29T17:45:" + written and len(text) <= 25


class _MyDateTime(datetime):
    """A datetime subclass (as some libraries hand out)."""


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (datetime(2016, 12, 29, 17, 45, 9, tzinfo=UTC), "2016-12-29T17:45:09Z"),  # pydantic-core's own writer
        (datetime(2016, 12, 29, 17, 45, 9, 999, tzinfo=UTC), "2016-12-29T17:45:09Z"),  # below a millisecond
        (datetime(2016, 12, 29, 17, 45, 9, 120000, tzinfo=UTC), "2016-12-29T17:45:09.12Z"),
        (datetime(2016, 12, 29, 17, 45, 9, 123456, tzinfo=UTC), "2016-12-29T17:45:09.123Z"),
        (datetime(2016, 12, 29, 18, 45, 9, tzinfo=timezone(timedelta(hours=1))), "2016-12-29T17:45:09Z"),
        (datetime(2016, 12, 29, 17, 45, 9), "2016-12-29T17:45:09Z"),  # naive: UTC
        (datetime(2016, 12, 29, 17, 45, 9, tzinfo=timezone(timedelta(0))), "2016-12-29T17:45:09Z"),
        (_MyDateTime(2016, 12, 29, 17, 45, 9, tzinfo=UTC), "2016-12-29T17:45:09Z"),
    ],
)
def test_every_datetime_a_model_holds_is_written_in_ocpi_form(value: datetime, written: str) -> None:
    # model_construct skips validation: the writer alone must give the OCPI form, whatever it holds.
    for stamp in (Stamp(at=value), Stamp.model_construct(at=value)):
        assert stamp.to_json() == b'{"at":"%s"}' % written.encode()
        assert stamp.model_dump_json() == '{"at":"%s"}' % written
        assert stamp.model_dump(mode="json") == {"at": written}
        assert to_json_list([stamp, stamp]) == b'[{"at":"%s"},{"at":"%s"}]' % (written.encode(), written.encode())
    held = Stamp(at=value).model_dump()["at"]  # python mode: a datetime, the same moment
    assert isinstance(held, datetime) and held == (value if value.tzinfo else value.replace(tzinfo=UTC))


def test_format_datetime_for_query_parameters() -> None:
    assert format_datetime(datetime(2019, 1, 2, 3, 4, 5)) == "2019-01-02T03:04:05Z"
    assert (
        format_datetime(datetime(2019, 1, 2, 4, 4, 5, 120000, tzinfo=timezone(timedelta(hours=1))))
        == "2019-01-02T03:04:05.12Z"
    )


# -- Enums ---------------------------------------------------------------------------------------


def test_open_enum_keeps_unknown_values_and_writes_them_back() -> None:
    element = Element.model_validate({"kind": "NEW_PLUG_2030"})
    assert element.kind == "NEW_PLUG_2030"
    assert element.kind.value == "NEW_PLUG_2030"
    assert isinstance(element.kind, ConnectorKind)
    assert element.kind.is_known is False
    assert ConnectorKind("CHADEMO") is ConnectorKind.CHADEMO and ConnectorKind.CHADEMO.is_known
    assert element.to_json() == b'{"kind":"NEW_PLUG_2030"}'
    assert "NEW_PLUG_2030" not in ConnectorKind.__members__  # not added to the enum
    with pytest.raises(ValueError):
        ConnectorKind(42)  # type: ignore[arg-type]


def test_closed_enum_rejects_unknown_values() -> None:
    with pytest.raises(ValidationError):
        Element.model_validate({"kind": "CHADEMO", "power": "AC_5_PHASE"})
    assert Element.model_validate({"kind": "CHADEMO", "power": "DC"}).power is PowerType.DC


def test_ci_equal_is_ascii_case_insensitive_only() -> None:
    assert ci_equal("NL-TNM-C123", "nl-tnm-c123")
    assert not ci_equal("abc", "abd")
    assert not ci_equal("abc", "abcd")
    assert not ci_equal("STRASSE", "straße")
    assert not ci_equal("É", "é")  # non-ASCII letters are compared exactly


# -- Unknown fields, optional fields, PATCH ------------------------------------------------------


def test_unknown_fields_are_kept_and_written_back_exactly() -> None:
    text = b'{"excl_vat":1.5,"vendor_ext":{"rate":0.123456789012345678901,"tags":["a",1,null,true]},"note":"x"}'
    price = Price.from_json(text)
    assert price.model_extra == {
        "vendor_ext": {"rate": Decimal("0.123456789012345678901"), "tags": ["a", 1, None, True]},
        "note": "x",
    }
    assert price.to_json() == text


def test_to_json_leaves_out_fields_never_set_and_uses_aliases() -> None:
    tariff = Tariff(country_code="NL", party_id="EXA", id="1", currency="EUR", last_updated=datetime(2020, 1, 1))
    body = json.loads(tariff.to_json())
    assert body == {
        "country_code": "NL",
        "party_id": "EXA",
        "id": "1",
        "currency": "EUR",
        "last_updated": "2020-01-01T00:00:00Z",
    }
    assert None not in body.values()


def test_to_json_keeps_an_explicit_null() -> None:
    price = Price(excl_vat=1, incl_vat=None)
    assert json.loads(price.to_json()) == {"excl_vat": 1, "incl_vat": None}


def test_nested_unset_optionals_are_left_out_too() -> None:
    element = Element(kind=ConnectorKind.CHADEMO, prices=[Price(excl_vat=1)])
    assert element.to_json() == b'{"kind":"CHADEMO","prices":[{"excl_vat":1}]}'


def test_partial_to_json_sends_only_the_fields_set() -> None:
    tariff = Tariff.model_construct(currency="EUR", last_updated=datetime(2021, 5, 6, 7, 8, 9, tzinfo=UTC))
    assert json.loads(tariff.to_json(partial=True)) == {"currency": "EUR", "last_updated": "2021-05-06T07:08:09Z"}
    element = Element(kind=ConnectorKind.CHADEMO)
    element.power = PowerType.DC
    assert element.to_json(partial=True) == b'{"kind":"CHADEMO","power":"DC"}'  # no default "prices", no nulls
    assert element.to_json() == b'{"kind":"CHADEMO","power":"DC"}'  # a default never set is not sent either
    element.prices = []
    assert element.to_json() == b'{"kind":"CHADEMO","power":"DC","prices":[]}'
    patch = Price.model_validate({"excl_vat": "0.10"})
    assert patch.to_json(partial=True) == b'{"excl_vat":0.10}'


def test_from_json_reports_invalid_json_as_validation_error() -> None:
    with pytest.raises(ValidationError) as info:
        Price.from_json(b"{not json")
    assert info.value.errors()[0]["type"] == "json_invalid"


def test_models_pickle_and_copy() -> None:
    tariff = Tariff.from_json(TARIFF_JSON)
    assert pickle.loads(pickle.dumps(tariff)) == tariff
    assert tariff.model_copy(deep=True).to_json() == TARIFF_JSON


def test_load_json_keeps_numbers_exact() -> None:
    assert load_json(b'{"a": 0.1, "b": 5}') == {"a": Decimal("0.1"), "b": 5}
    with pytest.raises(ValueError):
        load_json(b"[Infinity]")


# -- Lenient parsing -----------------------------------------------------------------------------


def test_parse_items_lenient_skips_bad_items_with_their_index() -> None:
    items = [{"excl_vat": 1}, {"excl_vat": "x"}, {"excl_vat": 2}, "garbage"]
    parsed, deviations = parse_items(Price, items, lenient=True)
    assert [p.excl_vat for p in parsed] == [1, 2]
    assert [d.index for d in deviations] == [1, 3]
    assert deviations[0].raw == {"excl_vat": "x"}
    assert deviations[0].errors[0]["loc"] == ("excl_vat",)
    assert "url" not in deviations[0].errors[0]
    assert isinstance(deviations[0], Deviation) and str(deviations[0]).startswith("item 1: excl_vat")


def test_parse_items_strict_raises_on_first_bad_item() -> None:
    with pytest.raises(ValidationError):
        parse_items(Price, [{"excl_vat": 1}, {"excl_vat": "x"}], lenient=False)
    parsed, deviations = parse_items(Price, iter([{"excl_vat": 1}]), lenient=False)
    assert len(parsed) == 1 and deviations == []


def test_parse_one() -> None:
    assert parse_one(Price, {"excl_vat": 0.5}).excl_vat == Decimal("0.5")
    with pytest.raises(ValidationError):
        parse_one(Price, {})
