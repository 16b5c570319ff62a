"""The asset-driven pipeline: the producer DAG lands the replies file, the pipeline DAG reads its
replies in one bulk task, opts out every one a reasonable person reads as STOP under its own
sender code, and receipts every reply, opt-out or not, as evidence."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlparse

import pytest
from airflow.utils.state import DagRunState

from tests.e2e.dag_runs import assert_no_phone, return_values, task_states
from tests.helpers import AIRFLOW_3, AIRFLOW_VERSION, EXAMPLE_DAGS
from whatcounts_provider.operators.sms import BulkStopSmsSubscriberOperator
from whatcounts_provider.phone import normalize_phone
from whatcounts_provider.receipts import iter_receipts

PRODUCER = "whatcounts_land_stop_replies"
PIPELINE = "whatcounts_stop_sms_from_pipeline"
REPLIES_CSV = EXAMPLE_DAGS / "data" / "stop_replies.csv"
# What each reply of the sample file is, decided here by hand (not by the classifier under test).
DECISIONS = {
    **dict.fromkeys(
        ["STOP", "stop", " Stop ", "UNSUBSCRIBE", "StopAll", "cancel", "End", "QUIT", "Revoke", "opt out"],
        "opt_out",
    ),
    **dict.fromkeys(
        [
            "Stop texting me",
            "remove me from this list",
            "no más mensajes",
            "STOP 🛑",
            "BAJA",
            "Please take me off your list",
        ],
        "opt_out",
    ),
    "when does the sale end?": "ambiguous",
    "don't cancel my order, I still want it": "ambiguous",
    **dict.fromkeys(
        ["thanks!", "HELP", "What time do you open on Saturday?", "START", "gracias", "See you at 5", "INFO"],
        "not_opt_out",
    ),
}


class Reply(NamedTuple):
    raw: str  # the phone as the file has it
    phone: str  # normalised, as the emulator and the receipts see it
    sender_code: str
    message: str
    received_at: datetime

    @property
    def decision(self) -> str:
        return DECISIONS[self.message]

    @property
    def opt_out(self) -> bool:
        """Sent: an opt-out, or an ambiguous reply (sent as one by default)."""
        return self.decision != "not_opt_out"


def replies() -> list[Reply]:
    with REPLIES_CSV.open(newline="", encoding="utf-8") as file:
        return [
            Reply(
                row["phone"],
                normalize_phone(row["phone"]),
                row["sender_code"],
                row["message"],
                datetime.fromisoformat(row["received_at"].replace("Z", "+00:00")),
            )
            for row in csv.DictReader(file)
        ]


def full_phone_forms() -> list[str]:
    """Every full form of the file's phones: as written, 11 digits and the national 10 digits."""
    return [form for r in replies() for form in (r.raw, r.phone, r.phone[1:])]


def weekdays_after(start: date, end: date) -> int:
    """Monday-to-Friday days after ``start`` up to and including ``end`` (the deadline's count)."""
    return sum((start + timedelta(days=n)).weekday() < 5 for n in range(1, (end - start).days + 1))


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_the_asset_uri_is_the_configured_storage_not_the_dag_files_location(example_dags, example_storage):
    uri = f"{example_storage}/inbound/stop_replies.csv"
    producer = example_dags.dags[PRODUCER].get_task("land_replies")
    assert [asset.uri for asset in producer.outlets] == [uri]
    timetable = example_dags.dags[PIPELINE].timetable
    condition = timetable.asset_condition if AIRFLOW_3 else timetable.dataset_condition
    assert [asset.uri for asset in condition.objects] == [uri]
    assert str(EXAMPLE_DAGS) not in uri


def test_the_pipeline_reads_the_replies_file_in_one_bulk_task_without_a_keyword_filter(
    example_dags, example_storage
):
    dag = example_dags.dags[PIPELINE]
    assert set(dag.task_dict) == {"stop_sms"}, "no hand-written filter task: the operator classifies"
    stop_sms = dag.get_task("stop_sms")
    assert isinstance(stop_sms, BulkStopSmsSubscriberOperator), "one bulk task, not one mapped task per reply"
    assert stop_sms.source == f"{example_storage}/inbound/stop_replies.csv"
    assert (stop_sms.phones, stop_sms.rows) == (None, None), "only the file's location is in the DAG"
    assert stop_sms.columns == {"message": "message", "requested_at": "received_at"}
    assert stop_sms.scope == "sender_code"
    assert stop_sms.ambiguous == "opt_out"
    assert stop_sms.receipts_path == f"{example_storage}/receipts"
    assert stop_sms.retries == 2


