"""A real crash (issue 9 §2): SIGKILL a bulk task mid-run, then run its next try.

The first try runs in a subprocess against the emulator (started here) with a rate cap, so it
cannot finish before a part is flushed (parts are flushed every 250 receipts or 1 s); the test
kills it as soon as a part is visible, then runs try 2 of the same task instance in-process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from typing import TYPE_CHECKING

from tests.helpers import ROOT, SENDER, make_context, phones
from tests.operators.bulk_crash_task import IDENTITY
from whatcounts_provider.operators.sms import BulkStopSmsSubscriberOperator
from whatcounts_provider.receipts import is_part_name, iter_receipts
from whatcounts_provider.storage import Location

if TYPE_CHECKING:
    from pathlib import Path

COUNT = 3000
# 3,000 pairs at <= 250/s take >= 12 s: the first part (250 receipts = 1 s, or the 1 s timer)
# appears long before the end. A slower machine only makes the run longer.
RATE = 250.0
WAIT = 180  # seconds; an upper bound for a loaded machine (Airflow's import alone takes seconds)
FINAL = ("stopped", "not_subscribed")


def parts(location: str) -> list[str]:
    return [name for _, name in Location.of(location).files() if is_part_name(name)]


def crash_then_resume(emulator, location: str, record_property) -> None:
    batch = phones(COUNT)
    emulator.subscribe(SENDER, batch)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.operators.bulk_crash_task", location, str(COUNT), str(RATE), "1"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + WAIT
        while not parts(location):
            assert proc.poll() is None, (
                f"try 1 ended before a part was flushed: {proc.stderr.read()[-2000:]!r}"
            )
            assert time.monotonic() < deadline, "no part flushed in time"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(WAIT) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(WAIT)
        assert proc.stderr is not None
        proc.stderr.close()
    first = list(iter_receipts(location))
    assert first
    assert all(r["try_number"] == 1 for r in first)
    first_final = {(r["phone"], r["sender_code"]) for r in first if r["status"] in FINAL}
    assert 0 < len(first_final) < COUNT, "the kill landed mid-run"
    emulator.faults.update(latency=0.0)
    posts_before = sum(emulator.state.posts.values())

    context = make_context(try_number=2, **IDENTITY)
    op = BulkStopSmsSubscriberOperator(
        task_id="stop", phones=batch, sender_code=SENDER, receipts_path=location, max_workers=8
    )
    record = op.execute(context)

    second_posts = sum(emulator.state.posts.values()) - posts_before
    record_property("final_after_try_1", len(first_final))
    record_property("posts_try_2", second_posts)
    record_property("not_subscribed_try_2", len(record["not_subscribed"]))
    assert all(emulator.state.is_stopped(SENDER, phone) for phone in batch), "every phone stopped"
    assert second_posts <= COUNT - len(first_final), "try 2 sent only pairs without a final receipt"
    assert record["already_done"] == len(first_final)
    # Pairs sent after try 1's last flush come back not_subscribed: honest, and final.
    assert record["stopped_this_try"] + len(record["not_subscribed"]) == COUNT - len(first_final)
    # The record counts what the run honoured across both tries, and says which "not subscribed"
    # answers most likely are try 1's lost stops.
    assert record["stopped"] + len(record["not_subscribed"]) == COUNT
    assert record["not_subscribed_after_cut_short"] == len(record["not_subscribed"])
    receipts = list(iter_receipts(location))
    finals = Counter((r["phone"], r["sender_code"]) for r in receipts if r["status"] in FINAL)
    assert finals == Counter({(phone, SENDER): 1 for phone in batch}), "one final receipt per pair"
    flagged = {r["phone"] for r in receipts if r["earlier_try_cut_short"] == 1}
    assert flagged == set(record["not_subscribed"]), "each re-send after the kill names try 1"


def test_sigkill_mid_run_then_the_next_try_resumes_local(
    whatcounts_conn_env, tmp_path: Path, record_property
) -> None:
    whatcounts_conn_env.faults.update(latency=0.002)
    crash_then_resume(whatcounts_conn_env, str(tmp_path / "receipts"), record_property)


def test_sigkill_mid_run_then_the_next_try_resumes_s3(
    whatcounts_conn_env, s3_location: str, record_property
) -> None:
    whatcounts_conn_env.faults.update(latency=0.002)
    crash_then_resume(whatcounts_conn_env, s3_location, record_property)
