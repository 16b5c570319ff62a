"""Run the example DAGs end to end against a local WhatCounts emulator (``make demo``).

Nothing leaves the machine: the emulator listens on 127.0.0.1 and plays a WhatCounts realm in
which everyone who replied in ``example_dags/data/stop_replies.csv`` is an SMS subscriber. The
producer DAG lands the replies file, the pipeline DAG classifies every reply and opts out the
phones whose reply a reasonable person reads as STOP (each under the sender code it replied to);
the queue step (``scripts/demo_queue.py``) starts an SQS queue in this process, publishes STOP
replies to it, and runs the queue DAG, printing each message's fate and its time from publish to
receipt; then the scale-out DAG opts out 50,000 generated subscribers in 5 mapped chunks; last,
the proof step (``scripts/demo_proof.py``) finds one phone's receipts, writes its evidence page
and the month's report, and verifies every receipt. Files and receipts go to ``storage/`` next to
``AIRFLOW_HOME``. This script prints the task states,
what the emulator saw, and where the receipts are with how many of each status.
``make demo`` sets ``AIRFLOW_HOME`` to a throwaway directory and
``AIRFLOW__CORE__DAGS_FOLDER`` to ``example_dags/``; this script needs nothing else.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter, defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from whatcounts_provider.phone import mask_phone, normalize_phone
from whatcounts_provider.receipts import iter_receipts
from whatcounts_provider.testing.emulator import DEMO_CREDENTIALS
from whatcounts_provider.testing.series import phone_series

ROOT = Path(__file__).resolve().parent.parent
REPLIES_CSV = ROOT / "example_dags" / "data" / "stop_replies.csv"
PRODUCER_DAG_ID = "whatcounts_land_stop_replies"
DAG_ID = "whatcounts_stop_sms_from_pipeline"
BULK_DAG_ID = "whatcounts_bulk_opt_out"
BULK_SENDER, BULK_PHONES, BULK_CHUNK = "2065551212", 50_000, 10_000
REALM, PASSWORD = DEMO_CREDENTIALS
READY_TIMEOUT = 15.0


def out(line: str) -> None:
    """This script's own output: flushed, so it interleaves correctly with the subprocesses'."""
    print(line, flush=True)


def say(message: str) -> None:
    """Progress lines stand out from Airflow's own log output."""
    out(f"==> {message}")


def airflow(*args: str, quiet: bool = False) -> int:
    """Run the Airflow CLI of this interpreter's environment (never whatever ``airflow`` is on PATH)."""
    # Commands here are built from sys.executable and constants only.
    command = [sys.executable, "-m", "airflow", *args]
    if not quiet:
        return subprocess.run(command, check=False).returncode
    done = subprocess.run(command, check=False, capture_output=True, text=True)
    if done.returncode:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
    return done.returncode


def subscribers_by_sender() -> dict[str, list[str]]:
    """Every phone that replied, normalised, by sender code: they all had to be subscribed to reply."""
    phones: dict[str, list[str]] = defaultdict(list)
    with REPLIES_CSV.open(newline="", encoding="utf-8") as replies:
        for row in csv.DictReader(replies):
            phones[row["sender_code"]].append(normalize_phone(row["phone"]))
    return phones


