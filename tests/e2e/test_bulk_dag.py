"""The scale-out example DAG whatcounts_bulk_opt_out under dag.test(): chunk files, mapped bulk
chunks with receipts, and a merge that fails the run whenever a chunk or a phone is missing.

Tasks run in-process under dag.test(), so a monkeypatched ``execute`` plays a chunk that dies.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from airflow.utils.state import DagRunState

from tests.e2e.dag_runs import (
    assert_no_phone,
    return_values,
    states_by_index,
    task_states,
    try_numbers,
    without_supervisor_debug,
)
from tests.helpers import SENDER, phones
from whatcounts_provider.operators.sms import BulkStopSmsSubscriberOperator
from whatcounts_provider.receipts import iter_receipts

DAG_ID = "whatcounts_bulk_opt_out"
WRONG_PASSWORD = "r0tated-but-not-here-9f3e"


@pytest.fixture(scope="module")
def dag(example_dags):
    return example_dags.dags[DAG_ID]  # get_dag() would consult the metadata DB


@pytest.fixture
def no_retry_wait(dag, monkeypatch: pytest.MonkeyPatch) -> None:
    """The chunks keep their retries, but retry at once instead of after 10 s."""
    monkeypatch.setitem(dag.task_dict["stop_sms_chunk"].partial_kwargs, "retry_delay", dt.timedelta(0))


def conf(tmp_path: Path, count: int, chunk_size: int = 10) -> dict[str, Any]:
    return {"count": count, "chunk_size": chunk_size, "sender_code": SENDER, "storage": tmp_path.as_uri()}


def forms(batch: list[str]) -> list[str]:
    """Every full form of the phones: 11 digits and the national 10 digits."""
    return batch + [phone[1:] for phone in batch]


def chunk_files(tmp_path: Path) -> list[str]:
    return sorted(str(path) for path in (tmp_path / "chunks").rglob("chunk-*.csv.gz"))


def patch_execute(monkeypatch: pytest.MonkeyPatch, before: Any) -> None:
    """Run ``before(operator, context)`` ahead of the real ``execute`` of every bulk chunk."""
    real = BulkStopSmsSubscriberOperator.execute

    def execute(self: BulkStopSmsSubscriberOperator, context: Any, **kwargs: Any) -> Any:
        before(self, context)
        return real(self, context, **kwargs)  # kwargs: Airflow's executor-safeguard sentinel

    monkeypatch.setattr(BulkStopSmsSubscriberOperator, "execute", execute)


def test_the_list_is_chunked_over_mapped_bulk_tasks_and_merged(dag):
    assert set(dag.task_dict) == {"write_chunks", "stop_sms_chunk", "merge_reports"}
    chunk = dag.task_dict["stop_sms_chunk"]
    assert type(chunk).__name__ == "MappedOperator"
    assert chunk.partial_kwargs["sender_code"] == "{{ params.sender_code }}"
    assert chunk.partial_kwargs["receipts_path"] == "{{ params.storage }}/receipts"
    assert chunk.partial_kwargs["retries"] == 2, "a killed chunk is retried (STOP is idempotent)"
    assert chunk.partial_kwargs["retry_delay"] > dt.timedelta(0)
    assert chunk.upstream_task_ids == {"write_chunks"}
    merge = dag.task_dict["merge_reports"]
    assert merge.trigger_rule == "all_done", "merges even when a chunk failed"
    assert merge.upstream_task_ids == {"write_chunks", "stop_sms_chunk"}, "compares with what was mapped"
    assert merge.multiple_outputs is False
    for task_id in ("write_chunks", "merge_reports"):  # they return locations / full phones
        assert dag.task_dict[task_id].show_return_value_in_logs is False, task_id
    assert dag.params["count"] == 50_000
    assert dag.params["storage"] == "file:///tmp/whatcounts_example"


@pytest.mark.e2e
def test_chunks_stop_every_phone_and_the_report_adds_up(
    airflow_db, whatcounts_conn_env, dag, tmp_path, task_logs
):
    emulator = whatcounts_conn_env
    batch = phones(25)
    never_subscribed = batch[20:]
    emulator.subscribe(SENDER, batch[:20])

    run = dag.test(run_conf=conf(tmp_path, 25))

    assert run.state == DagRunState.SUCCESS
    assert task_states(run) == {t: {"success"} for t in ("write_chunks", "stop_sms_chunk", "merge_reports")}
    chunks = return_values(run, "stop_sms_chunk")
    assert sorted(chunks) == [0, 1, 2]
    assert [chunks[i]["total"] for i in range(3)] == [10, 10, 5]
    report = return_values(run, "merge_reports")[-1]
    assert (report["chunks_expected"], report["chunks_reported"], report["chunks_missing"]) == (3, 3, 0)
    assert (report["total"], report["stopped"]) == (25, 20)
    assert sorted(item["phone"] for item in report["not_subscribed"]) == never_subscribed
    assert report["failed"] == report["invalid"] == report["errors"] == report["missing_chunks"] == []
    assert report["by_sender_code"] == {SENDER: {"stopped": 20, "not_subscribed": 5, "failed": 0}}
    assert all(emulator.state.post_count(SENDER, phone) == 1 for phone in batch)
    assert all(emulator.state.is_stopped(SENDER, phone) for phone in batch[:20])
    # Evidence: exactly one final receipt per phone, under the storage's receipts folder.
    receipts = list(iter_receipts(tmp_path / "receipts"))
    assert Counter(r["phone"] for r in receipts) == Counter(batch)
    assert Counter(r["status"] for r in receipts) == {"stopped": 20, "not_subscribed": 5}
    assert {(r["dag_id"], r["run_id"], r["task_id"]) for r in receipts} == {
        (DAG_ID, run.run_id, "stop_sms_chunk")
    }
    assert len(report["receipts"]) == 3
    logs = task_logs()
    assert_no_phone(logs, forms(batch))
    # The merge reads the chunks' records in one go: a green run logs no "XCom not found" error.
    assert "XCom not found" not in logs


@pytest.mark.e2e
def test_a_chunk_killed_before_it_pushes_fails_the_run_and_is_named(
    airflow_db, whatcounts_conn_env, dag, tmp_path, task_logs, monkeypatch, no_retry_wait
):
    emulator = whatcounts_conn_env
    batch = phones(25)
    emulator.subscribe(SENDER, batch)

    def die_in_chunk_1(op: Any, context: Any) -> None:
        if context["ti"].map_index == 1:  # a worker SIGKILL / OOM kill: nothing pushed, every try
            raise RuntimeError("worker lost")

    patch_execute(monkeypatch, die_in_chunk_1)

    run = dag.test(run_conf=conf(tmp_path, 25))

    assert run.state == DagRunState.FAILED
    assert states_by_index(run, "stop_sms_chunk") == {0: "success", 1: "failed", 2: "success"}
    assert try_numbers(run, "stop_sms_chunk")[1] == 3, "a crash spends the chunk's retries"
    assert task_states(run)["merge_reports"] == {"failed"}
    assert sorted(return_values(run, "stop_sms_chunk")) == [0, 2], "the killed chunk pushed nothing"
    report = return_values(run, "merge_reports")[-1]
    lost = chunk_files(tmp_path)[1]
    assert (report["chunks_expected"], report["chunks_reported"], report["chunks_missing"]) == (3, 2, 1)
    assert [urlparse(name).path or name for name in report["missing_chunks"]] == [lost]
    assert (report["total"], report["stopped"]) == (15, 15), "only what was honoured is counted"
    assert not any(emulator.state.post_count(SENDER, phone) for phone in batch[10:20])
    assert all(emulator.state.is_stopped(SENDER, phone) for phone in batch[:10] + batch[20:])
    logs = task_logs()
    assert "1 of 3 chunks did not report" in logs
    assert_no_phone(logs, forms(batch))


@pytest.mark.e2e
def test_a_wrong_password_fails_every_chunk_and_the_report_says_why(
    airflow_db, whatcounts_conn_env, dag, tmp_path, task_logs, use_connection
):
    emulator = whatcounts_conn_env
    use_connection(host=emulator.url, login=emulator.state.realm, password=WRONG_PASSWORD)
    batch = phones(25)
    emulator.subscribe(SENDER, batch)

    run = dag.test(run_conf=conf(tmp_path, 25))

    assert run.state == DagRunState.FAILED
    assert states_by_index(run, "stop_sms_chunk") == {0: "failed", 1: "failed", 2: "failed"}
    assert set(try_numbers(run, "stop_sms_chunk").values()) == {1}, "no retry can fix a 401"
    chunks = return_values(run, "stop_sms_chunk")
    assert sorted(chunks) == [0, 1, 2], "each chunk pushed its record before it raised"
    assert all(record["error"].startswith("WhatCountsAuthError") for record in chunks.values())
    report = return_values(run, "merge_reports")[-1]
    assert [item["chunk"] for item in report["errors"]] == [chunks[i]["source"] for i in range(3)]
    assert all("WhatCountsAuthError" in item["error"] for item in report["errors"])
    assert report["stopped"] == 0
    assert not any(emulator.state.is_stopped(SENDER, phone) for phone in batch)
    logs = task_logs()
    assert "3 chunk(s) aborted" in logs
    # Airflow 3.0's supervisor logs, at DEBUG under dag.test(), the very secrets the task asks it
    # to mask ("Sending request ... MaskSecret(value=...)"): Airflow's line, not ours (docs/reliability.md).
    logs = without_supervisor_debug(logs)
    assert WRONG_PASSWORD not in logs
    assert emulator.state.password not in logs
    assert_no_phone(logs, forms(batch))


@pytest.mark.e2e
def test_a_chunk_whose_file_is_missing_fails_the_run_and_is_named(
    airflow_db, whatcounts_conn_env, dag, tmp_path, task_logs, monkeypatch
):
    emulator = whatcounts_conn_env
    batch = phones(25)
    emulator.subscribe(SENDER, batch)

    def lose_the_file_of_chunk_1(op: Any, context: Any) -> None:
        if context["ti"].map_index == 1:
            Path(urlparse(str(op.source)).path).unlink()

    patch_execute(monkeypatch, lose_the_file_of_chunk_1)

    run = dag.test(run_conf=conf(tmp_path, 25))

    assert run.state == DagRunState.FAILED
    assert states_by_index(run, "stop_sms_chunk") == {0: "success", 1: "failed", 2: "success"}
    assert try_numbers(run, "stop_sms_chunk")[1] == 1, "no retry can bring a file back"
    record = return_values(run, "stop_sms_chunk")[1]
    assert record["error"].startswith("WhatCountsBadSourceError")
    assert "does not exist" in record["error"]
    report = return_values(run, "merge_reports")[-1]
    assert [item["chunk"] for item in report["errors"]] == [record["source"]]
    assert "chunk-0001.csv.gz" in record["source"]
    assert (report["total"], report["stopped"]) == (15, 15)
    assert_no_phone(task_logs(), forms(batch))


@pytest.mark.e2e
def test_a_failing_phone_fails_the_run_after_retries_and_a_rerun_completes(
    airflow_db, whatcounts_conn_env, dag, tmp_path, task_logs, use_connection, no_retry_wait
):
    emulator = whatcounts_conn_env
    use_connection(uri=emulator.conn_uri(), max_retries=0)
    batch = phones(20)
    broken = {batch[3], batch[15]}
    emulator.subscribe(SENDER, batch)
    emulator.faults.update(failing_phones=broken)

    run = dag.test(run_conf=conf(tmp_path, 20))

    assert run.state == DagRunState.FAILED
    assert states_by_index(run, "stop_sms_chunk") == {0: "failed", 1: "failed"}
    assert try_numbers(run, "stop_sms_chunk") == {0: 3, 1: 3}, "a failed phone may pass on a retry"
    assert task_states(run)["merge_reports"] == {"failed"}, (
        "the report refuses to call a partial run a success"
    )
    chunks = return_values(run, "stop_sms_chunk")
    assert [chunks[i]["already_done"] for i in (0, 1)] == [9, 9], "the last try resumed from receipts"
    report = return_values(run, "merge_reports")[-1]
    assert sorted(item["phone"] for item in report["failed"]) == sorted(broken)
    # Each other phone was sent once (receipts), each broken one once per try.
    assert all(emulator.state.post_count(SENDER, p) == (3 if p in broken else 1) for p in batch)

    emulator.faults.update(failing_phones=set())
    rerun = dag.test(run_conf=conf(tmp_path, 20))

    assert rerun.state == DagRunState.SUCCESS
    report = return_values(rerun, "merge_reports")[-1]
    assert report["stopped"] == 2
    assert sorted(item["phone"] for item in report["not_subscribed"]) == sorted(set(batch) - broken)
    assert all(emulator.state.is_stopped(SENDER, phone) for phone in batch)
    assert_no_phone(task_logs(), forms(batch))


@pytest.mark.e2e
def test_a_retried_chunk_resumes_from_its_receipts_and_the_run_is_green(
    airflow_db, whatcounts_conn_env, dag, tmp_path, task_logs, use_connection, monkeypatch, no_retry_wait
):
    emulator = whatcounts_conn_env
    use_connection(uri=emulator.conn_uri(), max_retries=0)
    batch = phones(20)
    emulator.subscribe(SENDER, batch)
    emulator.faults.update(failing_phones={batch[3]})

    def outage_ends_before_the_retry(op: Any, context: Any) -> None:
        if context["ti"].try_number > 1:
            emulator.faults.update(failing_phones=set())

    patch_execute(monkeypatch, outage_ends_before_the_retry)

    run = dag.test(run_conf=conf(tmp_path, 20))

    assert run.state == DagRunState.SUCCESS
    assert try_numbers(run, "stop_sms_chunk") == {0: 2, 1: 1}
    report = return_values(run, "merge_reports")[-1]
    # Chunk 0's try 2 counts the 9 pairs its try 1 stopped: the report says what the run honoured.
    assert (report["total"], report["already_done"], report["stopped"]) == (20, 9, 20)
    assert report["stopped_this_try"] == 11
    assert report["failed"] == []
    assert all(emulator.state.post_count(SENDER, p) == (2 if p == batch[3] else 1) for p in batch)
    receipts = list(iter_receipts(tmp_path / "receipts"))
    final = Counter(r["phone"] for r in receipts if r["status"] == "stopped")
    assert final == Counter(batch), "exactly one final receipt per phone across both tries"
    assert [(r["phone"], r["try_number"]) for r in receipts if r["status"] == "failed"] == [(batch[3], 1)]
    assert_no_phone(task_logs(), forms(batch))


@pytest.mark.e2e
def test_the_log_check_catches_airflows_returned_value_line(
    airflow_db, whatcounts_conn_env, dag, tmp_path, task_logs, monkeypatch
):
    """The no-phone checks above can fail: show merge_reports' return value and they do."""
    monkeypatch.setattr(dag.task_dict["merge_reports"], "show_return_value_in_logs", True)
    batch = phones(5)  # none subscribed: the report lists them all as not subscribed

    run = dag.test(run_conf=conf(tmp_path, 5, chunk_size=5))

    assert run.state == DagRunState.SUCCESS
    logs = task_logs()
    assert "Returned value was" in logs
    with pytest.raises(AssertionError, match="full phone form"):
        assert_no_phone(logs, forms(batch))
