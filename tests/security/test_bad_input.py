"""Hostile and broken input: every case fails with a clear error naming the field, before any request."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import PASSWORD, SENDER, make_context
from whatcounts_provider.exceptions import (
    InvalidPhoneNumberError,
    InvalidSenderCodeError,
    WhatCountsConfigError,
)
from whatcounts_provider.operators.sms import BulkStopSmsSubscriberOperator, StopSmsSubscriberOperator
from whatcounts_provider.phone import normalize_phone, validate_sender_code

LONG = "2" * 10_000

BAD_PHONES = {
    "empty": "",
    "whitespace": "   \t ",
    "none": None,
    "letters": "call-me-now",
    "too-short": "12345",
    "too-long": "1206595969612345678",
    "plus-only": "+",
    "path-traversal": "../../admin",
    "encoded-traversal": "%2e%2e%2f",
    "slash": "123/456",
    "query": "123?x=1",
    "fragment": "123#f",
    "shell": "123;rm",
    "shell-after-valid": "2065959696;rm -rf /",
    "nul": "206\x00595\x009696",
    "newline-inside": "206\n595\n9696",
    "escape": "206\x1b[31m5959696",
    "ten-thousand-chars": LONG,
    "emoji": "📞",
    "emoji-and-number": "📞2065959696",
    "negative-int": -2065959696,
    "zero-int": 0,
    "float": 2065959696.0,
    "bool": True,
    "dict": {"phone": "2065959696"},
    "list-to-single-operator": ["2065959696"],
    "tuple": ("2065959696",),
    "bytes": b"2065959696",
    "extension-x": "2065959696x12",
    "extension-word": "206-595-9696 ext 5",
    "unassigned-range": "1234567890",
    "all-zeros": "0000000000",
    "unknown-country-code": "+999 123 456 789",
    "tel-empty": "tel:",
    "tel-traversal": "tel:../..",
    "one-digit-too-many": "+1 206 595 9696 9",
    "vanity": "1-800-FLOWERS",
    "longer-than-e164": 49_750_000_000_000_000,  # found by hypothesis: valid to phonenumbers
}

# Digits in other scripts are real digits to phonenumbers: accepted and normalised.
NORMALISED_PHONES = {
    "full-width": ("\uff12\uff10\uff16\uff15\uff19\uff15\uff19\uff16\uff19\uff16", "12065959696"),
    "arabic-indic": ("٢٠٦٥٩٥٩٦٩٦", "12065959696"),
    "tel-uri": ("tel:+1-206-595-9696", "12065959696"),
    "outer-whitespace": ("  206 595 9696\n", "12065959696"),
}

BAD_SENDER_CODES = {
    "empty": "",
    "slash": "/",
    "dot-dot": "..",
    "space": "a b",
    "percent-nul": "%00",
    "newline": "\n",
    "nul": "ab\x00",
    "unicode-letters": "ÄBC",
    "cjk": "短信",
    "over-long": "A" * 21,
    "traversal": "code/../x",
    "none": None,
    "bool": True,
    "negative": -5,
    "float": 1.5,
    "list": ["2065551212"],
}

# Each entry: the connection as use_connection() takes it (a URI, or JSON fields), and the
# field the error must name.
BAD_CONNECTIONS = {
    "no-host": ({"uri": "whatcounts://r:p@"}, "Host"),
    "host-with-path-and-query": (
        {"host": "https://mail.example.com/x?y=1", "login": "r", "password": "p"},
        "query",
    ),
    "http-not-loopback": ({"host": "http://mail.example.com", "login": "r", "password": "p"}, "clear text"),
    "ftp": ({"host": "ftp://mail.example.com", "login": "r", "password": "p"}, "ftp://"),
    "credentials-in-host": (
        {"host": "https://u:pw@mail.example.com", "login": "r", "password": "p"},
        "credentials",
    ),
    "empty-password": ({"uri": "whatcounts://realm@mail.example.com"}, "Password"),
    "empty-login": ({"host": "mail.example.com", "login": None, "password": "p"}, "Login"),
    "timeout-not-a-number": ({"uri": "whatcounts://r:p@mail.example.com?timeout=abc"}, "timeout"),
    "timeout-zero": ({"uri": "whatcounts://r:p@mail.example.com?timeout=0"}, "timeout"),
    "max-retries-word": ({"uri": "whatcounts://r:p@mail.example.com?max_retries=five"}, "max_retries"),
    "max-retries-fraction": ({"uri": "whatcounts://r:p@mail.example.com?max_retries=2.5"}, "max_retries"),
    "max-retries-negative": ({"uri": "whatcounts://r:p@mail.example.com?max_retries=-1"}, "max_retries"),
    "api-version-bare-number": ({"uri": "whatcounts://r:p@mail.example.com?api_version=1"}, "api_version"),
    "api-version-injection": (
        {"uri": "whatcounts://r:p@mail.example.com?api_version=v1%2Bjson%0D%0AX"},
        "api_version",
    ),
    "unknown-region": ({"uri": "whatcounts://r:p@mail.example.com?default_region=ZZ"}, "default_region"),
    "verify-missing-bundle": ({"uri": "whatcounts://r:p@mail.example.com?verify=/no/such/ca.pem"}, "verify"),
}


@pytest.mark.parametrize("raw", BAD_PHONES.values(), ids=BAD_PHONES.keys())
def test_bad_phone_fails_before_any_request(requests_mock, raw):
    op = StopSmsSubscriberOperator(task_id="stop", phone=raw, sender_code=SENDER)
    with pytest.raises(InvalidPhoneNumberError) as excinfo:
        op.execute(make_context())
    message = str(excinfo.value)
    assert message.startswith("phone ")
    assert len(message) < 250, "a 10,000-character input is not echoed"
    if isinstance(raw, str) and len(raw) > 4:
        assert raw not in message, "only the masked value is shown"
    assert requests_mock.call_count == 0


@pytest.mark.parametrize(("raw", "expected"), NORMALISED_PHONES.values(), ids=NORMALISED_PHONES.keys())
def test_other_digit_scripts_and_formats_are_normalised(raw, expected):
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize("raw", BAD_SENDER_CODES.values(), ids=BAD_SENDER_CODES.keys())
def test_bad_sender_code_fails_before_any_request(requests_mock, raw):
    op = StopSmsSubscriberOperator(task_id="stop", phone="2065959696", sender_code=raw)
    with pytest.raises(InvalidSenderCodeError, match=r"^sender_code "):
        op.execute(make_context())
    assert requests_mock.call_count == 0


@pytest.mark.parametrize("raw", list(BAD_SENDER_CODES.values())[:8], ids=list(BAD_SENDER_CODES)[:8])
def test_bad_sender_code_fails_the_bulk_operator_before_any_request(requests_mock, raw):
    op = BulkStopSmsSubscriberOperator(task_id="bulk", phones=["2065959696"], sender_code=raw)
    with pytest.raises(InvalidSenderCodeError):
        op.execute(make_context())
    assert requests_mock.call_count == 0


@pytest.mark.parametrize(("conn", "field"), BAD_CONNECTIONS.values(), ids=BAD_CONNECTIONS.keys())
def test_bad_connection_fails_before_any_request(use_connection, requests_mock, conn, field):
    use_connection(**conn)
    op = StopSmsSubscriberOperator(task_id="stop", phone="2065959696", sender_code=SENDER)
    with pytest.raises(WhatCountsConfigError) as excinfo:
        op.execute(make_context())
    assert field in str(excinfo.value)
    assert "whatcounts_default" in str(excinfo.value)
    assert requests_mock.call_count == 0


def test_the_corpus_is_large_enough():
    cases = len(BAD_PHONES) + len(BAD_SENDER_CODES) + len(BAD_CONNECTIONS) + len(NORMALISED_PHONES)
    assert cases >= 60


def test_config_errors_never_echo_the_password(use_connection, requests_mock):
    use_connection(host="http://mail.example.com")  # with the default realm and password
    op = StopSmsSubscriberOperator(task_id="stop", phone="2065959696", sender_code=SENDER)
    with pytest.raises(WhatCountsConfigError) as excinfo:
        op.execute(make_context())
    assert PASSWORD not in str(excinfo.value)


# --- properties -----------------------------------------------------------------------------

AREA_CODES = ["206", "253", "312", "415", "646", "702", "808", "917"]


@st.composite
def us_numbers(draw: st.DrawFn) -> tuple[str, str, str]:
    area = draw(st.sampled_from(AREA_CODES))
    exchange = draw(st.integers(200, 999))
    line = draw(st.integers(0, 9999))
    return area, f"{exchange:03d}", f"{line:04d}"


def formats(area: str, exchange: str, line: str) -> list[object]:
    return [
        f"{area}{exchange}{line}",
        f"1{area}{exchange}{line}",
        f"+1 ({area}) {exchange}-{line}",
        f"{area}-{exchange}-{line}",
        f"{area}.{exchange}.{line}",
        f"tel:+1-{area}-{exchange}-{line}",
        int(f"{area}{exchange}{line}"),
    ]


@settings(max_examples=200, deadline=None)
@given(us_numbers())
def test_equivalent_formats_normalise_to_the_same_digits(parts):
    results = {normalize_phone(value) for value in formats(*parts)}
    assert len(results) == 1
    (result,) = results
    assert result == "1" + "".join(parts)


def test_our_own_output_normalises_to_itself_in_its_region():
    """Regression: with default_region DE, "4915123456700" once became "494915123456700"."""
    assert normalize_phone("4915123456700", "DE") == "4915123456700"
    assert normalize_phone("015123456700", "DE") == "4915123456700"
    assert normalize_phone("442079460958", "US") == "442079460958", "invalid as US, valid as +44"
    assert normalize_phone("2065959696", "US") == "12065959696", "national reading first"
    assert normalize_phone("4916400000", "DE") == "4916400000", "own country code, short number"


def test_an_international_reading_must_keep_every_digit():
    """Regression: 49016400000 was read as +49 16400000, silently dropping a digit."""
    with pytest.raises(InvalidPhoneNumberError):
        normalize_phone(49_016_400_000)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["US", "GB", "DE", "FR", "IN", "BR", "AU", "JP", "MX", "ZA"]), st.data())
def test_normalised_numbers_are_digits_only_bounded_and_idempotent(region, data):
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    national = str(example.national_number)
    # Vary the last digits of a known-valid mobile number of the region.
    tail = data.draw(st.text("0123456789", min_size=2, max_size=2))
    candidate = f"+{example.country_code}{national[:-2]}{tail}"
    try:
        result = normalize_phone(candidate, region)
    except InvalidPhoneNumberError:
        return
    assert result.isascii()
    assert result.isdigit()
    assert 8 <= len(result) <= 15
    assert normalize_phone(result, region) == result
    assert normalize_phone("+" + result, "US") == result


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(max_size=60), st.integers(), st.none(), st.floats(), st.binary(max_size=20)))
def test_any_input_is_either_rejected_cleanly_or_normalised(raw):
    try:
        result = normalize_phone(raw)
    except InvalidPhoneNumberError as exc:
        message = str(exc)
        result = None
    if result is None:
        assert message.startswith("phone ")
        return
    assert result.isdigit()
    assert 8 <= len(result) <= 15
    # Idempotent wherever the digits are unambiguous: with a "+", and in the number's own region
    # (without "+", a short foreign number is legitimately read as a local one elsewhere).
    assert normalize_phone("+" + result) == result
    region = phonenumbers.region_code_for_number(phonenumbers.parse("+" + result))
    assert normalize_phone(result, region) == result


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=30), st.integers(), st.none()))
def test_any_sender_code_is_either_rejected_cleanly_or_url_safe(raw):
    try:
        code = validate_sender_code(raw)
    except InvalidSenderCodeError as exc:
        message = str(exc)
        code = None
    if code is None:
        assert message.startswith("sender_code ")
        return
    assert code.isascii()
    assert code.isalnum()
    assert 1 <= len(code) <= 20


def test_parse_reasons_match_the_phonenumbers_error_codes():
    from whatcounts_provider.phone import _PARSE_REASONS

    error = phonenumbers.NumberParseException
    assert _PARSE_REASONS[error.INVALID_COUNTRY_CODE] == "its country code is unknown"
    assert _PARSE_REASONS[error.NOT_A_NUMBER] == "it is not a phone number"
    assert _PARSE_REASONS[error.TOO_SHORT_AFTER_IDD] == "it is too short after the international prefix"
    assert _PARSE_REASONS[error.TOO_SHORT_NSN] == "it is too short"
    assert _PARSE_REASONS[error.TOO_LONG] == "it is too long"
