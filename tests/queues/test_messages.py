"""What a message's body becomes: a row to honour, or an invalid row that says why."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from whatcounts_provider.queues import MAX_BODY_BYTES, QueueMessage, message_row
from whatcounts_provider.types import NO_MESSAGE

SENT = datetime(2026, 12, 6, 10, 15, tzinfo=timezone.utc)


def message(body: object, queue_id: str = "q-1") -> QueueMessage:
    text = body if isinstance(body, str) else json.dumps(body)
    return QueueMessage(queue_id, "handle-1", text, SENT, receive_count=2)


def test_a_stop_reply_becomes_a_row_with_its_fields_and_the_message_id():
    body = {
        "phone": "+1 206 595 9696",
        "sender_code": "2065551212",
        "message": "STOP",
        "received_at": "2026-12-06T10:14:00Z",
        "message_id": "SM123",
    }
    row = message_row(4, message(body))
    assert row.error is None
    assert (row.row, row.phone, row.sender_code, row.message, row.message_id) == (
        4, "+1 206 595 9696", "2065551212", "STOP", "SM123",
    )  # fmt: skip
    assert row.requested_at == datetime(2026, 12, 6, 10, 14, tzinfo=timezone.utc)
    assert row.input == {
        "queue_message_id": "q-1",
        "sent_at": SENT.isoformat(),
        "receive_count": 2,
        "body": body,
    }


def test_only_a_phone_is_needed_when_the_operator_has_a_sender_code():
    row = message_row(1, message({"phone": "2065959696"}), sender_code="88555")
    assert row.error is None
    assert (row.sender_code, row.message, row.message_id, row.requested_at) == (
        "88555",
        NO_MESSAGE,
        "q-1",
        SENT,
    )


def test_a_stop_is_never_refused_for_its_metadata():
    body = {"phone": "2065959696", "sender_code": "1", "received_at": "yesterday", "message_id": {"x": 1}}
    row = message_row(1, message(body))
    assert row.error is None
    assert (row.requested_at, row.message_id) == (SENT, "q-1")
    assert row.input["body"]["received_at"] == "yesterday"  # as written, in the receipt


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("STOP", "its body is not JSON (JSONDecodeError at character 0)"),
        ('{"phone": "2065959696"', "its body is not JSON"),
        ('["2065959696"]', "its body is a JSON list, not an object with a 'phone'"),
        (
            {"phone": "2065959696", "sender_code": "1", "tenant": "x", "Phone": 1},
            "unknown field(s) 'Phone', 'tenant'",
        ),
        ("x" * (MAX_BODY_BYTES + 1), f"its body is {MAX_BODY_BYTES + 1:,} bytes"),
    ],
)
def test_a_message_that_cannot_be_honoured_is_invalid_and_says_why(body: object, reason: str):
    row = message_row(7, message(body))
    assert row.phone is None  # never sent
    assert row.error is not None
    assert row.error.startswith("message q-1 cannot be honoured: ")
    assert reason in row.error
    assert row.message_id == "q-1"
    assert row.requested_at == SENT


def test_a_message_at_the_queue_size_limit_keeps_only_a_preview_in_its_receipt():
    row = message_row(1, message("9" * 256 * 1024))
    assert len(row.input["body"]) == 500


def test_a_message_without_a_phone_names_the_message():
    row = message_row(3, message({"sender_code": "1", "message": "STOP"}))
    assert row.error == "message q-1: row 3 has no phone"


def test_an_unknown_field_that_is_not_a_plain_name_is_described_not_quoted():
    row = message_row(1, message({"phone": "2065959696", "+12065559876": "STOP", "x" * 5000: 1}))
    assert row.error is not None
    assert "12065559876" not in row.error  # the reason reaches the task log
    assert "<a field name of 12 character(s) that is not a plain name>" in row.error
    assert len(row.error) < 400


def test_a_body_with_nan_is_kept_as_json_any_reader_takes():
    row = message_row(1, message('{"phone": "2065959696", "sender_code": "1", "received_at": NaN}'))
    assert json.loads(json.dumps(row.input, allow_nan=False))["body"]["received_at"] == "nan"
