"""One try of a bulk task, run by test_crash_resume.py in a subprocess that the test SIGKILLs.

usage: python -m tests.operators.bulk_crash_task RECEIPTS_PATH COUNT RATE TRY_NUMBER

Stops ``phones(COUNT)`` on ``SENDER`` through the default connection (the test points
``AIRFLOW_CONN_WHATCOUNTS_DEFAULT`` at its emulator), capped at RATE requests per second so that
the run cannot finish before the test has seen a flushed part, whatever the machine's speed.
"""

from __future__ import annotations

import sys

from tests.helpers import SENDER, make_context, phones
from whatcounts_provider.operators.sms import BulkStopSmsSubscriberOperator

IDENTITY = {
    "dag_id": "crash_dag",
    "run_id": "manual__2026-11-25T16:00:00+00:00",
    "task_id": "stop",
    "map_index": 2,
}


def main() -> None:
    receipts, count, rate, try_number = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
    op = BulkStopSmsSubscriberOperator(
        task_id="stop",
        phones=phones(count),
        sender_code=SENDER,
        receipts_path=receipts,
        max_workers=4,
        max_requests_per_second=rate,
    )
    op.execute(make_context(try_number=try_number, **IDENTITY))


if __name__ == "__main__":
    main()