def test_the_sample_file_holds_every_kind_of_reply():
    counts = Counter(reply.decision for reply in replies())
    assert counts == {"opt_out": 17, "ambiguous": 2, "not_opt_out": 7}, "stop_replies.csv changed"


@pytest.mark.e2e
def test_the_producer_lands_the_file_and_the_pipeline_stops_every_opt_out(
    airflow_db, whatcounts_conn_env, example_dags, example_storage, task_logs
):
    emulator = whatcounts_conn_env
    all_replies = replies()
    opt_outs = [reply for reply in all_replies if reply.opt_out]
    others = [reply for reply in all_replies if not reply.opt_out]
    # Replied STOP, but WhatCounts has no subscription for it.
    never_subscribed = next(r for r in opt_outs if (r.message, r.sender_code) == ("STOP", "88555"))
    for reply in all_replies:
        if reply != never_subscribed:
            emulator.subscribe(reply.sender_code, [reply.phone])
    landed = Path(urlparse(example_storage).path) / "inbound" / "stop_replies.csv"
    landed.unlink(missing_ok=True)

    if AIRFLOW_3 and AIRFLOW_VERSION.release < (3, 1):
        # Airflow 3.0's dag.test() never activates assets (its scheduler does), so a task with an
        # outlet fails there with AirflowInactiveAssetInInletOrOutletException. Land the file as the
        # producer would; the deployment stage runs the producer for real.
        landed.parent.mkdir(parents=True, exist_ok=True)
        landed.write_bytes(REPLIES_CSV.read_bytes())
    else:
        produced = example_dags.dags[PRODUCER].test()
        assert produced.state == DagRunState.SUCCESS
    assert landed.read_bytes() == REPLIES_CSV.read_bytes()

    run = example_dags.dags[PIPELINE].test()

    assert run.state == DagRunState.SUCCESS
    assert task_states(run) == {"stop_sms": {"success"}}
    for reply in opt_outs:
        assert emulator.state.post_count(reply.sender_code, reply.phone) == 1, reply
        assert emulator.state.is_stopped(reply.sender_code, reply.phone) is (reply != never_subscribed)
    for reply in others:
        assert emulator.state.post_count(reply.sender_code, reply.phone) == 0, reply
        assert emulator.state.is_subscribed(reply.sender_code, reply.phone), reply
    record = return_values(run, "stop_sms")[-1]
    assert (record["total"], record["stopped"]) == (len(all_replies), len(opt_outs) - 1)
    assert (record["not_opt_out"], record["ambiguous"], record["needs_review"]) == (len(others), 2, [])
    assert record["not_subscribed"] == [
        {"phone": never_subscribed.phone, "sender_code": never_subscribed.sender_code}
    ]
    stopped_per_code = Counter(reply.sender_code for reply in opt_outs if reply != never_subscribed)
    assert record["by_sender_code"] == {
        code: {
            "stopped": stopped_per_code[code],
            "not_subscribed": int(code == never_subscribed.sender_code),
            "failed": 0,
        }
        for code in ("2065551212", "88555")
    }
    # The replies are from March: every honoured one is past the 10-business-day deadline.
    assert record["late"] == len(opt_outs)

    receipts = [r for r in iter_receipts(record["receipts"]) if r["run_id"] == run.run_id]
    assert len(receipts) == len(all_replies), "every reply, opt-out or not, has its receipt"
    by_phone = {r["phone"]: r for r in receipts}
    for reply in all_replies:
        receipt = by_phone[reply.phone]
        assert (receipt["message"], receipt["reply_decision"]) == (reply.message, reply.decision)
        assert receipt["reply_reason"]
        assert (receipt["scope"], receipt["requested_sender_code"]) == ("sender_code", reply.sender_code)
        if not reply.opt_out:
            assert (receipt["status"], receipt["whatcounts"]) == ("not_opt_out", None)
            continue
        assert receipt["status"] == ("not_subscribed" if reply == never_subscribed else "stopped")
        assert parse(receipt["requested_at"]) == reply.received_at
        processed = parse(receipt["processed_at"]).astimezone(timezone.utc).date()
        assert receipt["business_days_to_honour"] == weekdays_after(reply.received_at.date(), processed)
    logs = task_logs()
    assert "past" in logs or "business days" in logs, "the task warns about late opt-outs"
    assert_no_phone(logs, full_phone_forms())
