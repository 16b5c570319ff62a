"""What each row asks for: whether its reply is an opt-out, and on which sender codes.

This runs between the inputs and the hook, one row at a time. It classifies the row's reply
(when the input carries replies), decides whether the row is held back (``not_opt_out``, or
``needs_review`` when ambiguous replies are held for a person), and resolves the sender codes:
the requested one mapped to the account's form, or every code of the account (``scope="all"``).
The hook then stops the phone on each of those codes; de-duplication is per (phone, code),
after this expansion.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from whatcounts_provider.exceptions import WhatCountsConfigError
from whatcounts_provider.phone import account_sender_code
from whatcounts_provider.types import NO_MESSAGE, AmbiguousPolicy, Row, Scope, Status

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from whatcounts_provider.replies import ReplyClassifier, ReplyDecision


class Intent:
    """Reads what each row asks for (see the module docstring).

    :param scope: ``"sender_code"`` (the code the request names) or ``"all"`` (every code of
        ``account_codes``: the FCC's revoke-all rule, in force from 2027-01-31).
    :param account_codes: the account's sender codes (the connection's ``sender_codes`` extra,
        validated); empty when not configured. When set, a requested code must be one of them,
        or a long-code form of one (``+12065551212`` or ``12065551212`` for ``2065551212``).
    :param ambiguous: ``"opt_out"`` sends an ambiguous reply as an opt-out; ``"review"`` holds it.
    :param classifier: the reply rules; ``None`` for the default ones (``classify_reply``).
    :raises WhatCountsConfigError: ``scope="all"`` without ``account_codes``.
    """

    def __init__(
        self,
        *,
        scope: Scope = "sender_code",
        account_codes: tuple[str, ...] = (),
        ambiguous: AmbiguousPolicy = "opt_out",
        classifier: ReplyClassifier | None = None,
        conn_id: str = "whatcounts_default",
    ) -> None:
        if scope == "all" and not account_codes:
            raise WhatCountsConfigError(
                f'scope="all" stops a phone on every sender code of the account, but connection '
                f"{conn_id!r} has no sender_codes extra: list the account's SMS sender codes there "
                "(e.g. 2065551212, 55555)"
            )
        self.scope: Scope = scope
        self.account_codes = account_codes
        self.hold_ambiguous = ambiguous == "review"
        self._classifier = classifier
        self._classify: Callable[[object], ReplyDecision] | None = None

    def rows(self, rows: Iterable[Row]) -> Iterator[Row]:
        """Each row with what it asks for filled in (lazily: a stream stays a stream)."""
        return map(self.apply, rows)

    def apply(self, row: Row) -> Row:
        """``row`` with ``reply``, ``hold``, ``codes``, ``code_error`` and ``scope`` filled in."""
        if row.message is NO_MESSAGE:
            if self.scope == "sender_code" and not self.account_codes:
                return row  # the common case, as fast as before: nothing to add
            row = row._replace(scope=self.scope)
        else:
            reply = self._classified(row.message)
            row = row._replace(reply=reply, hold=self._hold(reply), scope=self.scope)
        if row.error is not None or not self.account_codes or row.sender_code is None:
            return row
        code = account_sender_code(row.sender_code, self.account_codes)
        if self.scope == "all":
            unknown = None if code is not None else self._not_the_accounts(row.sender_code)
            return row._replace(codes=self.account_codes, code_error=unknown)
        if code is None:
            return row._replace(code_error=self._not_the_accounts(row.sender_code))
        return row._replace(codes=(code,))

    def _classified(self, message: object) -> ReplyDecision:
        if self._classify is None:  # imported on the first reply: most inputs carry none
            if self._classifier is not None:
                self._classify = self._classifier.classify
            else:
                from whatcounts_provider.replies import classify_reply

                self._classify = classify_reply
        return self._classify(message)

    def _hold(self, reply: ReplyDecision | None) -> Status | None:
        if reply is None or reply.decision == "opt_out":
            return None
        if reply.decision == "not_opt_out":
            return "not_opt_out"
        return "needs_review" if self.hold_ambiguous else None

    def _not_the_accounts(self, given: object) -> str:
        return (
            f"sender code {given!r} is not one of the account's sender codes "
            f"({', '.join(self.account_codes)}: the connection's sender_codes extra), nor a long-code "
            "form of one (+1 or 1 before a 10-digit code); WhatCounts would answer it as if no phone "
            "were subscribed"
        )
