"""What a receipt says to a reader: one wording per status, and its times read strictly."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from tests.receipts.evidence.support import CODE_A, WHATCOUNTS
from whatcounts_provider.receipts.evidence.common import (
    MESSAGE_LIMIT,
    aware,
    check_limit,
    cut_short_try,
    from_micros,
    iso_text,
    meaning,
    micros,
    parse_time,
    record_ids,
    short_message,
    status_label,
    task_of,
)

UTC = timezone.utc


def receipt(status: str, **extra: Any) -> dict[str, Any]:
    return {"status": status, "sender_code": CODE_A, "try_number": 2, **extra}


@pytest.mark.parametrize(
    ("status", "extra", "says"),
    [
        ("stopped", {}, [f"WhatCounts confirmed the opt-out, so sender code {CODE_A} no longer texts"]),
        (
            "not_subscribed",
            {},
            [f"no subscription of this phone on sender code {CODE_A}", "honoured either way"],
        ),
        ("failed", {"error": "HTTP 503"}, ["no final answer from WhatCounts (HTTP 503)", "did NOT confirm"]),
        ("needs_review", {}, ["Held for review", "nothing was sent"]),
        ("not_opt_out", {}, ["not read as an opt-out", "nothing was sent"]),
        ("invalid", {"error": "not a phone"}, ["Invalid input (not a phone); nothing was sent"]),
        ("duplicate", {}, ["same phone and sender code as an earlier input", "not sent again"]),
    ],
)
def test_each_status_has_one_plain_sentence(status: str, extra: dict[str, Any], says: list[str]) -> None:
    text = meaning(receipt(status, **extra))
    for part in says:
        assert part in text


def test_only_stopped_and_not_subscribed_read_as_honoured() -> None:
    for status in ("failed", "needs_review", "not_opt_out", "invalid", "duplicate"):
        text = meaning(receipt(status))
        assert "honoured" not in text.lower()
        assert "confirmed the opt-out" not in text
    assert "nothing was sent" not in meaning(receipt("stopped"))


def test_a_failure_without_an_error_names_no_empty_reason() -> None:
    text = meaning(receipt("failed"))
    assert text == "Failed: no final answer from WhatCounts. This attempt did NOT confirm the opt-out."


def test_an_unknown_status_and_a_missing_code_are_shown_as_they_stand() -> None:
    assert meaning({"status": "paused"}) == "Status paused."
    assert "sender code (none)" in meaning({"status": "stopped"})


def test_a_not_subscribed_retry_after_a_cut_short_try_is_honoured_by_that_try() -> None:
    cut = receipt("not_subscribed", earlier_try_cut_short=1)
    assert cut_short_try(cut) == 1
    text = meaning(cut)
    assert text.startswith("Honoured: most likely honoured by try 1 of this DAG run")
    assert "This try (2) found no subscription left" in text
    assert "answer record was lost" in text
    assert status_label("not_subscribed", 1) == "honoured (most likely by try 1; answer record lost)"


@pytest.mark.parametrize(
    "given",
    [
        receipt("stopped", earlier_try_cut_short=1),  # a stop is its own proof
        receipt("failed", earlier_try_cut_short=1),
        receipt("not_subscribed", earlier_try_cut_short=0),
        receipt("not_subscribed", earlier_try_cut_short=True),
        receipt("not_subscribed", earlier_try_cut_short="1"),
        receipt("not_subscribed"),
    ],
)
def test_the_cut_short_context_needs_a_not_subscribed_receipt_and_a_real_try(given: dict[str, Any]) -> None:
    assert cut_short_try(given) is None
    assert "most likely honoured by try" not in meaning(given)


@pytest.mark.parametrize(
    ("status", "label"),
    [
        ("stopped", "stopped"),
        ("not_subscribed", "not subscribed"),
        ("failed", "failed"),
        ("needs_review", "needs review"),
        ("not_opt_out", "not an opt-out"),
        ("invalid", "invalid"),
        ("duplicate", "duplicate"),
    ],
)
def test_status_labels_are_words_not_keys(status: str, label: str) -> None:
    assert status_label(status) == label


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-25T16:00:00.000000+00:00", datetime(2026, 11, 25, 16, tzinfo=UTC)),  # the writer's form
        ("2026-11-25T16:00:00Z", datetime(2026, 11, 25, 16, tzinfo=UTC)),
        ("2026-11-25T17:30:00+01:30", datetime(2026, 11, 25, 16, tzinfo=UTC)),
        ("2026-11-25T16:00:00", datetime(2026, 11, 25, 16, tzinfo=UTC)),  # naive means UTC
        ("2026-11-25", datetime(2026, 11, 25, tzinfo=UTC)),
        ("2026-11-25T16:00:00.123456+00:00", datetime(2026, 11, 25, 16, 0, 0, 123456, tzinfo=UTC)),
    ],
)
def test_times_are_read_as_aware_utc(text: str, expected: datetime) -> None:
    parsed = parse_time(text, "processed_at")
    assert parsed == expected
    assert parsed is not None
    assert parsed.utcoffset() == timedelta(0)


def test_a_missing_time_stays_missing() -> None:
    assert parse_time(None, "requested_at") is None
    assert iso_text(None) is None


@pytest.mark.parametrize("bad", ["yesterday", "", "2026-13-01T00:00:00Z", "2026-02-30T10:00:00Z", True, [1]])
def test_a_time_that_is_not_one_is_refused_naming_field_and_value(bad: object) -> None:
    with pytest.raises(ValueError, match=r"^receipt requested_at .* is not an ISO-8601 time$") as err:
        parse_time(bad, "requested_at")
    assert repr(bad) in str(err.value)
    assert err.value.__cause__ is None, "the message is the whole story: no chained parser error"


def test_iso_text_writes_times_as_the_receipts_do_and_reads_back() -> None:
    moment = datetime(2026, 11, 25, 17, 0, 0, 5, tzinfo=timezone(timedelta(hours=1)))
    assert iso_text(moment) == "2026-11-25T16:00:00.000005+00:00"
    assert parse_time(iso_text(moment), "processed_at") == moment


def test_micros_are_an_exact_sort_key() -> None:
    early = datetime(2026, 11, 25, 16, 0, 0, 1, tzinfo=UTC)
    late = early + timedelta(microseconds=1)
    assert micros(early) < micros(late)
    assert from_micros(micros(early)) == early
    assert from_micros(0) == datetime(1970, 1, 1, tzinfo=UTC)


def test_aware_reads_naive_as_utc_and_names_a_field_that_is_no_datetime() -> None:
    assert aware(datetime(2026, 12, 1, 10), "now") == datetime(2026, 12, 1, 10, tzinfo=UTC)
    paris = datetime(2026, 12, 1, 11, tzinfo=timezone(timedelta(hours=1)))
    assert aware(paris, "now").tzinfo is UTC
    assert aware(paris, "now") == datetime(2026, 12, 1, 10, tzinfo=UTC)
    with pytest.raises(TypeError, match="since must be a datetime, got str '2026-11-01'"):
        aware("2026-11-01", "since")


@pytest.mark.parametrize("bad", [-1, True, 1.5, "10", None])
def test_the_limit_must_be_a_whole_number_of_days(bad: object) -> None:
    with pytest.raises(ValueError, match="honour_within_business_days must be an int >= 0"):
        check_limit(bad)


def test_a_limit_of_zero_is_allowed() -> None:
    assert check_limit(0) == 0
    assert check_limit(10) == 10


def test_record_ids_are_the_three_a_dispute_asks_for_in_order() -> None:
    assert list(record_ids({**WHATCOUNTS, "id": 17}) or {}) == ["id", "smsSubscriberId", "smsSenderId"]
    assert record_ids({"id": 17, "smsSubscriberId": None, "phone": "1"}) == {"id": 17}
    assert record_ids({"realmId": 10}) is None
    assert record_ids(None) is None
    assert record_ids("17") is None


def test_a_long_reply_is_cut_with_a_visible_mark() -> None:
    assert short_message(None) is None
    exact = "x" * MESSAGE_LIMIT
    assert short_message(exact) == exact
    cut = short_message("y" * (MESSAGE_LIMIT + 1))
    assert cut is not None
    assert len(cut) == MESSAGE_LIMIT
    assert cut.endswith("…")
    assert short_message(12) == "12"


def test_task_of_names_the_task_instance_and_try() -> None:
    given = {"dag_id": "d", "run_id": "r", "task_id": "t", "map_index": 3, "try_number": 2, "phone": "1"}
    assert task_of(given) == {"dag_id": "d", "run_id": "r", "task_id": "t", "map_index": 3, "try_number": 2}
