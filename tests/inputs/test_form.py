"""Exactly one input form, named in every error, checked before anything is rendered."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import SENDER
from whatcounts_provider.exceptions import WhatCountsError, WhatCountsInputError
from whatcounts_provider.inputs import check_input_form, read_rows

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
