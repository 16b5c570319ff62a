"""The example DAG whatcounts_deadline_watch under dag.test(), over a prepared receipts folder.

The DAG measures deadlines at the time it runs, so the receipts are dated far enough from today
that no case changes if the test crosses midnight: a failure 30 calendar days old (past the
deadline on any day), one from today (9 or 10 business days left), and one later honoured.
"""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from airflow.utils.state import DagRunState

from tests.e2e.dag_runs import assert_no_phone, load_example_dags, return_values, task_states, try_numbers
from tests.receipts.test_watch import opt_out, write_receipts
from whatcounts_provider._compat import AIRFLOW_V_3_0_PLUS, AIRFLOW_V_3_3_PLUS
from whatcounts_provider.deadline import utc_now

DAG_ID = "whatcounts_deadline_watch"
LATE, FRESH, HONOURED = "12062000001", "12062000002", "12062000003"


@pytest.fixture
def dag(example_storage: str) -> Any:
    """Parsed afresh for each test: dag.test() leaves the rendered template on the task."""
    bag = load_example_dags()
    assert bag.import_errors == {}
    return bag.dags[DAG_ID]


@pytest.fixture
def receipts(example_storage: str) -> Path:
    """The example receipts folder, emptied: each test writes its own."""
    root = Path(urlparse(example_storage).path) / "receipts"
    shutil.rmtree(root, ignore_errors=True)
    return root


def write(root: Path, *, late: bool) -> None:
    now = utc_now()
    month_ago = now - timedelta(days=30)
    write_receipts(
        root,
        "scheduled__month_ago",
        month_ago + timedelta(hours=1),
        [
            opt_out(HONOURED, "failed", iso(month_ago)),
            *([opt_out(LATE, "failed", iso(month_ago))] if late else []),
        ],
    )
    write_receipts(root, "manual__today", now, [opt_out(FRESH, "failed", iso(now - timedelta(minutes=5)))])
    write_receipts(
        root,
        "manual__retry",
        month_ago + timedelta(days=1),
        [opt_out(HONOURED, "stopped", iso(month_ago))],
        dag_id="whatcounts_stop_sms_from_pipeline",
    )


def iso(moment: datetime) -> str:
    return moment.isoformat()


def test_the_watch_runs_daily_over_the_examples_receipts_and_alerts_on_failure(
    dag: Any, example_storage: str
) -> None:
    assert set(dag.task_dict) == {"check_deadlines"}
    watch = dag.task_dict["check_deadlines"]
    assert type(watch).__name__ == "OptOutDeadlineWatchOperator"
    assert watch.receipts_path == f"{example_storage.rstrip('/')}/receipts"
    assert watch.within_business_days == "{{ params.within_business_days }}"
    assert watch.fail_on_risk is True
    assert watch.retries == 2, "kept for storage outages; a deadline failure does not spend them"
    assert watch.on_failure_callback
    assert dag.params["within_business_days"] == 2
    assert dag.catchup is False
    assert set(dag.tags) == {"whatcounts", "example"}
    assert dag.doc_md


@pytest.mark.e2e
def test_a_late_opt_out_fails_the_watch_at_once_with_a_masked_alert(
    airflow_db: Any, dag: Any, receipts: Path, task_logs: Any
) -> None:
    write(receipts, late=True)

    run = dag.test()

    assert run.state == DagRunState.FAILED
    assert task_states(run) == {"check_deadlines": {"failed"}}
    assert try_numbers(run, "check_deadlines") == {-1: 1}, "no retry spent"
    logs = task_logs()
    assert "1 opt-out(s) not honoured yet: 1 past the deadline, 0 due within 2 business day(s)" in logs
    if AIRFLOW_V_3_3_PLUS or not AIRFLOW_V_3_0_PLUS:
        assert "Opt-out deadline alert: 1 opt-out(s) not honoured yet" in logs
    else:
        # dag.test() on 3.0 to 3.2 runs the task through InProcessTestSupervisor, which calls
        # on_failure_callback without context["exception"]; 3.3 sets it there, and the task
        # runner's main(), which deployed tasks run, sets it on every 3.x.
        assert "Opt-out deadline alert: see the check_deadlines task log" in logs
    assert "*******0001 on 2065551212 (failed, honour by " in logs
    assert_no_phone(logs, [LATE, FRESH, HONOURED, LATE[1:], FRESH[1:], HONOURED[1:]])


@pytest.mark.e2e
def test_nothing_near_its_deadline_succeeds_and_returns_an_empty_list(
    airflow_db: Any, dag: Any, receipts: Path, task_logs: Any
) -> None:
    write(receipts, late=False)

    run = dag.test()

    assert run.state == DagRunState.SUCCESS
    assert return_values(run, "check_deadlines") == {-1: []}
    assert "3 receipts read, 1 open pair(s) (0 without requested_at); 0 due within 2" in task_logs()


@pytest.mark.e2e
def test_a_wider_window_from_the_trigger_form_catches_the_fresh_failure(
    airflow_db: Any, dag: Any, receipts: Path, task_logs: Any
) -> None:
    write(receipts, late=False)

    run = dag.test(run_conf={"within_business_days": 10})

    assert run.state == DagRunState.FAILED
    logs = task_logs()
    assert "1 opt-out(s) not honoured yet: 0 past the deadline, 1 due within 10 business day(s)" in logs
    assert "*******0002 on 2065551212 (failed, honour by " in logs
    assert_no_phone(logs, [LATE, FRESH, HONOURED, LATE[1:], FRESH[1:], HONOURED[1:]])


@pytest.mark.e2e
def test_returned_risks_go_to_xcom_with_full_phones_and_never_into_the_log(
    airflow_db: Any, dag: Any, receipts: Path, task_logs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dag.task_dict["check_deadlines"], "fail_on_risk", False)
    write(receipts, late=True)

    run = dag.test()

    assert run.state == DagRunState.SUCCESS
    (risk,) = return_values(run, "check_deadlines")[-1]
    assert (risk["phone"], risk["status"], risk["run_id"]) == (LATE, "failed", "scheduled__month_ago")
    assert risk["business_days_left"] < 0
    logs = task_logs()
    assert "1 opt-out(s) not honoured yet: 1 past the deadline" in logs
    assert "Opt-out deadline alert" not in logs
    assert_no_phone(logs, [LATE, FRESH, HONOURED, LATE[1:], FRESH[1:], HONOURED[1:]])
