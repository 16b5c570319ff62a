"""The bulk operator's ``source`` files: CSV and JSON Lines, gzip, locations, errors and streaming."""

from __future__ import annotations

import gzip
import json
import os
import threading
import tracemalloc
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import pytest

from tests.helpers import SENDER
from whatcounts_provider.exceptions import WhatCountsError, WhatCountsInputError, WhatCountsSourceError
from whatcounts_provider.inputs import read_rows
from whatcounts_provider.types import NO_MESSAGE, Row

if TYPE_CHECKING:
    from pathlib import Path

try:
    from airflow.sdk import ObjectStoragePath
except ImportError:  # Airflow 2.11
    from airflow.io.path import ObjectStoragePath  # type: ignore[no-redef]

WHEN = datetime(2026, 11, 20, 10, tzinfo=timezone.utc)  # "2026-11-20T10:00:00Z", parsed


def rows_of(**kwargs: Any) -> list[Row]:
    with read_rows(**kwargs) as stream:
        return list(stream)


def write(path: Path, text: str, *, bom: bool = False, gz: bool = False) -> Path:
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


# --- source: CSV -------------------------------------------------------------------------------

CSV = (
    "Mobile,Name,Code,When\r\n"
    '"+1 (206) 595-9696","Doe, John",11111,2026-11-20T10:00:00Z\r\n'
    "2065550000,Roe,,\r\n"
    "\r\n"
    '2065550101,"multi\nline",22222\r\n'
    "2065550102,Poe,33333,,,\r\n"
    "2065550103,Zoe,44444,x,extra\r\n"
    ",Nobody,55555,\r\n"
)
CSV_COLUMNS = {"phone": "Mobile", "sender_code": "Code", "requested_at": "When"}


def csv_rows(default: Any) -> list[Row]:
    def record(*cells: str) -> dict[str, str]:
        return dict(zip(["Mobile", "Name", "Code", "When"], cells, strict=False))

    return [
        Row(
            1,
            record("+1 (206) 595-9696", "Doe, John", "11111", "2026-11-20T10:00:00Z"),
            "+1 (206) 595-9696",
            "11111",
            WHEN,
        ),
        Row(2, record("2065550000", "Roe", "", ""), "2065550000", default),
        Row(3, record("2065550101", "multi\nline", "22222"), "2065550101", "22222"),
        Row(4, record("2065550102", "Poe", "33333", ""), "2065550102", "33333"),
        Row(
            5,
            ["2065550103", "Zoe", "44444", "x", "extra"],
            None,
            default,
            error="row 5 has 5 cells but the header has 4 (an unquoted comma?)",
        ),
        Row(6, record("", "Nobody", "55555", ""), None, "55555", error="row 6 has no phone"),
    ]


@pytest.mark.parametrize("bom", [False, True])
@pytest.mark.parametrize("gz", [False, True])
def test_csv_source(tmp_path: Path, bom: bool, gz: bool) -> None:
    path = write(tmp_path / ("replies.csv.gz" if gz else "replies.csv"), CSV, bom=bom, gz=gz)
    stream = read_rows(source=str(path), columns=CSV_COLUMNS, sender_code=SENDER)
    assert (stream.form, stream.total, stream.uri) == ("source", None, str(path))
    assert list(stream) == csv_rows(SENDER)


def test_csv_source_with_default_column_names_and_no_operator_sender_code(tmp_path: Path) -> None:
    text = "phone,sender_code,requested_at,phone\n2065550000,,2026-11-20,dup\n2065550001,7,,\n"
    rows = rows_of(source=write(tmp_path / "r.CSV", text))  # a pathlib.Path, upper-case extension
    assert rows == [
        Row(
            1,
            {"phone": "2065550000", "sender_code": "", "requested_at": "2026-11-20", "phone (2)": "dup"},
            None,
            None,
            datetime(2026, 11, 20, tzinfo=timezone.utc),
            "row 1 has no sender_code and the operator has none",
        ),
        Row(
            2,
            {"phone": "2065550001", "sender_code": "7", "requested_at": "", "phone (2)": ""},
            "2065550001",
            "7",
        ),
    ]


# --- source: JSON Lines ------------------------------------------------------------------------

JSONL = (
    '{"Mobile": "12065959696", "Code": "11111", "When": "2026-11-20T10:00:00Z"}\n'
    '{"Mobile": 2065550000}\n'
    "\n"
    '{"Mobile": "2065550101", "Code": 22222\n'
    "[1, 2]\n"
    "   \n"
    '{"Mobile": "2065550102", "Code": "33333", "extra": {"nested": [1]}}\n'
    "null\n"
)


