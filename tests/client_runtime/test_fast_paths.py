"""Issue #16 fast paths of the models: the collector pause around decoding and validation, and
the number writer. Each must leave behaviour exactly as it was."""

from __future__ import annotations

import gc
import threading
from decimal import Decimal

import pytest
from pydantic import ValidationError

from ocpi_runtime.client._reading import ItemParser
from ocpi_runtime.client._types import Number, OcpiModel, parse_items, to_json_list
from ocpi_runtime.client._wire import gc_paused, load_json


class Amount(OcpiModel):
    value: Number
    note: str | None = None


@pytest.fixture
def gc_on():
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_gc_paused_switches_back_on_and_nests(gc_on: None) -> None:
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer pause still holds
    assert gc.isenabled()


def test_gc_paused_keeps_a_collector_that_was_off_off(gc_on: None) -> None:
    gc.disable()
    with gc_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_gc_paused_ends_on_error(gc_on: None) -> None:
    with pytest.raises(ValidationError):
        parse_items(Amount, [{"value": "1"}, {"value": "x"}], lenient=False)
    assert gc.isenabled()
    with pytest.raises(ValueError):
        load_json(b'{"value": NaN}')
    assert gc.isenabled()


def test_gc_paused_across_threads_ends_with_the_last(gc_on: None) -> None:
    inside, release = threading.Event(), threading.Event()

    def hold() -> None:
        with gc_paused():
            inside.set()
            release.wait(5)

    worker = threading.Thread(target=hold)
    worker.start()
    assert inside.wait(5)
    with gc_paused():
        pass
    assert not gc.isenabled()  # the other thread's pause is still on
    release.set()
    worker.join(5)
    assert gc.isenabled()


def test_paused_paths_give_the_same_models_as_plain_validation(gc_on: None) -> None:
    body = b'[{"value": 0.10, "note": null}, {"value": 1E+2}, {"value": 12345678901234567890.123456789, "x": 1.50}]'
    raw = load_json(body)
    plain = [Amount.model_validate(item) for item in load_json(body)]
    parsed, deviations = parse_items(Amount, raw, lenient=False)
    assert not deviations
    assert parsed == plain == ItemParser(Amount).many(raw)
    one = Amount.model_validate_json(b'{"value": 0.10, "extra": 2.50}')
    assert str(one.value) == "0.10" and one.to_json() == b'{"value":0.10,"extra":2.50}'
    assert str(parsed[0].value) == "0.10" and str(parsed[2].value) == "12345678901234567890.123456789"


def test_number_marks_write_the_exact_digits() -> None:
    items = [Amount(value=Decimal("0.10")), Amount(value=Decimal("1E+2"), note=None), Amount(value=Decimal("-0.000"))]
    assert to_json_list(items) == b'[{"value":0.10},{"value":1E+2,"note":null},{"value":-0.000}]'
    assert items[0].to_json() == b'{"value":0.10}'
    # A foreign dump (no OcpiModel entry point) still gets pydantic's own form: no marks leak.
    assert Amount.__pydantic_serializer__.to_json(items[0]) == b'{"value":"0.10","note":null}'
