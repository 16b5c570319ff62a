"""The ``source`` input form: a CSV file with a header row, or JSON Lines, optionally gzip, as rows.

The file is opened, and its header (CSV) or first record (JSON Lines) checked, when the stream
is created, so a missing file or column fails before any request. After that one line is read
at a time: memory does not grow with the file.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import zlib
from operator import itemgetter
from typing import IO, TYPE_CHECKING, Any

from whatcounts_provider.exceptions import WhatCountsBadSourceError, WhatCountsSourceError
from whatcounts_provider.inputs.form import ABSENT, INPUT_KEYS
from whatcounts_provider.inputs.stream import RowStream, make_row
from whatcounts_provider.storage import Location
from whatcounts_provider.types import NO_MESSAGE, Row

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

_EXTENSIONS = "use .csv, .jsonl or .ndjson, optionally followed by .gz"
# A line that is not JSON is kept in the record as evidence, shortened to this many characters.
_MAX_BAD_LINE = 1000
# What a broken file raises mid-read: bad UTF-8, a corrupt or truncated gzip, a NUL in a CSV.
_READ_ERRORS = (UnicodeDecodeError, OSError, EOFError, zlib.error, csv.Error)


def open_source(source: Any, *, sender_code: Any, columns: Mapping[str, str]) -> RowStream:
    """Open ``source`` and check its header (CSV) or first record (JSON Lines); return its rows.

    :param source: a path, URI or ``ObjectStoragePath`` (see :class:`~whatcounts_provider.storage.Location`).
    :param sender_code: the default of rows without one (then the file needs no such column).
    :param columns: the file's names of input keys that it names differently, already checked.
    :raises WhatCountsBadSourceError: missing, a directory, unreadable, an unknown extension,
        empty, or without a required column.
    :raises WhatCountsSourceError: it cannot be reached (a retry may succeed).
    """
    where = Location.of(  # typed by hand: decoded as RFC 8089 says
        source,
        what="source",
        decode=True,
        unreachable=lambda message, uri: WhatCountsSourceError(message, uri=uri),
    )
    kind, compressed = _kind(where)
    binary = _open(where)
    try:
        stream: IO[bytes] | gzip.GzipFile = gzip.GzipFile(fileobj=binary, mode="rb") if compressed else binary
        # utf-8-sig drops the byte-order mark that spreadsheet programs write.
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="" if kind == "csv" else None)
        names = {key: columns.get(key, key) for key in INPUT_KEYS}
        rows = (_csv_rows if kind == "csv" else _jsonl_rows)(text, where.display, names, columns, sender_code)
    except BaseException:
        binary.close()
        raise

    def close() -> None:
        text.close()
        binary.close()  # GzipFile leaves the file it was given open

    return RowStream(rows, form="source", uri=where.display, closer=close)


def _kind(where: Location) -> tuple[str, bool]:
    name = where.name.lower()
    compressed = name.endswith(".gz")
    if compressed:
        name = name[: -len(".gz")]
    if name.endswith(".csv"):
        return "csv", compressed
    if name.endswith((".jsonl", ".ndjson")):
        return "jsonl", compressed
    raise WhatCountsBadSourceError(
        f"source {where.display} has an unknown extension: {_EXTENSIONS}", uri=where.display
    )


def _open(where: Location) -> IO[bytes]:
    uri = where.display
    try:
        return where.open()
    except FileNotFoundError as exc:
        raise WhatCountsBadSourceError(f"source {uri} does not exist", uri=uri) from exc
    except IsADirectoryError as exc:
        raise WhatCountsBadSourceError(f"source {uri} is a directory, not a file", uri=uri) from exc
    except PermissionError as exc:
        raise WhatCountsBadSourceError(f"source {uri} cannot be read: permission denied", uri=uri) from exc
    except ImportError as exc:
        raise WhatCountsSourceError(
            f"source {uri} cannot be opened: {exc} (install the package for its scheme, e.g. the "
            "Airflow provider that registers it)",
            uri=uri,
        ) from exc
    except Exception as exc:  # fsspec back ends raise their own types (botocore, aiohttp, ...)
        raise WhatCountsSourceError(
            f"source {uri} cannot be opened: {type(exc).__name__}: {where.scrub(str(exc))[:300]}", uri=uri
        ) from exc


def _read_error(uri: str, exc: BaseException, after: str) -> WhatCountsSourceError:
    reason = "it is not UTF-8" if isinstance(exc, UnicodeDecodeError) else f"{type(exc).__name__}: {exc}"
    return WhatCountsSourceError(f"source {uri} cannot be read {after}: {reason}", uri=uri)


def _missing(uri: str, name: str, key: str, columns: Mapping[str, str], found: list[str], what: str) -> str:
    renamed = f" (columns={dict(columns)!r})" if key in columns else ""
    why = " and the operator has no sender_code" if key == "sender_code" else ""
    hint = "" if renamed else f"; name the file's {what} with columns={{{key!r}: ...}}"
    listed = ", ".join(repr(item) for item in found[:50]) or "none"
    more = f" (and {len(found) - 50} more)" if len(found) > 50 else ""
    return f"source {uri} has no {what} {name!r}{renamed}{why}; its {what}s are: {listed}{more}{hint}"


def _required(sender_code: Any, columns: Mapping[str, str]) -> tuple[str, ...]:
    """The keys a file must have: a phone, a sender code without a default, and a message column
    the user named (classifying nothing because of a typo would send every row)."""
    required = ("phone",) if sender_code is not None else ("phone", "sender_code")
    return (*required, "message") if "message" in columns else required


def _csv_rows(
    text: IO[str], uri: str, names: dict[str, str], columns: Mapping[str, str], sender_code: Any
) -> Iterator[Row]:
    reader = csv.reader(text)
    try:
        header = next(reader, None)
    except _READ_ERRORS as exc:
        raise _read_error(uri, exc, "(its header row)") from exc
    if not header or not any(cell.strip() for cell in header):
        raise WhatCountsBadSourceError(f"source {uri} has no header row: it is empty", uri=uri)
    keys = _unique([cell.strip() for cell in header])
    for key in _required(sender_code, columns):
        if names[key] not in keys:
            raise WhatCountsBadSourceError(_missing(uri, names[key], key, columns, keys, "column"), uri=uri)
    index = {key: keys.index(names[key]) if names[key] in keys else None for key in INPUT_KEYS}
    return _csv_records(reader, uri, keys, index, sender_code)


def _csv_records(
    reader: Iterator[list[str]], uri: str, keys: list[str], index: dict[str, int | None], default: Any
) -> Iterator[Row]:
    width = len(keys)
    # A column the file lacks reads what is appended after the row's cells: None, or for the
    # message NO_MESSAGE (a file without a message column holds no replies, not empty ones).
    absent = {key: width + (key == "message") for key in INPUT_KEYS}
    pick = itemgetter(*(absent[key] if (at := index[key]) is None else at for key in INPUT_KEYS))
    number = 0
    try:
        for cells in reader:
            if not cells:  # a blank line is no record
                continue
            number += 1
            count = len(cells)
            if count > width:
                if any(extra.strip() for extra in cells[width:]):
                    error = f"row {number} has {count} cells but the header has {width} (an unquoted comma?)"
                    yield Row(number, cells, None, default, error=error)
                    continue
                cells = cells[:width]  # trailing empty cells are no data
                count = width
            record = dict(zip(keys, cells, strict=False))  # a short row lacks its last cells
            padded: list[Any] = [*cells, *([None] * (width + 1 - count)), NO_MESSAGE]
            yield make_row(number, record, pick(padded), default)
    except _READ_ERRORS as exc:
        raise _read_error(uri, exc, f"after row {number}") from exc


def _unique(names: list[str]) -> list[str]:
    """Header names made unique (``a``, ``a (2)``), so no cell is lost from a row's ``input``."""
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return unique


