"""``OptOutDeadlineWatchOperator``: fail (or report) when receipted opt-outs near their deadline."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from whatcounts_provider._compat import BaseOperator
from whatcounts_provider.deadline import DEFAULT_HONOUR_WITHIN_BUSINESS_DAYS, parse_requested_at
from whatcounts_provider.exceptions import WhatCountsInputError
from whatcounts_provider.receipts.watch import DEFAULT_WITHIN_BUSINESS_DAYS, check_deadlines, whole_number

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from whatcounts_provider._compat import Context


class OptOutDeadlineWatchOperator(BaseOperator):
    """
    Check the receipts for opt-outs not honoured yet (their latest word is ``failed`` or
    ``needs_review``) whose deadline is ``within_business_days`` business days away or has passed.

    Run it daily: with ``fail_on_risk`` (default) the task fails when any is found, without
    spending retries, so the DAG's ``on_failure_callback``, e-mail or notifier raises the alert
    while there is still time to re-run them. The failure message counts them and names up to 10,
    phones masked. It reads receipts only: no connection to WhatCounts. See docs/deadlines.md.

    :param receipts_path: the ``receipts_path`` of the opt-out operators (or a folder below it).
        Templated.
    :param within_business_days: warn this many business days ahead (default 2; 0: only pairs
        due today or late). Templated.
    :param honour_within_business_days: the deadline after the request (FCC: 10). Templated.
    :param fail_on_risk: True: fail the task (``WhatCountsDeadlineError``) when any pair is
        found; False: succeed, log the count (masked) and return the list for a downstream task.
    :param include_undated: also report open pairs whose receipts have no ``requested_at``
        (their deadline is unknown, and may have passed); False: only count them in a warning.
    :param now: the moment deadlines are measured at: ``None`` (default) when the task runs, or
        a datetime or ISO-8601 text (e.g. ``"{{ data_interval_end }}"`` to check a past day as it
        stood). Templated.
    :return: the list of :func:`~whatcounts_provider.receipts.watch.deadline_risks`, most urgent
        first. It holds full phones: it goes to XCom (evidence) and is never logged.
    """

    template_fields: Sequence[str] = (
        "receipts_path",
        "within_business_days",
        "honour_within_business_days",
        "now",
    )
    ui_color = "#fff4d6"

    def __init__(
        self,
        *,
        receipts_path: Any,
        within_business_days: int | str = DEFAULT_WITHIN_BUSINESS_DAYS,
        honour_within_business_days: int | str = DEFAULT_HONOUR_WITHIN_BUSINESS_DAYS,
        fail_on_risk: bool = True,
        include_undated: bool = True,
        now: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        # Checked when the DAG is parsed, unless a template that only the run can render.
        for name, value in (
            ("within_business_days", within_business_days),
            ("honour_within_business_days", honour_within_business_days),
        ):
            if not (isinstance(value, str) and "{{" in value):
                whole_number(name, value)
        for name, flag in (("fail_on_risk", fail_on_risk), ("include_undated", include_undated)):
            if not isinstance(flag, bool):
                raise WhatCountsInputError(f"{name} must be True or False, got {flag!r}")
        self.receipts_path = receipts_path
        self.within_business_days = within_business_days
        self.honour_within_business_days = honour_within_business_days
        self.fail_on_risk = fail_on_risk
        self.include_undated = include_undated
        self.now = now

    def execute(self, context: Context) -> list[dict[str, Any]]:
        return check_deadlines(
            self.receipts_path,
            within_business_days=whole_number("within_business_days", self.within_business_days),
            honour_within_business_days=whole_number(
                "honour_within_business_days", self.honour_within_business_days
            ),
            include_undated=self.include_undated,
            fail=self.fail_on_risk,
            now=_moment(self.now),
        )


def _moment(value: Any) -> datetime | None:
    """The rendered ``now``: None (the time the task runs), a datetime, or ISO-8601 text."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return parse_requested_at(value)
    except ValueError:
        raise WhatCountsInputError(
            f"now {value!r} is not a datetime or ISO-8601 text (2026-11-25T16:00:00Z)"
        ) from None
