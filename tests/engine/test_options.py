"""OptOutOptions: the run's knobs, and the deadline checked before any request."""

from __future__ import annotations

import pytest

from whatcounts_provider.deadline import DEFAULT_HONOUR_WITHIN_BUSINESS_DAYS
from whatcounts_provider.engine import DEFAULT_MAX_WORKERS, OptOutOptions
from whatcounts_provider.exceptions import WhatCountsConfigError


def test_the_defaults_are_the_bulk_operators():
    from whatcounts_provider.operators.sms import BulkStopSmsSubscriberOperator

    op = BulkStopSmsSubscriberOperator(task_id="t", phones=[], sender_code="2065551212")
    options = OptOutOptions()
    assert (options.max_workers, options.max_requests_per_second, options.missing_ok) == (
        op.max_workers,
        op.max_requests_per_second,
        op.missing_ok,
    )
    assert (DEFAULT_MAX_WORKERS, options.honour_within_business_days) == (
        8,
        DEFAULT_HONOUR_WITHIN_BUSINESS_DAYS,
    )
    assert DEFAULT_HONOUR_WITHIN_BUSINESS_DAYS == 10  # FCC 24-24


@pytest.mark.parametrize("days", [-1, 1.5, "10", True, None])
def test_a_deadline_that_is_not_a_whole_number_of_days_is_refused(days):
    with pytest.raises(WhatCountsConfigError, match=r"honour_within_business_days must be a whole number"):
        OptOutOptions(honour_within_business_days=days)


def test_zero_days_is_a_deadline():
    assert OptOutOptions(honour_within_business_days=0).honour_within_business_days == 0
