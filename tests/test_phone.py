"""Phone normalisation, sender-code rules and masking (whatcounts_provider.phone)."""

from __future__ import annotations

import pytest

from whatcounts_provider.exceptions import InvalidPhoneNumberError, InvalidSenderCodeError, WhatCountsError
from whatcounts_provider.phone import account_sender_code, mask_phone, normalize_phone, validate_sender_code

FULL_WIDTH_US = "\uff12\uff10\uff16\uff15\uff19\uff15\uff19\uff16\uff19\uff16"  # "2065959696"

# (raw input, default_region, expected WhatCounts form: country code + national number, digits only)
NORMALISED = {
    "e164-formatted": ("+1 (206) 595-9696", "US", "12065959696"),
    "dashed-national": ("206-595-9696", "US", "12065959696"),
    "dotted-national": ("206.595.9696", "US", "12065959696"),
    "ten-digits": ("2065959696", "US", "12065959696"),
    "eleven-digits-own-output": ("12065959696", "US", "12065959696"),
    "one-dashed": ("1-206-595-9696", "US", "12065959696"),
    "tel-uri": ("tel:+1-206-595-9696", "US", "12065959696"),
    "tel-uri-upper-case": ("TEL:+12065959696", "US", "12065959696"),
    "int": (2065959696, "US", "12065959696"),
    "int-with-country-code": (12065959696, "US", "12065959696"),
    "full-width-digits": (FULL_WIDTH_US, "US", "12065959696"),
    "full-width-plus": ("\uff0b1 206 595 9696", "US", "12065959696"),
    "surrounding-whitespace": ("  206 595 9696\n", "US", "12065959696"),
    "uk-national-gb-region": ("020 7946 0958", "GB", "442079460958"),
    "uk-international-gb-region": ("+44 20 7946 0958", "GB", "442079460958"),
    "uk-international-us-region": ("+44 20 7946 0958", "US", "442079460958"),
    "uk-mobile-national": ("07911 123456", "GB", "447911123456"),
    "uk-own-output-gb-region": ("447911123456", "GB", "447911123456"),
    "us-number-from-gb-region": ("+1 206 595 9696", "GB", "12065959696"),
}


@pytest.mark.parametrize(("raw", "region", "expected"), NORMALISED.values(), ids=NORMALISED.keys())
def test_phone_is_normalised_to_country_code_and_digits(raw, region, expected):
    assert normalize_phone(raw, region) == expected


def test_default_region_is_us():
    assert normalize_phone("206-595-9696") == "12065959696"


def test_uk_national_number_is_invalid_with_the_us_default_region():
    """The region matters: the same national digits mean nothing valid in the US."""
    with pytest.raises(InvalidPhoneNumberError):
        normalize_phone("020 7946 0958")


def test_local_number_without_area_code_is_not_taken_for_a_foreign_one():
    with pytest.raises(InvalidPhoneNumberError):
        normalize_phone("493-0000", "US")


# Invalid strings long enough that echoing them would leak the number.
INVALID_TEXT = {
    "too-long": "1206595969612345678",
    "too-short-digits": "2065959",
    "unassigned-us-range": "1234567890",
    "all-zeros": "0000000000",
    "extension": "2065959696x12",
    "letters": "206-595-CALL",
    "slash": "206/595/9696",
    "path-traversal": "../2065959696",
    "query": "2065959696?x=1",
    "newline-inside": "206595\n9696",
    "nul-inside": "206595\x009696",
    "unknown-country-code": "+999 2065959696",
    "double-plus": "++12065959696",
    "over-40-chars": "2" * 41,
    "emoji-prefix": "\U0001f4de2065959696",
    "tel-with-letters": "tel:+1-206-FLOWERS",
}


@pytest.mark.parametrize("raw", INVALID_TEXT.values(), ids=INVALID_TEXT.keys())
def test_invalid_phone_text_raises_with_masked_value_only(raw):
    with pytest.raises(InvalidPhoneNumberError) as excinfo:
        normalize_phone(raw)
    message = str(excinfo.value)
    assert message.startswith("phone ")
    assert raw not in message
    assert mask_phone(raw) in message
    # No run of the caller's digits beyond the last four survives in the message.
    digits = "".join(ch for ch in raw if ch.isdigit())
    if len(digits) > 4:
        assert digits[:-4] not in "".join(ch for ch in message if ch.isdigit())


