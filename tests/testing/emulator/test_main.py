"""``python -m whatcounts_provider.testing.emulator``: serves on loopback until told to stop."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from typing import TYPE_CHECKING

import requests

from tests.helpers import PHONE, ROOT, SENDER
from tests.testing.emulator_client import API_HEADERS, PHONE10, body, wait_until
from whatcounts_provider.testing.emulator import DEMO_CREDENTIALS

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

COMMAND = [sys.executable, "-m", "whatcounts_provider.testing.emulator"]
# Seconds: an upper bound for a loaded machine, never a measurement; every wait ends on an event
# (the ready file, the answer, the exit) long before it.
WAIT = 60


def command_env() -> dict[str, str]:
    """This environment, with the repository importable whatever the working directory."""
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }


@contextlib.contextmanager
def serving(tmp_path: Path, *args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """The command on a free port (``--port 0``), once it answers: the process and its URL."""
    ready = tmp_path / "ready"
    process = subprocess.Popen(
        [*COMMAND, "--port", "0", "--ready-file", str(ready), *args],
        env=command_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: ready.exists() or process.poll() is not None, timeout=WAIT)
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        yield process, ready.read_text().strip()
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=WAIT)


def stop_url(url: str) -> str:
    return f"{url}/rest/sms/stopSubscriberSend/{PHONE}/{SENDER}"


def test_the_command_serves_the_subscriptions_it_was_given_and_stops_on_sigterm(tmp_path):
    with serving(tmp_path, "--subscribe", f"{SENDER}:{PHONE}") as (process, url):
        assert url.startswith("http://127.0.0.1:")
        answer = requests.post(stop_url(url), auth=DEMO_CREDENTIALS, headers=API_HEADERS, timeout=WAIT)
        assert answer.status_code == 200, answer.text
        assert answer.json()["phone"] == PHONE
        process.send_signal(signal.SIGTERM)
        assert process.wait(WAIT) == 0


def test_cli_serves_until_sigterm_and_exits_0(tmp_path):
    ready = tmp_path / "ready"
    command = [*COMMAND, "--port", "0"]
    command += ["--realm", "R", "--password", "P", "--subscribe", f"{SENDER}:{PHONE10},12065959697"]
    command += ["--seed", "1", "--no-record-requests", "--ready-file", str(ready)]
    process = subprocess.Popen(
        command, env=command_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_until(lambda: ready.exists() or process.poll() is not None, timeout=WAIT)
        url = ready.read_text().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
        response = requests.post(stop_url(url), auth=("R", "P"), headers=API_HEADERS, timeout=WAIT)
        assert body(response)["phone"] == PHONE
        state = body(requests.get(f"{url}/_admin/state", timeout=WAIT))
        assert state["subscribed"] == {SENDER: ["12065959697"]}
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=WAIT)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    assert stdout == f"WhatCounts emulator listening on {url}\n"


def test_ctrl_c_stops_the_command_with_exit_0(tmp_path):
    with serving(tmp_path) as (process, url):
        assert requests.get(f"{url}/_admin/state", timeout=WAIT).status_code == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(WAIT) == 0


def test_fault_flags_reach_the_served_emulator(tmp_path):
    with serving(tmp_path, "--subscribe", f"{SENDER}:{PHONE}", "--seed", "7", "--p-503", "1") as (
        process,
        url,
    ):
        faults = body(requests.post(f"{url}/_admin/faults", json={}, timeout=WAIT))  # changes nothing
        assert (faults["seed"], faults["p_503"], faults["p_429"]) == (7, 1.0, 0.0)
        answer = requests.post(stop_url(url), auth=DEMO_CREDENTIALS, headers=API_HEADERS, timeout=WAIT)
        assert answer.status_code == 503
        state = body(requests.get(f"{url}/_admin/state", timeout=WAIT))
        assert state["subscribed"] == {SENDER: [PHONE]}
        process.send_signal(signal.SIGTERM)
        assert process.wait(WAIT) == 0


def test_a_subscription_that_is_not_digits_is_refused_before_serving():
    done = subprocess.run(
        [*COMMAND, "--port", "0", "--subscribe", f"{SENDER}:+1-206-595-9696"],
        env=command_env(),
        capture_output=True,
        text=True,
        timeout=WAIT,
        check=False,
    )
    assert done.returncode == 2  # argparse's usage error
    assert "expected SENDER:PHONE[,PHONE...], digits only" in done.stderr
    assert "listening" not in done.stdout
