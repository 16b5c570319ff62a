"""Replies and scope through the whole engine, against the emulator: which replies are sent, on
which sender codes, and what the record and the receipts say. (The rules themselves are tested
in tests/replies; the routing of one row in test_intent.py.)"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from typing import Any

import pytest

from tests.helpers import SENDER, make_context, phones, with_extras
from whatcounts_provider.engine import OptOutOptions, opt_out_one, run_opt_outs
from whatcounts_provider.exceptions import (
    InvalidSenderCodeError,
    WhatCountsBulkError,
    WhatCountsConfigError,
    WhatCountsInvalidInputsError,
)
from whatcounts_provider.hooks.whatcounts import WhatCountsHook
from whatcounts_provider.inputs import Inputs
from whatcounts_provider.receipts import TaskIdentity, iter_receipts
from whatcounts_provider.replies import ReplyClassifier

OTHER = "88555"
ACCOUNT = f"{SENDER}, {OTHER}"
IDENTITY = {"dag_id": "replies", "run_id": "manual__2026-12-01T09:00:00+00:00", "task_id": "opt_out"}

pytestmark = pytest.mark.usefixtures("fast_retries")


def task(try_number: int = 1) -> TaskIdentity:
    return TaskIdentity.from_context(make_context(try_number=try_number, **IDENTITY))


def posts(emulator: Any, code: str, numbers: list[str]) -> list[int]:
    return [emulator.state.post_count(code, phone) for phone in numbers]


@pytest.fixture
def emulator(whatcounts_conn_env: Any) -> Any:
    """The emulator behind ``whatcounts_default``; six phones subscribed to SENDER and OTHER."""
    whatcounts_conn_env.subscribe(SENDER, phones(6))
    whatcounts_conn_env.subscribe(OTHER, phones(6))
    return whatcounts_conn_env


@pytest.fixture
def account_codes(emulator: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The same, with the account's sender codes in the connection's ``sender_codes`` extra."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_WHATCOUNTS_DEFAULT", with_extras(emulator.conn_uri(), {"sender_codes": ACCOUNT})
    )
    return emulator


REPLIES = ["STOP", "thanks!", "when does the sale end?", None, 12345, "no más mensajes"]


def reply_rows() -> list[dict[str, Any]]:
    return [{"phone": phone, "message": message} for phone, message in zip(phones(6), REPLIES, strict=True)]


def test_only_opt_outs_and_ambiguous_replies_are_sent_and_every_reply_is_receipted(
    emulator: Any, tmp_path: Any
) -> None:
    record = run_opt_outs(
        WhatCountsHook(), Inputs(rows=reply_rows(), sender_code=SENDER), receipts_path=tmp_path, task=task()
    )

    assert posts(emulator, SENDER, phones(6)) == [1, 0, 1, 0, 0, 1]
    assert (record["total"], record["stopped"], record["not_opt_out"], record["ambiguous"]) == (6, 3, 3, 1)
    assert record["needs_review"] == []
    assert record["by_sender_code"] == {SENDER: {"stopped": 3, "not_subscribed": 0, "failed": 0}}
    receipts = sorted(iter_receipts(tmp_path), key=lambda receipt: receipt["row"])
    assert [(r["status"], r["message"], r["reply_decision"]) for r in receipts] == [
        ("stopped", "STOP", "opt_out"),
        ("not_opt_out", "thanks!", "not_opt_out"),
        ("stopped", "when does the sale end?", "ambiguous"),
        ("not_opt_out", None, "not_opt_out"),
        ("not_opt_out", 12345, "not_opt_out"),
        ("stopped", "no más mensajes", "opt_out"),
    ]
    assert all(r["reply_reason"] for r in receipts)
    assert {(r["scope"], r["requested_sender_code"]) for r in receipts} == {("sender_code", SENDER)}


def test_rows_without_a_message_key_are_opt_out_requests_as_before(emulator: Any, tmp_path: Any) -> None:
    rows = [{"phone": phones(6)[0]}, {"phone": phones(6)[1], "message": "thanks"}]
    record = run_opt_outs(
        WhatCountsHook(), Inputs(rows=rows, sender_code=SENDER), receipts_path=tmp_path, task=task()
    )
    assert posts(emulator, SENDER, phones(2)) == [1, 0]
    assert (record["stopped"], record["not_opt_out"], record["ambiguous"]) == (1, 1, 0)
    first = next(r for r in iter_receipts(tmp_path) if r["row"] == 1)
    assert (first["message"], first["reply_decision"], first["reply_reason"]) == (None, None, None)


def test_review_holds_ambiguous_replies_sends_the_rest_and_fails_without_spending_retries(
    emulator: Any, tmp_path: Any
) -> None:
    pushed: list[dict[str, Any]] = []
    with pytest.raises(WhatCountsInvalidInputsError, match="1 ambiguous reply") as error:
        run_opt_outs(
            WhatCountsHook(),
            Inputs(rows=reply_rows(), sender_code=SENDER),
            receipts_path=tmp_path,
            task=task(),
            options=OptOutOptions(ambiguous="review"),
            push=pushed.append,
        )
    assert posts(emulator, SENDER, phones(6)) == [1, 0, 0, 0, 0, 1]
    record = error.value.summary
    assert pushed == [record]
    assert record["needs_review"] == [{"row": 3, "phone": phones(6)[2], "sender_code": SENDER}]
    assert (record["stopped"], record["ambiguous"]) == (2, 1)
    statuses = Counter(r["status"] for r in iter_receipts(tmp_path))
    assert statuses == {"stopped": 2, "not_opt_out": 3, "needs_review": 1}


def test_a_retry_receipts_held_replies_again_and_sends_nothing_twice(emulator: Any, tmp_path: Any) -> None:
    inputs = Inputs(rows=reply_rows(), sender_code=SENDER)
    options = OptOutOptions(ambiguous="review")
    for try_number in (1, 2):
        with pytest.raises(WhatCountsInvalidInputsError):
            run_opt_outs(
                WhatCountsHook(), inputs, receipts_path=tmp_path, task=task(try_number), options=options
            )
    assert posts(emulator, SENDER, phones(6)) == [1, 0, 0, 0, 0, 1]
    second = Counter(r["status"] for r in iter_receipts(tmp_path) if r["try_number"] == 2)
    assert second == {"not_opt_out": 3, "needs_review": 1}


def test_a_source_with_a_message_column_is_classified(emulator: Any, tmp_path: Any) -> None:
    lines = [
        {"mobile": phones(6)[0], "text": "Stop texting me"},
        {"mobile": phones(6)[1], "text": ""},
        {"mobile": phones(6)[2], "text": "HELP"},
        {"mobile": phones(6)[3], "text": ["not", "text"]},
    ]
    source = tmp_path / "replies.jsonl.gz"
    source.write_bytes(gzip.compress("\n".join(json.dumps(line) for line in lines).encode()))
    record = run_opt_outs(
        WhatCountsHook(),
        Inputs(source=str(source), sender_code=SENDER, columns={"phone": "mobile", "message": "text"}),
    )
    assert posts(emulator, SENDER, phones(4)) == [1, 0, 0, 0]
    assert (record["total"], record["stopped"], record["not_opt_out"]) == (4, 1, 3)


def test_user_phrases_apply_to_the_run(emulator: Any) -> None:
    rows = [{"phone": phones(6)[0], "message": "unfollow"}, {"phone": phones(6)[1], "message": "STOP"}]
    classifier = ReplyClassifier(opt_out=["unfollow"])
    record = run_opt_outs(
        WhatCountsHook(), Inputs(rows=rows, sender_code=SENDER), options=OptOutOptions(classifier=classifier)
    )
    assert posts(emulator, SENDER, phones(2)) == [1, 1]
    assert record["not_opt_out"] == 0


# --- revoke-all ---------------------------------------------------------------------------------


def test_scope_all_stops_each_phone_on_every_code_of_the_account(account_codes: Any, tmp_path: Any) -> None:
    rows = [
        {"phone": phones(6)[0], "sender_code": SENDER},
        {"phone": phones(6)[1], "sender_code": "+12065551212"},
        {"phone": phones(6)[0], "sender_code": OTHER},  # the same phone again: both pairs done
        {"phone": phones(6)[2], "sender_code": OTHER, "message": "gracias"},
    ]
    record = run_opt_outs(
        WhatCountsHook(),
        Inputs(rows=rows),
        receipts_path=tmp_path,
        task=task(),
        options=OptOutOptions(scope="all"),
    )
    for code in (SENDER, OTHER):
        assert posts(account_codes, code, phones(3)) == [1, 1, 0]
    assert (record["total"], record["stopped"], record["duplicates"], record["not_opt_out"]) == (4, 4, 2, 1)
    assert record["by_sender_code"] == {
        SENDER: {"stopped": 2, "not_subscribed": 0, "failed": 0},
        OTHER: {"stopped": 2, "not_subscribed": 0, "failed": 0},
    }
    stopped = [r for r in iter_receipts(tmp_path) if r["status"] == "stopped"]
    assert sorted((r["row"], r["sender_code"], r["requested_sender_code"]) for r in stopped) == [
        (1, SENDER, SENDER),
        (1, OTHER, SENDER),
        (2, SENDER, "+12065551212"),
        (2, OTHER, "+12065551212"),
    ]
    assert {r["scope"] for r in iter_receipts(tmp_path)} == {"all"}


def test_scope_all_lists_every_code_in_the_record_even_one_with_nothing_sent(account_codes: Any) -> None:
    rows = [{"phone": phones(6)[0], "sender_code": SENDER, "message": "thanks"}]
    record = run_opt_outs(WhatCountsHook(), Inputs(rows=rows), options=OptOutOptions(scope="all"))
    assert set(record["by_sender_code"]) == {SENDER, OTHER}


def test_scope_all_without_the_extra_fails_before_any_request_naming_it(emulator: Any) -> None:
    with pytest.raises(WhatCountsConfigError, match="has no sender_codes extra"):
        run_opt_outs(
            WhatCountsHook(), Inputs(phones=phones(2), sender_code=SENDER), options=OptOutOptions(scope="all")
        )
    assert posts(emulator, SENDER, phones(2)) == [0, 0]


@pytest.mark.parametrize("given", ["+12065551212", "12065551212", 12065551212])
def test_a_long_code_form_is_stopped_on_the_accounts_code_and_recorded_as_given(
    account_codes: Any, tmp_path: Any, given: object
) -> None:
    record = run_opt_outs(
        WhatCountsHook(),
        Inputs(rows=[{"phone": phones(6)[0], "sender_code": given}]),
        receipts_path=tmp_path,
        task=task(),
    )
    assert posts(account_codes, SENDER, phones(1)) == [1]
    assert record["by_sender_code"] == {SENDER: {"stopped": 1, "not_subscribed": 0, "failed": 0}}
    (receipt,) = iter_receipts(tmp_path)
    assert (receipt["sender_code"], receipt["requested_sender_code"]) == (SENDER, given)


def test_a_code_none_of_the_accounts_is_invalid_naming_them_and_nothing_is_sent(account_codes: Any) -> None:
    with pytest.raises(WhatCountsInvalidInputsError) as error:
        run_opt_outs(WhatCountsHook(), Inputs(rows=[{"phone": phones(6)[0], "sender_code": "13105550000"}]))
    (invalid,) = error.value.summary["invalid"]
    assert f"'13105550000' is not one of the account's sender codes ({SENDER}, {OTHER}" in invalid["error"]
    assert posts(account_codes, "13105550000", phones(1)) == [0]


# --- a sender code nobody is subscribed to ------------------------------------------------------


def test_twenty_pairs_of_one_code_all_not_subscribed_fail_without_retries_naming_the_code(
    whatcounts_conn_env: Any,
) -> None:
    """12065551212 (the Vonage form) is a code WhatCounts does not know: every pair is a 500."""
    with pytest.raises(WhatCountsInvalidInputsError, match=r"all 20 pairs sent to sender code '12065551212'"):
        run_opt_outs(WhatCountsHook(), Inputs(phones=phones(20), sender_code="12065551212"))


def test_the_guard_needs_twenty_pairs_and_can_be_turned_off(whatcounts_conn_env: Any) -> None:
    assert run_opt_outs(WhatCountsHook(), Inputs(phones=phones(19), sender_code="1")).get("error") is None
    options = OptOutOptions(expect_not_subscribed=True)
    record = run_opt_outs(WhatCountsHook(), Inputs(phones=phones(20), sender_code="1"), options=options)
    assert len(record["not_subscribed"]) == 20


def test_the_guard_leaves_a_code_with_any_stop_alone(emulator: Any) -> None:
    """Most phones never subscribed, one did: the code is real."""
    numbers = [*phones(1), *phones(30)[10:]]
    record = run_opt_outs(WhatCountsHook(), Inputs(phones=numbers, sender_code=SENDER))
    assert (record["stopped"], len(record["not_subscribed"])) == (1, 20)


def test_transient_failures_still_spend_retries_alongside_the_guard(whatcounts_conn_env: Any) -> None:
    whatcounts_conn_env.faults.update(failing_phones={phones(21)[20]})
    with pytest.raises(WhatCountsBulkError) as error:
        run_opt_outs(WhatCountsHook(max_retries=0), Inputs(phones=phones(21), sender_code="1"))
    assert not isinstance(error.value, WhatCountsInvalidInputsError)


# --- one phone -----------------------------------------------------------------------------------


def test_one_phone_whose_reply_is_not_an_opt_out_sends_nothing(emulator: Any) -> None:
    record = opt_out_one(WhatCountsHook(), phones(1)[0], SENDER, message="See you at 5")
    assert (record["status"], record["response"], record["reply_decision"]) == (
        "not_opt_out",
        None,
        "not_opt_out",
    )
    assert posts(emulator, SENDER, phones(1)) == [0]


def test_one_phone_with_an_opt_out_reply_is_stopped(emulator: Any) -> None:
    record = opt_out_one(WhatCountsHook(), phones(1)[0], SENDER, message="Remove me from this list please")
    assert (record["status"], record["reply_decision"]) == ("stopped", "opt_out")


def test_one_phone_with_scope_all_is_stopped_on_every_code(account_codes: Any, tmp_path: Any) -> None:
    record = opt_out_one(
        WhatCountsHook(), phones(1)[0], "12065551212", scope="all", receipts_path=tmp_path, task=task()
    )
    assert (record["status"], record["scope"], record["sender_code"]) == ("stopped", "all", "12065551212")
    assert {code: item["status"] for code, item in record["by_sender_code"].items()} == {
        SENDER: "stopped",
        OTHER: "stopped",
    }
    assert sorted(r["sender_code"] for r in iter_receipts(tmp_path)) == sorted([SENDER, OTHER])


def test_one_phone_on_a_code_none_of_the_accounts_raises_naming_them(account_codes: Any) -> None:
    with pytest.raises(InvalidSenderCodeError, match="not one of the account's sender codes"):
        opt_out_one(WhatCountsHook(), phones(1)[0], "99999")
