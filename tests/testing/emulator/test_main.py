"""``python -m whatcounts_provider.testing.emulator``: serves on loopback until told to stop."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import requests

from tests.helpers import PHONE, ROOT, SENDER, basic_token
from whatcounts_provider.testing.emulator.server import DEMO_CREDENTIALS

WAIT = 120  # seconds: an upper bound for a loaded machine, never a measurement


def test_the_command_serves_the_subscriptions_it_was_given_and_stops_on_sigterm(tmp_path):
    ready = tmp_path / "url"
    proc = subprocess.Popen(
        [sys.executable, "-m", "whatcounts_provider.testing.emulator", "--port", "0",
         "--subscribe", f"{SENDER}:{PHONE}", "--ready-file", str(ready)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + WAIT
        while not ready.exists():
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else b""
            assert time.monotonic() < deadline, "the emulator never became ready"
            time.sleep(0.05)
        url = ready.read_text().strip()
        assert url.startswith("http://127.0.0.1:")
        answer = requests.post(
            f"{url}/rest/sms/stopSubscriberSend/{PHONE}/{SENDER}",
            headers={
                "Authorization": f"Basic {basic_token(*DEMO_CREDENTIALS)}",
                "Accept": "application/vnd.whatcounts-v1+json",
            },
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["phone"] == PHONE
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(WAIT) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(WAIT)
