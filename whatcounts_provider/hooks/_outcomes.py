"""From a row to what is sent, and from what happened to its outcome: the two ends of one stop.

:class:`Sorter` decides, per row and before any request, which of its pairs are sent (a
:class:`Job` each) and which already have their outcome (``invalid``, ``duplicate``,
``already_done``, or the hold of its reply: ``not_opt_out``, ``needs_review``). :func:`stop_outcome` runs a
job's request and turns its result, or the exception it raised, into the outcome.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, NamedTuple

from whatcounts_provider.exceptions import (
    InvalidPhoneNumberError,
    InvalidSenderCodeError,
    SmsSubscriberNotFoundError,
    WhatCountsApiError,
    WhatCountsAuthError,
    WhatCountsCancelledError,
    WhatCountsError,
)
from whatcounts_provider.phone import validate_sender_code
from whatcounts_provider.types import Row, StopOutcome, json_safe

if TYPE_CHECKING:
    from whatcounts_provider.hooks._retry import Tally


class Job(NamedTuple):
    """One pair to send, with its phone normalised and its sender code validated.

    ``fanout`` is which of its row's pairs it is (a row stopped on every code of the account
    has one pair per code), ``of`` how many outcomes the row has.
    """

    row: Row
    phone: str
    sender_code: str
    fanout: int = 0
    of: int = 1


#: Sends one job's request (counting attempts in the tally); returns WhatCounts' record.
Send = Callable[[Job, "Tally"], dict[str, Any]]


class Sorter:
    """Turn each row into a job to send or a final outcome; remembers the distinct pairs seen.

    :param normalize: the hook's phone normaliser (the connection's default region).
    :param already_done: normalised pairs an earlier try honoured: reported, never sent.
    """

    def __init__(
        self, normalize: Callable[[object], str], already_done: Container[tuple[str, str]] = ()
    ) -> None:
        self._normalize = normalize
        self._already_done = already_done
        # Distinct pairs as {code: {phone as int}}: ~70 bytes a pair instead of ~150 for a set
        # of string tuples (a million distinct pairs is a realistic opt-out file). Normalised
        # phones are digits that start with a country code, never with 0: int() loses nothing.
        self._seen: dict[str, set[int]] = {}

    def sort(self, row: Row) -> list[Job | StopOutcome]:
        """A job per pair of ``row`` to send, and an outcome for each pair that is not sent.

        A row is one pair, or one per code of ``row.codes`` (the engine's expansion); an invalid
        row, or one whose reply holds it back (``row.hold``), is one outcome.
        """
        code_error: InvalidSenderCodeError | InvalidPhoneNumberError | None = None
        if row.codes:
            codes: tuple[str, ...] = row.codes
        elif row.code_error is not None:  # the requested code is none of the account's
            codes, code_error = (), InvalidSenderCodeError(row.code_error)
        else:
            code, code_error = _checked(validate_sender_code, row.sender_code)
            codes = () if code is None else (code,)
        first = codes[0] if codes else None
        if row.error is not None:
            reason: WhatCountsError = code_error or InvalidPhoneNumberError(row.error)
            return [StopOutcome(row, "invalid", None, first, row.error, cause=reason)]
        phone, phone_error = _checked(self._normalize, row.phone)
        if row.hold is not None:
            return [StopOutcome(row, row.hold, phone, first)]
        if phone is None or first is None:
            errors = [str(exc) for exc in (phone_error, code_error) if exc is not None]
            cause: WhatCountsError | None = code_error or phone_error
            return [StopOutcome(row, "invalid", phone, first, "; ".join(errors), cause=cause)]
        number = int(phone)
        of = len(codes) + (row.code_error is not None)
        sorted_: list[Job | StopOutcome] = []
        for fanout, code in enumerate(codes):
            phones = self._seen.setdefault(code, set())
            if number in phones:
                sorted_.append(StopOutcome(row, "duplicate", phone, code, fanout=fanout, of=of))
                continue
            phones.add(number)
            if (phone, code) in self._already_done:
                sorted_.append(StopOutcome(row, "already_done", phone, code, fanout=fanout, of=of))
            else:
                sorted_.append(Job(row, phone, code, fanout, of))
        if row.code_error is not None:  # scope="all": the other codes are stopped all the same
            unknown = InvalidSenderCodeError(row.code_error)
            sorted_.append(
                StopOutcome(
                    row, "invalid", phone, None, row.code_error, cause=unknown, fanout=len(codes), of=of
                )
            )
        return sorted_


def _checked(
    check: Callable[[Any], str], value: Any
) -> tuple[str | None, InvalidPhoneNumberError | InvalidSenderCodeError | None]:
    try:
        return check(value), None
    except (InvalidPhoneNumberError, InvalidSenderCodeError) as exc:
        return None, exc


def stop_outcome(job: Job, send: Send, tally: Tally, *, missing_ok: bool = True) -> StopOutcome:
    """Send ``job`` and say what became of it.

    WhatCounts' "no subscription" is ``not_subscribed`` (or, with ``missing_ok=False``, a
    ``failed`` outcome marked ``permanent``: a retry gets the same answer); any other provider
    error is ``failed`` with its exception as ``cause``, ``permanent`` when WhatCounts' answer
    is final (a 4xx other than 429: :func:`is_final_answer`).

    :raises WhatCountsAuthError: rejected credentials: every other job would fail alike.
    :raises WhatCountsCancelledError: the run was cancelled.
    """
    row, phone, code, fanout, of = job
    try:
        response = send(job, tally)
    except (WhatCountsAuthError, WhatCountsCancelledError):
        raise
    except WhatCountsError as exc:
        missing = isinstance(exc, SmsSubscriberNotFoundError)
        if missing and missing_ok:
            return StopOutcome(
                row, "not_subscribed", phone, code, attempts=tally.attempts, fanout=fanout, of=of
            )
        return StopOutcome(
            row,
            "failed",
            phone,
            code,
            str(exc),
            attempts=tally.attempts,
            permanent=missing or is_final_answer(exc),
            cause=exc,
            fanout=fanout,
            of=of,
        )
    return StopOutcome(
        row, "stopped", phone, code, response=response, attempts=tally.attempts, fanout=fanout, of=of
    )


def is_final_answer(error: WhatCountsError) -> bool:
    """Whether WhatCounts' answer to this pair is final: a 4xx other than 429 (the same request
    gets the same answer), as opposed to a failure a later try may get past (5xx, transport)."""
    return isinstance(error, WhatCountsApiError) and error.status_code < 500 and error.status_code != 429


def pair_rows(items: Iterable[Any]) -> Iterator[Row]:
    """Each item as a row; an item that is not a ``(phone, sender_code)`` pair carries its error."""
    for number, item in enumerate(items, 1):
        if isinstance(item, (str, bytes, Mapping)) or not isinstance(item, Sequence) or len(item) != 2:
            error = f"input must be a (phone, sender_code) pair, got {_shape(item)}"
            yield Row(number, json_safe(item), None, None, error=error)
        else:
            yield Row(number, json_safe(item[0]), item[0], item[1])


def _shape(item: object) -> str:
    if isinstance(item, Sequence) and not isinstance(item, (str, bytes)):
        return f"a {type(item).__name__} of {len(item)}"
    return type(item).__name__


def as_given(outcome: StopOutcome) -> StopOutcome:
    """``stop_sms_subscribers``' older form: an invalid outcome's ``phone`` is the input as given."""
    return outcome if outcome.status != "invalid" else replace(outcome, phone=outcome.input)
