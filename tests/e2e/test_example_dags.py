"""The example DAGs: they load cleanly on every supported Airflow and run end to end on the emulator."""

from __future__ import annotations

import csv
import warnings
from typing import NamedTuple

import pytest
from airflow.utils.state import DagRunState

from tests.e2e.dag_runs import DagBag, load_example_dags, return_values, task_states
from tests.helpers import AIRFLOW_3, EXAMPLE_DAGS
from whatcounts_provider.exceptions import InvalidPhoneNumberError
from whatcounts_provider.phone import mask_phone, normalize_phone

MANUAL = "whatcounts_stop_sms_manual"
PIPELINE = "whatcounts_stop_sms_from_pipeline"
REPLIES_CSV = EXAMPLE_DAGS / "data" / "stop_replies.csv"
# Written out again (not imported from the DAG) so a change to the DAG's keywords shows up here.
CTIA_OPT_OUT = {"stop", "stopall", "unsubscribe", "cancel", "end", "quit"}
DOC_PHONE, DOC_SENDER = "12065959696", "2065551212"


class Reply(NamedTuple):
    phone: str  # normalised, as the emulator and the operator's result see it
    sender_code: str
    opt_out: bool


def replies() -> list[Reply]:
    with REPLIES_CSV.open(newline="", encoding="utf-8") as file:
        return [
            Reply(
                normalize_phone(row["phone"]),
                row["sender_code"],
                row["message"].strip().lower() in CTIA_OPT_OUT,
            )
            for row in csv.DictReader(file)
        ]


# --- loading: no database ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def loaded() -> tuple[DagBag, list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bag = load_example_dags()
    return bag, caught


def test_example_dags_import_without_errors_or_deprecations(loaded):
    bag, caught = loaded
    assert bag.import_errors == {}
    # Every warning raised while a DAG file runs, as text: 3.x re-emits them all as UserWarning.
    assert bag.captured_warnings == {}
    deprecations = [
        f"{w.category.__name__} at {w.filename}:{w.lineno}: {w.message}"
        for w in caught
        if issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning, FutureWarning))
    ]
    if AIRFLOW_3:  # 2.11 warns about its own Airflow 3 changes (RemovedInAirflow3Warning)
        assert deprecations == []


@pytest.mark.parametrize(
    ("dag_id", "tasks"),
    [(MANUAL, {"stop_sms"}), (PIPELINE, {"read_opt_outs", "stop_sms", "report"})],
)
def test_example_dag_has_its_tasks(loaded, dag_id, tasks):
    dag = loaded[0].dags[dag_id]
    assert set(dag.task_dict) == tasks
    assert set(dag.tags) == {"whatcounts", "example"}
    assert dag.catchup is False
    assert dag.doc_md


def test_manual_dag_asks_for_a_phone_and_sender_code_without_regex_dumps(loaded):
    """The form requires both; the operator checks them (a schema pattern answers with a dump)."""
    dag = loaded[0].dags[MANUAL]
    phone, sender = dag.params.get_param("phone"), dag.params.get_param("sender_code")
    assert dag.timetable.can_be_scheduled is False, "manual trigger only"
    assert phone.schema["type"] == sender.schema["type"] == "string"
    assert "pattern" not in phone.schema
    assert "pattern" not in sender.schema
    assert phone.schema["title"]
    assert "e.g. +1 (206) 555-0100" in phone.description
    for good in ("call me", "+1 (206) 595-9696", "2065959696", "206.595.9696"):
        assert phone.resolve(good) == good
    assert phone.resolve("", suppress_exception=True) is None
    with pytest.raises(InvalidPhoneNumberError, match="may contain only digits"):
        normalize_phone("call me")
    with pytest.raises(InvalidPhoneNumberError, match="not an assigned number range"):
        normalize_phone("+1 (123) 456-7890")
    # The defaults are valid, so `airflow dags test` works without a conf.
    assert normalize_phone(phone.resolve())
    assert sender.resolve() == DOC_SENDER


def test_pipeline_dag_runs_when_the_replies_file_is_updated(loaded):
    timetable = loaded[0].dags[PIPELINE].timetable
    condition = timetable.asset_condition if AIRFLOW_3 else timetable.dataset_condition
    assert [asset.uri for asset in condition.objects] == [REPLIES_CSV.resolve().as_uri()]


