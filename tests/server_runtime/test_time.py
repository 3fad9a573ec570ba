"""The server's DateTime text: what it writes fits OCPI's string(25); what it stores compares in order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from ocpi_runtime.server._time import canonical_datetime, format_datetime, now_timestamp


@pytest.mark.parametrize(
    ("moment", "written"),
    [
        (datetime(2015, 6, 29, 20, 39, 9, tzinfo=UTC), "2015-06-29T20:39:09Z"),
        (datetime(2015, 6, 29, 20, 39, 9, 999), "2015-06-29T20:39:09Z"),  # naive means UTC
        (datetime(2015, 6, 29, 22, 39, 9, 120000, tzinfo=timezone(timedelta(hours=2))), "2015-06-29T20:39:09.12Z"),
        (datetime(2015, 6, 29, 20, 39, 9, 999999, tzinfo=UTC), "2015-06-29T20:39:09.999Z"),
    ],
)
def test_format_datetime_is_utc_z_and_at_most_25_characters(moment: datetime, written: str) -> None:
    assert format_datetime(moment) == written
    assert len(written) <= 25


def test_canonical_datetime_keeps_microseconds_for_ordering() -> None:
    assert canonical_datetime("2015-06-29T22:39:09.5+02:00") == "2015-06-29T20:39:09.500000Z"
    assert canonical_datetime("2015-06-29T20:39:09") < canonical_datetime("2015-06-29T20:39:09.000001Z")


def test_now_timestamp_is_whole_seconds_utc() -> None:
    stamp = now_timestamp()
    assert len(stamp) == 20 and stamp.endswith("Z")
    assert abs(datetime.fromisoformat(stamp[:-1]).replace(tzinfo=UTC) - datetime.now(UTC)) < timedelta(seconds=5)
