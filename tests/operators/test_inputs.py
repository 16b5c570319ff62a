"""The bulk operator's three input forms read as one lazy stream of rows (whatcounts_provider.inputs)."""

from __future__ import annotations

import gzip
import json
import os
import threading
import tracemalloc
from typing import TYPE_CHECKING, Any

import pytest

from whatcounts_provider.exceptions import WhatCountsError, WhatCountsInputError, WhatCountsSourceError
from whatcounts_provider.inputs import InFlight, Row, check_input_form, json_safe, read_rows

if TYPE_CHECKING:
    from pathlib import Path

try:
    from airflow.sdk import ObjectStoragePath
except ImportError:  # Airflow 2.11
    from airflow.io.path import ObjectStoragePath  # type: ignore[no-redef]

SENDER = "2065551212"


def rows_of(**kwargs: Any) -> list[Row]:
    with read_rows(**kwargs) as stream:
        return list(stream)


def write(path: Path, text: str, *, bom: bool = False, gz: bool = False) -> Path:
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


# --- exactly one input form -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "give exactly one of phones (with sender_code), rows or source; none of them was given"),
        ({"phones": [], "rows": [], "sender_code": SENDER}, "phones and rows were given"),
        ({"rows": [], "source": "a.csv"}, "rows and source were given"),
        ({"phones": [], "rows": [], "source": "a.csv", "sender_code": SENDER}, "phones and rows and source"),
        ({"phones": ["12065959696"]}, "phones needs sender_code"),
        ({"rows": [], "columns": {"phone": "Mobile"}}, "columns renames the columns of a source file"),
        ({"phones": [], "sender_code": SENDER, "columns": {}}, "it cannot be used with phones"),
        (
            {"source": "a.csv", "columns": {"phone": "Mobile", "mobile": "x", "code": "y"}},
            "columns has unknown key(s) 'code', 'mobile'; its keys may only be 'phone', 'sender_code', "
            "'requested_at'",
        ),
        ({"source": "a.csv", "columns": ["phone"]}, "columns must be a mapping"),
        ({"source": "a.csv", "columns": {"phone": " "}}, "columns['phone'] must be the file's column name"),
        ({"source": "a.csv", "columns": {"phone": 3}}, "columns['phone'] must be the file's column name"),
    ],
)
def test_input_form_errors_name_the_parameters(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(WhatCountsInputError) as check:
        check_input_form(**kwargs)
    assert message in str(check.value)
    # read_rows checks the same way before it opens anything (a.csv does not exist).
    with pytest.raises(WhatCountsInputError) as read:
        read_rows(**kwargs)
    assert str(read.value) == str(check.value)
    assert isinstance(read.value, (WhatCountsError, ValueError, TypeError))


@pytest.mark.parametrize(
    ("kwargs", "form"),
    [
        ({"phones": "{{ ti.xcom_pull('x') }}", "sender_code": "{{ params.code }}"}, "phones"),
        ({"rows": object()}, "rows"),  # an unresolved XComArg: only None-ness is checked
        ({"source": "s3://conn@bucket/{{ ds }}.csv", "columns": {"phone": "Mobile"}}, "source"),
        ({"phones": [], "sender_code": SENDER, "rows": None, "source": None}, "phones"),
    ],
)
def test_input_form_check_works_on_unrendered_values(kwargs: dict[str, Any], form: str) -> None:
    assert check_input_form(**kwargs) == form


# --- phones ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "phones",
    [
        ["12065959696", 2065550000, "+1 (206) 555-0101"],
        ("12065959696", 2065550000, "+1 (206) 555-0101"),
        '["12065959696", 2065550000, "+1 (206) 555-0101"]',
        "['12065959696', 2065550000, '+1 (206) 555-0101']",
        "  ['12065959696', 2065550000, '+1 (206) 555-0101']\n",
    ],
)
def test_phones_form_rows(phones: Any) -> None:
    stream = read_rows(phones=phones, sender_code=SENDER)
    assert (stream.form, stream.total, stream.uri) == ("phones", 3, None)
    assert list(stream) == [
        Row(1, "12065959696", "12065959696", SENDER),
        Row(2, 2065550000, 2065550000, SENDER),
        Row(3, "+1 (206) 555-0101", "+1 (206) 555-0101", SENDER),
    ]


