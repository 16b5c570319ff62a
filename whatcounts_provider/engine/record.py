"""The record of a bulk run (what the bulk operator returns), built outcome by outcome."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from whatcounts_provider.phone import mask_phone

if TYPE_CHECKING:
    from collections.abc import Mapping

    from whatcounts_provider.inputs import InputForm
    from whatcounts_provider.types import StopOutcome

_LISTED = 20


class BulkSummary:
    """Counts every input of a bulk run; keeps only the inputs that need attention.

    The record keeps the ``phones`` form's shape (``not_subscribed`` a list of phones, ``invalid``
    the inputs as given, ``failed`` items ``{phone, error}``); ``rows`` and ``source`` records
    name each pair (``{phone, sender_code}``) and each invalid row (``{row, input, error}``).

    :param form: which input form the run read (``phones``, ``rows`` or ``source``).
    :param sender_code: the operator's sender code as given, or None.
    :param source: the source file's URI (credentials removed), or None.
    :param receipts: the task instance's receipts folder URI, or None when receipts are off.
    """

    def __init__(
        self, *, form: InputForm, sender_code: Any, source: str | None = None, receipts: str | None = None
    ) -> None:
        self.form = form
        self.sender_code = None if sender_code is None else str(sender_code)
        self.source = source
        self.receipts = receipts
        self.total = 0
        self.stopped = 0
        self.duplicates = 0
        self.already_done = 0
        self.late = 0
        self.late_examples: list[str] = []
        self.not_subscribed: list[Any] = []
        self.invalid: list[Any] = []
        self.failed: list[dict[str, Any]] = []
        #: Failed pairs a task retry may still honour (the rest got a final answer from WhatCounts).
        self.retryable_failures = 0
        self.by_sender_code: dict[str, Counter[str]] = {}
        self.not_opt_out = 0
        self.ambiguous = 0
        self.needs_review: list[dict[str, Any]] = []
        self.error: str | None = None
        #: The final status of each pair earlier tries of this DAG run honoured (see ``resume``).
        self.earlier: Mapping[tuple[str, str], str] = {}
        self.stopped_earlier = 0
        #: An earlier try was cut short: its answers not yet written are lost (``resume``).
        self.cut_short: int | None = None
        self.not_subscribed_after_cut_short = 0

    def cover(self, codes: tuple[str, ...]) -> None:
        """Make ``by_sender_code`` list ``codes`` even if none of their pairs is sent."""
        for code in codes:
            self.by_sender_code.setdefault(code, Counter())

    def add(self, outcome: StopOutcome, *, late: bool) -> None:
        """Count one pair (``total`` and the replies count each input row once: its first pair).

        :param late: the pair was honoured, or failed or held, past the deadline.
        """
        status, row, error = outcome.status, outcome.row, outcome.error
        if outcome.fanout == 0:
            self.total += 1
            self.ambiguous += row.reply is not None and row.reply.decision == "ambiguous"
        if status == "not_opt_out":
            self.not_opt_out += 1
            return
        if status == "duplicate":
            self.duplicates += 1
            return
        if status == "already_done":
            self.already_done += 1
            # The run's record counts what the run honoured, whichever try did it.
            if self.earlier.get((outcome.phone or "", outcome.sender_code or "")) == "stopped":
                self.stopped += 1
                self.stopped_earlier += 1
                self.by_sender_code.setdefault(outcome.sender_code or "", Counter())["stopped"] += 1
            return
        if status == "invalid":
            item = (
                row.input if self.form == "phones" else {"row": row.row, "input": row.input, "error": error}
            )
            self.invalid.append(item)
            return
        code = outcome.sender_code or ""
        if late:
            self.late += 1
            if len(self.late_examples) < 5:
                self.late_examples.append(f"{mask_phone(outcome.phone)} on {code}")
        if status == "needs_review":
            self.needs_review.append({"row": row.row, "phone": outcome.phone, "sender_code": code})
            return
        self.by_sender_code.setdefault(code, Counter())[status] += 1
        if status == "stopped":
            self.stopped += 1
        elif status == "not_subscribed":
            self.not_subscribed_after_cut_short += self.cut_short is not None
            pair = {"phone": outcome.phone, "sender_code": code}
            self.not_subscribed.append(outcome.phone if self.form == "phones" else pair)
        else:
            failure = {"phone": outcome.phone, "sender_code": code, "error": error or "unknown error"}
            if self.form == "phones":
                del failure["sender_code"]
            self.failed.append(failure)
            self.retryable_failures += not outcome.permanent

    def record(self, *, retries: int) -> dict[str, Any]:
        """The bulk record (see docs/inputs.md); it holds full phones by design."""
        codes = self.by_sender_code
        return {
            "sender_code": self.sender_code,
            "total": self.total,
            "stopped": self.stopped,
            "stopped_this_try": self.stopped - self.stopped_earlier,
            "not_subscribed": self.not_subscribed,
            "not_subscribed_after_cut_short": self.not_subscribed_after_cut_short,
            "invalid": self.invalid,
            "failed": self.failed,
            "duplicates": self.duplicates,
            "by_sender_code": {
                code: {key: codes[code][key] for key in ("stopped", "not_subscribed", "failed")}
                for code in sorted(codes)
            },
            "already_done": self.already_done,
            "late": self.late,
            "not_opt_out": self.not_opt_out,
            "ambiguous": self.ambiguous,
            "needs_review": self.needs_review,
            "receipts": self.receipts,
            "retries": retries,
            "source": self.source,
            "error": self.error,
        }

    def log_lines(self) -> list[str]:
        """Human-readable report: counts, then at most 20 masked examples per category."""
        lines = [
            f"{self.total} inputs: {self.stopped} stopped, {len(self.not_subscribed)} not subscribed, "
            f"{len(self.failed)} failed, {len(self.invalid)} invalid, {self.duplicates} duplicates, "
            f"{self.already_done} already done by an earlier try, {self.late} late"
        ]
        if self.stopped_earlier:
            lines.append(f"{self.stopped_earlier} of the stopped were stopped by an earlier try of this run")
        if self.not_subscribed_after_cut_short:
            lines.append(
                f"{self.not_subscribed_after_cut_short} not subscribed when sent again after try "
                f"{self.cut_short} was cut short: that try most likely stopped them, and its answers "
                "were lost with it"
            )
        if self.not_opt_out or self.ambiguous:
            lines.append(
                f"replies: {self.not_opt_out} not opt-outs (not sent), {self.ambiguous} ambiguous "
                f"({len(self.needs_review)} held for review, the rest sent as opt-outs)"
            )
        lines += [
            f"sender code {code}: {counts['stopped']} stopped, {counts['not_subscribed']} not subscribed, "
            f"{counts['failed']} failed"
            for code, counts in sorted(self.by_sender_code.items())[:_LISTED]
        ]
        for item in self.failed[:_LISTED]:
            lines.append(f"failed {mask_phone(item['phone'])}: {item['error']}")
        for item in self.invalid[:_LISTED]:
            lines.append(_invalid_line(item))
        for item in self.not_subscribed[:_LISTED]:
            phone = item["phone"] if isinstance(item, dict) else item
            lines.append(f"not subscribed {mask_phone(phone)}")
        for item in self.needs_review[:_LISTED]:
            lines.append(
                f"needs review: row {item['row']}, {mask_phone(item['phone'])} on {item['sender_code']}"
            )
        listed = (self.failed, self.invalid, self.not_subscribed, self.needs_review)
        hidden = sum(max(0, len(items) - _LISTED) for items in listed)
        if hidden:
            lines.append(f"... and {hidden} more (all of them are in the XCom record)")
        return lines


def _invalid_line(item: Any) -> str:
    if isinstance(item, dict):
        return f"invalid row {item['row']}: {item['error']}"
    return f"invalid input {mask_phone(item)}"
