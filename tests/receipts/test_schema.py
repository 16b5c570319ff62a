"""The receipt schema: one mapping from an outcome to a receipt, and the line's keys and checks."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest

from tests.helpers import PHONE, SENDER
from tests.receipts.support import IDENTITY
from whatcounts_provider.receipts import RECEIPT_KEYS
from whatcounts_provider.receipts.schema import build_receipt, dumps_line, outcome_fields
from whatcounts_provider.types import Row, StopOutcome

REQUESTED = datetime(2026, 11, 30, 9, tzinfo=timezone.utc)  # a Monday
PROCESSED = datetime(2026, 12, 2, 9, tzinfo=timezone.utc)  # the Wednesday after: 2 business days


def stopped() -> StopOutcome:
    row = Row(3, {"phone": "2065959696"}, "2065959696", SENDER, REQUESTED)
    return StopOutcome(row, "stopped", phone=PHONE, sender_code=SENDER, response={"id": 9}, attempts=2)


def test_an_outcome_maps_to_its_receipt_fields():
    assert outcome_fields(stopped()) == {
        "row": 3,
        "input": {"phone": "2065959696"},
        "phone": PHONE,
        "sender_code": SENDER,
        "requested_sender_code": SENDER,
        "scope": "sender_code",
        "status": "stopped",
        "error": None,
        "message": None,
        "message_id": None,
        "reply_decision": None,
        "reply_reason": None,
        "whatcounts": {"id": 9},
        "requested_at": REQUESTED,
        "attempts": 2,
    }


@dataclass(frozen=True)
class Decision:
    decision: str
    reason: str


def test_a_reply_and_its_scope_are_in_the_receipt_as_given():
    row = Row(
        3, {"phone": "2065959696"}, "2065959696", "+12065551212", message=" STOP 🛑 ",
        reply=Decision("opt_out", "the word 'stop'"), codes=(SENDER, "88555"), scope="all",
    )  # fmt: skip
    fields = outcome_fields(StopOutcome(row, "stopped", PHONE, "88555", fanout=1)) or {}
    assert {key: fields[key] for key in ("sender_code", "requested_sender_code", "scope")} == {
        "sender_code": "88555",
        "requested_sender_code": "+12065551212",
        "scope": "all",
    }
    assert (fields["message"], fields["reply_decision"], fields["reply_reason"]) == (
        " STOP 🛑 ", "opt_out", "the word 'stop'",
    )  # fmt: skip


@pytest.mark.parametrize(("message", "kept"), [(None, None), (12345, 12345), (b"STOP", "b'STOP'")])
def test_a_message_that_is_not_text_is_kept_json_safe(message: object, kept: object):
    row = Row(1, {}, PHONE, SENDER, message=message, reply=Decision("not_opt_out", "empty"))
    fields = outcome_fields(StopOutcome(row, "not_opt_out", PHONE, SENDER)) or {}
    assert fields["message"] == kept
    assert json.loads(json.dumps(fields["message"])) == kept


def test_already_done_has_no_receipt_of_its_own():
    row = Row(1, PHONE, PHONE, SENDER)
    assert outcome_fields(StopOutcome(row, "already_done", phone=PHONE, sender_code=SENDER)) is None


def test_the_receipt_line_has_exactly_the_documented_keys():
    receipt = build_receipt(outcome_fields(stopped()) or {}, IDENTITY, PROCESSED, "1.2.3")
    assert list(receipt) == list(RECEIPT_KEYS)
    assert (receipt["business_days_to_honour"], receipt["provider_version"]) == (2, "1.2.3")
    assert json.loads(dumps_line(receipt)) == receipt


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"row": 1, "input": "x", "status": "stopped", "colour": "red"}, "unknown receipt fields"),
        ({"row": 1, "status": "stopped"}, r"receipt fields \['input'\] are required"),
        ({"row": 1, "input": "x", "status": "already_done"}, "receipt status 'already_done' is not one of"),
    ],
)
def test_bad_fields_are_refused(fields, message):
    with pytest.raises(ValueError, match=message):
        build_receipt(fields, IDENTITY, PROCESSED, "1.2.3")


def test_a_failed_receipt_has_no_honour_count_and_its_times_in_utc():
    """Only stopped and not_subscribed were honoured; times are written in UTC with microseconds."""
    fields = {
        "row": 4,
        "input": "x",
        "status": "failed",
        "error": "HTTP 500",
        "requested_at": "2026-11-30T10:00:00+01:00",
    }
    receipt = build_receipt(fields, IDENTITY, PROCESSED, "1.2.3")
    assert receipt["requested_at"] == "2026-11-30T09:00:00.000000+00:00"
    assert receipt["processed_at"] == "2026-12-02T09:00:00.000000+00:00"
    assert (receipt["business_days_to_honour"], receipt["attempts"], receipt["phone"]) == (None, 0, None)
    assert (receipt["dag_id"], receipt["run_id"], receipt["task_id"]) == (
        IDENTITY.dag_id,
        IDENTITY.run_id,
        IDENTITY.task_id,
    )
    assert (receipt["map_index"], receipt["try_number"]) == (IDENTITY.map_index, IDENTITY.try_number)


def test_a_receipt_without_a_request_time_has_no_honour_count():
    receipt = build_receipt({"row": 1, "input": "x", "status": "stopped"}, IDENTITY, PROCESSED, "1.2.3")
    assert (receipt["requested_at"], receipt["business_days_to_honour"]) == (None, None)


def test_a_failed_outcome_keeps_its_error_and_no_record():
    row = Row(2, "bad", "bad", SENDER)
    outcome = StopOutcome(row, "failed", phone=PHONE, sender_code=SENDER, error="HTTP 500", attempts=6)
    fields = outcome_fields(outcome) or {}
    assert (fields["status"], fields["error"], fields["whatcounts"], fields["attempts"]) == (
        "failed",
        "HTTP 500",
        None,
        6,
    )


def test_any_input_serialises():
    """Inputs come from users' files and XComs: the line is written whatever they hold."""
    odd = {
        "when": datetime(2026, 11, 30, 9),  # naive: written as given
        "aware": datetime(2026, 11, 30, 10, tzinfo=timezone(timedelta(hours=1))),
        "tags": frozenset({"a"}),
        "raw": b"\xffok",
        "other": object,
    }
    receipt = build_receipt({"row": 1, "input": odd, "status": "invalid"}, IDENTITY, PROCESSED, "1.2.3")
    line = dumps_line(receipt)
    assert line.endswith("\n")
    assert line.count("\n") == 1
    written = json.loads(line)["input"]
    assert written == {
        "when": "2026-11-30T09:00:00",
        "aware": "2026-11-30T09:00:00.000000+00:00",
        "tags": ["a"],
        "raw": "\ufffdok",
        "other": str(object),
    }