def jsonl_rows(default: Any) -> list[Row]:
    return [
        Row(
            1,
            {"Mobile": "12065959696", "Code": "11111", "When": "2026-11-20T10:00:00Z"},
            "12065959696",
            "11111",
            WHEN,
        ),
        Row(2, {"Mobile": 2065550000}, 2065550000, default),
        Row(
            3,
            '{"Mobile": "2065550101", "Code": 22222',
            None,
            default,
            error="row 3 (line 4) is not JSON: Expecting ',' delimiter",
        ),
        Row(4, [1, 2], None, default, error="row 4 (line 5) is a JSON list, not an object"),
        Row(
            5,
            {"Mobile": "2065550102", "Code": "33333", "extra": {"nested": [1]}},
            "2065550102",
            "33333",
        ),
        Row(6, None, None, default, error="row 6 (line 8) is a JSON null, not an object"),
    ]


@pytest.mark.parametrize("suffix", [".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz"])
@pytest.mark.parametrize("bom", [False, True])
def test_jsonl_source(tmp_path: Path, suffix: str, bom: bool) -> None:
    path = write(tmp_path / f"replies{suffix}", JSONL, bom=bom, gz=suffix.endswith(".gz"))
    rows = rows_of(source=str(path), columns=CSV_COLUMNS, sender_code=SENDER)
    assert rows == jsonl_rows(SENDER)
    json.dumps([row.input for row in rows])


def test_jsonl_a_broken_first_line_is_an_invalid_row_not_a_failure(tmp_path: Path) -> None:
    path = write(tmp_path / "r.jsonl", 'not json\n{"phone": "2065550000", "sender_code": "1"}\n')
    rows = rows_of(source=str(path))
    assert [(row.row, row.phone, row.error) for row in rows] == [
        (1, None, "row 1 (line 1) is not JSON: Expecting value"),
        (2, "2065550000", None),
    ]


def test_jsonl_a_very_long_broken_line_is_kept_shortened(tmp_path: Path) -> None:
    path = write(tmp_path / "r.jsonl", "{" + "x" * 5000 + "\n")
    (row,) = rows_of(source=str(path), sender_code=SENDER)
    assert row.input.startswith("{xxx")
    assert row.input.endswith("... (5001 characters)")
    assert len(row.input) < 1100


# --- source: locations -------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["path", "pathlib", "file uri", "file://localhost uri", "ObjectStoragePath"])
def test_source_locations(tmp_path: Path, form: str) -> None:
    path = write(tmp_path / "my replies.csv.gz", CSV, gz=True)
    source: Any = {
        "path": str(path),
        "pathlib": path,
        "file uri": path.as_uri(),
        "file://localhost uri": "file://localhost" + path.as_uri()[len("file://") :],
        "ObjectStoragePath": ObjectStoragePath(f"file://{path}"),  # UPath does not unquote
    }[form]
    stream = read_rows(source=source, columns=CSV_COLUMNS, sender_code=SENDER)
    assert list(stream) == csv_rows(SENDER)
    assert stream.uri is not None
    assert stream.uri.endswith("my%20replies.csv.gz" if "uri" in form else ".csv.gz")


def test_a_file_uri_must_be_local(tmp_path: Path) -> None:
    with pytest.raises(WhatCountsInputError, match="names host 'fileserver': a file:// URI must be local"):
        read_rows(source="file://fileserver/share/replies.csv", sender_code=SENDER)


@pytest.mark.parametrize("source", [42, ["a.csv"], {"path": "a.csv"}, "", "   "])
def test_source_of_the_wrong_type(source: Any) -> None:
    with pytest.raises(WhatCountsInputError, match=r"source (must be a path|is empty)"):
        read_rows(source=source, sender_code=SENDER)


# --- source: errors, all raised when the stream is created (before any request) -----------------


def test_missing_renamed_column_names_the_file_and_column(tmp_path: Path) -> None:
    path = write(tmp_path / "replies.csv", "phone,Code\n2065550000,1\n")
    with pytest.raises(WhatCountsSourceError) as error:
        read_rows(source=str(path), columns={"phone": "Mobile"}, sender_code=SENDER)
    assert str(error.value) == (
        f"source {path} has no column 'Mobile' (columns={{'phone': 'Mobile'}}); "
        "its columns are: 'phone', 'Code'"
    )
    assert error.value.uri == str(path)
    assert isinstance(error.value, WhatCountsError)
    assert isinstance(error.value, ValueError)


# --- source: the message column (replies) ------------------------------------------------------


def test_a_message_column_is_read_as_given_and_an_empty_cell_stays_a_reply(tmp_path: Path) -> None:
    text = 'phone,message\n2065550000,STOP\n2065550001,\n2065550002,"Stop, please\nthanks"\n'
    rows = rows_of(source=write(tmp_path / "r.csv", text), sender_code=SENDER)
    assert [row.message for row in rows] == ["STOP", "", "Stop, please\nthanks"]


