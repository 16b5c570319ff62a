"""The scale-out example DAG whatcounts_bulk_opt_out, end to end under dag.test() with a small N."""

from __future__ import annotations

import pytest
from airflow.utils.state import DagRunState

from tests.e2e.dag_runs import load_example_dags, return_values, task_states
from tests.helpers import SENDER, phones

DAG_ID = "whatcounts_bulk_opt_out"


@pytest.fixture(scope="module")
def dag():
    bag = load_example_dags()
    assert not bag.import_errors
    return bag.dags[DAG_ID]  # get_dag() would consult the metadata DB


def test_the_list_is_chunked_over_mapped_bulk_tasks_and_merged(dag):
    assert set(dag.task_dict) == {"extract_opt_outs", "stop_sms_chunk", "merge_reports"}
    chunk = dag.task_dict["stop_sms_chunk"]
    assert type(chunk).__name__ == "MappedOperator"
    assert chunk.partial_kwargs["sender_code"] == "{{ params.sender_code }}"
    assert dag.task_dict["merge_reports"].trigger_rule == "all_done", "merges even when a chunk failed"
    assert dag.params["count"] == 50_000


@pytest.mark.e2e
def test_chunks_stop_every_phone_and_the_report_adds_up(airflow_db, whatcounts_conn_env, dag):
    emulator = whatcounts_conn_env
    batch = phones(25)
    emulator.subscribe(SENDER, batch)

    run = dag.test(run_conf={"count": 25, "chunk_size": 10, "sender_code": SENDER})

    assert run.state == DagRunState.SUCCESS
    chunks = return_values(run, "stop_sms_chunk")
    assert sorted(chunks) == [0, 1, 2]
    assert [chunks[i]["total"] for i in range(3)] == [10, 10, 5]
    report = return_values(run, "merge_reports")[-1]
    assert report["chunks"] == 3
    assert (report["total"], report["stopped"]) == (25, 25)
    assert report["failed"] == report["invalid"] == report["not_subscribed"] == []
    assert all(emulator.state.post_count(SENDER, phone) == 1 for phone in batch)


@pytest.mark.e2e
def test_a_failing_chunk_keeps_its_summary_and_a_rerun_completes(
    airflow_db, whatcounts_conn_env, dag, use_connection
):
    emulator = whatcounts_conn_env
    use_connection(uri=emulator.conn_uri(), max_retries=0)
    batch = phones(20)
    broken = {batch[3], batch[15]}
    emulator.subscribe(SENDER, batch)
    emulator.faults.update(failing_phones=broken)
    conf = {"count": 20, "chunk_size": 10, "sender_code": SENDER}

    run = dag.test(run_conf=conf)

    assert run.state == DagRunState.FAILED
    states = task_states(run)
    assert states["stop_sms_chunk"] == {"failed"}, "each chunk holds one broken phone"
    assert states["merge_reports"] == {"failed"}, "the report refuses to call a partial run a success"
    chunks = return_values(run, "stop_sms_chunk")
    assert sorted(chunks) == [0, 1], "a failed chunk still pushed its summary"
    failed = [item["phone"] for summary in chunks.values() for item in summary["failed"]]
    assert sorted(failed) == sorted(broken)
    assert sum(summary["stopped"] for summary in chunks.values()) == 18

    emulator.faults.update(failing_phones=set())
    rerun = dag.test(run_conf=conf)

    assert rerun.state == DagRunState.SUCCESS
    report = return_values(rerun, "merge_reports")[-1]
    assert report["stopped"] == 2
    assert sorted(report["not_subscribed"]) == sorted(set(batch) - broken)
    assert all(emulator.state.is_stopped(SENDER, phone) for phone in batch)
