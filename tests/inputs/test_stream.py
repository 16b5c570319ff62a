"""The input stream: rows read lazily, each with its raw phone, sender code, requested_at or error."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest

from tests.helpers import SENDER
from whatcounts_provider.exceptions import WhatCountsInputError
from whatcounts_provider.inputs import read_rows
from whatcounts_provider.types import Row

WHEN = datetime(2026, 11, 20, 10, tzinfo=timezone.utc)  # "2026-11-20T10:00:00Z", parsed


def rows_of(**kwargs: Any) -> list[Row]:
    with read_rows(**kwargs) as stream:
        return list(stream)


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
        Row(2, ROWS[1], 2065550000, default, WHEN, None if default else f"row 2 {no_code}"),
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
        want[1] = Row(2, ROWS[1], None, None, WHEN, want[1].error)
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


def test_rows_are_read_lazily_with_what_the_hook_needs_to_send_them() -> None:
    """Each row carries its raw phone, its sender code and its requested_at; a row that cannot be
    read that far (a list item) carries an error instead, and the stream does not stop there."""
    read: list[Any] = []

    def given() -> Any:
        for row in ROWS[:4]:
            read.append(row)
            yield row

    with read_rows(rows=given(), sender_code=SENDER) as stream:
        first = next(iter(stream))
        assert read == ROWS[:1]  # only what was asked for has been read
        rest = list(stream)
    rows = [first, *rest]
    assert [(row.phone, row.sender_code) for row in rows[:2]] == [
        ("12065959696", "11111"),
        (2065550000, SENDER),
    ]
    assert rows[1].requested_at == WHEN  # parsed once, where it is read
    assert rows[0].row == 1
    assert [(row.phone, row.sender_code) for row in rows[2:]] == [("2065550101", SENDER), (None, SENDER)]
    assert rows[3].error == "row 4 is a list, not a mapping with 'phone' and 'sender_code'"


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("SM8f2c", "SM8f2c"),
        (1042, "1042"),
        (1.5, "1.5"),
        ({"sid": "SM1"}, '{"sid": "SM1"}'),
        ("  ", None),
        (None, None),
    ],
)
def test_a_message_id_is_kept_as_text_and_never_makes_a_row_invalid(given: Any, kept: Any) -> None:
    (row,) = read_rows(rows=[{"phone": "2065959696", "message_id": given}], sender_code=SENDER)
    assert (row.error, row.message_id) == (None, kept)
