"""Receipts for the evidence tests, written by the real ``ReceiptWriter`` and read back with
``iter_receipts``: the reports see exactly what a deployment leaves behind."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from tests.receipts.support import FakeUtcClock
from whatcounts_provider.receipts import ReceiptWriter, TaskIdentity, iter_receipts, task_instance_folder
from whatcounts_provider.receipts.schema import FIELD_KEYS

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

PHONE = "12065550100"
CODE_A, CODE_B, CODE_C, CODE_D = "2065551212", "2065559999", "55555", "2065557777"
RUN = "scheduled__2026-11-25T16:00:00+00:00"
#: The query time of the tests: Tuesday 2026-12-01, 10:00 UTC.
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
WHATCOUNTS = {"id": 17, "smsSubscriberId": 5, "smsSenderId": 2, "realmId": 10, "phone": PHONE}
CUT_SHORT = "earlier_try_cut_short"


def at(day: str, hour: int = 16, minute: int = 0) -> datetime:
    """A UTC time on ``day`` (``2026-11-25``)."""
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=timezone.utc)


def identity(
    try_number: int = 1, run_id: str = RUN, task_id: str = "stop_sms", map_index: int = -1
) -> TaskIdentity:
    return TaskIdentity("whatcounts_bulk_opt_out", run_id, task_id, map_index, try_number)


def fields(row: int, code: str, status: str = "stopped", phone: str = PHONE, **extra: Any) -> dict[str, Any]:
    """A receipt's fields as the engine gives them (``requested_at`` and the rest in ``extra``)."""
    return {
        "row": row,
        "input": {"phone": phone, "sender_code": code},
        "phone": phone,
        "sender_code": code,
        "requested_sender_code": code,
        "scope": "sender_code",
        "status": status,
        "attempts": 0 if status in ("needs_review", "not_opt_out", "invalid", "duplicate") else 1,
        **extra,
    }


def write(
    root: Path, receipts: Sequence[tuple[datetime, TaskIdentity, dict[str, Any]]]
) -> list[dict[str, Any]]:
    """Write ``(processed_at, identity, fields)`` receipts, one writer per identity (a try), and
    return every receipt under ``root`` as ``iter_receipts`` reads it.

    ``earlier_try_cut_short`` goes through the writer when the receipt schema knows it; a schema
    from before it gets the key added to what is read back, as a newer writer would have written it.
    """
    tries: dict[TaskIdentity, list[tuple[datetime, dict[str, Any]]]] = {}
    patched: dict[tuple[str, int, int, str], Any] = {}
    for moment, who, given in receipts:
        given = dict(given)
        if CUT_SHORT in given and CUT_SHORT not in FIELD_KEYS:
            patched[(who.run_id, who.try_number, given["row"], given["sender_code"])] = given.pop(CUT_SHORT)
        tries.setdefault(who, []).append((moment, given))
    for who, items in tries.items():
        clock = FakeUtcClock(items[0][0])
        with ReceiptWriter(task_instance_folder(root, who), who, clock=clock, background=False) as writer:
            for moment, given in items:
                clock.now = moment
                writer.add(given)
    read = list(iter_receipts(root))
    for receipt in read:
        key = (receipt["run_id"], receipt["try_number"], receipt["row"], receipt["sender_code"])
        if key in patched:
            receipt[CUT_SHORT] = patched[key]
    return read


def business_days_before(day: date, count: int) -> date:
    """The day ``count`` business days (Monday to Friday) before weekday ``day``."""
    while count:
        day -= timedelta(days=1)
        count -= day.weekday() < 5
    return day
