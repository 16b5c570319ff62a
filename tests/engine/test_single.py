"""opt_out_one without an operator: one phone, its record, its receipt, and resume."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import PHONE, SENDER, make_context
from whatcounts_provider.engine import opt_out_one
from whatcounts_provider.exceptions import InvalidPhoneNumberError, InvalidRequestedAtError
from whatcounts_provider.hooks.whatcounts import WhatCountsHook
from whatcounts_provider.receipts import TaskIdentity, iter_receipts

IDENTITY = {"dag_id": "replies", "run_id": "manual__2026-12-01T09:00:00+00:00", "task_id": "stop_one"}


def task(try_number: int) -> TaskIdentity:
    return TaskIdentity.from_context(make_context(try_number=try_number, **IDENTITY))


@pytest.fixture
def one_subscribed(whatcounts_conn_env: Any) -> Any:
    """The emulator, behind ``whatcounts_default``, with PHONE subscribed to SENDER."""
    whatcounts_conn_env.subscribe(SENDER, [PHONE])
    return whatcounts_conn_env


def test_one_phone_is_stopped_and_receipted(one_subscribed: Any, tmp_path: Any) -> None:
    record = opt_out_one(
        WhatCountsHook(), "+1 (206) 595-9696", SENDER, requested_at="2026-12-01T08:00:00Z",
        receipts_path=tmp_path, task=task(1),
    )  # fmt: skip
    assert (record["phone"], record["sender_code"], record["status"]) == (PHONE, SENDER, "stopped")
    assert record["response"] == one_subscribed.state.stopped[SENDER][PHONE]
    (receipt,) = iter_receipts(tmp_path)
    assert (receipt["status"], receipt["requested_at"], receipt["attempts"]) == (
        "stopped",
        "2026-12-01T08:00:00.000000+00:00",
        1,
    )


def test_a_retry_returns_the_earlier_answer_without_sending(one_subscribed: Any, tmp_path: Any) -> None:
    first = opt_out_one(WhatCountsHook(), PHONE, SENDER, receipts_path=tmp_path, task=task(1))
    second = opt_out_one(WhatCountsHook(), PHONE, SENDER, receipts_path=tmp_path, task=task(2))
    assert (second["status"], second["response"]) == ("stopped", first["response"])
    assert one_subscribed.state.post_count(SENDER, PHONE) == 1


def test_an_invalid_phone_is_receipted_and_raises_without_a_request(
    one_subscribed: Any, tmp_path: Any
) -> None:
    with pytest.raises(InvalidPhoneNumberError):
        opt_out_one(WhatCountsHook(), "12345", SENDER, receipts_path=tmp_path, task=task(1))
    assert [r["status"] for r in iter_receipts(tmp_path)] == ["invalid"]
    assert one_subscribed.state.post_count(SENDER, "12345") == 0


def test_a_bad_requested_at_fails_before_anything_is_sent_or_written(
    one_subscribed: Any, tmp_path: Any
) -> None:
    with pytest.raises(InvalidRequestedAtError, match="requested_at"):
        opt_out_one(
            WhatCountsHook(), PHONE, SENDER, requested_at="last tuesday", receipts_path=tmp_path, task=task(1)
        )
    assert list(iter_receipts(tmp_path)) == []
    assert one_subscribed.state.post_count(SENDER, PHONE) == 0
