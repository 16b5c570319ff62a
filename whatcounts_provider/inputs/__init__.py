"""What a bulk run reads: its three input forms (``phones``, ``rows``, ``source``) as one lazy stream of rows.

Nothing here validates a phone or a sender code: the hook does that, once, for every form.
This package only finds, for each input, its raw phone, its sender code (the row's own, or the
default) and its ``requested_at``, and numbers it. A row that cannot even be read that far (an
item of ``rows`` that is not a mapping, a JSON Lines line that is not an object, a row with no
sender code when there is no default, an unusable ``requested_at``) carries an ``error``: it is an
invalid input, reported, and it never stops the run.

Everything that makes the whole input unusable (not exactly one form, text that is not a list, a
missing or unreadable file, an unknown extension, a missing column) raises when the stream is
*opened*, before any request is sent.

Modules: ``form`` (the input keys and forms, and their checks), ``stream`` (the row stream and how a
row is made), ``lists`` (``phones`` and ``rows``), ``files`` (``source``).
"""

from __future__ import annotations

from collections.abc import Sized
from typing import Any

from whatcounts_provider.inputs.form import INPUT_KEYS, InputForm, check_columns, check_input_form
from whatcounts_provider.inputs.lists import coerce_list, mapping_rows, phone_rows, rows_given
from whatcounts_provider.inputs.stream import RowSource, RowStream, make_row
from whatcounts_provider.storage import safe_uri


class Inputs:
    """The input of one bulk run: exactly one of ``phones``, ``rows`` or ``source``.

    The combination is checked when it is built (:func:`check_input_form`); :meth:`open` reads it.

    :param phones: a list of phones, or the rendered text of a JSON array / Python list literal;
        every phone goes with ``sender_code``.
    :param rows: a list (or any iterable, read lazily) of mappings with ``phone``, optional
        ``sender_code`` (else ``sender_code``) and optional ``requested_at``; or its text.
    :param source: a local path, a ``file://`` or other fsspec URI that Airflow's
        ``ObjectStoragePath`` understands (``s3://conn_id@bucket/key``), or an
        ``ObjectStoragePath``, of a ``.csv`` (header row), ``.jsonl`` or ``.ndjson`` file,
        optionally ``.gz``. Streamed: memory does not grow with the file.
    :param sender_code: the default of rows that have none (for ``phones``: every row's).
    :param columns: for ``source``, the file's names of input keys when they differ
        (``{"phone": "Mobile", "requested_at": "received_at"}``).
    :raises WhatCountsInputError: see :func:`check_input_form`.
    """

    def __init__(
        self,
        *,
        phones: Any = None,
        rows: Any = None,
        source: Any = None,
        sender_code: Any = None,
        columns: Any = None,
    ) -> None:
        self.form: InputForm = check_input_form(
            phones=phones, rows=rows, source=source, sender_code=sender_code, columns=columns
        )
        self.phones = phones
        self.rows = rows
        self.source = source
        self.sender_code = sender_code
        self.columns = columns

    @property
    def source_display(self) -> str | None:
        """The source's location without credentials (no I/O), or None for lists."""
        return None if self.source is None else safe_uri(str(self.source))

    def open(self) -> RowStream:
        """The rows, as a lazy stream (close it, or use it as a context manager).

        :raises WhatCountsInputError: ``phones`` / ``rows`` that are not a list.
        :raises WhatCountsSourceError: the file is missing, unreadable, of an unknown type, or lacks
            a column (``phone``; ``sender_code`` when there is no ``sender_code`` default).
        """
        if self.form == "phones":
            items = coerce_list(self.phones, "phones")
            return RowStream(phone_rows(items, self.sender_code), form="phones", total=len(items))
        if self.form == "rows":
            given = rows_given(self.rows)
            total = len(given) if isinstance(given, Sized) else None
            return RowStream(mapping_rows(given, self.sender_code), form="rows", total=total)
        from whatcounts_provider.inputs.files import open_source

        columns = check_columns(self.columns or {})
        return open_source(self.source, sender_code=self.sender_code, columns=columns)


def read_rows(
    *,
    phones: Any = None,
    rows: Any = None,
    source: Any = None,
    sender_code: Any = None,
    columns: Any = None,
) -> RowStream:
    """Open the one input form given and return its rows: ``Inputs(...).open()``."""
    return Inputs(phones=phones, rows=rows, source=source, sender_code=sender_code, columns=columns).open()


__all__ = [
    "INPUT_KEYS",
    "InputForm",
    "Inputs",
    "RowSource",
    "RowStream",
    "check_input_form",
    "coerce_list",
    "make_row",
    "read_rows",
]
