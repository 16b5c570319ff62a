"""The example DAGs under a real Airflow 3.3 deployment: CeleryExecutor, PostgreSQL, Redis, faults.

Each scenario triggers a run through the REST API and waits for it with a bound; a run that does
not finish in time fails the test with every component's log tail attached. The tests run in
file order on one deployment; the last one greps every log the stage wrote.
"""

from __future__ import annotations

import re
import shutil
import signal
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

import pytest

from whatcounts_provider.phone import mask_phone
from whatcounts_provider.receipts.writer import DEFAULT_MAX_RECEIPTS

from .conftest import FIGURES
from .scenarios import (
    BULK,
    CHUNK_TASK,
    FINAL,
    MERGE_TASK,
    PIPELINE,
    REPLIES_CSV,
    RUN_TIMEOUT,
    STOP_WITHIN_S,
    assert_replies_honoured,
    bulk_conf,
    chunks,
    count_of,
    final_receipts,
    pipeline_asset,
    posts_for,
    receipts_of,
    stage_wait,
    still_subscribed,
    stop_posts,
    subscribe_bulk,
    subscribe_replies,
    task_tries,
    try_markers,
    wait_chunk_running,
    wait_cleared_run,
    wait_new_pipeline_run,
    wait_posts,
)

if TYPE_CHECKING:
    from whatcounts_provider.testing.emulator import WhatCountsEmulator

    from .stage import Stage

pytestmark = pytest.mark.deployment


def test_every_component_listens_on_loopback_only(stage: Stage) -> None:
    """No component opens a port on another interface (Airflow's log servers would, if started)."""
    import psutil

    pids = {member.pid for process in stage.table.processes for member in process.tree()}
    listening = [
        conn for conn in psutil.net_connections(kind="inet") if conn.status == "LISTEN" and conn.pid in pids
    ]
    assert listening, "the api-server listens somewhere"
    outside = [(conn.pid, conn.laddr) for conn in listening if conn.laddr.ip not in {"127.0.0.1", "::1"}]
    assert not outside, f"listening beyond loopback: {outside}"
    assert {conn.laddr.port for conn in listening} == {stage.port}, "only the api-server has a TCP port"


def test_scale_out_50000_phones_in_5_chunks(stage: Stage, emulator: WhatCountsEmulator) -> None:
    code = "2065550001"
    phones = subscribe_bulk(stage, emulator, code, 50_000)
    begin = time.monotonic()
    conf = bulk_conf(stage, "scale_out", 50_000, 10_000, code)
    run_id = stage.trigger(BULK, conf)
    run = stage.wait_run(BULK, run_id, RUN_TIMEOUT)
    FIGURES["bulk_50000_wall_s"] = stage.timings["bulk_50000_wall_s"] = time.monotonic() - begin

    assert run["state"] == "success", stage.failure(stage.describe_run(BULK, run_id))
    assert [ti["state"] for ti in chunks(stage, run_id)] == ["success"] * 5
    assert len(still_subscribed(emulator, code)) == 0, "every phone is stopped"
    assert set(emulator.state.stopped[code]) == set(phones), "exactly the generated phones were stopped"
    report = stage.xcom(BULK, run_id, MERGE_TASK)
    assert report is not None, "the merged report is in XCom"
    assert report["total"] == 50_000
    assert report["stopped"] == 50_000
    assert [count_of(report[key]) for key in ("not_subscribed", "invalid", "failed")] == [0, 0, 0]
    assert (report["chunks_expected"], report["chunks_reported"]) == (5, 5)
    assert (report["missing_chunks"], report["errors"]) == ([], [])
    finals = final_receipts(receipts_of(conf))
    assert set(finals) == {(phone, code) for phone in phones}, "a final receipt for every phone"
    assert set(finals.values()) == {1}, "exactly one final receipt per phone"


