"""The bulk operator's three input forms (``phones``, ``rows``, ``source``) as one lazy stream of rows.

Nothing here validates a phone or a sender code: the hook does that, once, for every form.
This module only finds, for each input, its raw phone, its sender code (the row's own, or the
operator's default) and its raw ``requested_at``, and numbers it. A row that cannot even be
read that far (an item of ``rows`` that is not a mapping, a JSON Lines line that is not an
object, a row with no sender code when the operator has none) is yielded with ``error`` set:
it is an invalid input, reported, and it never stops the run.

Everything that makes the whole input unusable (not exactly one form, text that is not a
list, a missing or unreadable file, an unknown extension, a missing column) raises when the
stream is *created*, before the operator sends any request.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterable, Iterator, Mapping, Sized
from typing import Any, Literal, NamedTuple

from whatcounts_provider.exceptions import WhatCountsInputError
from whatcounts_provider.types import json_safe

INPUT_KEYS = ("phone", "sender_code", "requested_at")
_NATIVE_HINT = (
    "pass a list: give the upstream task's output directly ({name}=upstream.output) or set "
    "render_template_as_native_obj=True on the DAG so Jinja returns a list, not its text"
)

InputForm = Literal["phones", "rows", "source"]


class Row(NamedTuple):
    """One input of a bulk run, before validation (a named tuple: cheap for millions of rows).

    :param row: 1-based position in the input (for a file: among its records, header excluded;
        rows are numbered without gaps, so ``row - 1`` is the 0-based index the hook reports).
    :param input: the row as given, JSON-safe (see :func:`json_safe`); the ``input`` of an
        ``invalid`` record item.
    :param phone: the raw phone value; ``None`` when the row has none or has an ``error``.
    :param sender_code: the row's raw sender code, else the operator's default, else ``None``.
    :param requested_at: the raw ``requested_at`` value, or ``None``.
    :param error: why the row is invalid before any validation, or ``None``. Such a row must be
        reported ``invalid`` with this reason (more precise than anything the hook could say),
        and never sent.
    """

    row: int
    input: Any
    phone: Any
    sender_code: Any
    requested_at: Any = None
    error: str | None = None

    @property
    def pair(self) -> tuple[Any, Any]:
        """``(phone, sender_code)``: what the hook's pair-based bulk path takes."""
        return (self.phone, self.sender_code)