INVALID_OTHER = {
    "empty": "",
    "blank": "   ",
    "tel-empty": "tel:",
    "plus-only": "+",
    "negative-int": -2065959696,
    "zero-int": 0,
    "none": None,
    "bool": True,
    "float": 2065959696.0,
    "bytes": b"2065959696",
    "list": ["2065959696"],
}


@pytest.mark.parametrize("raw", INVALID_OTHER.values(), ids=INVALID_OTHER.keys())
def test_invalid_phone_values_raise_naming_phone(raw):
    with pytest.raises(InvalidPhoneNumberError, match=r"^phone ") as excinfo:
        normalize_phone(raw)
    assert "2065959696" not in str(excinfo.value)


def test_invalid_phone_error_is_a_value_error_and_a_provider_error():
    with pytest.raises(ValueError, match="phone") as excinfo:
        normalize_phone("12345")
    assert isinstance(excinfo.value, InvalidPhoneNumberError)
    assert isinstance(excinfo.value, WhatCountsError)


# --- sender codes ----------------------------------------------------------------------------

VALID_SENDER_CODES = {
    "long-code": ("2065551212", "2065551212"),
    "short-code": ("12345", "12345"),
    "alphanumeric": ("ACME", "ACME"),
    "mixed-case-alphanumeric": ("Acme2Go", "Acme2Go"),
    "int": (12345, "12345"),
    "twenty-chars": ("A" * 20, "A" * 20),
}


@pytest.mark.parametrize(("raw", "expected"), VALID_SENDER_CODES.values(), ids=VALID_SENDER_CODES.keys())
def test_valid_sender_code_is_returned_as_string(raw, expected):
    assert validate_sender_code(raw) == expected


INVALID_SENDER_CODES = {
    "empty": "",
    "space-inside": "a b",
    "slash": "/",
    "dot-dot": "..",
    "percent-encoded-nul": "%00",
    "newline": "\n",
    "unicode-letters": "ÄBC",
    "full-width-digits": "\uff11\uff12\uff13",
    "twenty-one-chars": "A" * 21,
    "negative-int": -5,
    "bool": True,
    "none": None,
    "float": 12345.0,
}


@pytest.mark.parametrize("raw", INVALID_SENDER_CODES.values(), ids=INVALID_SENDER_CODES.keys())
def test_invalid_sender_code_raises_naming_sender_code(raw):
    with pytest.raises(InvalidSenderCodeError, match=r"^sender_code ") as excinfo:
        validate_sender_code(raw)
    assert isinstance(excinfo.value, ValueError)


# --- masking ---------------------------------------------------------------------------------

MASKED = {
    "whatcounts-form": ("12065959696", "*******9696"),
    "int": (2065959696, "******9696"),
    "five-chars": ("12345", "*2345"),
    "four-chars-fully-starred": ("1234", "****"),
    "short-fully-starred": ("12", "**"),
    "empty": ("", ""),
    "very-long-shortened": ("9" * 40, "***********9999 (40 chars)"),
    "ten-thousand-chars": ("1" * 10_000, "***********1111 (10000 chars)"),
    "control-chars-in-tail": ("12065959\x00\x1b\n", "*******9???"),
    "escape-sequence": ("\x1b[31m12065959696", "***********9696 (16 chars)"),
}


@pytest.mark.parametrize(("raw", "expected"), MASKED.values(), ids=MASKED.keys())
def test_mask_phone(raw, expected):
    masked = mask_phone(raw)
    assert masked == expected
    assert masked.isprintable()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2065551212", "2065551212"),
        ("+12065551212", "2065551212"),
        ("12065551212", "2065551212"),
        ("+1 (206) 555-1212", "2065551212"),
        (2065551212, "2065551212"),
        (12065551212, "2065551212"),
        ("88555", "88555"),
        ("+88555", "88555"),
        ("AcmeSMS", "AcmeSMS"),
        ("acmesms", None),  # alphanumeric sender IDs are compared as written
        ("13105550000", None),
        ("112065551212", None),
        ("", None),
        (None, None),
        (True, None),
        ("2065551212; DROP", None),
    ],
)
def test_account_sender_code_maps_long_code_forms_to_the_accounts_form(
    given: object, expected: str | None
) -> None:
    assert account_sender_code(given, ("2065551212", "88555", "AcmeSMS")) == expected
