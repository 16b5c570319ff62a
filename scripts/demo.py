"""Run the pipeline example DAG end to end against a local WhatCounts emulator (``make demo``).

Nothing leaves the machine: the emulator listens on 127.0.0.1 and plays a WhatCounts realm in
which everyone who replied in ``example_dags/data/stop_replies.csv`` is an SMS subscriber. The
DAG then opts out the phones whose reply was a STOP keyword, and this script prints what the
emulator saw. ``make demo`` sets ``AIRFLOW_HOME`` to a throwaway directory and
``AIRFLOW__CORE__DAGS_FOLDER`` to ``example_dags/``; this script needs nothing else.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from whatcounts_provider.phone import mask_phone, normalize_phone

ROOT = Path(__file__).resolve().parent.parent
REPLIES_CSV = ROOT / "example_dags" / "data" / "stop_replies.csv"
DAG_ID = "whatcounts_stop_sms_from_pipeline"
REALM, PASSWORD = "demo-realm", "demo-password"
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


def task_states(home: Path) -> dict[str, Counter[str]]:
    """Task states of the DAG's latest run, read from the demo's SQLite metadata DB.

    ``airflow dags test`` prints no summary, and the task CLI needs a run id and differs
    between Airflow 2 and 3; the throwaway SQLite DB of ``make demo`` is simpler to ask.
    """
    with sqlite3.connect(home / "airflow.db") as db:
        rows = db.execute(
            "SELECT task_id, state FROM task_instance WHERE dag_id = ? AND run_id = "
            "(SELECT run_id FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1)",
            (DAG_ID, DAG_ID),
        ).fetchall()
    states: dict[str, Counter[str]] = defaultdict(Counter)
    for task_id, state in rows:
        states[task_id][state or "none"] += 1
    return states


def report(state: dict[str, Any], tasks: dict[str, Counter[str]]) -> int:
    """Print the outcome; return how many phones the emulator has stopped."""
    say("Task states of the run")
    for task_id, counts in tasks.items():
        out(f"    {task_id:<14} " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
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
        say(f"airflow dags test {DAG_ID}")
        exit_code = airflow("dags", "test", DAG_ID)
        tasks = task_states(home)
        stopped = report(emulator_state(url), tasks)
    finally:  # also on Ctrl-C and on any error above
        stop_emulator(process)
    failed = exit_code != 0 or any(set(counts) != {"success"} for counts in tasks.values()) or not tasks
    if failed or not stopped:
        say("Demo FAILED: " + ("the DAG run did not succeed" if failed else "no phone was opted out"))
        return 1
    say("Demo OK")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        say("Interrupted")
        sys.exit(130)
