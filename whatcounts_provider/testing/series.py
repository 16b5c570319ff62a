"""Generated phones for examples, demos, tests and benchmarks: one series everywhere."""

from __future__ import annotations

__all__ = ["PHONE_SERIES_SIZE", "phone_series"]

#: 206-2xx-xxxx: one million numbers that phonenumbers accepts as valid US phones.
PHONE_SERIES_SIZE = 1_000_000
_FIRST = 2_000_000


def phone_series(count: int, start: int = 0) -> list[str]:
    """``count`` distinct valid US phones in WhatCounts' 11-digit form, from the ``start``-th on.

    The series is ``12062000000, 12062000001, ...``; disjoint ``start`` ranges give disjoint
    phones (a stopped phone answers "not subscribed", so a benchmark must never reuse one).

    :param count: how many phones.
    :param start: index of the first phone in the series.
    """
    if count < 0 or start < 0 or start + count > PHONE_SERIES_SIZE:
        raise ValueError(
            f"phone_series covers indexes 0 to {PHONE_SERIES_SIZE - 1}; got start={start}, count={count}"
        )
    return [f"1206{_FIRST + i}" for i in range(start, start + count)]