def _jsonl_rows(
    text: IO[str], uri: str, names: dict[str, str], columns: Mapping[str, str], sender_code: Any
) -> Iterator[Row]:
    lines = enumerate(text, start=1)
    try:
        first = next(((n, line) for n, line in lines if line.strip()), None)
    except _READ_ERRORS as exc:
        raise _read_error(uri, exc, "(its first line)") from exc
    if first is None:
        raise WhatCountsBadSourceError(f"source {uri} has no records: it is empty", uri=uri)
    try:
        record = json.loads(first[1])
    except (ValueError, RecursionError):
        record = None  # reported as an invalid row by the generator
    if isinstance(record, dict):
        for key in _required(sender_code, columns):
            if names[key] not in record:
                found = [str(item) for item in record]
                message = _missing(uri, names[key], key, columns, found, "key")
                message = message.replace(" has no key", "'s first record has no key")
                raise WhatCountsBadSourceError(message, uri=uri)
    return _jsonl_records(first, lines, uri, names, sender_code)


def _jsonl_records(
    first: tuple[int, str], lines: Iterator[tuple[int, str]], uri: str, names: dict[str, str], default: Any
) -> Iterator[Row]:
    number = 0
    line_number = first[0]
    pending: Iterator[tuple[int, str]] = iter([first])
    try:
        for source_lines in (pending, lines):
            for line_number, line in source_lines:
                stripped = line.strip()
                if not stripped:
                    continue
                number += 1
                yield _jsonl_row(number, line_number, stripped, names, default)
    except _READ_ERRORS as exc:
        raise _read_error(uri, exc, f"after line {line_number}") from exc


def _jsonl_row(number: int, line_number: int, line: str, names: dict[str, str], default: Any) -> Row:
    try:
        record = json.loads(line)
    except (ValueError, RecursionError) as exc:
        shown = line if len(line) <= _MAX_BAD_LINE else f"{line[:_MAX_BAD_LINE]}... ({len(line)} characters)"
        reason = getattr(exc, "msg", None) or str(exc)
        error = f"row {number} (line {line_number}) is not JSON: {reason}"
        return Row(number, shown, None, default, error=error)
    if not isinstance(record, dict):
        kind = "null" if record is None else type(record).__name__
        error = f"row {number} (line {line_number}) is a JSON {kind}, not an object"
        return Row(number, record, None, default, error=error)
    return make_row(number, record, [record.get(names[key], ABSENT[key]) for key in INPUT_KEYS], default)
