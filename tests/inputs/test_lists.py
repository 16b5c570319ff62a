"""The phones/rows list forms: a list, or its rendered text, and nothing else."""

from __future__ import annotations

import pytest

from whatcounts_provider.inputs import coerce_list
from whatcounts_provider.inputs.lists import mapping_rows
from whatcounts_provider.types import NO_MESSAGE


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["2065959696", 2065959697], ["2065959696", 2065959697]),
        (("2065959696",), ["2065959696"]),
        ('["2065959696", "2065959697"]', ["2065959696", "2065959697"]),
        ("['2065959696', 2065959697]", ["2065959696", 2065959697]),
        ("  [2065959696]\n", [2065959696]),
        ("[]", []),
    ],
    ids=["list", "tuple", "json-text", "python-literal-text", "padded-text", "empty-list-text"],
)
def test_phones_accepts_lists_and_list_text(value, expected):
    assert coerce_list(value, "phones") == expected


@pytest.mark.parametrize(
    "value",
    [
        "2065959696",
        "2065959696,2065959697",
        "[__import__('os').system('true')]",
        "{'a': 1}",
        "['unterminated'",
        {"phone": "2065959696"},
        None,
        12065959696,
    ],
    ids=[
        "single-phone-text",
        "comma-text",
        "code-in-text",
        "dict-text",
        "broken-text",
        "dict",
        "none",
        "int",
    ],
)
def test_phones_rejects_anything_else_with_a_hint(value):
    with pytest.raises(TypeError, match=r"phones.*(upstream\.output|render_template_as_native_obj)"):
        coerce_list(value, "phones")


def test_a_row_with_a_message_key_carries_it_as_given_and_one_without_carries_none() -> None:
    rows = list(
        mapping_rows(
            [{"phone": "1", "message": "STOP"}, {"phone": "2", "message": None}, {"phone": "3"}], "2065551212"
        )
    )
    assert [row.message for row in rows] == ["STOP", None, NO_MESSAGE]
