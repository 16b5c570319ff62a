"""The one generated phone series shared by the tests, the example DAG, the demo and the benchmark."""

from __future__ import annotations

import pytest

from whatcounts_provider.phone import normalize_phone
from whatcounts_provider.testing.series import PHONE_SERIES_SIZE, phone_series


def test_the_series_starts_at_12062000000_and_counts_up():
    assert phone_series(3) == ["12062000000", "12062000001", "12062000002"]
    assert phone_series(2, start=10) == ["12062000010", "12062000011"]
    assert phone_series(0) == []


def test_disjoint_ranges_give_disjoint_phones_up_to_the_last_of_the_block():
    assert set(phone_series(500)).isdisjoint(phone_series(500, start=500))
    assert phone_series(1, start=PHONE_SERIES_SIZE - 1) == ["12062999999"]


def test_every_phone_is_valid_and_already_in_whatcounts_form():
    """Spread over the block: the provider's normaliser (phonenumbers) accepts each one unchanged."""
    for phone in phone_series(1000, start=0) + phone_series(1000, start=PHONE_SERIES_SIZE - 1000):
        assert normalize_phone(phone) == phone


@pytest.mark.parametrize(
    ("count", "start"), [(-1, 0), (1, -1), (1, PHONE_SERIES_SIZE), (2, PHONE_SERIES_SIZE - 1)]
)
def test_a_range_outside_the_block_is_refused_with_its_bounds(count, start):
    with pytest.raises(ValueError, match=rf"start={start}, count={count}"):
        phone_series(count, start)