def test_a_short_csv_row_has_a_null_message(tmp_path: Path) -> None:
    rows = rows_of(source=write(tmp_path / "r.csv", "phone,message\n2065550000\n"), sender_code=SENDER)
    assert rows[0].message is None  # the reply's cell is missing: an empty reply, classified not_opt_out


def test_without_a_message_column_rows_carry_no_message(tmp_path: Path) -> None:
    rows = rows_of(source=write(tmp_path / "r.csv", "phone\n2065550000\n"), sender_code=SENDER)
    assert rows[0].message is NO_MESSAGE


def test_jsonl_messages_keep_their_json_type_and_a_missing_key_is_no_message(tmp_path: Path) -> None:
    lines = [
        '{"phone": "2065550000", "text": 12345}',
        '{"phone": "2065550001", "text": null}',
        '{"phone": "1"}',
    ]
    path = write(tmp_path / "r.jsonl", "\n".join(lines))
    rows = rows_of(source=str(path), sender_code=SENDER, columns={"message": "text"})
    assert [row.message for row in rows] == [12345, None, NO_MESSAGE]


@pytest.mark.parametrize(
    ("name", "content"), [("r.csv", "phone,body\n1,STOP\n"), ("r.jsonl", '{"phone": "1"}')]
)
def test_a_message_column_named_in_columns_is_required(tmp_path: Path, name: str, content: str) -> None:
    """Else a renamed column would send every row, replies that are no opt-out included."""
    path = write(tmp_path / name, content)
    with pytest.raises(
        WhatCountsSourceError, match=r"no (column|key) 'text' \(columns=\{'message': 'text'\}\)"
    ):
        read_rows(source=str(path), sender_code=SENDER, columns={"message": "text"})


def test_missing_phone_column_suggests_columns(tmp_path: Path) -> None:
    path = write(tmp_path / "replies.csv.gz", "Mobile,sender_code\n2065550000,1\n", gz=True)
    with pytest.raises(WhatCountsSourceError) as error:
        read_rows(source=path.as_uri(), sender_code=SENDER)
    assert str(error.value) == (
        f"source {path.as_uri()} has no column 'phone'; its columns are: 'Mobile', 'sender_code'; "
        "name the file's column with columns={'phone': ...}"
    )


def test_sender_code_column_is_required_only_without_a_default(tmp_path: Path) -> None:
    path = write(tmp_path / "replies.csv", "phone\n2065550000\n")
    assert [row.sender_code for row in rows_of(source=str(path), sender_code=SENDER)] == [SENDER]
    with pytest.raises(WhatCountsSourceError) as error:
        read_rows(source=str(path))
    assert str(error.value) == (
        f"source {path} has no column 'sender_code' and the operator has no sender_code; its columns "
        "are: 'phone'; name the file's column with columns={'sender_code': ...}"
    )


def test_jsonl_first_record_is_checked_for_keys(tmp_path: Path) -> None:
    path = write(tmp_path / "replies.ndjson", '\n{"number": "2065550000", "code": "1"}\n')
    with pytest.raises(WhatCountsSourceError) as error:
        read_rows(source=str(path), columns={"phone": "Mobile", "sender_code": "code"})
    assert str(error.value) == (
        f"source {path}'s first record has no key 'Mobile' (columns={{'phone': 'Mobile', "
        "'sender_code': 'code'}); its keys are: 'number', 'code'"
    )


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.csv", None, "source {path} does not exist"),
        ("missing.jsonl.gz", None, "source {path} does not exist"),
        ("a-directory.csv", "DIR", "source {path} is a directory, not a file"),
        ("replies.txt", "phone\n1\n", "source {path} has an unknown extension: use .csv, .jsonl or .ndjson"),
        ("replies.json", "[]", "source {path} has an unknown extension"),
        ("replies.csv.zip", "x", "source {path} has an unknown extension"),
        ("replies", "x", "source {path} has an unknown extension"),
        ("empty.csv", "", "source {path} has no header row: it is empty"),
        ("blank.jsonl", "\n \n", "source {path} has no records: it is empty"),
        (
            "latin1.csv",
            b"t\xe9l\xe9phone\n1\n",
            "source {path} cannot be read (its header row): it is not UTF-8",
        ),
        ("plain.csv.gz", "phone\n1\n", "source {path} cannot be read (its header row): BadGzipFile"),
        ("plain.jsonl.gz", "{}\n", "source {path} cannot be read (its first line): BadGzipFile"),
    ],
)
def test_unusable_source_fails_when_opened(tmp_path: Path, name: str, content: Any, message: str) -> None:
    path = tmp_path / name
    if content == "DIR":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(WhatCountsSourceError) as error:
        read_rows(source=str(path), sender_code=SENDER)
    assert str(error.value).startswith(message.format(path=path))


