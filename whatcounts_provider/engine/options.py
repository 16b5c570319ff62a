"""How a run sends: workers, rate cap, what "no subscription" means, the deadline, the replies
and the scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from whatcounts_provider.deadline import DEFAULT_HONOUR_WITHIN_BUSINESS_DAYS
from whatcounts_provider.exceptions import WhatCountsConfigError
from whatcounts_provider.inputs.form import check_choice
from whatcounts_provider.types import AMBIGUOUS_POLICIES, SCOPES, AmbiguousPolicy, Scope

if TYPE_CHECKING:
    from whatcounts_provider.replies import ReplyClassifier

DEFAULT_MAX_WORKERS = 8
#: A sender code with at least this many pairs sent, all answered "not subscribed", fails the
#: run: WhatCounts answers a code it does not know exactly as it answers an unsubscribed phone.
NOT_SUBSCRIBED_GUARD_MIN = 20


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
    :param scope: ``"sender_code"`` stops the code each request names; ``"all"`` every code of
        the connection's ``sender_codes`` extra (revoke-all).
    :param ambiguous: ``"opt_out"`` (default) sends an ambiguous reply as an opt-out;
        ``"review"`` sends nothing for it, receipts it ``needs_review`` and fails the task
        (without spending retries) once everything else is done.
    :param classifier: the reply rules (``replies.ReplyClassifier``); ``None``: the default ones.
    :param expect_not_subscribed: set True when every pair of a sender code may rightly come back
        "not subscribed" (a re-run of opt-outs already honoured elsewhere); otherwise a run in which
        at least 20 pairs of one code were all answered so fails, naming the code.
    :raises WhatCountsConfigError: ``honour_within_business_days`` is not a whole number >= 0,
        or ``scope`` / ``ambiguous`` is not one of its values.
    """

    max_workers: int = DEFAULT_MAX_WORKERS
    max_requests_per_second: float | None = None
    missing_ok: bool = True
    honour_within_business_days: int = DEFAULT_HONOUR_WITHIN_BUSINESS_DAYS
    scope: Scope = "sender_code"
    ambiguous: AmbiguousPolicy = "opt_out"
    classifier: ReplyClassifier | None = None
    expect_not_subscribed: bool = False

    def __post_init__(self) -> None:
        check_choice("scope", self.scope, SCOPES)
        check_choice("ambiguous", self.ambiguous, AMBIGUOUS_POLICIES)
        days = self.honour_within_business_days
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            raise WhatCountsConfigError(
                f"honour_within_business_days must be a whole number of business days >= 0, got {days!r}"
            )