class RowStream(Iterator[Row]):
    """An iterator of :class:`Row` over one input form; closes its file when exhausted or closed.

    :param form: ``"phones"``, ``"rows"`` or ``"source"``.
    :param total: the number of rows when known up front (lists), else ``None`` (files, generators).
    :param uri: for ``source``, the file's location without credentials; else ``None``.
    """

    def __init__(
        self,
        rows: Iterator[Row],
        *,
        form: InputForm,
        total: int | None = None,
        uri: str | None = None,
        closer: Any = None,
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


class InFlight:
    """Feed rows to the hook as pairs and find each outcome's row again, holding only rows in flight.

    The hook numbers its outcomes by 0-based position in the pairs it was given; every row is
    passed on (a row with an ``error`` as ``(None, code)``, which the hook reports invalid without
    a request), so an outcome's ``index`` is its row's ``row - 1``::

        rows = InFlight(read_rows(source=..., sender_code=...))
        for outcome in hook.stop_sms_pairs(rows.pairs(), ...):
            row = rows.pop(outcome.index)  # row.error, if set, is the reason to report

    :param rows: the rows, e.g. a :class:`RowStream`.
    """

    def __init__(self, rows: Iterable[Row]) -> None:
        self._rows = rows
        self._pending: dict[int, Row] = {}

    def pairs(self) -> Iterator[tuple[Any, Any]]:
        """``(phone, sender_code)`` of each row, in order, remembering the row until it is popped."""
        for row in self._rows:
            self._pending[row.row - 1] = row
            yield row.pair

    def pop(self, index: int) -> Row:
        """The row behind the hook's outcome ``index`` (0-based), forgotten from now on."""
        return self._pending.pop(index)

    def __len__(self) -> int:
        """Rows handed to the hook whose outcome has not been popped yet."""
        return len(self._pending)


def check_input_form(
    *,
    phones: Any = None,
    rows: Any = None,
    source: Any = None,
    sender_code: Any = None,
    columns: Any = None,
) -> InputForm:
    """Check the combination of the bulk operator's input arguments; return the form in use.

    Only ``None``-ness and ``columns`` are checked, so this works in ``__init__`` on
    unrendered templates and XComArgs, and again in ``execute``.

    :raises WhatCountsInputError: not exactly one of ``phones``, ``rows``, ``source``;
        ``phones`` without ``sender_code``; ``columns`` without ``source``; unknown
        ``columns`` keys or non-text column names.
    """
    forms = (("phones", phones), ("rows", rows), ("source", source))
    given = [name for name, value in forms if value is not None]
    if len(given) != 1:
        which = "none of them was" if not given else f"{' and '.join(given)} were"
        raise WhatCountsInputError(
            f"give exactly one of phones (with sender_code), rows or source; {which} given"
        )
    form: InputForm = given[0]  # type: ignore[assignment]
    if form == "phones" and sender_code is None:
        raise WhatCountsInputError(
            "phones needs sender_code (every phone is stopped on that code); to give each phone its "
            "own sender code use rows=[{'phone': ..., 'sender_code': ...}] or source="
        )
    if columns is not None:
        if form != "source":
            raise WhatCountsInputError(
                f"columns renames the columns of a source file; it cannot be used with {form}"
            )
        _check_columns(columns)
    return form


def _check_columns(columns: Any) -> dict[str, str]:
    if not isinstance(columns, Mapping):
        raise WhatCountsInputError(
            f"columns must be a mapping such as {{'phone': 'Mobile'}}, got {type(columns).__name__}"
        )
    unknown = sorted(str(key) for key in columns if key not in INPUT_KEYS)
    if unknown:
        raise WhatCountsInputError(
            f"columns has unknown key(s) {', '.join(map(repr, unknown))}; "
            f"its keys may only be {', '.join(map(repr, INPUT_KEYS))}"
        )
    for key, name in columns.items():
        if not isinstance(name, str) or not name.strip():
            raise WhatCountsInputError(
                f"columns[{key!r}] must be the file's column name as non-empty text, got {name!r}"
            )
    return {key: name.strip() for key, name in columns.items()}


def read_rows(
    *,
    phones: Any = None,
    rows: Any = None,
    source: Any = None,
    sender_code: Any = None,
    columns: Mapping[str, str] | None = None,
) -> RowStream:
    """Open the one input form given and return its rows as a lazy :class:`RowStream`.

    :param phones: a list of phones, or the rendered text of a JSON array / Python list literal;
        every phone goes with ``sender_code``.
    :param rows: a list (or any iterable, consumed lazily) of mappings with ``phone``, optional
        ``sender_code`` (else ``sender_code``) and optional ``requested_at``; or its text.
    :param source: a local path, a ``file://`` or other fsspec URI that Airflow's
        ``ObjectStoragePath`` understands (``s3://conn_id@bucket/key``), or an
        ``ObjectStoragePath``, of a ``.csv`` (header row), ``.jsonl`` or ``.ndjson`` file,
        optionally ``.gz``. Streamed: memory does not grow with the file.
    :param sender_code: the operator's sender code: the default of rows that have none.
    :param columns: for ``source``, the file's names of the ``phone`` / ``sender_code`` /
        ``requested_at`` columns (or JSON keys) when they differ.
    :raises WhatCountsInputError: see :func:`check_input_form`; also ``phones`` / ``rows`` that
        are not a list.
    :raises WhatCountsSourceError: the file is missing, unreadable, of an unknown type, or lacks
        a column (``phone``; ``sender_code`` when there is no ``sender_code`` default).
    """
    form = check_input_form(phones=phones, rows=rows, source=source, sender_code=sender_code, columns=columns)
    if form == "phones":
        items = coerce_list(phones, "phones")
        return RowStream(_phone_rows(items, sender_code), form=form, total=len(items))
    if form == "rows":
        given: Iterable[Any] = rows
        if isinstance(rows, (str, bytes, Mapping)) or not isinstance(rows, Iterable):
            given = coerce_list(rows, "rows")  # raises for everything but list text
        total = len(given) if isinstance(given, Sized) else None
        return RowStream(_mapping_rows(given, sender_code), form=form, total=total)
    from whatcounts_provider._source import open_source

    return open_source(source, sender_code=sender_code, columns=_check_columns(columns or {}))


def coerce_list(value: Any, name: str) -> list[Any]:
    """A list/tuple/other iterable as a list, or the text of a JSON array / Python list literal.

    The same rules and messages as the ``phones`` argument always had.

    :raises WhatCountsInputError: (a ``TypeError``) for a mapping, bytes, a non-iterable, or text
        that is not a list.
    """
    hint = _NATIVE_HINT.format(name=name)
    if isinstance(value, str):
        parsed = _parse_list_text(value)
        if parsed is None:
            raise WhatCountsInputError(
                f"{name} was rendered as a string that is not a JSON array or list literal "
                f"({len(value)} characters); {hint}"
            )
        return parsed
    if isinstance(value, (bytes, Mapping)) or not isinstance(value, Iterable):
        what = "phone numbers" if name == "phones" else "mappings"
        raise WhatCountsInputError(f"{name} must be a list of {what}, got {type(value).__name__}; {hint}")
    return list(value)


def _parse_list_text(text: str) -> list[Any] | None:
    stripped = text.strip()
    if not stripped.startswith("["):
        return None
    try:
        parsed = json.loads(stripped)
    except ValueError:
        try:
            parsed = ast.literal_eval(stripped)  # literals only: never evaluates code
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return None
    return parsed if isinstance(parsed, list) else None


def _phone_rows(phones: list[Any], sender_code: Any) -> Iterator[Row]:
    for number, phone in enumerate(phones, start=1):
        yield Row(number, json_safe(phone), phone, sender_code)


def _mapping_rows(items: Iterable[Any], default_code: Any) -> Iterator[Row]:
    for number, item in enumerate(items, start=1):
        safe = json_safe(item)
        if not isinstance(item, Mapping):
            error = f"row {number} is {_a(item)}, not a mapping with 'phone' and 'sender_code'"
            yield Row(number, safe, None, default_code, error=error)
            continue
        phone, code, requested_at = (item.get(key) for key in INPUT_KEYS)
        yield make_row(number, safe, phone, code, requested_at, default_code)


def make_row(
    number: int, safe_input: Any, phone: Any, code: Any, requested_at: Any, default_code: Any
) -> Row:
    """One :class:`Row`: blank values count as absent; a missing sender code takes the default."""
    if code is None or (code.__class__ is str and (not code or code.isspace())):
        code = default_code
    if (
        requested_at is not None
        and requested_at.__class__ is str
        and (not requested_at or requested_at.isspace())
    ):
        requested_at = None
    if phone is None or (phone.__class__ is str and (not phone or phone.isspace())):
        error = f"row {number} has no phone"
    elif code is None:
        error = f"row {number} has no sender_code and the operator has none"
    else:
        return Row(number, safe_input, phone, code, requested_at)
    # A row with an error never carries a phone: whatever the wiring, nothing is sent for it.
    return Row(number, safe_input, None, code, requested_at, error)


def _a(value: Any) -> str:
    if value is None:
        return "null"
    name = type(value).__name__
    return f"an {name}" if name[:1] in "aeiou" else f"a {name}"
