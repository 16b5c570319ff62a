"""The per-extra parsers: each reads one extra and names it, by its form label, when it is unusable.

How they combine (precedence, every problem at once) is tests/hooks/test_settings.py.
"""

from __future__ import annotations

import pytest

from whatcounts_provider.exceptions import WhatCountsConfigError
from whatcounts_provider.get_provider_info import CONN_FIELDS
from whatcounts_provider.hooks import _extras
from whatcounts_provider.phone import validate_sender_code


def test_an_extra_is_named_by_its_label_then_its_key():
    assert _extras.extra_name("sender_codes") == "Sender codes (revoke-all) (extra 'sender_codes')"
    assert _extras.extra_name("timeout") == "Read timeout (seconds) (extra 'timeout')"


def test_every_form_field_has_a_parser_named_in_settings():
    """A new form field must be read somewhere: the settings name each field's parser."""
    import inspect

    from whatcounts_provider.hooks import _settings

    source = inspect.getsource(_settings.resolve_settings)
    for name in CONN_FIELDS:
        assert f'"{name}"' in source, name


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("12345,67890", ("12345", "67890")),
        (" 12345 ,\t67890 ,\n", ("12345", "67890")),
        ("[12345, 67890]", ("12345", "67890")),
        ('["12345"]', ("12345",)),
        ("[]", ()),
        (",", ()),
    ],
)
def test_sender_code_text_in_any_common_list_shape(text, codes):
    assert _extras.sender_codes(text, "wc") == codes


def test_each_sender_code_is_checked_like_any_sender_code():
    given = ["2065550100", "AcmeSMS", "55555"]
    assert _extras.sender_codes(given, "wc") == tuple(validate_sender_code(code) for code in given)


@pytest.mark.parametrize(
    "bad",
    [["12345", ""], ["12345", "12 345"], ["a" * 21], ["12345", ["67890"]], ["12345", None], [-5]],
    ids=["empty", "space-inside-a-list-item", "too-long", "nested-list", "null", "negative"],
)
def test_a_list_item_that_is_no_sender_code_is_refused(bad):
    with pytest.raises(WhatCountsConfigError, match=r"\(extra 'sender_codes'\) has 1 invalid sender code"):
        _extras.sender_codes(bad, "wc")


def test_a_long_bad_code_is_shortened_in_the_message():
    with pytest.raises(WhatCountsConfigError) as excinfo:
        _extras.sender_codes(["x" * 500], "wc")
    assert len(str(excinfo.value)) < 300


def test_known_extras_drop_empty_form_values_and_read_both_spellings():
    from types import SimpleNamespace

    extras = {"timeout": "", "extra__whatcounts__sender_codes": "1, 2", "max_retries": None}
    conn = SimpleNamespace(conn_id="wc", extra_dejson=extras)
    assert _extras.known_extras(conn) == {"sender_codes": "1, 2"}
