"""
### Alert before an opt-out misses its 10-business-day deadline

Every morning (07:00 UTC) `check_deadlines` reads every receipt the other example DAGs wrote under
`<WHATCOUNTS_EXAMPLE_STORAGE>/receipts` (default `file:///tmp/whatcounts_example/receipts`, where
`whatcounts_bulk_opt_out` also writes with its default `storage`). It fails when some phone's
opt-out is still not honoured (its latest word is `failed`, or `needs_review` for a held reply)
and its deadline is `within_business_days` business days away (a run parameter, default 2) or has
passed, and when such an opt-out has no `requested_at` at all (its deadline is unknown).

The failure is the alert: it spends no retries (a retry would read the same receipts), and
`alert_compliance` (the task's `on_failure_callback`) passes its message on. The message counts the
opt-outs, gives the soonest `honour_by` day and names up to 10, phones masked. Replace the callback
with your own alert (a Slack or SMTP notifier: see docs/deadlines.md), then re-run the failed
opt-outs or review the held replies. The full list (full phones) is in the task's XCom only when
the operator runs with `fail_on_risk=False`, and is never written to the task log.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timezone
from typing import Any

from whatcounts_provider.operators.deadlines import OptOutDeadlineWatchOperator

try:
    from airflow.sdk import DAG, Param
except ImportError:  # Airflow 2.11
    from airflow import DAG  # type: ignore[no-redef,assignment,attr-defined,unused-ignore]
    from airflow.models.param import Param  # type: ignore[no-redef,assignment,attr-defined,unused-ignore]

# The same place the pipeline and queue examples write their receipts to.
STORAGE = os.environ.get("WHATCOUNTS_EXAMPLE_STORAGE", "file:///tmp/whatcounts_example").rstrip("/")

log = logging.getLogger(__name__)


def alert_compliance(context: dict[str, Any]) -> None:
    """Stands in for a real alert (Slack, PagerDuty, e-mail): the message holds masked phones only.

    ``dag.test()`` on Airflow 3.0 to 3.2 passes no exception; the task's log still names the pairs.
    """
    log.error("Opt-out deadline alert: %s", context.get("exception") or "see the check_deadlines task log")


with DAG(
    dag_id="whatcounts_deadline_watch",
    description="Fail, and alert, when receipted opt-outs near or pass their 10-business-day deadline",
    schedule="0 7 * * *",
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["whatcounts", "example"],
    params={
        "within_business_days": Param(
            2, type="integer", minimum=0, maximum=10, title="Warn this many business days ahead"
        ),
    },
    doc_md=__doc__,
):
    OptOutDeadlineWatchOperator(
        task_id="check_deadlines",
        receipts_path=f"{STORAGE}/receipts",
        within_business_days="{{ params.within_business_days }}",
        # Retries are for storage outages; a deadline failure never spends them.
        retries=2,
        on_failure_callback=alert_compliance,
    )
