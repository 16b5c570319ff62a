"""requested_at parsing and the business-day deadline (FCC 24-24: 10 business days; docs/receipts.md)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from whatcounts_provider.deadline import (
    InvalidRequestedAtError,
    business_days_to_honour,
    is_late,
    parse_requested_at,
)
from whatcounts_provider.exceptions import WhatCountsError

UTC = timezone.utc


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-25T16:00:00Z", utc(2026, 11, 25, 16)),
        ("2026-11-25T16:00:00z", utc(2026, 11, 25, 16)),
        ("2026-11-25T16:00:00+00:00", utc(2026, 11, 25, 16)),
        ("2026-11-25T16:00:00", utc(2026, 11, 25, 16)),  # naive means UTC
        ("2026-11-25 16:00", utc(2026, 11, 25, 16)),
        ("2026-11-25", utc(2026, 11, 25)),
        ("2026-11-25T11:00:00-05:00", utc(2026, 11, 25, 16)),
        ("2026-11-25T21:30:00+0530", utc(2026, 11, 25, 16)),
        ("2026-11-26T01:00:00+09", utc(2026, 11, 25, 16)),
        ("2026-12-31T23:30:00-01:00", utc(2027, 1, 1, 0, 30)),  # the offset crosses the year
        ("2026-11-25T16:00:00.5Z", utc(2026, 11, 25, 16, 0, 0, 500000)),
        ("2026-11-25T16:00:00,123456789Z", utc(2026, 11, 25, 16, 0, 0, 123456)),
        ("  2026-11-25T16:00:00Z  ", utc(2026, 11, 25, 16)),
        (1764086400, utc(2025, 11, 25, 16)),
        (1764086400.25, utc(2025, 11, 25, 16, 0, 0, 250000)),
        ("1764086400", utc(2025, 11, 25, 16)),
        ("1764086400.5", utc(2025, 11, 25, 16, 0, 0, 500000)),
        (0, utc(1970, 1, 1)),
        (datetime(2026, 11, 25, 16), utc(2026, 11, 25, 16)),
        (datetime(2026, 11, 25, 17, tzinfo=timezone(timedelta(hours=1))), utc(2026, 11, 25, 16)),
        (date(2026, 11, 25), utc(2026, 11, 25)),
    ],
)
def test_parse_requested_at(value: object, expected: datetime) -> None:
    parsed = parse_requested_at(value)
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("yesterday", "'yesterday'"),
        ("", "''"),
        ("25/11/2026", "'25/11/2026'"),
        ("2026-02-30T00:00:00Z", "'2026-02-30T00:00:00Z'"),
        ("2026-11-25T25:00:00Z", "'2026-11-25T25:00:00Z'"),
        ("2026-11-25T16:00:00+24:00", "'2026-11-25T16:00:00+24:00'"),
        ("2026-11-25T16:00:00 UTC", "'2026-11-25T16:00:00 UTC'"),
        (True, "True"),
        (None, "None"),
        (float("nan"), "nan"),
        (float("inf"), "inf"),
        (1764086400000, "1764086400000"),  # milliseconds given as seconds
        ("1e20", "'1e20'"),
        ([2026, 11, 25], "[2026, 11, 25]"),
    ],
)
def test_bad_requested_at_is_an_error_naming_the_value(value: object, shown: str) -> None:
    with pytest.raises(InvalidRequestedAtError) as raised:
        parse_requested_at(value)
    assert isinstance(raised.value, ValueError)
    assert isinstance(raised.value, WhatCountsError)
    assert f"requested_at {shown}" in str(raised.value)


def test_a_long_bad_value_is_shortened_in_the_message() -> None:
    with pytest.raises(InvalidRequestedAtError, match=r"\.\.\. \(1002 chars\)"):
        parse_requested_at("x" * 1000)


# 2026-11-20 is a Friday, 2026-11-21 Saturday, 2026-11-22 Sunday, 2026-11-23 Monday.
@pytest.mark.parametrize(
    ("requested", "processed", "days"),
    [
        (utc(2026, 11, 23, 9), utc(2026, 11, 23, 17), 0),  # same day
        (utc(2026, 11, 23, 0), utc(2026, 11, 23, 23, 59, 59), 0),
        (utc(2026, 11, 23, 23, 59), utc(2026, 11, 24, 0, 1), 1),  # next day counts, however close
        (utc(2026, 11, 20, 12), utc(2026, 11, 21, 12), 0),  # Fri -> Sat
        (utc(2026, 11, 20, 12), utc(2026, 11, 22, 12), 0),  # Fri -> Sun
        (utc(2026, 11, 20, 12), utc(2026, 11, 23, 12), 1),  # Fri -> Mon
        (utc(2026, 11, 21, 12), utc(2026, 11, 23, 12), 1),  # Sat -> Mon
        (utc(2026, 11, 22, 12), utc(2026, 11, 22, 13), 0),  # Sun, same day
        (utc(2026, 11, 23), utc(2026, 11, 30), 5),  # Mon -> next Mon: one full week
        (utc(2026, 11, 23), utc(2026, 12, 7), 10),  # two weeks: exactly the FCC limit
        (utc(2026, 11, 23), utc(2026, 12, 8), 11),
        (utc(2026, 11, 20), utc(2026, 12, 4), 10),  # Fri -> Fri two weeks later
        (utc(2026, 11, 20), utc(2026, 12, 5), 10),  # ... and the Saturday after: still 10
        (utc(2026, 12, 31), utc(2027, 1, 1), 1),  # Thu -> Fri across the year
        (utc(2026, 12, 30), utc(2027, 1, 4), 3),  # Wed -> Mon: Thu, Fri, Mon
        (utc(2024, 2, 28), utc(2024, 3, 1), 2),  # leap year: Thu 29 Feb, Fri 1 Mar
        (utc(2026, 1, 1), utc(2026, 12, 31), 260),  # a whole year, no holidays
        (utc(2026, 11, 25), utc(2026, 11, 24), 0),  # requested after processing: nothing elapsed
    ],
)
def test_business_days_to_honour(requested: datetime, processed: datetime, days: int) -> None:
    assert business_days_to_honour(requested, processed) == days


def test_business_days_compare_utc_days_not_local_ones() -> None:
    # Friday 20:00 in New York is Saturday 01:00 UTC: the request's day is Saturday.
    requested = parse_requested_at("2026-11-20T20:00:00-05:00")
    processed = parse_requested_at("2026-11-23T08:00:00+09:00")  # Sunday 23:00 UTC
    assert business_days_to_honour(requested, processed) == 0
    assert business_days_to_honour(requested, utc(2026, 11, 23, 0, 0)) == 1


def test_business_days_match_a_day_by_day_count() -> None:
    start = date(2026, 1, 1)
    for offset in range(0, 40):
        for length in range(0, 30):
            first, last = start + timedelta(days=offset), start + timedelta(days=offset + length)
            expected = sum(1 for i in range(1, length + 1) if (first + timedelta(days=i)).weekday() < 5)
            got = business_days_to_honour(
                utc(first.year, first.month, first.day), utc(last.year, last.month, last.day)
            )
            assert got == expected, (first, last)


REQUESTED = utc(2026, 11, 23, 9)  # Monday


@pytest.mark.parametrize(
    ("status", "processed", "limit", "late"),
    [
        ("stopped", utc(2026, 12, 7, 9), 10, False),  # 10 business days: on time
        ("stopped", utc(2026, 12, 8, 9), 10, True),  # 11
        ("not_subscribed", utc(2026, 12, 8, 9), 10, True),  # honoured either way, and late
        ("not_subscribed", utc(2026, 11, 23, 20), 0, False),  # same day meets even a 0-day limit
        ("stopped", utc(2026, 11, 24, 9), 0, True),
        ("failed", utc(2026, 12, 7, 9), 10, False),  # not yet past the deadline
        ("failed", utc(2026, 12, 8, 9), 10, True),  # failed and already past it
        ("invalid", utc(2027, 1, 30), 10, False),
        ("duplicate", utc(2027, 1, 30), 10, False),
        ("stopped", utc(2026, 11, 30, 9), 4, True),  # the limit is a parameter
        ("stopped", utc(2026, 11, 30, 9), 5, False),
    ],
)
def test_is_late(status: str, processed: datetime, limit: int, late: bool) -> None:
    assert is_late(status, REQUESTED, processed, honour_within_business_days=limit) is late


def test_is_late_defaults_to_ten_business_days_and_needs_a_request_time() -> None:
    assert is_late("stopped", REQUESTED, utc(2026, 12, 7, 9)) is False
    assert is_late("stopped", REQUESTED, utc(2026, 12, 8, 9)) is True
    assert is_late("stopped", None, utc(2030, 1, 1)) is False


def test_a_negative_deadline_is_refused() -> None:
    with pytest.raises(ValueError, match="honour_within_business_days must be >= 0, got -1"):
        is_late("stopped", REQUESTED, REQUESTED, honour_within_business_days=-1)
