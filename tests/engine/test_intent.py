"""What each row asks for: held or sent after its reply, and on which of the account's codes."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from whatcounts_provider.engine.intent import Intent
from whatcounts_provider.exceptions import WhatCountsConfigError
from whatcounts_provider.types import NO_MESSAGE, Row

ACCOUNT = ("2065551212", "88555")


@dataclass(frozen=True)
class Decision:
    decision: str
    reason: str


class Rules:
    """A stand-in classifier: the engine's routing is tested here, the rules in tests/replies."""

    def classify(self, text: object) -> Decision:
        decision = {"STOP": "opt_out", "end?": "ambiguous"}.get(str(text), "not_opt_out")
        return Decision(decision, f"rule for {text!r}")


def row(sender_code: object = "2065551212", message: object = NO_MESSAGE, error: str | None = None) -> Row:
    return Row(1, {"phone": "2065959696"}, "2065959696", sender_code, None, error, message)


def intent(**kwargs: object) -> Intent:
    return Intent(classifier=Rules(), **kwargs)  # type: ignore[arg-type]


def test_a_row_without_a_message_is_sent_as_it_stands() -> None:
    read = intent().apply(row())
    assert (read.reply, read.hold, read.codes, read.scope) == (None, None, (), "sender_code")


@pytest.mark.parametrize(
    ("message", "ambiguous", "hold"),
    [
        ("STOP", "opt_out", None),
        ("thanks", "opt_out", "not_opt_out"),
        ("end?", "opt_out", None),
        ("end?", "review", "needs_review"),
        ("thanks", "review", "not_opt_out"),
    ],
)
def test_the_reply_decides_whether_the_row_is_held(message: str, ambiguous: str, hold: str | None) -> None:
    read = intent(ambiguous=ambiguous).apply(row(message=message))
    assert read.hold == hold
    assert read.reply == Rules().classify(message)


def test_a_null_message_is_still_a_reply() -> None:
    """A message key or column with nothing in it is an empty reply, not a row without one."""
    assert intent().apply(row(message=None)).hold == "not_opt_out"


def test_scope_all_stops_every_code_of_the_account() -> None:
    read = intent(scope="all", account_codes=ACCOUNT).apply(row(sender_code="88555"))
    assert (read.codes, read.code_error, read.scope) == (ACCOUNT, None, "all")


@pytest.mark.parametrize("given", ["+12065551212", "12065551212", "1 (206) 555-1212", 2065551212])
def test_a_long_code_form_of_an_account_code_is_mapped_to_it(given: object) -> None:
    read = intent(account_codes=ACCOUNT).apply(row(sender_code=given))
    assert (read.codes, read.code_error, read.sender_code) == (("2065551212",), None, given)


def test_a_code_that_is_none_of_the_accounts_makes_the_row_invalid_naming_them() -> None:
    read = intent(account_codes=ACCOUNT).apply(row(sender_code="13105550000"))
    assert read.codes == ()
    assert read.code_error is not None
    assert "'13105550000' is not one of the account's sender codes (2065551212, 88555" in read.code_error


def test_with_scope_all_an_unknown_code_is_reported_and_the_accounts_codes_still_stopped() -> None:
    read = intent(scope="all", account_codes=ACCOUNT).apply(row(sender_code="99999"))
    assert read.codes == ACCOUNT
    assert "'99999'" in (read.code_error or "")


def test_without_the_accounts_codes_the_requested_code_is_taken_as_given() -> None:
    read = intent().apply(row(sender_code="12065551212"))
    assert (read.codes, read.code_error) == ((), None)


def test_an_invalid_row_keeps_its_error_and_gets_no_codes() -> None:
    read = intent(scope="all", account_codes=ACCOUNT).apply(row(error="row 1 has no phone"))
    assert (read.error, read.codes, read.scope) == ("row 1 has no phone", (), "all")


def test_scope_all_without_the_accounts_codes_fails_naming_the_extra() -> None:
    with pytest.raises(WhatCountsConfigError, match=r"connection 'wc' has no sender_codes extra"):
        intent(scope="all", conn_id="wc")


def test_rows_stay_a_lazy_stream() -> None:
    consumed: list[int] = []

    def rows():  # type: ignore[no-untyped-def]
        for number in (1, 2):
            consumed.append(number)
            yield row()

    stream = intent().rows(rows())
    assert consumed == []
    next(stream)
    assert consumed == [1]
