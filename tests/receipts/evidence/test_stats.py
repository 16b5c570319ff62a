"""Nearest-rank percentiles from a histogram, and a bounded top N whose totals stay exact."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.receipts.evidence.stories import DAYS
from whatcounts_provider.receipts.evidence.stats import TopN, percentile


def test_the_period_reports_days_give_median_p95_and_max() -> None:
    days = Counter(DAYS)
    assert percentile(days, 0.5) == 2
    assert percentile(days, 0.95) == 12
    assert percentile(days, 1.0) == 14


def test_nearest_rank_on_the_textbook_example() -> None:
    values = Counter([15, 20, 35, 40, 50])
    assert [percentile(values, f) for f in (0.05, 0.3, 0.4, 0.5, 1.0)] == [15, 20, 20, 35, 50]


def test_the_median_of_an_even_count_is_a_value_that_occurred() -> None:
    assert percentile(Counter([1, 2, 3, 4]), 0.5) == 2  # not 2.5: a whole number of business days


def test_no_value_has_no_percentile() -> None:
    assert percentile({}, 0.5) is None
    assert percentile({3: 0}, 0.95) is None


def test_one_value_is_every_percentile() -> None:
    assert [percentile({7: 1}, f) for f in (0.01, 0.5, 0.95, 1.0)] == [7, 7, 7, 7]


def test_days_counted_zero_times_are_not_values() -> None:
    assert percentile({0: 0, 4: 3, 9: 1}, 0.5) == 4
    assert percentile({0: 0, 4: 3, 9: 1}, 0.95) == 9


@given(st.lists(st.integers(0, 40), min_size=1, max_size=200), st.sampled_from([0.5, 0.95, 1.0]))
def test_the_percentile_is_the_smallest_value_with_enough_at_or_below(
    values: list[int], fraction: float
) -> None:
    found = percentile(Counter(values), fraction)
    assert found in values
    assert sum(v <= found for v in values) >= fraction * len(values)
    assert sum(v < found for v in values) < fraction * len(values)


def entry(key: int) -> dict[str, Any]:
    return {"key": key}


def test_top_n_keeps_the_largest_first_and_the_exact_total() -> None:
    top = TopN(3)
    for key in [5, 1, 9, 3, 9, 7, 2]:
        top.offer((key,), lambda key=key: entry(key))
    assert top.total == 7
    assert [e["key"] for e in top.largest_first()] == [9, 9, 7]


def test_top_n_with_fewer_offers_keeps_them_all() -> None:
    top = TopN(5)
    for key in [2, 8]:
        top.offer((key,), lambda key=key: entry(key))
    assert (top.total, [e["key"] for e in top.largest_first()]) == (2, [8, 2])


def test_ties_keep_the_entry_offered_first() -> None:
    top = TopN(2)
    for name in ["first", "second", "third"]:
        top.offer((4,), lambda name=name: {"name": name})
    assert [e["name"] for e in top.largest_first()] == ["first", "second"]


def test_keys_compare_as_tuples() -> None:
    top = TopN(2)
    # (business days, -processed): most days first, then the earlier processed one.
    for key in [(12, -300), (14, -100), (12, -200)]:
        top.offer(key, lambda key=key: {"key": key})
    assert [e["key"] for e in top.largest_first()] == [(14, -100), (12, -200)]


def test_top_zero_lists_nothing_but_still_counts() -> None:
    top = TopN(0)
    calls = []
    for key in range(10):
        top.offer((key,), lambda: calls.append(1) or entry(0))
    assert (top.total, top.largest_first(), calls) == (10, [], [])


@pytest.mark.parametrize("n", [1, 3])
def test_an_entry_is_built_only_when_it_is_kept(n: int) -> None:
    top = TopN(n)
    built = []
    for key in range(1000, 0, -1):  # largest first: after n, none is kept
        top.offer((key,), lambda key=key: built.append(key) or entry(key))
    assert top.total == 1000
    assert built == list(range(1000, 1000 - n, -1))
