"""The receipt schema: one mapping from an outcome to a receipt, and the line's keys and checks."""

from __future__ import annotations

import json
from datetime import datetime, timezone

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
        "status": "stopped",
        "error": None,
        "whatcounts": {"id": 9},
        "requested_at": REQUESTED,
        "attempts": 2,
    }


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