def start_emulator(ready_file: Path, log_file: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start the emulator on a free port; return the process and its URL once it is listening.

    The emulator writes its URL to ``ready_file`` only after binding, so waiting for that file
    is race-free (unlike guessing a port and polling it).
    """
    command = [
        sys.executable,
        "-m",
        "whatcounts_provider.testing.emulator",
        "--port",
        "0",
        "--realm",
        REALM,
        "--password",
        PASSWORD,
        "--ready-file",
        str(ready_file),
    ]
    for sender, phones in subscribers_by_sender().items():
        command += ["--subscribe", f"{sender}:{','.join(phones)}"]
    with log_file.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    ready = False
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline and process.poll() is None:
            if ready_file.exists() and (url := ready_file.read_text().strip()):
                ready = True
                return process, url
            time.sleep(0.05)
    finally:
        if not ready:  # timed out, crashed, or Ctrl-C while waiting: never leave it running
            stop_emulator(process)
    raise RuntimeError(
        f"the WhatCounts emulator did not become ready within {READY_TIMEOUT:g} s "
        f"(exit code {process.returncode}); its output is in {log_file}"
    )


def stop_emulator(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM first (the emulator shuts down cleanly on it), SIGKILL if it hangs."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def emulator_state(url: str) -> dict[str, Any]:
    """The emulator's admin view: who is subscribed and who was stopped, per sender code."""
    with urllib.request.urlopen(f"{url}/_admin/state", timeout=5) as answer:  # noqa: S310 (loopback URL)
        state: dict[str, Any] = json.load(answer)
    return state


def airflow_json(*args: str) -> Any:
    """The JSON answer of an Airflow CLI command run with ``-o json`` (the public, stable interface)."""
    done = subprocess.run(
        [sys.executable, "-m", "airflow", *args, "-o", "json"], check=False, capture_output=True, text=True
    )
    if done.returncode:
        raise RuntimeError(f"airflow {' '.join(args)} failed: {done.stderr[-2000:]}")
    # The JSON is the last line; Airflow may log before it.
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_dag(dag_id: str, *options: str) -> tuple[int, str]:
    """``airflow dags test`` at a logical date of our choosing: (exit code, that logical date).

    Choosing the date names the run for ``tasks states-for-dag-run`` on Airflow 2.11 and 3.x alike
    (2.11's ``dags test`` never registers the DAG, so ``dags list-runs`` cannot find it there).
    """
    logical_date = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    return airflow("dags", "test", dag_id, logical_date, *options), logical_date


def task_states(dag_id: str, logical_date: str) -> dict[str, Counter[str]]:
    """Task states of the run, from the Airflow CLI's JSON (a mapped task counts once per index)."""
    states: dict[str, Counter[str]] = defaultdict(Counter)
    for task in airflow_json("tasks", "states-for-dag-run", dag_id, logical_date):
        states[task["task_id"]][task["state"] or "none"] += 1
    return states


def print_task_states(tasks: dict[str, Counter[str]]) -> None:
    say("Task states of the run")
    for task_id, counts in tasks.items():
        out(f"    {task_id:<16} " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))


def succeeded(exit_code: int, tasks: dict[str, Counter[str]]) -> bool:
    return exit_code == 0 and bool(tasks) and all(set(counts) == {"success"} for counts in tasks.values())


def subscribe(url: str, sender: str, phones: list[str]) -> None:
    """Seed the emulator through its admin API (a 50,000-phone command line would be unwieldy)."""
    body = json.dumps({"sender_code": sender, "phones": phones}).encode()
    request = urllib.request.Request(  # noqa: S310 (loopback URL)
        f"{url}/_admin/subscribe", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30):  # noqa: S310 (loopback URL)
        pass


def receipt_counts(storage: Path, dag_id: str) -> Counter[str]:
    """How many receipts of each status ``dag_id``'s runs wrote (read back with ``iter_receipts``)."""
    folder = storage / "receipts"
    if not folder.exists():
        return Counter()
    return Counter(receipt["status"] for receipt in iter_receipts(folder) if receipt["dag_id"] == dag_id)


def print_receipts(storage: Path, dag_id: str) -> Counter[str]:
    counts = receipt_counts(storage, dag_id)
    where = storage / "receipts" / f"dag_id={dag_id}"
    shown = ", ".join(f"{n:,} {status}" for status, n in sorted(counts.items())) or "none"
    say(f"Receipts of {dag_id} in {where}: {shown}")
    return counts


def print_replies(storage: Path, dag_id: str) -> Counter[str]:
    """How the replies were read: opt-outs, ambiguous ones (sent as opt-outs), not opt-outs."""
    decisions = Counter(
        receipt["reply_decision"]
        for receipt in iter_receipts(storage / "receipts")
        if receipt["dag_id"] == dag_id and receipt["reply_decision"]
    )
    say(
        f"Replies read: {decisions['opt_out']} opt-outs, {decisions['ambiguous']} ambiguous (sent as "
        f"opt-outs), {decisions['not_opt_out']} not opt-outs (not sent; receipted not_opt_out)"
    )
    return decisions


