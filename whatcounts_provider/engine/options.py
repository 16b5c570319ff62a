"""How a run sends: workers, rate cap, what "no subscription" means, and the deadline."""

from __future__ import annotations

from dataclasses import dataclass

from whatcounts_provider.deadline import DEFAULT_HONOUR_WITHIN_BUSINESS_DAYS
from whatcounts_provider.exceptions import WhatCountsConfigError

DEFAULT_MAX_WORKERS = 8


@dataclass(frozen=True)
class OptOutOptions:
    """The knobs of one run; each is the bulk operator's argument of the same name.

    :param max_workers: concurrent requests, 1 to 64.
    :param max_requests_per_second: cap on requests per second across workers and sender codes
        (the API limit is per account), or ``None``.
    :param missing_ok: if False, a phone without a subscription counts as failed (and no task
        retry is spent on it: WhatCounts' answer will not change).
    :param honour_within_business_days: the deadline (FCC: 10 business days) after
        ``requested_at``; pairs honoured later, or failing past it, count as ``late``.
    :raises WhatCountsConfigError: ``honour_within_business_days`` is not a whole number >= 0.
    """

    max_workers: int = DEFAULT_MAX_WORKERS
    max_requests_per_second: float | None = None
    missing_ok: bool = True
    honour_within_business_days: int = DEFAULT_HONOUR_WITHIN_BUSINESS_DAYS

    def __post_init__(self) -> None:
        days = self.honour_within_business_days
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            raise WhatCountsConfigError(
                f"honour_within_business_days must be a whole number of business days >= 0, got {days!r}"
            )
