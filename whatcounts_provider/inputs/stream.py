"""Rows as a lazy stream, and the one place a row is made from the values an input holds."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from whatcounts_provider.deadline import parse_requested_at
from whatcounts_provider.exceptions import InvalidRequestedAtError
from whatcounts_provider.types import Row, json_safe

if TYPE_CHECKING:
    from collections.abc import Callable

    from whatcounts_provider.inputs.form import InputForm


class RowStream(Iterator[Row]):
    """An iterator of :class:`Row` over one input form; closes its file when exhausted or closed.

    :param form: ``"phones"``, ``"rows"`` or ``"source"``.
    :param total: the number of rows when known up front (lists), else ``None`` (files, generators).
    :param uri: for ``source``, the file's location without credentials; else ``None``.
    :param closer: releases what the rows are read from (a file), once.
    """

    def __init__(
        self,
        rows: Iterator[Row],
        *,
        form: InputForm,
        total: int | None = None,
        uri: str | None = None,
        closer: Callable[[], object] | None = None,
    ) -> None:
        self._rows = rows
        self._closer = closer
        self.form: InputForm = form
        self.total = total
        self.uri = uri

    def __iter__(self) -> RowStream:
        return self

    def __next__(self) -> Row:
        try:
            return next(self._rows)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Release the file (idempotent); the stream yields nothing more."""
        closer, self._closer = self._closer, None
        self._rows = iter(())
        if closer is not None:
            closer()

    def __enter__(self) -> RowStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RowSource(Protocol):
    """What a run reads rows from: :class:`~whatcounts_provider.inputs.Inputs`, or a batch of
    queue messages (``whatcounts_provider.queues``)."""

    form: InputForm
    sender_code: Any

    @property
    def source_display(self) -> str | None: ...

    def open(self) -> RowStream: ...


def make_row(number: int, safe_input: Any, values: Sequence[Any], default_code: Any) -> Row:
    """One :class:`Row` from an input's values, in :data:`~whatcounts_provider.inputs.form.INPUT_KEYS` order.

    Blank text counts as absent; a missing sender code takes ``default_code``; ``requested_at`` is
    parsed. A row without a phone or a sender code, or with an unusable ``requested_at``, gets
    its ``error`` (it is reported invalid and never sent). ``message`` is kept as given
    (:data:`~whatcounts_provider.types.NO_MESSAGE` when the input has no message key or column):
    the engine classifies it. ``message_id`` (the queue's id of the message, a CRM's id of the
    reply) is kept as text (a number or a structure as its JSON), so each receipt can be traced to
    what asked for it; it never makes a row invalid.
    """
    phone, code, requested_at, message, message_id = values
    if _blank(code):
        code = default_code
    if _blank(requested_at):
        requested_at = None
    error = None
    if _blank(phone):
        error = f"row {number} has no phone"
    elif code is None:
        error = f"row {number} has no sender_code and the operator has none"
    if requested_at is not None:
        try:
            requested_at = parse_requested_at(requested_at)
        except InvalidRequestedAtError as exc:
            # The receipt's requested_at must be a date or null (the raw value stays in input).
            requested_at, error = None, error or str(exc)
    # An id is evidence, never a reason to refuse an opt-out: whatever it is, it is kept as text.
    message_id = None if _blank(message_id) else _as_text(message_id)
    # A row with an error never carries a phone: whatever the wiring, nothing is sent for it.
    return Row(
        number,
        safe_input,
        None if error else phone,
        code,
        requested_at,
        error,
        message,
        message_id=message_id,
    )


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(json_safe(value), ensure_ascii=False, sort_keys=True)


def _blank(value: Any) -> bool:
    return value is None or (value.__class__ is str and (not value or value.isspace()))