@pytest.mark.parametrize(
    "phones",
    ["12065959696", "[1, 2", "{'phone': 1}", "[x for x in y]", {"phone": 1}, 12065959696, b"[1]", 3.5],
)
def test_phones_form_refuses_anything_but_a_list_with_a_hint(phones: Any) -> None:
    with pytest.raises(WhatCountsInputError) as new:
        read_rows(phones=phones, sender_code=SENDER)
    assert isinstance(new.value, TypeError), "phones of the wrong type always was a TypeError"
    assert "phones=upstream.output" in str(new.value)


def test_phones_form_keeps_odd_inputs_as_json_safe_rows() -> None:
    odd = [{"phone": 1}, True, b"\x00", {1, 2}, None, float("nan")]
    rows = rows_of(phones=odd, sender_code=SENDER)
    assert [row.phone for row in rows[:2]] == [{"phone": 1}, True]  # raw: the hook judges them
    assert [row.input for row in rows] == [{"phone": 1}, True, "b'\\x00'", "{1, 2}", None, "nan"]
    json.dumps([row.input for row in rows], allow_nan=False)


# --- rows --------------------------------------------------------------------------------------

ROWS = [
    {"phone": "12065959696", "sender_code": "11111"},
    {"phone": 2065550000, "requested_at": "2026-11-20T10:00:00Z"},
    {"phone": "2065550101", "sender_code": "", "requested_at": ""},
    ["2065550102", "33333"],
    "2065550103",
    None,
    {"sender_code": "44444"},
    {"phone": "2065550104", "sender_code": 55555, "keyword": "STOP"},
]


def expected_rows(default: Any) -> list[Row]:
    no_code = "has no sender_code and the operator has none"
    not_mapping = "not a mapping with 'phone' and 'sender_code'"
    return [
        Row(1, ROWS[0], "12065959696", "11111"),
        Row(2, ROWS[1], 2065550000, default, "2026-11-20T10:00:00Z", None if default else f"row 2 {no_code}"),
        Row(3, ROWS[2], "2065550101", default, None, None if default else f"row 3 {no_code}"),
        Row(4, ["2065550102", "33333"], None, default, error=f"row 4 is a list, {not_mapping}"),
        Row(5, "2065550103", None, default, error=f"row 5 is a str, {not_mapping}"),
        Row(6, None, None, default, error=f"row 6 is null, {not_mapping}"),
        Row(7, {"sender_code": "44444"}, None, "44444", error="row 7 has no phone"),
        Row(8, ROWS[7], "2065550104", 55555),
    ]


@pytest.mark.parametrize("default", [SENDER, None])
@pytest.mark.parametrize("given", ["list", "tuple", "json", "python literal", "generator"])
def test_rows_form(default: Any, given: str) -> None:
    value: Any = {
        "list": ROWS,
        "tuple": tuple(ROWS),
        "json": json.dumps(ROWS),
        "python literal": repr(ROWS),
        "generator": (row for row in ROWS),
    }[given]
    stream = read_rows(rows=value, sender_code=default)
    assert stream.total == (None if given == "generator" else len(ROWS))
    rows = list(stream)
    want = expected_rows(default)
    # A row with an error never carries a phone: nothing can be sent for it.
    assert all(row.phone is None for row in rows if row.error)
    if default is None:  # rows 2 and 3 have no sender code at all: invalid, phone withheld
        want[1] = Row(2, ROWS[1], None, None, "2026-11-20T10:00:00Z", want[1].error)
        want[2] = Row(3, ROWS[2], None, None, None, want[2].error)
    assert rows == want


