"""Proof on demand (issue 18): one phone, a period report and verify over 1,000,000 receipts.

The receipts are written with the real ``ReceiptWriter`` (its flush setting, its index and its
summary) under ``.build/bench/evidence/receipts``: ``evidence_tis`` task instances (daily runs
spread over ten months) of ``evidence_n / evidence_tis`` receipts each, distinct phones over a few
sender codes, ``requested_at`` a few days before each run (some weeks: late opt-outs), statuses
mostly ``stopped``, some ``not_subscribed``, ``failed``, ``needs_review`` (ambiguous replies) and
``invalid``. Writing is timed too (informational; the writer's own clock is a fake one that
puts each receipt on its run's day, and its timer thread is off: parts flush by count).

Then: ``find_receipts`` of a few phones (indexed; the slowest counts) vs the same lookup on a copy
without ``phones.idx`` (hard links to the same parts: the scan fallback), the index's bytes vs the
parts', ``python -m whatcounts_provider.receipts find/index/report/verify`` as subprocesses (wall
time; the report's peak RSS growth is its peak RSS (VmHWM, read by a wrapper as it exits) minus
that of ``--help``, which imports the same package and CLI and exits). A command that fails
gives a FAILED row of its own, so the other figures still show.
Run by bench.py.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from _harness import ROOT, WORK_DIR, MeasurementError, Row, Section

from whatcounts_provider.testing.series import phone_series

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from _harness import Bench

SENDERS = ("2065550180", "2065550181", "2065550182", "2065550183")
FIRST_RUN = datetime(2026, 1, 5, 2, 0, tzinfo=timezone.utc)
SPAN_DAYS = 300  # the runs cover ten months
SINCE, UNTIL = "2025-12-01", "2026-12-31"  # the report's period: every receipt
LOOKUP_TARGET_S, INDEX_TARGET = 1.0, 0.05
REPORT_TARGET_S, REPORT_RSS_TARGET_MB, VERIFY_TARGET_S = 30.0, 200.0, 30.0
OPT_OUT_TEXTS = ("STOP", "stop", "Stop please", "UNSUBSCRIBE", "stop texting me", "STOP ALL", "Cancel")
AMBIGUOUS_TEXTS = (
    "stop?",
    "can you stop for now",
    "who is this, stop",
    "no more of these maybe",
    "pls not so many",
    "end this?",
)
MB = 1024 * 1024


def receipt_fields(
    rng: random.Random, row: int, phone: str, run_day: datetime
) -> tuple[dict[str, Any], float]:
    """The writer's fields of one receipt, and how many seconds before its run it was requested."""
    sender = SENDERS[row % len(SENDERS)]
    late = rng.random() < 0.01
    before = rng.uniform(15, 25) * 86400 if late else rng.uniform(0.1, 3) * 86400
    fields: dict[str, Any] = {
        "row": row,
        "input": phone,
        "phone": phone,
        "sender_code": sender,
        "requested_sender_code": sender,
        "scope": "sender_code",
        "requested_at": run_day - timedelta(seconds=before),
        "attempts": 1,
    }
    if rng.random() < 0.3:
        fields.update(
            message=rng.choice(OPT_OUT_TEXTS),
            message_id=f"m{row}",
            reply_decision="opt_out",
            reply_reason="keyword",
        )
    draw = rng.random()
    if draw < 0.90:
        fields.update(status="stopped", whatcounts=whatcounts_record(row, phone, run_day))
    elif draw < 0.95:
        fields.update(status="not_subscribed", error="not subscribed")
    elif draw < 0.97:
        fields.update(status="failed", error="HTTP 503 from WhatCounts after 4 attempts", attempts=4)
    elif draw < 0.99:
        fields.update(
            status="needs_review",
            attempts=0,
            message=rng.choice(AMBIGUOUS_TEXTS),
            message_id=f"m{row}",
            reply_decision="ambiguous",
            reply_reason="a question, not a request",
        )
    elif draw < 0.995:  # ambiguous, and the DAG's policy treats it as an opt-out
        fields.update(
            status="stopped",
            whatcounts=whatcounts_record(row, phone, run_day),
            message=rng.choice(AMBIGUOUS_TEXTS),
            message_id=f"m{row}",
            reply_decision="ambiguous",
            reply_reason="a question, not a request",
        )
    else:
        fields.update(status="invalid", phone=None, sender_code=None, error="not a valid phone", attempts=0)
    return fields, before