def test_unreadable_file_fails_when_opened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The suite may run as root, who reads any file: the refusal is simulated at open().
    path = write(tmp_path / "secret.csv", "phone\n1\n")

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr("whatcounts_provider.storage.open", refuse, raising=False)
    with pytest.raises(WhatCountsSourceError, match=f"source {path} cannot be read: permission denied"):
        read_rows(source=str(path), sender_code=SENDER)


def test_broken_content_mid_file_fails_naming_file_and_position(tmp_path: Path) -> None:
    good = "".join(f"1206{2_000_000 + i},{SENDER}\n" for i in range(3000))
    path = tmp_path / "replies.csv"
    path.write_bytes(b"phone,sender_code\n" + good.encode() + b"\xff\xfe,1\n")
    stream = read_rows(source=str(path))
    with pytest.raises(
        WhatCountsSourceError, match=f"source {path} cannot be read after row \\d+: it is not UTF-8"
    ):
        for _ in stream:
            pass
    truncated = tmp_path / "replies.jsonl.gz"
    truncated.write_bytes(gzip.compress(('{"phone": "1"}\n' * 100_000).encode())[:-20])
    stream = read_rows(source=str(truncated), sender_code=SENDER)
    with pytest.raises(
        WhatCountsSourceError, match=f"source {truncated} cannot be read after line \\d+: EOFError"
    ):
        for _ in stream:
            pass


@pytest.mark.parametrize(
    "source",
    [
        "nosuchfs://user:hunter2@bucket/replies.csv?token=hunter2",
        "nosuchfs://user:hunter2@bucket/replies.xlsx",
    ],
)
def test_messages_never_show_credentials(source: str) -> None:
    with pytest.raises(WhatCountsSourceError) as error:
        read_rows(source=source, sender_code=SENDER)
    assert "hunter2" not in str(error.value)
    assert "hunter2" not in error.value.uri
    assert "nosuchfs://user:***@" in str(error.value)


# --- streaming ---------------------------------------------------------------------------------


def test_rows_are_yielded_while_the_file_is_still_being_written(tmp_path: Path) -> None:
    """A FIFO: the writer waits for the first row before it writes the rest and closes."""
    fifo = tmp_path / "replies.csv"
    os.mkfifo(fifo)
    first_row_seen = threading.Event()
    writer_finished = threading.Event()

    def writer() -> None:
        with open(fifo, "w") as handle:
            handle.write("phone,sender_code\n12062000000,1\n")
            handle.flush()
            first_row_seen.wait(timeout=30)
            handle.write("12062000001,1\n")
        writer_finished.set()

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    stream = read_rows(source=str(fifo))
    first = next(stream)
    finished_before_first_row = writer_finished.is_set()
    first_row_seen.set()
    rest = list(stream)
    thread.join(timeout=30)
    assert first.phone == "12062000000"
    assert not finished_before_first_row
    assert [row.phone for row in rest] == ["12062000001"]


@pytest.mark.parametrize(("name", "count"), [("big.csv", 1_000_000), ("big.csv.gz", 200_000)])
def test_a_big_source_is_streamed_in_bounded_memory(tmp_path: Path, name: str, count: int) -> None:
    """Peak traced memory stays far below the file's size (46 MB of text for 1,000,000 rows).

    tracemalloc counts Python allocations, not time, so machine load does not change it; the
    bounds are generous (measured: ~1.1 MB peak) yet far below what reading the file into memory
    takes (well over 100 MB as str objects for the 1,000,000 rows). The gzip case is smaller
    only because tracing every allocation is slow (~40 s per million rows on a loaded machine).
    """
    path = tmp_path / name
    opener: Any = gzip.open if name.endswith(".gz") else open
    with opener(path, "wt", **({"compresslevel": 1} if name.endswith(".gz") else {})) as handle:
        handle.write("phone,sender_code,requested_at\n")
        for start in range(0, count, 10_000):
            handle.write(
                "".join(
                    f"1206{2_000_000 + i},{SENDER},2026-11-20T10:00:00Z\n"
                    for i in range(start, start + 10_000)
                )
            )
    tracemalloc.start()
    try:
        stream = read_rows(source=str(path))
        first = next(stream)
        _, peak_at_first_row = tracemalloc.get_traced_memory()
        seen, last = 1, first
        for row in stream:
            seen += 1
            last = row
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (first.row, first.phone, first.sender_code) == (1, "12062000000", SENDER)
    assert (seen, last.row, last.requested_at) == (count, count, WHEN)
    assert last.phone == f"1206{2_000_000 + count - 1}"
    assert peak_at_first_row < 2 * 1024 * 1024
    assert peak < 20 * 1024 * 1024