def test_worker_killed_mid_run_chunks_are_retried_to_green(
    stage: Stage, emulator: WhatCountsEmulator
) -> None:
    """The machine under a worker dies while 4 chunks run; a new worker comes up."""
    code, count = "2065550002", 40_000
    phones = subscribe_bulk(stage, emulator, code, count)
    emulator.faults.update(latency=0.01)  # each chunk then takes well over 10 s
    conf = bulk_conf(stage, "worker_killed", count, 10_000, code)
    run_id = stage.trigger(BULK, conf)
    wait_posts(stage, emulator, run_id, count // 4)
    victim = next(w for w in stage.workers if w.alive())
    running = {ti["map_index"]: ti["try_number"] for ti in chunks(stage, run_id) if ti["state"] == "running"}
    stage.kill_worker(victim)
    killed_at = time.monotonic()
    # Nothing sends until the new worker is up: the pairs the dead tries posted (requests in
    # flight at the kill may still land just after this count).
    sent_at_kill = stop_posts(emulator)
    posted_by_dead = {phone for phone in phones if emulator.state.post_count(code, phone)}
    replacement = stage.start_worker()

    def noticed() -> bool:  # each chunk the worker ran has left that try's "running"
        now = {ti["map_index"]: ti for ti in chunks(stage, run_id)}
        return all(now[i]["state"] != "running" or now[i]["try_number"] > t for i, t in running.items())

    stage_wait(stage, noticed, 120.0, "the scheduler to notice the dead worker's tasks", run_id)
    FIGURES["dead_worker_noticed_s"] = time.monotonic() - killed_at
    stage_wait(stage, lambda: stage.worker_ready(replacement), 180.0, "the new worker to be ready")

    run = stage.wait_run(BULK, run_id, RUN_TIMEOUT)
    left = still_subscribed(emulator, code)
    tries = {ti["map_index"]: ti["try_number"] for ti in chunks(stage, run_id)}
    assert sent_at_kill < count, "the worker died while chunks were still sending"
    assert run["state"] == "success", (
        f"run {run['state']} with {len(left)} of {count} phones still subscribed; tries {tries}\n"
        + stage.describe_run(BULK, run_id)
    )
    assert len(left) == 0, f"run green with {len(left)} of {count} phones still subscribed (tries {tries})"
    assert running, "chunks were running when the worker died"
    assert all(tries[i] > t for i, t in running.items()), (
        f"Airflow retried the killed chunks: {running} -> {tries}"
    )

    receipts = receipts_of(conf)
    finals = final_receipts(receipts)
    assert set(finals) == {(phone, code) for phone in phones}, "a final receipt for every phone"
    twice = {pair for pair, n in finals.items() if n > 1}
    assert not twice, f"{len(twice)} pairs honoured more than once in the receipts"
    # A resumed try sends only what no earlier try receipted: a pair posted twice is one whose
    # first post got no final receipt from the dead try (its last receipts, at most 5 s or 1,000
    # per chunk, were not flushed yet, or its request was in flight at the kill).
    dead_tries = set(running.items())
    receipted_by_dead = {
        r["phone"]
        for r in receipts
        if r["status"] in FINAL and (r["map_index"], r["try_number"]) in dead_tries
    }
    reposted = {phone for phone in phones if emulator.state.post_count(code, phone) > 1}
    wrongly = reposted & receipted_by_dead
    assert not wrongly, (
        f"{len(wrongly)} pairs posted again although a dead try had receipted them, "
        f"e.g. {sorted(mask_phone(p) for p in wrongly)[:3]}"
    )
    # The emulator may see requests in flight at the kill just after it: at most one per sending
    # thread of each dead chunk (max_workers=8 in the DAG), never more.
    late = reposted - posted_by_dead
    assert len(late) <= 8 * len(running), f"{len(late)} pairs posted again that the dead tries never sent"
    # Receipts are flushed at least every DEFAULT_MAX_RECEIPTS (or each second): a dead try
    # loses at most that many, plus its requests in flight; the resumed try skipped the rest.
    assert len(reposted) <= len(running) * (DEFAULT_MAX_RECEIPTS + 8), f"{len(reposted)} pairs sent again"
    FIGURES["worker_kill_reposted_pairs"] = len(reposted)


def test_chunk_task_oom_killed_never_green_with_phones_left(
    stage: Stage, emulator: WhatCountsEmulator
) -> None:
    """The kernel's OOM killer SIGKILLs one chunk's task process (not the worker)."""
    code, count = "2065550003", 20_000
    subscribe_bulk(stage, emulator, code, count)
    emulator.faults.update(latency=0.01)
    conf = bulk_conf(stage, "oom_killed", count, 5_000, code)
    run_id = stage.trigger(BULK, conf)
    ti = wait_chunk_running(stage, run_id, 1)
    process = stage_wait(stage, lambda: stage.task_process(ti["id"]), 120.0, "chunk 1's task process", run_id)
    wait_posts(stage, emulator, run_id, count // 5)
    process.send_signal(signal.SIGKILL)

    run = stage.wait_run(BULK, run_id, RUN_TIMEOUT)
    left = still_subscribed(emulator, code)
    assert run["state"] in {"success", "failed"}
    FIGURES["oom_kill_recovered"] = float(run["state"] == "success")
    if run["state"] == "success":
        assert len(left) == 0, f"run green with {len(left)} of {count} phones still subscribed\n" + (
            stage.describe_run(BULK, run_id)
        )
        finals = final_receipts(receipts_of(conf))
        assert len(finals) == count, "green: a final receipt for every phone"
        assert set(finals.values()) == {1}, "green: exactly one final receipt per phone"


def test_wrong_password_everywhere_fails_the_run(stage: Stage, emulator: WhatCountsEmulator) -> None:
    """The realm's API password was rotated in WhatCounts; the connection still has the old one."""
    code, count = "2065550004", 5_000
    subscribe_bulk(stage, emulator, code, count)
    rotated = "rotated-" + stage.password[::-1]
    stage.add_secret(rotated)
    emulator.state.password = rotated
    run_id = stage.trigger(BULK, bulk_conf(stage, "wrong_password", count, 1_000, code))
    run = stage.wait_run(BULK, run_id, RUN_TIMEOUT)

    states = {ti["map_index"]: (ti["state"], ti["try_number"]) for ti in chunks(stage, run_id)}
    assert run["state"] == "failed", f"run {run['state']} with every request refused; chunks {states}"
    assert not emulator.state.stopped.get(code), "nothing was stopped"
    assert all(state == ("failed", 1) for state in states.values()), (
        f"each chunk fails at once, spending no retries on rejected credentials: {states}"
    )
    for map_index in states:
        log = stage.task_log(BULK, run_id, CHUNK_TASK, map_index, 1)
        says_why = "WhatCountsAuthError" in log or "rejected the credentials" in log
        assert says_why, f"chunk {map_index}'s log says why:\n{stage.redact(log[-3000:])}"
    report = stage.xcom(BULK, run_id, MERGE_TASK)
    assert report is not None, "the merge step pushed its report before failing the run"
    assert report["stopped"] == 0
    assert len(report["errors"]) == len(states) == 5, f"each chunk's abort is named: {report['errors']}"
    assert all("WhatCountsAuthError" in e["error"] for e in report["errors"]), stage.redact(
        str(report["errors"])
    )


def test_reused_run_id_sends_every_pair_again_and_a_clear_still_resumes(
    stage: Stage, emulator: WhatCountsEmulator
) -> None:
    """Issue 15, point 12: a DAG run is deleted and triggered again under its old id (as a
    deterministic ``scheduled__<date>`` id repeats after a metadata-database reset). The new run
    finds the old run's receipts in its folder and must not trust them; a clear of the *same* run
    must still resume from them (that a retry resumes, the worker-kill scenario proves)."""
    code, count, run_id = "2065550008", 1_000, "fixed-run-1"
    phones = subscribe_bulk(stage, emulator, code, count)
    conf = bulk_conf(stage, "reused_run_id", count, 500, code)  # 2 chunks
    assert stage.trigger(BULK, conf, run_id=run_id) == run_id
    first = stage.wait_run(BULK, run_id, RUN_TIMEOUT)
    assert first["state"] == "success", stage.failure(stage.describe_run(BULK, run_id))
    assert not still_subscribed(emulator, code), "the first run stopped every phone"
    after_first = posts_for(emulator, code, phones)
    first_tries = task_tries(stage, run_id)

    # The same DAG run, cleared once finished: each chunk's next try resumes and sends nothing.
    stage.clear_tasks(BULK, run_id, [CHUNK_TASK])
    cleared = wait_cleared_run(stage, run_id, first_tries)
    assert cleared["state"] == "success", stage.failure(stage.describe_run(BULK, run_id))
    report = stage.xcom(BULK, run_id, MERGE_TASK)
    assert report is not None, "the cleared merge pushed its report"
    # The record counts what the run honoured across its tries: every pair, none by this try.
    assert (report["already_done"], report["stopped"], report["stopped_this_try"]) == (count, count, 0), (
        f"the clear of the same run resumed every pair: {_counts(report)}"
    )
    resent = posts_for(emulator, code, phones) - after_first
    assert not resent, f"the cleared run sent {resent.total()} requests although it had receipts for all"

    # The run is deleted, the phones subscribe again, and a new run takes the same id.
    stage.delete_run(BULK, run_id)
    emulator.subscribe(code, phones)
    assert len(still_subscribed(emulator, code)) == count
    before_second = posts_for(emulator, code, phones)
    assert stage.trigger(BULK, conf, run_id=run_id) == run_id
    second = stage.wait_run(BULK, run_id, RUN_TIMEOUT)
    assert second["state"] == "success", stage.failure(stage.describe_run(BULK, run_id))
    report = stage.xcom(BULK, run_id, MERGE_TASK)
    assert report is not None, "the new run's merge pushed its report"
    assert (report["already_done"], report["stopped"], report["stopped_this_try"]) == (0, count, count), (
        f"the new run trusted the deleted run's receipts: {_counts(report)}; "
        f"tries {task_tries(stage, run_id)}"
    )
    left = still_subscribed(emulator, code)
    assert not left, f"the new run left {len(left)} of {count} phones subscribed"
    sent = posts_for(emulator, code, phones) - before_second
    unsent = [mask_phone(phone) for phone in phones if not sent[phone]]
    assert not unsent, f"{len(unsent)} phones got no request from the new run, e.g. {unsent[:3]}"
    assert sent.total() == count, f"the new run sent {sent.total()} stop requests for {count} pairs"

    # Each DAG run honoured each pair once; the clear's tries joined the first run's lineage, the
    # new run's tries started their own.
    finals = final_receipts(receipts_of(conf))
    assert set(finals) == {(phone, code) for phone in phones}, "a final receipt for every phone"
    assert set(finals.values()) == {2}, "one final receipt per pair from each DAG run"
    markers = try_markers(conf)
    assert sorted(markers) == [0, 1], f"both chunks left try markers: {sorted(markers)}"
    for map_index, tries in markers.items():
        # Oldest first: the first run's tries (1 unless Airflow retried), the clear's, the new run's.
        split = first_tries[CHUNK_TASK, map_index] + 1
        old, new = tries[:split], tries[split:]
        assert len({m["lineage"] for m in old}) == 1, f"chunk {map_index}: the clear joins the first run"
        assert [m["try_number"] for m in new[:1]] == [1], f"chunk {map_index}: tries {tries}"
        assert old[0]["lineage"] not in {m["lineage"] for m in new}, (
            f"chunk {map_index}: a new run starts anew"
        )
    FIGURES["cleared_run_resent_pairs"] = len(resent)
    FIGURES["reused_run_id_resent_pairs"] = len(sent)


def _counts(report: dict[str, Any]) -> dict[str, Any]:
    return {
        key: report.get(key)
        for key in ("total", "stopped", "stopped_this_try", "already_done", "chunks_reported", "errors")
    }


def test_pipeline_runs_on_an_asset_event_posted_through_the_rest_api(
    stage: Stage, emulator: WhatCountsEmulator
) -> None:
    pairs = subscribe_replies(stage, emulator)
    asset = pipeline_asset(stage)
    assert asset["uri"] == f"{stage.pipeline_storage}/inbound/stop_replies.csv", asset["uri"]
    landed = stage.root / "pipeline-storage" / "inbound" / "stop_replies.csv"
    landed.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(REPLIES_CSV, landed)  # the file first, then the word that it changed
    before = {r["dag_run_id"] for r in stage.runs(PIPELINE)}
    stage.api("POST", "/api/v2/assets/events", json={"asset_id": asset["id"]})
    assert_replies_honoured(stage, emulator, wait_new_pipeline_run(stage, before), pairs)


def test_pipeline_runs_when_its_producer_updates_the_asset(
    stage: Stage, emulator: WhatCountsEmulator
) -> None:
    pairs = subscribe_replies(stage, emulator)
    asset = pipeline_asset(stage)
    producers = sorted({task["dag_id"] for task in asset["producing_tasks"]})
    assert producers, f"a DAG of the examples produces {asset['uri']} (a task with it in `outlets`)"
    before = {r["dag_run_id"] for r in stage.runs(PIPELINE)}
    producer_run = stage.trigger(producers[0])
    assert stage.wait_run(producers[0], producer_run, RUN_TIMEOUT)["state"] == "success", stage.describe_run(
        producers[0], producer_run
    )
    assert_replies_honoured(stage, emulator, wait_new_pipeline_run(stage, before), pairs)


def test_chunk_marked_failed_stops_sending_within_seconds(stage: Stage, emulator: WhatCountsEmulator) -> None:
    code, count = "2065550007", 10_000
    subscribe_bulk(stage, emulator, code, count)
    emulator.faults.update(latency=0.02)  # one chunk of 10,000 at 8 requests in flight: > 25 s
    run_id = stage.trigger(BULK, bulk_conf(stage, "marked_failed", count, count, code))
    ti = wait_chunk_running(stage, run_id, 0)
    process = stage_wait(stage, lambda: stage.task_process(ti["id"]), 120.0, "chunk 0's task process", run_id)
    wait_posts(stage, emulator, run_id, 500)
    stage.set_task_state(BULK, run_id, CHUNK_TASK, 0, "failed")
    marked = time.monotonic()  # the emulator stamps requests with this clock
    run = stage.wait_run(BULK, run_id, RUN_TIMEOUT)

    # The run can end before the chunk's process does: wait for the supervisor's word on its exit.
    def supervisor_lines() -> list[str]:
        pid = re.compile(rf"\bpid={process.pid}\b")
        return [
            line
            for worker in stage.workers
            for line in worker.log_path.read_text(errors="replace").splitlines()
            if "[supervisor]" in line and pid.search(line)
        ]

    def exited() -> bool:
        return any("Process exited" in line for line in supervisor_lines())

    stage_wait(stage, exited, 60.0, "the supervisor to log the chunk process's exit", run_id)
    stops = sorted(
        r.timestamp for r in list(emulator.state.requests) if r.endpoint == "stop" and r.sender == code
    )
    assert len(stops) < count, "the chunk was interrupted, not finished"
    escalated = [line for line in supervisor_lines() if "did not terminate in time" in line]
    assert not escalated, (
        "SIGTERM did not stop the chunk (no working on_kill): Airflow had to SIGKILL it; last request "
        f"{stops[-1] - marked:.1f} s after the mark\n" + "\n".join(escalated)
    )
    assert stops[-1] - marked <= STOP_WITHIN_S, f"last request {stops[-1] - marked:.1f} s after the mark"
    assert run["state"] == "failed", (
        f"run {run['state']} after its only chunk was marked failed; "
        f"{len(still_subscribed(emulator, code))} of {count} phones still subscribed"
    )


_DIGITS = re.compile(r"(?<![0-9])[0-9]{10,11}(?![0-9])")


def test_no_password_token_or_full_phone_in_any_log(stage: Stage) -> None:
    """Every component log and task log of this session: no secret, no full phone used by a scenario."""
    files = stage.log_files()
    assert any("attempt=" in f.name for f in files), "task logs were written"
    assert stage.phones_used, "scenarios ran before this check"
    leaks: dict[str, Counter[str]] = {}
    for path in files:
        found: Counter[str] = Counter()
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            found.update(f"line {number}: a password or its Basic token" for s in stage.secrets if s in line)
            phones = [
                d for d in _DIGITS.findall(line) if d in stage.phones_used or f"1{d}" in stage.phones_used
            ]
            phones += [raw for raw in stage.raw_phones if raw in line]
            if phones:
                found[f"line {number}: {len(phones)} full phones, e.g. {mask_phone(phones[0])}"] += 1
        if found:
            leaks[str(path.relative_to(stage.root))] = found
    if leaks:  # reported per file and line, masked: the failure message is a log too
        report = [f"{file}: {', '.join(list(found)[:3])}" for file, found in leaks.items()]
        pytest.fail(f"{len(leaks)} log files leak:\n" + "\n".join(report[:40]), pytrace=False)