def run_bulk(url: str, storage: Path) -> bool:
    """Opt out 50,000 generated subscribers with the scale-out DAG; report from the emulator."""
    phones = phone_series(BULK_PHONES)  # the phones whatcounts_bulk_opt_out generates
    subscribe(url, BULK_SENDER, phones)
    conf = json.dumps(
        {"count": BULK_PHONES, "chunk_size": BULK_CHUNK, "sender_code": BULK_SENDER, "storage": str(storage)}
    )
    say(f"airflow dags test {BULK_DAG_ID} -c '{conf}'  ({BULK_PHONES:,} phones, chunks of {BULK_CHUNK:,})")
    started = time.monotonic()
    exit_code, logical_date = test_dag(BULK_DAG_ID, "-c", conf)
    elapsed = time.monotonic() - started
    tasks = task_states(BULK_DAG_ID, logical_date)
    print_task_states(tasks)
    stopped = set(emulator_state(url)["stopped"].get(BULK_SENDER, []))
    done = sum(phone in stopped for phone in phones)
    say(f"{done:,} of {BULK_PHONES:,} generated phones opted out in {elapsed:.0f} s (whole DAG run)")
    receipts = print_receipts(storage, BULK_DAG_ID)
    return succeeded(exit_code, tasks) and done == BULK_PHONES == receipts["stopped"] == receipts.total()


def report(state: dict[str, Any], tasks: dict[str, Counter[str]]) -> int:
    """Print the outcome; return how many phones the emulator has stopped."""
    print_task_states(tasks)
    say("Phones opted out in the WhatCounts emulator, by sender code")
    total = 0
    for sender, phones in sorted(state["stopped"].items()):
        still = len(state["subscribed"].get(sender, []))
        total += len(phones)
        masked = ", ".join(mask_phone(phone) for phone in sorted(phones))
        out(f"    {sender}: {len(phones)} stopped ({masked}); {still} still subscribed")
    say(f"{total} phone(s) opted out in total")
    return total


def main() -> int:
    home = Path(os.environ["AIRFLOW_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    storage = home.parent / "storage"
    # The pipeline DAG reads it when its file is parsed: every `airflow` command below inherits it.
    os.environ["WHATCOUNTS_EXAMPLE_STORAGE"] = storage.as_uri()
    say(f"Migrating a fresh Airflow metadata DB in {home}")
    if airflow("db", "migrate", quiet=True):
        say("airflow db migrate failed")
        return 1
    say("Starting the WhatCounts emulator")
    try:
        process, url = start_emulator(home / "emulator.url", home / "emulator.log")
    except RuntimeError as exc:
        say(f"Demo FAILED: {exc}")
        return 1
    try:
        say(f"Emulator listening on {url}; connection whatcounts_default points at it")
        os.environ["AIRFLOW_CONN_WHATCOUNTS_DEFAULT"] = json.dumps(
            {"conn_type": "whatcounts", "host": url, "login": REALM, "password": PASSWORD}
        )
        say(f"airflow dags test {PRODUCER_DAG_ID}  (lands the replies file, the asset's producer)")
        exit_code, logical_date = test_dag(PRODUCER_DAG_ID)
        tasks = task_states(PRODUCER_DAG_ID, logical_date)
        print_task_states(tasks)
        if not succeeded(exit_code, tasks):
            say(f"Demo FAILED: {PRODUCER_DAG_ID} did not succeed")
            return 1
        say(f"airflow dags test {DAG_ID}")
        exit_code, logical_date = test_dag(DAG_ID)
        tasks = task_states(DAG_ID, logical_date)
        stopped = report(emulator_state(url), tasks)
        receipts = print_receipts(storage, DAG_ID)
        decisions = print_replies(storage, DAG_ID)
        if not succeeded(exit_code, tasks) or not stopped:
            reason = "the DAG run did not succeed" if stopped else "no phone was opted out"
            say(f"Demo FAILED: {reason}")
            return 1
        sent = decisions["opt_out"] + decisions["ambiguous"]
        if not receipts["stopped"] == stopped == sent or receipts.total() != decisions.total():
            say(f"Demo FAILED: {stopped} phones opted out but the receipts say {dict(receipts)}")
            return 1
        from demo_queue import run_queue  # here: demo_queue imports this module's helpers

        if problem := run_queue(url, storage):
            say(f"Demo FAILED: {problem}")
            return 1
        if not run_bulk(url, storage):
            say(f"Demo FAILED: {BULK_DAG_ID} did not opt out every generated phone")
            return 1
        from demo_proof import run_proof

        if problem := run_proof(storage, DAG_ID):
            say(f"Demo FAILED: {problem}")
            return 1
    except RuntimeError as exc:  # an Airflow CLI command failed
        say(f"Demo FAILED: {exc}")
        return 1
    finally:  # also on Ctrl-C and on any error above
        stop_emulator(process)
    say("Demo OK")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        say("Interrupted")
        sys.exit(130)