def whatcounts_record(row: int, phone: str, day: datetime) -> dict[str, Any]:
    when = day.strftime("%b %d, %Y %I:%M:%S %p")
    return {
        "id": 7_000_000 + row,
        "smsSubscriberId": 9_000_000 + row,
        "smsSenderId": 3,
        "realmId": 10,
        "campaignId": 0,
        "phone": phone,
        "createdDate": when,
        "updatedDate": when,
    }


def write_receipts(
    root: Path, n: int, tis: int, repeated: dict[int, str], kept: set[str]
) -> tuple[float, float]:
    """Write ``n`` receipts as ``tis`` task instances; ``repeated`` puts a phone at more rows;
    the phones in ``kept`` are never drawn ``invalid`` (they are looked up).

    Returns the wall and CPU seconds of the writers' work (the fields are drawn beforehand).
    """
    from whatcounts_provider.receipts import ReceiptWriter, TaskIdentity, task_instance_folder

    rng = random.Random(18)
    phones = phone_series(n)
    for position, phone in repeated.items():
        phones[position] = phone
    per_ti, wall, cpu = n // tis, 0.0, 0.0
    for ti in range(tis):
        run_day = FIRST_RUN + timedelta(days=ti * SPAN_DAYS // tis)
        identity = TaskIdentity(
            "optouts_daily", f"scheduled__{run_day:%Y-%m-%dT%H:%M:%S}+00:00", "stop", -1, 1
        )
        batch = [
            receipt_fields(rng, row + 1, phones[ti * per_ti + row], run_day)[0]
            for row in range(per_ti if ti < tis - 1 else n - ti * per_ti)
        ]
        for fields in batch:
            if fields["input"] in kept and fields["phone"] is None:
                fields.update(phone=fields["input"], sender_code=fields["requested_sender_code"])
                fields.update(status="failed", error="HTTP 503 from WhatCounts after 4 attempts")
        now = [run_day]

        def clock(now: list[datetime] = now) -> datetime:
            now[0] += timedelta(milliseconds=2)  # each receipt a little after the one before
            return now[0]

        start, cpu_start = time.perf_counter(), time.process_time()
        writer = ReceiptWriter(
            task_instance_folder(str(root), identity), identity, clock=clock, background=False
        )
        with writer:
            for fields in batch:
                writer.add(fields)
        wall += time.perf_counter() - start
        cpu += time.process_time() - cpu_start
    return wall, cpu


def file_bytes(root: Path, match: Callable[[str], bool]) -> int:
    return sum(entry.stat().st_size for entry in root.rglob("*") if entry.is_file() and match(entry.name))


def unindexed_copy(root: Path, copy: Path) -> None:
    """The same tree without ``phones.idx``: parts hard-linked (read only), other files copied (a
    command that rewrites one in place must not change the original)."""
    from whatcounts_provider.receipts import is_part_name

    shutil.rmtree(copy, ignore_errors=True)
    for source in root.rglob("*"):
        target = copy / source.relative_to(root)
        if source.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        elif source.name == "phones.idx":
            continue
        elif is_part_name(source.name):
            os.link(source, target)
        else:
            shutil.copy2(source, target)


# The CLI under a wrapper that writes its process's peak RSS (VmHWM: per address space, so fresh
# after exec; ru_maxrss is not: it keeps the forking parent's size) when the command exits.
WRAPPER = """
import atexit, pathlib, runpy, sys
def peak(path=pathlib.Path(sys.argv[1])):
    status = pathlib.Path("/proc/self/status").read_text().splitlines()
    path.write_text(next(line.split()[1] for line in status if line.startswith("VmHWM:")))
atexit.register(peak)
sys.argv = ["whatcounts_provider.receipts", *sys.argv[2:]]
runpy.run_module("whatcounts_provider.receipts", run_name="__main__", alter_sys=True)
"""


# The deadline watch over a root, in a child of its own as the CLI: its figures and its peak RSS.
WATCH = (
    WRAPPER.split("sys.argv = ")[0]
    + """
from whatcounts_provider.receipts.watch import deadline_risks
if len(sys.argv) > 2:
    deadline_risks(sys.argv[2])
"""
)


def run_cli(args: list[str], timeout: float, script: str = WRAPPER) -> tuple[float, int, float, str]:
    """Run ``python -m whatcounts_provider.receipts ARGS`` (or ``script`` with ARGS): wall seconds,
    exit code, peak RSS (MB, the child's VmHWM at exit) and the end of its stderr."""
    err_path, peak_path = WORK_DIR / "evidence-cli.err", WORK_DIR / "evidence-cli.peak"
    peak_path.unlink(missing_ok=True)
    with err_path.open("wb") as err:
        start = time.perf_counter()
        command = [sys.executable, "-c", script, str(peak_path), *args]
        try:
            code = subprocess.run(
                command, stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT, timeout=timeout
            ).returncode
        except subprocess.TimeoutExpired:
            code = -1
        elapsed = time.perf_counter() - start
    peak = int(peak_path.read_text()) / 1024 if peak_path.exists() else 0.0
    return elapsed, code, peak, err_path.read_text(errors="replace")[-300:]


def failed_row(what: str, detail: str) -> Row:
    return Row(f"evidence: {what}: FAILED", " ".join(detail.split())[-120:], met=False)


def run(bench: Bench) -> list[Row]:
    import whatcounts_provider.receipts as receipts

    # Looked up, not imported: the section still reports the rest while it is missing.
    find_receipts: Callable[..., Iterator[dict[str, Any]]] | None = getattr(receipts, "find_receipts", None)

    n, tis = bench.sizes.evidence_n, bench.sizes.evidence_tis
    work = WORK_DIR / "evidence"
    root, copy = work / "receipts", work / "unindexed"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    # One phone in three task instances; the others once each.
    shared = phone_series(1, n // 3)[0]
    repeated = {n // 2: shared, 5 * n // 6: shared}
    targets = {shared: 3, phone_series(1, 17)[0]: 1, phone_series(1, n - 5)[0]: 1}
    wall, cpu = write_receipts(root, n, tis, repeated, set(targets))
    parts = file_bytes(root, lambda name: name.startswith("part-"))
    indexes = file_bytes(root, lambda name: name == "phones.idx")
    part_count = sum(1 for p in root.rglob("part-*"))
    rows = [
        Row(
            f"evidence: write {n} receipts with ReceiptWriter ({tis} task instances, {part_count} parts)",
            f"{wall:.1f} s ({n / wall:,.0f}/s)",
            f"CPU {cpu:.1f} s; parts {parts / MB:.0f} MB",
        )
    ]
    rows.append(
        Row(
            f"evidence: phone index (phones.idx of {tis} tries) vs the parts' bytes",
            f"{indexes / MB:.1f} MB",
            f"parts {parts / MB:.0f} MB",
            f"{indexes / parts:.2%}",
            f"<= {INDEX_TARGET:.0%}",
            0 < indexes <= parts * INDEX_TARGET,
        )
    )
    if not indexes:
        rows.append(failed_row("phone index", f"no phones.idx under {root}"))

    unindexed_copy(root, copy)
    timeout = 60 + n * 0.0002
    if find_receipts is None:
        rows.append(failed_row("find_receipts", "whatcounts_provider.receipts has no find_receipts yet"))
    else:

        def lookup(where: Path, phone: str) -> float:
            start = time.perf_counter()
            found = list(find_receipts(str(where), phone))
            elapsed = time.perf_counter() - start
            if len(found) != targets[phone] or any(r["phone"] != phone for r in found):
                raise MeasurementError(
                    f"find_receipts({phone}) gave {len(found)} receipts, not {targets[phone]}"
                )
            return elapsed

        try:
            times = [lookup(root, phone) for phone in targets]
            scan = lookup(copy, shared)
            slowest = max(times)
            rows.append(
                Row(
                    f"evidence: find_receipts of one phone among {n} receipts, local disk "
                    f"(slowest of {len(times)}: {', '.join(f'{t:.3f}' for t in times)})",
                    f"{slowest:.3f} s",
                    f"scan without phones.idx {scan:.2f} s",
                    f"{scan / slowest:.0f}x faster",
                    f"<= {LOOKUP_TARGET_S:g} s",
                    slowest <= LOOKUP_TARGET_S,
                )
            )
        except Exception as error:
            rows.append(failed_row("find_receipts", f"{type(error).__name__}: {error}"))

    elapsed, code, _, err = run_cli(["find", str(root), "--phone", shared], timeout)
    rows.append(
        Row("evidence: CLI find of one phone (a subprocess: interpreter start included)", f"{elapsed:.2f} s")
        if code == 0
        else failed_row("CLI find", f"exit {code}: {err}")
    )
    elapsed, code, _, err = run_cli(["index", str(copy)], timeout)
    if code == 0:
        rows.append(
            Row(f"evidence: CLI index of {n} receipts written without phones.idx", f"{elapsed:.1f} s")
        )
        if find_receipts is not None:
            start = time.perf_counter()
            found = list(find_receipts(str(copy), shared))
            again = time.perf_counter() - start
            rows.append(
                Row(
                    "evidence: find_receipts on that folder once indexed",
                    f"{again:.3f} s",
                    f"{len(found)} receipts (of {targets[shared]})",
                )
            )
    else:
        rows.append(failed_row("CLI index", f"exit {code}: {err}"))
    shutil.rmtree(copy, ignore_errors=True)

    _, code, baseline, err = run_cli(["--help"], 60)
    report_args = ["report", "--since", SINCE, "--until", UNTIL, str(root), "-o", str(work / "report.html")]
    elapsed, code, peak, err = run_cli(report_args, timeout)
    if code == 0 and (work / "report.html").exists():
        growth, report_kb = peak - baseline, (work / "report.html").stat().st_size / 1024
        rows += [
            Row(
                f"evidence: period report over {n} receipts ({report_kb:.0f} kB of HTML)",
                f"{elapsed:.1f} s",
                "",
                "",
                f"<= {REPORT_TARGET_S:g} s",
                elapsed <= REPORT_TARGET_S,
            ),
            Row(
                "evidence: period report, peak RSS growth (VmHWM at exit minus --help's)",
                f"{growth:.0f} MB",
                f"peak {peak:.0f} MB, --help {baseline:.0f} MB",
                "",
                f"<= {REPORT_RSS_TARGET_MB:g} MB",
                growth <= REPORT_RSS_TARGET_MB,
            ),
        ]
    else:
        rows.append(failed_row("CLI report", f"exit {code}: {err}"))

    _, code, baseline, err = run_cli([], 60, WATCH)
    elapsed, code, peak, err = run_cli([str(root)], timeout, WATCH)
    rows.append(
        Row(
            f"evidence: deadline watch (deadline_risks) over {n} receipts",
            f"{elapsed:.1f} s",
            f"peak RSS growth {peak - baseline:.0f} MB (peak {peak:.0f} MB, imports alone {baseline:.0f} MB)",
        )
        if code == 0
        else failed_row("deadline watch", f"exit {code}: {err}")
    )

    elapsed, code, _, err = run_cli(["verify", str(root)], timeout)
    rows.append(
        Row(
            f"evidence: verify over {n} receipts (exit 0 on the untouched folder)",
            f"{elapsed:.1f} s",
            "",
            "",
            f"<= {VERIFY_TARGET_S:g} s",
            elapsed <= VERIFY_TARGET_S,
        )
        if code == 0
        else failed_row("CLI verify", f"exit {code}: {err}")
    )
    return rows


SECTION = Section("evidence", run, lambda s: 600 + s.evidence_n * 0.0006)
