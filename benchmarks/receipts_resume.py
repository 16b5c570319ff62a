"""Receipts and resume of the bulk operator (issue 9).

receipts: the same bulk run (``phones``, emulator latency, N workers) with receipts off, to a
local folder and to S3 on loopback (a moto server subprocess, reached through an Airflow ``aws``
connection), in the order off, local, s3, local, off: drift on a loaded machine hits both alike.
resume: a run over 20,000 phones in a subprocess, SIGKILLed once about half the POSTs reached the
emulator; then the next try of the same task instance (a subprocess too): its requests vs the
ideal (pairs without a final receipt), and its time vs a full run on fresh phones. Times are the
child's ``execute`` only (interpreter start and imports excluded, alike for both).
Run by bench.py; the child is ``python benchmarks/receipts_resume.py ARGS_JSON``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests
from _harness import WHATCOUNTS_CONN_ID, WORK_DIR, MeasurementError, Row, Section
from bulk_inputs import bench_context

if TYPE_CHECKING:
    from _harness import Bench

SENDER, RESUME_SENDER = "2065550120", "2065550121"
S3_CONN_ID, BUCKET = "bench_s3", "receipts"
# LOCAL_TARGET bounds the CPU receipts add (local folder vs off): wall time hides it behind the
# emulator latency while the cores are idle, CPU does not.
LOCAL_TARGET, RESUME_TARGET = 1.05, 0.60
# Dummy credentials and no instance metadata: nothing can reach or authenticate against AWS.
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


def bulk(phones: list[str], receipts: str | None, workers: int, run_id: str, try_number: int = 1) -> Any:
    """Wall seconds of one operator run, its record, and the CPU seconds of this process."""
    from whatcounts_provider.operators.sms import BulkStopSmsSubscriberOperator

    op = BulkStopSmsSubscriberOperator(
        task_id="stop",
        phones=phones,
        sender_code=RESUME_SENDER if run_id.startswith("resume") else SENDER,
        whatcounts_conn_id=WHATCOUNTS_CONN_ID,
        max_workers=workers,
        receipts_path=receipts,
    )
    start, cpu = time.perf_counter(), time.process_time()
    record = op.execute(bench_context(run_id, try_number))
    return time.perf_counter() - start, record, time.process_time() - cpu


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    with (WORK_DIR / "moto.log").open("ab") as log:
        command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
        process = subprocess.Popen(command, stdout=log, stderr=log)
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.put(f"{endpoint}/{BUCKET}", timeout=2)  # creates the bucket
            break
        except requests.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise MeasurementError(
                    "the moto S3 server did not start; see .build/bench/moto.log"
                ) from None
            time.sleep(0.2)
    extra = {"endpoint_url": endpoint, "region_name": "us-east-1"}
    connection = {"conn_type": "aws", "login": "testing", "password": "testing", "extra": extra}
    os.environ.update(AWS_ENV, AWS_ENDPOINT_URL=endpoint)
    os.environ[f"AIRFLOW_CONN_{S3_CONN_ID.upper()}"] = json.dumps(connection)
    return process, f"s3://{S3_CONN_ID}@{BUCKET}/bench"


def run_receipts(bench: Bench) -> list[Row]:
    from whatcounts_provider.receipts import iter_receipts

    n, latency, workers = bench.sizes.receipts_n, bench.sizes.latency, bench.sizes.workers
    local = WORK_DIR / "receipts"
    shutil.rmtree(local, ignore_errors=True)
    moto, s3 = start_moto()
    try:
        bench.reset(latency=latency)
        plan = [("off", None), ("local", str(local)), ("s3", s3), ("local", str(local)), ("off", None)]
        blocks = [bench.fresh_phones(n) for _ in plan]
        bench.subscribe(SENDER, [phone for block in blocks for phone in block])
        times: dict[str, list[float]] = {"off": [], "local": [], "s3": []}
        cpu: dict[str, float] = {"off": 0.0, "local": 0.0, "s3": 0.0}
        for k, ((name, where), phones) in enumerate(zip(plan, blocks, strict=True)):
            elapsed, record, cpu_s = bulk(phones, where, workers, f"receipts-{k}")
            receipts = sum(1 for _ in iter_receipts(record["receipts"])) if where else n
            if record["stopped"] != n or receipts != n:
                raise MeasurementError(
                    f"receipts {name}: {record['stopped']} stopped, {receipts} receipts of {n}"
                )
            times[name].append(elapsed)
            cpu[name] += cpu_s / plan.count((name, where))
    finally:
        moto.kill()
        moto.wait(10)
        bench.reset()
    off, local_s, s3_s = (sum(times[key]) / len(times[key]) for key in ("off", "local", "s3"))
    head = f"receipts: bulk {n} phones, {latency * 1e3:g} ms latency, {workers} workers"
    off_ref = f"off {off:.2f} s (runs {', '.join(f'{t:.2f}' for t in times['off'])})"

    def cpu_ratio(name: str) -> str:
        return f"CPU {cpu[name]:.2f} s vs {cpu['off']:.2f} s ({cpu[name] / cpu['off'] - 1:+.1%})"

    return [
        Row(f"{head}, receipts off", f"{off:.2f} s ({n / off:.0f}/s)", f"CPU {cpu['off']:.2f} s"),
        Row(
            f"{head}, receipts to a local folder (runs {', '.join(f'{t:.2f}' for t in times['local'])})",
            f"{local_s:.2f} s ({n / local_s:.0f}/s)",
            off_ref,
            f"{local_s / off - 1:+.1%}; {cpu_ratio('local')}",
            f"<= +{LOCAL_TARGET - 1:.0%} CPU",
            cpu["local"] <= cpu["off"] * LOCAL_TARGET,
        ),
        Row(
            f"{head}, receipts to S3 (moto on loopback)",
            f"{s3_s:.2f} s ({n / s3_s:.0f}/s)",
            off_ref,
            f"{s3_s / off - 1:+.1%}; {cpu_ratio('s3')}",
        ),
    ]


def spawn(
    phones_file: Path, root: Path, workers: int, run_id: str, try_number: int
) -> tuple[subprocess.Popen[bytes], Path]:
    result = root.parent / f"{run_id}-try{try_number}.json"
    result.unlink(missing_ok=True)
    args = {
        "phones": str(phones_file),
        "root": str(root),
        "workers": workers,
        "run_id": run_id,
        "try": try_number,
        "result": str(result),
    }
    return subprocess.Popen([sys.executable, __file__, json.dumps(args)]), result


def finish(process: subprocess.Popen[bytes], result: Path, timeout: float) -> tuple[float, dict[str, Any]]:
    if process.wait(timeout) or not result.exists():
        raise MeasurementError(f"a resume child exited with {process.returncode}; see bench.log")
    elapsed, record, _ = json.loads(result.read_text())
    return elapsed, record


def run_resume(bench: Bench) -> list[Row]:
    from whatcounts_provider.receipts import TaskIdentity, completed_pairs, task_instance_folder

    n, latency, workers = bench.sizes.resume_n, bench.sizes.latency, bench.sizes.workers
    work = WORK_DIR / "resume"
    shutil.rmtree(work, ignore_errors=True)
    (work / "receipts").mkdir(parents=True)
    bench.reset(latency=latency)
    phones, fresh = bench.fresh_phones(n), bench.fresh_phones(n)
    bench.subscribe(RESUME_SENDER, phones + fresh)
    (work / "phones.json").write_text(json.dumps(phones))
    (work / "fresh.json").write_text(json.dumps(fresh))
    timeout = 120 + n * latency / workers * 10

    def requests_so_far() -> int:
        return int(bench.admin("GET", "state")["counters"]["requests"])

    first, _ = spawn(work / "phones.json", work / "receipts", workers, "resume-killed", 1)
    deadline = time.monotonic() + timeout
    while requests_so_far() < n // 2:
        if first.poll() is not None or time.monotonic() > deadline:
            raise MeasurementError(f"the first try ended (rc {first.returncode}) before half its requests")
        time.sleep(0.1)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    time.sleep(0.5)  # requests in flight when it died still reach the emulator
    sent_first = requests_so_far()
    identity = TaskIdentity("bench", "resume-killed", "stop", -1, 1)
    receipted = len(completed_pairs(task_instance_folder(str(work / "receipts"), identity)))
    ideal = n - receipted
    second, result = spawn(work / "phones.json", work / "receipts", workers, "resume-killed", 2)
    elapsed, record = finish(second, result, timeout)
    sent_second = requests_so_far() - sent_first
    honoured = record["stopped"] + len(record["not_subscribed"])
    if record["already_done"] != receipted or honoured + receipted != n or record["failed"]:
        raise MeasurementError(f"resume: {receipted} receipted, record {record}"[:300])
    left = bench.admin("GET", "state")["subscribed"].get(RESUME_SENDER, [])
    if set(left) & set(phones):
        raise MeasurementError(f"resume: {len(set(left) & set(phones))} phones still subscribed")
    full_process, full_result = spawn(work / "fresh.json", work / "receipts", workers, "resume-full", 1)
    full, full_record = finish(full_process, full_result, timeout)
    bench.reset()
    if full_record["stopped"] != n:
        raise MeasurementError(f"resume: the full run stopped {full_record['stopped']} of {n}")
    return [
        Row(
            f"resume: try 1 over {n} phones SIGKILLed after {sent_first} requests",
            f"{receipted} final receipts",
            f"{sent_first - receipted} sent but not yet flushed",
        ),
        Row(
            "resume: requests sent by try 2",
            f"{sent_second}",
            f"ideal {ideal} (pairs without a final receipt)",
            f"{sent_second / max(ideal, 1):.2f}x",
            "<= ideal",
            sent_second <= ideal,
        ),
        Row(
            f"resume: try 2 elapsed ({record['already_done']} already done, "
            f"{len(record['not_subscribed'])} re-sent)",
            f"{elapsed:.2f} s",
            f"full run {full:.2f} s",
            f"{elapsed / full:.0%}",
            f"<= {RESUME_TARGET:.0%}",
            elapsed / full <= RESUME_TARGET,
        ),
    ]


RECEIPTS = Section("receipts", run_receipts, lambda s: 180 + 5 * s.receipts_n * s.latency / s.workers * 10)
RESUME = Section("resume", run_resume, lambda s: 180 + 3 * s.resume_n * s.latency / s.workers * 10)

if __name__ == "__main__":
    given = json.loads(sys.argv[1])
    outcome = bulk(
        json.loads(Path(given["phones"]).read_text()),
        given["root"],
        given["workers"],
        given["run_id"],
        given["try"],
    )
    Path(given["result"]).write_text(json.dumps(outcome))
