"""When an opt-out was requested, and whether it was honoured within the legal deadline.

The FCC's revocation rule (order 24-24) requires an opt-out to be honoured within ten
business days. The provider records, per input, when it was requested (``requested_at``)
and when it was processed, and counts the business days between them: Monday-to-Friday days
after the day of the request, up to and including the day it was processed, both days taken in
UTC. The same day counts 0; there is no holiday calendar.
"""

from __future__ import annotations

import functools
import math
import re
from datetime import date, datetime, timedelta, timezone

from whatcounts_provider.exceptions import InvalidRequestedAtError
from whatcounts_provider.types import DEADLINE_STATUSES


def utc_now() -> datetime:
    """The current time, aware UTC: the default clock of runs and receipts (tests inject theirs)."""
    return datetime.now(timezone.utc)


DEFAULT_HONOUR_WITHIN_BUSINESS_DAYS = 10

_MAX_SHOWN = 60
# ISO-8601 extended format only: Python's fromisoformat accepts different sets of forms on
# 3.10 and 3.11+, and an opt-out file must be read the same way on every worker.
_ISO = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[T ](?P<h>\d{2}):(?P<m>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d{1,9}))?)?"
    r"(?P<tz>Z|z|[+-]\d{2}(?::?\d{2})?)?)?"
)
_EPOCH = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def _describe(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else f"{text[:_MAX_SHOWN]}... ({len(text)} chars)"


def _invalid(value: object, why: str, field: str) -> InvalidRequestedAtError:
    return InvalidRequestedAtError(f"{field} {_describe(value)} {why}")


def parse_requested_at(value: object, *, field: str = "requested_at") -> datetime:
    """Return ``value`` as an aware UTC datetime.

    :param value: an ISO-8601 date or date-time (``2026-11-25T16:00:00+01:00``, ``...Z``, or
        without an offset, which means UTC), epoch seconds as an ``int``, ``float`` or numeric
        string, or a ``datetime`` (naive means UTC).
    :param field: the name errors give the value (a command-line option, a report's bound).
    :raises InvalidRequestedAtError: (a ``ValueError``) anything else, naming the field and value.
    """
    if isinstance(value, datetime):
        return _to_utc(value)
    if isinstance(value, bool) or value is None:
        raise _invalid(value, "is not an ISO-8601 date-time or epoch seconds", field)
    if isinstance(value, (int, float)):
        return _from_epoch(value, value, field)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    if not isinstance(value, str):
        raise _invalid(
            value, f"is a {type(value).__name__}, not an ISO-8601 date-time or epoch seconds", field
        )
    text = value.strip()
    if _EPOCH.fullmatch(text):
        return _from_epoch(float(text), value, field)
    match = _ISO.fullmatch(text)
    if match is None:
        raise _invalid(value, "is not an ISO-8601 date-time (2026-11-25T16:00:00Z) or epoch seconds", field)
    try:
        return _from_match(match)
    except ValueError as err:  # a well-shaped but impossible date: 2026-02-30, 25:00
        raise _invalid(value, f"is not a valid date-time ({err})", field) from None


def _from_match(match: re.Match[str]) -> datetime:
    day = date.fromisoformat(match["date"])
    fraction = (match["f"] or "").ljust(6, "0")[:6]
    parsed = datetime(
        day.year,
        day.month,
        day.day,
        int(match["h"] or 0),
        int(match["m"] or 0),
        int(match["s"] or 0),
        int(fraction or 0),
    )
    tz = match["tz"]
    if tz is None or tz in {"Z", "z"}:
        return parsed.replace(tzinfo=timezone.utc)
    sign = -1 if tz[0] == "-" else 1
    digits = tz[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    if hours > 23 or minutes > 59:
        raise ValueError(f"offset {tz} is out of range")
    offset = timezone(sign * timedelta(hours=hours, minutes=minutes))
    return parsed.replace(tzinfo=offset).astimezone(timezone.utc)


def _from_epoch(seconds: float, original: object, field: str) -> datetime:
    if not math.isfinite(seconds):
        raise _invalid(original, "is not a finite number of epoch seconds", field)
    try:
        return datetime.fromtimestamp(seconds, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        # Milliseconds given as seconds land here (year > 9999): say so rather than guess.
        raise _invalid(original, "is out of range for epoch seconds (milliseconds?)", field) from None


def _to_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def business_days_to_honour(requested_at: datetime, processed_at: datetime) -> int:
    """Count Monday-to-Friday days after the UTC day of ``requested_at`` up to and including
    the UTC day of ``processed_at``. Same day (or a request dated after processing) = 0.

    :param requested_at: when the opt-out was requested (naive means UTC).
    :param processed_at: when it was processed (naive means UTC).
    """
    return _weekdays_after(_to_utc(requested_at).date(), _to_utc(processed_at).date())


# A run processes every receipt on one or two days, and requests share days too: cache by day.
@functools.lru_cache(maxsize=4096)
def _weekdays_after(start: date, end: date) -> int:
    if end <= start:
        return 0
    days = (end - start).days
    weeks, rest = divmod(days, 7)
    count = weeks * 5
    # The remaining days are start+1 .. start+rest, inside one week: count their weekdays.
    first = (start.weekday() + 1) % 7
    count += sum(1 for i in range(rest) if (first + i) % 7 < 5)
    return count


def business_days_left(
    requested_at: datetime,
    now: datetime,
    honour_within_business_days: int = DEFAULT_HONOUR_WITHIN_BUSINESS_DAYS,
) -> int:
    """How many business days an opt-out requested at ``requested_at`` still has at ``now``:
    ``honour_within_business_days`` minus the business days already passed (counted like
    :func:`business_days_to_honour`). 0 means today is the last day; a negative number is how
    many business days ago the deadline passed.
    """
    if honour_within_business_days < 0:
        raise ValueError(f"honour_within_business_days must be >= 0, got {honour_within_business_days!r}")
    return honour_within_business_days - business_days_to_honour(requested_at, now)


def honour_by(
    requested_at: datetime, honour_within_business_days: int = DEFAULT_HONOUR_WITHIN_BUSINESS_DAYS
) -> date:
    """The last UTC day on which an opt-out requested at ``requested_at`` is still on time: the
    day before the business day that would make it ``honour_within_business_days + 1`` business
    days (a weekend after the last business day is still on time, as
    :func:`business_days_to_honour` counts it)."""
    if honour_within_business_days < 0:
        raise ValueError(f"honour_within_business_days must be >= 0, got {honour_within_business_days!r}")
    day = _to_utc(requested_at).date()
    left = honour_within_business_days + 1
    while left:
        day += timedelta(days=1)
        left -= day.weekday() < 5
    return day - timedelta(days=1)


def is_late(
    status: str,
    requested_at: datetime | None,
    processed_at: datetime,
    honour_within_business_days: int = DEFAULT_HONOUR_WITHIN_BUSINESS_DAYS,
) -> bool:
    """Whether one pair counts as ``late``: honoured (``stopped`` or
    ``not_subscribed``) more than ``honour_within_business_days`` business days after the
    request, or ``failed`` when that many business days have already passed. Invalid and
    duplicate inputs, and pairs without ``requested_at``, are never late.

    :param status: the pair's outcome status.
    :param requested_at: when the opt-out was requested, or ``None``.
    :param processed_at: when the pair was processed.
    :param honour_within_business_days: the deadline in business days (default 10).
    """
    if honour_within_business_days < 0:
        raise ValueError(f"honour_within_business_days must be >= 0, got {honour_within_business_days!r}")
    if requested_at is None or status not in DEADLINE_STATUSES:
        return False
    return business_days_to_honour(requested_at, processed_at) > honour_within_business_days


__all__ = [
    "DEFAULT_HONOUR_WITHIN_BUSINESS_DAYS",
    "business_days_left",
    "business_days_to_honour",
    "honour_by",
    "is_late",
    "parse_requested_at",
    "utc_now",
]
