"""A run of the queue path against SQS (moto's server on 127.0.0.1) and the emulator: every
message honoured or refused with a receipt that names it, acknowledged only once receipted."""

from __future__ import annotations

import time
from collections import Counter
from typing import TYPE_CHECKING, Any

import pytest

from tests.helpers import SENDER, make_context, phones, with_extras
from whatcounts_provider.engine import OptOutOptions
from whatcounts_provider.exceptions import (
    WhatCountsBulkError,
    WhatCountsConfigError,
    WhatCountsInvalidInputsError,
)
from whatcounts_provider.hooks.whatcounts import WhatCountsHook
from whatcounts_provider.queues import SqsQueue, honour_queue
from whatcounts_provider.receipts import TaskIdentity, iter_receipts

if TYPE_CHECKING:
    from tests.conftest import Publish
    from whatcounts_provider.queues.messages import QueueMessage

IDENTITY = {"dag_id": "whatcounts_stop_sms_from_queue", "task_id": "stop_sms"}

pytestmark = pytest.mark.usefixtures("fast_retries")


def task(run: int = 1, try_number: int = 1) -> TaskIdentity:
    return TaskIdentity.from_context(
        make_context(
            try_number=try_number, run_id=f"asset_triggered__2026-12-06T10:00:0{run}+00:00", **IDENTITY
        )
    )


@pytest.fixture
def emulator(whatcounts_conn_env: Any) -> Any:
    whatcounts_conn_env.subscribe(SENDER, phones(8))
    return whatcounts_conn_env