def test_pipeline_dag_maps_the_stop_over_the_opt_out_rows(loaded):
    dag = loaded[0].dags[PIPELINE]
    stop_sms = dag.get_task("stop_sms")
    assert hasattr(stop_sms, "expand_input"), "stop_sms must be a mapped task"
    assert stop_sms.upstream_task_ids == {"read_opt_outs"}
    assert dag.get_task("report").upstream_task_ids == {"stop_sms"}


def test_pipeline_dag_reads_only_the_opt_out_replies(loaded):
    rows = loaded[0].dags[PIPELINE].get_task("read_opt_outs").python_callable()
    expected = [reply for reply in replies() if reply.opt_out]
    assert len(expected) == 9, "stop_replies.csv changed: update this test"
    assert [(normalize_phone(row["phone"]), row["sender_code"]) for row in rows] == [
        (reply.phone, reply.sender_code) for reply in expected
    ]


# --- end to end: dag.test() on a migrated DB, against the emulator ---------------------------


@pytest.mark.e2e
def test_manual_dag_stops_the_phone_from_the_trigger_form(airflow_db, whatcounts_conn_env):
    emulator = whatcounts_conn_env
    emulator.subscribe(DOC_SENDER, [DOC_PHONE])
    dag = load_example_dags().get_dag(MANUAL)
    run = dag.test(run_conf={"phone": "+1 (206) 595-9696", "sender_code": DOC_SENDER})
    assert run.state == DagRunState.SUCCESS
    assert emulator.state.is_stopped(DOC_SENDER, DOC_PHONE)
    assert emulator.state.post_count(DOC_SENDER, DOC_PHONE) == 1
    result = return_values(run, "stop_sms")[-1]
    assert {k: result[k] for k in ("phone", "sender_code", "status")} == {
        "phone": DOC_PHONE,
        "sender_code": DOC_SENDER,
        "status": "stopped",
    }
    assert result["response"]["phone"] == DOC_PHONE


@pytest.mark.e2e
def test_manual_dag_succeeds_as_not_subscribed_for_an_unknown_phone(airflow_db, whatcounts_conn_env):
    dag = load_example_dags().get_dag(MANUAL)
    run = dag.test(run_conf={"phone": "206-555-0199", "sender_code": DOC_SENDER})
    assert run.state == DagRunState.SUCCESS
    assert return_values(run, "stop_sms")[-1] == {
        "phone": "12065550199",
        "sender_code": DOC_SENDER,
        "status": "not_subscribed",
        "response": None,
    }


@pytest.mark.e2e
def test_pipeline_dag_stops_every_opt_out_reply_and_reports(airflow_db, whatcounts_conn_env):
    emulator = whatcounts_conn_env
    all_replies = replies()
    opt_outs = [reply for reply in all_replies if reply.opt_out]
    others = [reply for reply in all_replies if not reply.opt_out]
    never_subscribed = opt_outs[-1]  # replied STOP, but WhatCounts has no subscription for it
    for reply in all_replies:
        if reply != never_subscribed:
            emulator.subscribe(reply.sender_code, [reply.phone])

    run = load_example_dags().get_dag(PIPELINE).test()

    assert run.state == DagRunState.SUCCESS
    assert task_states(run) == {task_id: {"success"} for task_id in ("read_opt_outs", "stop_sms", "report")}
    for reply in opt_outs:
        assert emulator.state.post_count(reply.sender_code, reply.phone) == 1, reply
        assert emulator.state.is_stopped(reply.sender_code, reply.phone) is (reply != never_subscribed)
    for reply in others:
        assert emulator.state.post_count(reply.sender_code, reply.phone) == 0, reply
        assert emulator.state.is_subscribed(reply.sender_code, reply.phone), reply
    stops = return_values(run, "stop_sms")
    assert sorted(stops) == list(range(len(opt_outs)))
    assert return_values(run, "report")[-1] == {
        "stopped": len(opt_outs) - 1,
        "not_subscribed": 1,
        "phones": [mask_phone(reply.phone) for reply in opt_outs],
    }
