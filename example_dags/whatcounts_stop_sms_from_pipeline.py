"""
### Stop SMS for every STOP reply in an inbound-replies file

Runs whenever the inbound SMS replies file (`data/stop_replies.csv`, an asset) is updated:

1. `read_opt_outs` keeps the replies that are opt-out keywords (STOP, UNSUBSCRIBE, ...) and
   skips the rest ("thanks", HELP, questions);
2. `stop_sms` opts each of those phones out of its sender code in WhatCounts, one mapped
   task per reply;
3. `report` logs how many phones were stopped or had no subscription (phones masked).

Uses the `whatcounts_default` connection. For thousands of replies per run, use
`BulkStopSmsSubscriberOperator` per sender code instead of one mapped task per phone.
"""

from __future__ import annotations

import csv
import logging
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from whatcounts_provider.operators.sms import StopSmsSubscriberOperator
from whatcounts_provider.phone import mask_phone

try:
    from airflow.sdk import DAG
except ImportError:  # Airflow 2.11
    from airflow import DAG  # type: ignore[no-redef,assignment,attr-defined,unused-ignore]
try:
    from airflow.sdk import task
except ImportError:  # Airflow 2.11
    from airflow.decorators import task  # type: ignore[no-redef,assignment,attr-defined,unused-ignore]
try:
    from airflow.sdk import Asset
except ImportError:  # Airflow 2.11
    from airflow.datasets import Dataset as Asset  # type: ignore[no-redef,assignment,attr-defined,unused-ignore]

if TYPE_CHECKING:
    from collections.abc import Sequence

REPLIES_CSV = Path(__file__).resolve().parent / "data" / "stop_replies.csv"
STOP_REPLIES = Asset(REPLIES_CSV.as_uri())

# The CTIA standard opt-out keywords: US carriers require an SMS program to honour any of
# them, in any letter case, as a request to stop. (HELP is a CTIA keyword too, but not an opt-out.)
OPT_OUT_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})

log = logging.getLogger("airflow.task")

with DAG(
    dag_id="whatcounts_stop_sms_from_pipeline",
    schedule=[STOP_REPLIES],
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["whatcounts", "example"],
    doc_md=__doc__,
):

    @task
    def read_opt_outs() -> list[dict[str, str]]:
        """Return ``{"phone", "sender_code"}`` for every reply that is an opt-out keyword."""
        with REPLIES_CSV.open(newline="", encoding="utf-8") as replies:
            rows = list(csv.DictReader(replies))
        opt_outs = [
            {"phone": row["phone"], "sender_code": row["sender_code"]}
            for row in rows
            if row["message"].strip().upper() in OPT_OUT_KEYWORDS
        ]
        log.info("%d of %d replies are opt-outs", len(opt_outs), len(rows))
        return opt_outs

    stop_sms = StopSmsSubscriberOperator.partial(task_id="stop_sms").expand_kwargs(read_opt_outs())

    @task(multiple_outputs=False)  # one XCom with the whole summary, not one per key
    def report(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """Log and return the outcome of the mapped stops, phones masked."""
        results = results[:]  # all mapped results in one fetch (a for loop fetches them one by one)
        counts = Counter(result["status"] for result in results)
        for result in results:
            log.info("%s on %s: %s", mask_phone(result["phone"]), result["sender_code"], result["status"])
        log.info("Stopped %d phone(s); %d had no subscription", counts["stopped"], counts["not_subscribed"])
        return {
            "stopped": counts["stopped"],
            "not_subscribed": counts["not_subscribed"],
            "phones": [mask_phone(result["phone"]) for result in results],
        }

    report(stop_sms.output)
