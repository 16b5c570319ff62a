"""The proof step of ``make demo``: what a dispute or a compliance review asks of the receipts.

The demo's DAGs have written receipts under ``storage/receipts``. This step answers, with the
command a user would run (``python -m whatcounts_provider.receipts``): every receipt of one phone
(``find``, through the phone index), that phone's evidence page and this month's report
(``report``), and whether any receipt changed since it was written (``verify``). The pages are
written next to the receipts; the demo prints their paths, never a phone.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from demo import say

from whatcounts_provider.phone import mask_phone
from whatcounts_provider.receipts import iter_receipts

if TYPE_CHECKING:
    from pathlib import Path


def receipts_cli(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "whatcounts_provider.receipts", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


def run_proof(storage: Path, dag_id: str) -> str | None:
    """Run the four commands over the demo's receipts; the problem, or None when all held."""
    root = storage / "receipts"
    stopped = next(r for r in iter_receipts(root) if r["dag_id"] == dag_id and r["status"] == "stopped")
    phone = str(stopped["phone"])
    say(f"python -m whatcounts_provider.receipts find {root} --phone {mask_phone(phone)}")
    found = receipts_cli("find", str(root), "--phone", phone)
    if found.returncode != 0:
        return f"find exited {found.returncode}: {found.stderr.strip()[-300:]}"
    receipts = [json.loads(line) for line in found.stdout.splitlines()]
    for receipt in receipts:
        say(
            f"  {receipt['processed_at']}  {receipt['dag_id']}  sender code {receipt['sender_code']}: "
            f"{receipt['status']} (WhatCounts record id {(receipt['whatcounts'] or {}).get('id')})"
        )
    evidence, period = storage / "evidence.html", storage / "report.html"
    page = receipts_cli("report", str(root), "--phone", phone, "-o", str(evidence))
    if page.returncode != 0:
        return f"report --phone exited {page.returncode}: {page.stderr.strip()[-300:]}"
    today = datetime.now(timezone.utc).date()
    since, until = today.replace(day=1), today + timedelta(days=1)
    month = receipts_cli("report", str(root), "--since", str(since), "--until", str(until), "-o", str(period))
    if month.returncode != 0:
        return f"report --since exited {month.returncode}: {month.stderr.strip()[-300:]}"
    say(f"Evidence page of that phone: {evidence}")
    say(f"Report from {since} to {until}: {period}")
    verified = receipts_cli("verify", str(root))
    say(f"python -m whatcounts_provider.receipts verify {root}: {verified.stdout.strip().splitlines()[-1]}")
    if verified.returncode != 0:
        return f"verify found problems: {verified.stdout.strip()[-500:]}"
    return None