@pytest.fixture
def account_codes(emulator: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The emulator, its connection with the account's sender codes (for ``scope="all"``)."""
    extras = {"sender_codes": f"{SENDER}, 88555"}
    monkeypatch.setenv("AIRFLOW_CONN_WHATCOUNTS_DEFAULT", with_extras(emulator.conn_uri(), extras))
    return emulator


def stop(phone: str, message: Any = "STOP", **more: Any) -> dict[str, Any]:
    return {"phone": phone, "sender_code": SENDER, "message": message, **more}


def honour(queue: SqsQueue, tmp_path: Any, run: int = 1, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("wait_seconds", 0)
    return honour_queue(WhatCountsHook(), queue, receipts_path=tmp_path, task=task(run), **kwargs)


def test_each_reply_is_classified_honoured_receipted_with_its_id_and_acknowledged(
    emulator: Any, queue: SqsQueue, publish: Publish, tmp_path: Any
) -> None:
    numbers = phones(4)
    ids = publish(
        stop(numbers[0], "STOP", message_id="SM-1", received_at="2026-12-06T10:00:00Z"),
        stop(numbers[1], "thanks!", message_id="SM-2"),
        stop(numbers[2], "no más mensajes"),
        stop(numbers[3], "when does the sale end?", message_id="SM-4"),
    )
    record = honour(queue, tmp_path)

    assert [emulator.state.post_count(SENDER, p) for p in numbers] == [1, 0, 1, 1]
    assert (record["source"], record["total"], record["stopped"], record["not_opt_out"]) == (
        queue.url,
        4,
        3,
        1,
    )
    assert record["queue"] == {
        "queue": queue.url,
        "received": 4,
        "acknowledged": 4,
        "left_for_redelivery": 0,
        "visibility_timeout": 900,
    }
    receipts = sorted(iter_receipts(tmp_path), key=lambda r: r["row"])
    assert [(r["message_id"], r["status"], r["reply_decision"]) for r in receipts] == [
        ("SM-1", "stopped", "opt_out"),
        ("SM-2", "not_opt_out", "not_opt_out"),
        (ids[2], "stopped", "opt_out"),
        ("SM-4", "stopped", "ambiguous"),
    ]
    assert receipts[0]["requested_at"] == "2026-12-06T10:00:00.000000+00:00"
    assert [r["input"]["queue_message_id"] for r in receipts] == ids
    assert queue.counts() == (0, 0)


def test_bad_messages_are_receipted_invalid_acknowledged_and_fail_the_run_without_retries(
    emulator: Any, queue: SqsQueue, publish: Publish, tmp_path: Any
) -> None:
    ids = publish(
        "STOP",
        {"sender_code": SENDER, "message": "STOP"},
        stop(phones(1)[0], tenant="acme"),
        "x" * (256 * 1024 - 1),
        stop("not a phone"),
        stop(phones(2)[1]),
    )
    pushed: list[dict[str, Any]] = []
    with pytest.raises(WhatCountsInvalidInputsError, match="5 input"):
        honour(queue, tmp_path, push=pushed.append)

    assert queue.counts() == (0, 0)  # no poison message comes back
    (record,) = pushed
    assert (record["stopped"], len(record["invalid"]), record["queue"]["acknowledged"]) == (1, 5, 6)
    by_id = {r["input"]["queue_message_id"]: r for r in iter_receipts(tmp_path)}
    assert set(by_id) == set(ids)
    assert [by_id[i]["status"] for i in ids] == ["invalid"] * 5 + ["stopped"]
    assert "not JSON" in by_id[ids[0]]["error"]
    assert "no phone" in by_id[ids[1]]["error"]
    assert "'tenant'" in by_id[ids[2]]["error"]
    assert "bytes" in by_id[ids[3]]["error"]
    assert by_id[ids[4]]["phone"] is None
    assert by_id[ids[4]]["error"]
    assert emulator.state.post_count(SENDER, phones(1)[0]) == 0


def test_a_message_whatcounts_keeps_failing_on_stays_on_the_queue_and_is_honoured_when_it_is_back(
    emulator: Any, queue: SqsQueue, publish: Publish, tmp_path: Any
) -> None:
    good, bad = phones(2)
    emulator.faults.update(failing_phones={bad})
    publish(stop(good), stop(bad))
    with pytest.raises(WhatCountsBulkError) as error:
        honour(queue, tmp_path, visibility_timeout=1)
    assert error.value.summary["queue"]["left_for_redelivery"] == 1
    failed = [r for r in iter_receipts(tmp_path) if r["status"] == "failed"]
    assert [r["phone"] for r in failed] == [bad]  # visible as failed in the receipts

    emulator.faults.clear()
    time.sleep(1.5)  # the visibility timeout SQS applies; nothing here depends on this machine's speed
    record = honour(queue, tmp_path, run=2)
    assert (record["stopped"], record["queue"]["acknowledged"]) == (1, 1)
    assert queue.counts() == (0, 0)
    assert not emulator.state.is_subscribed(SENDER, bad)


def test_a_message_delivered_again_costs_one_request_and_a_not_subscribed_receipt(
    emulator: Any, queue: SqsQueue, publish: Publish, tmp_path: Any
) -> None:
    phone = phones(1)[0]
    publish(stop(phone, message_id="SM-9"))
    first = honour(queue, tmp_path)
    publish(stop(phone, message_id="SM-9"))  # the producer's retry: the same STOP again
    second = honour(queue, tmp_path, run=2)
    assert (first["stopped"], second["not_subscribed"]) == (
        1,
        [{"phone": phone, "sender_code": SENDER}],
    )
    statuses = [(r["message_id"], r["status"]) for r in iter_receipts(tmp_path)]
    assert sorted(statuses) == [("SM-9", "not_subscribed"), ("SM-9", "stopped")]
    assert emulator.state.post_count(SENDER, phone) == 2


def test_a_message_is_deleted_only_after_its_receipt_is_on_storage(
    emulator: Any, queue: SqsQueue, publish: Publish, tmp_path: Any
) -> None:
    publish(*(stop(p) for p in phones(8)))
    seen_at_delete: list[set[str]] = []
    delete = queue.delete

    def checked_delete(messages: list[QueueMessage]) -> list[str]:
        written = {r["input"]["queue_message_id"] for r in iter_receipts(tmp_path)}
        seen_at_delete.append({m.queue_message_id for m in messages} - written)
        return delete(messages)

    queue.delete = checked_delete  # type: ignore[method-assign]
    honour(queue, tmp_path)
    assert seen_at_delete
    assert all(not missing for missing in seen_at_delete)
    assert queue.counts() == (0, 0)


def test_a_run_takes_at_most_max_messages_and_leaves_the_rest_waiting(
    emulator: Any, queue: SqsQueue, publish: Publish, tmp_path: Any
) -> None:
    publish(*(stop(p, "thanks") for p in phones(25)))
    record = honour(queue, tmp_path, max_messages=12)
    assert (record["total"], record["queue"]["received"]) == (12, 12)
    assert queue.counts()[0] == 13
    rest = honour(queue, tmp_path, run=2)
    assert rest["total"] == 13
    assert queue.counts() == (0, 0)


def test_an_empty_queue_is_a_green_run_with_nothing_to_do(
    emulator: Any, queue: SqsQueue, tmp_path: Any
) -> None:
    record = honour(queue, tmp_path)
    assert (record["total"], record["queue"]["received"], record["queue"]["acknowledged"]) == (0, 0, 0)


def test_scope_all_acknowledges_a_message_once_every_code_is_receipted(
    account_codes: Any, queue: SqsQueue, publish: Publish, tmp_path: Any
) -> None:
    emulator = account_codes
    emulator.subscribe("88555", phones(1))
    publish(stop(phones(1)[0], message_id="SM-all"))
    record = honour(queue, tmp_path, options=OptOutOptions(scope="all"))
    assert record["queue"]["acknowledged"] == 1
    assert Counter((r["message_id"], r["sender_code"]) for r in iter_receipts(tmp_path)) == {
        ("SM-all", SENDER): 1,
        ("SM-all", "88555"): 1,
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"receipts_path": None}, "receipts_path is required"),
        ({"max_messages": 0}, "max_messages must be a whole number from 1"),
        ({"visibility_timeout": 50_000}, "visibility_timeout must be a whole number from 1 to 43,200"),
        ({"wait_seconds": 21}, "wait_seconds"),
        (
            {
                "max_messages": 2_000,
                "visibility_timeout": 100,
                "options": OptOutOptions(max_requests_per_second=5),
            },
            "takes about 400 s, more than half of visibility_timeout=100 s",
        ),
    ],
)
def test_bad_arguments_are_refused_before_anything_is_received(
    queue: SqsQueue, publish: Publish, tmp_path: Any, kwargs: dict[str, Any], message: str
) -> None:
    publish(stop(phones(1)[0]))
    arguments = {"receipts_path": tmp_path, **kwargs}
    with pytest.raises(WhatCountsConfigError, match=message):
        honour_queue(WhatCountsHook(), queue, task=task(), **arguments)
    assert queue.counts() == (1, 0)  # still waiting, not even hidden


def test_settings_that_would_fail_every_message_fail_before_any_is_hidden(
    emulator: Any, queue: SqsQueue, publish: Publish, tmp_path: Any
) -> None:
    from whatcounts_provider.exceptions import InvalidSenderCodeError

    publish(stop(phones(1)[0]))
    with pytest.raises(InvalidSenderCodeError):
        honour(queue, tmp_path, sender_code="not a code!")
    with pytest.raises(WhatCountsConfigError, match="sender_codes"):
        honour(queue, tmp_path, options=OptOutOptions(scope="all"))  # the account's codes are not configured
    assert queue.counts() == (1, 0)  # still waiting, not hidden for the visibility timeout


def test_the_rate_check_counts_every_code_a_message_is_stopped_on(
    account_codes: Any, queue: SqsQueue, tmp_path: Any
) -> None:
    options = OptOutOptions(scope="all", max_requests_per_second=5)
    with pytest.raises(
        WhatCountsConfigError, match=r"2 sender codes each, scope='all'\) .* takes about 400 s"
    ):
        honour(queue, tmp_path, options=options, max_messages=1_000, visibility_timeout=600)
