"""The example DAGs: they load cleanly on every supported Airflow and run end to end on the emulator."""

from __future__ import annotations

import warnings

import pytest
from airflow.utils.state import DagRunState

from tests.e2e.dag_runs import DagBag, assert_no_phone, load_example_dags, return_values
from tests.helpers import AIRFLOW_3
from whatcounts_provider.exceptions import InvalidPhoneNumberError
from whatcounts_provider.phone import normalize_phone

MANUAL = "whatcounts_stop_sms_manual"
PIPELINE = "whatcounts_stop_sms_from_pipeline"
PRODUCER = "whatcounts_land_stop_replies"
BULK = "whatcounts_bulk_opt_out"
DOC_PHONE, DOC_SENDER = "12065959696", "2065551212"


# --- loading: no database ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def loaded(example_storage: str) -> tuple[DagBag, list[warnings.WarningMessage]]:
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
    [
        (MANUAL, {"stop_sms"}),
        (PIPELINE, {"stop_sms"}),
        (PRODUCER, {"land_replies"}),
        (BULK, {"write_chunks", "stop_sms_chunk", "merge_reports"}),
    ],
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


# --- end to end: dag.test() on a migrated DB, against the emulator ---------------------------


@pytest.mark.e2e
def test_manual_dag_stops_the_phone_from_the_trigger_form(airflow_db, whatcounts_conn_env, task_logs):
    emulator = whatcounts_conn_env
    emulator.subscribe(DOC_SENDER, [DOC_PHONE])
    dag = load_example_dags().get_dag(MANUAL)
    conf = {"phone": "+1 (206) 595-9696", "sender_code": DOC_SENDER}
    # Not inlined in the call: 2.11 warns from inside dag.test() and stderr then shows this line.
    run = dag.test(run_conf=conf)
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
    assert_no_phone(task_logs(), ["+1 (206) 595-9696", DOC_PHONE, DOC_PHONE[1:]])


@pytest.mark.e2e
def test_manual_dag_succeeds_as_not_subscribed_for_an_unknown_phone(
    airflow_db, whatcounts_conn_env, task_logs
):
    dag = load_example_dags().get_dag(MANUAL)
    conf = {"phone": "206-555-0199", "sender_code": DOC_SENDER}
    run = dag.test(run_conf=conf)  # not inlined: see above
    assert run.state == DagRunState.SUCCESS
    assert return_values(run, "stop_sms")[-1] == {
        "phone": "12065550199",
        "sender_code": DOC_SENDER,
        "status": "not_subscribed",
        "response": None,
    }
    assert_no_phone(task_logs(), ["206-555-0199", "12065550199", "2065550199"])