def test_rows_form_consumes_an_iterable_lazily() -> None:
    pulled: list[int] = []

    def upstream() -> Any:
        for number in range(1, 1_000_000):
            pulled.append(number)
            yield {"phone": f"1206{2_000_000 + number}", "sender_code": SENDER}

    stream = read_rows(rows=upstream())
    first = next(stream)
    assert first.row == 1
    assert pulled == [1]
    stream.close()
    assert list(stream) == []


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ('{"phone": "1"}', "rows was rendered as a string that is not a JSON array or list literal"),
        ({"phone": "1", "sender_code": "2"}, "rows must be a list of mappings, got dict"),
        (42, "rows must be a list of mappings, got int"),
        (b"[]", "rows must be a list of mappings, got bytes"),
    ],
)
def test_rows_form_refuses_what_is_not_a_list(rows: Any, message: str) -> None:
    with pytest.raises(WhatCountsInputError, match=r"rows=upstream\.output") as error:
        read_rows(rows=rows, sender_code=SENDER)
    assert message in str(error.value)


class _Opaque:
    def __repr__(self) -> str:
        return "<opaque>"


class _BrokenRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no")


def _cycle() -> list[Any]:
    items: list[Any] = [1]
    items.append(items)
    return items


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ({"phone": b"\x01", "codes": {"a"}}, {"phone": "b'\\x01'", "codes": "{'a'}"}),
        ({(1, 2): "x", 3: "y", None: "z"}, {"(1, 2)": "x", "3": "y", "None": "z"}),
        ((1, [2.5, (3,)]), [1, [2.5, [3]]]),
        (float("inf"), "inf"),
        (_Opaque(), "<opaque>"),
        (_BrokenRepr(), "<_BrokenRepr (repr failed: RuntimeError)>"),
        ("\ud800 lone surrogate", "\ud800 lone surrogate"),
    ],
)
def test_json_safe(value: Any, safe: Any) -> None:
    assert json_safe(value) == safe
    json.dumps(json_safe(value), allow_nan=False)


def test_json_safe_survives_cycles_and_deep_nesting() -> None:
    deep: Any = "x"
    for _ in range(5000):
        deep = [deep]
    for value in (_cycle(), deep, {"a": _cycle()}):
        json.dumps(json_safe(value), allow_nan=False)
    rows = rows_of(rows=[_cycle(), {"phone": deep, "sender_code": SENDER}])
    json.dumps([row.input for row in rows])


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
            "2026-11-20T10:00:00Z",
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
            "2026-11-20",
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
            "2026-11-20T10:00:00Z",
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

    monkeypatch.setattr("whatcounts_provider._source.open", refuse, raising=False)
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
    assert (seen, last.row, last.requested_at) == (count, count, "2026-11-20T10:00:00Z")
    assert last.phone == f"1206{2_000_000 + count - 1}"
    assert peak_at_first_row < 2 * 1024 * 1024
    assert peak < 20 * 1024 * 1024


def test_in_flight_maps_outcome_indexes_back_to_rows_and_forgets_them() -> None:
    rows = InFlight(read_rows(rows=(row for row in ROWS[:4]), sender_code=SENDER))
    pairs = rows.pairs()
    assert [next(pairs), next(pairs)] == [("12065959696", "11111"), (2065550000, SENDER)]
    assert len(rows) == 2
    assert rows.pop(1).requested_at == "2026-11-20T10:00:00Z"  # outcomes may come out of order
    assert rows.pop(0).row == 1
    assert len(rows) == 0
    assert list(pairs) == [("2065550101", SENDER), (None, SENDER)]  # the list item: no phone to send
    assert rows.pop(3).error == "row 4 is a list, not a mapping with 'phone' and 'sender_code'"
    with pytest.raises(KeyError):
        rows.pop(0)
