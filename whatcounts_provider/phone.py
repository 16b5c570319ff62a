"""Phone-number and sender-code validation, normalisation and masking.

WhatCounts identifies a subscriber by country code + national number, digits only
(``12065959696``). Everything a user may hand us (``+1 (206) 595-9696``, ``tel:`` URIs,
ints from JSON) is normalised here, with ``phonenumbers``, before any request is built.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from whatcounts_provider.exceptions import InvalidPhoneNumberError, InvalidSenderCodeError

if TYPE_CHECKING:
    from collections.abc import Sequence

    import phonenumbers

# phonenumbers (~12 ms to import) is imported inside the functions that parse: the operators
# import this module, and every scheduler parse of a DAG file would otherwise pay for it.

# Longer than any real formatting of a phone (E.164 is at most 15 digits); keeps a
# 10,000-character cell from reaching the parser or a log line.
_MAX_PHONE_INPUT = 40
# Digits (any script: phonenumbers maps full-width and Arabic-Indic digits), an optional
# leading "+", and the separators people type. No letters: they would be taken as an
# extension ("x123") or a vanity number, and an SMS subscriber has neither. No control
# characters or path characters either: the result becomes a URL path segment.
_PHONE_SHAPE = re.compile(r"[+\uff0b]?[\d ().\-]+")
_TEL_PREFIX = re.compile(r"(?i)^tel:")
_MAX_SENDER_CODE = 20
_SENDER_CODE_SHAPE = re.compile(r"[A-Za-z0-9]+")
_E164_MAX_DIGITS = 15
_MIN_DIGITS = 8
_MIN_INTERNATIONAL_DIGITS = 11
_NANP_DIGITS = 10
_MASK_KEEP = 4
_MASK_MAX_STARS = 11


def mask_phone(value: object) -> str:
    """Return a log-safe form of a phone or raw input: all but the last 4 characters starred.

    ``mask_phone("12065959696") == "*******9696"``. Inputs of 4 characters or fewer are fully
    starred; non-printable characters are shown as ``?``; very long inputs are shortened.
    """
    text = str(value)
    keep = _MASK_KEEP if len(text) > _MASK_KEEP else 0
    hidden = len(text) - keep
    tail = "".join(ch if ch.isprintable() else "?" for ch in text[len(text) - keep :])
    stars = "*" * min(hidden, _MASK_MAX_STARS)
    suffix = f" ({len(text)} chars)" if hidden > _MASK_MAX_STARS else ""
    return f"{stars}{tail}{suffix}"


def normalize_phone(value: object, default_region: str = "US") -> str:
    """Normalise a phone to WhatCounts' form: country code + national number, digits only.

    :param value: a phone as ``str`` (any common format, ``tel:`` URI included) or ``int``.
    :param default_region: ISO 3166 region assumed for numbers without a country code.
    :raises InvalidPhoneNumberError: the value is not a valid, dialable phone number.
    """
    import phonenumbers

    text = _phone_text(value)
    number = _parse(text, default_region, value)
    digits = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164).lstrip("+")
    if len(digits) > _E164_MAX_DIGITS:
        # phonenumbers' metadata admits some over-long numbers (German ranges) that E.164 does not.
        raise _invalid(value, f"it has more than the {_E164_MAX_DIGITS} digits E.164 allows")
    if len(digits) < _MIN_DIGITS:
        # Valid only in a few tiny territories; far likelier a truncated number. Refuse loudly.
        raise _invalid(value, f"it has fewer than {_MIN_DIGITS} digits with its country code")
    return digits


def validate_sender_code(value: object) -> str:
    """Return the sender code as a string: a long code, short code or alphanumeric sender ID.

    :raises InvalidSenderCodeError: empty, longer than 20 characters, or anything but ASCII
        letters and digits (it becomes a URL path segment).
    """
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidSenderCodeError(f"sender_code must be a string or int, got {type(value).__name__}")
    if isinstance(value, int) and value < 0:
        raise InvalidSenderCodeError(f"sender_code must not be negative, got {value}")
    text = str(value).strip()
    if not text:
        raise InvalidSenderCodeError("sender_code is empty")
    if len(text) > _MAX_SENDER_CODE:
        raise InvalidSenderCodeError(
            f"sender_code is {len(text)} characters long; the limit is {_MAX_SENDER_CODE}"
        )
    if not text.isascii() or not _SENDER_CODE_SHAPE.fullmatch(text):
        raise InvalidSenderCodeError(f"sender_code {text!r} may contain only ASCII letters and digits")
    return text


def account_sender_code(value: object, account_codes: Sequence[str]) -> str | None:
    """The account's form of a requested sender code, or ``None`` when it is none of ``account_codes``.

    Inbound exports name the code as the number the reply was sent to: ``+12065551212``
    (Twilio) or ``12065551212`` (Vonage) for the account's long code ``2065551212``. WhatCounts
    answers a code in the wrong form as it answers a phone without a subscription, so a
    long-code form (E.164, or with the leading 1 of a 10-digit North American code) is mapped
    here to the account's own form, and anything else is not taken for a code of the account.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    text = str(value).strip()
    if text in account_codes:
        return text
    if len(text) > _MAX_PHONE_INPUT or not _PHONE_SHAPE.fullmatch(text):
        return None
    digits = "".join(char for char in text if char.isdigit())
    for code in account_codes:
        if digits == code or (len(code) == _NANP_DIGITS and code.isdigit() and digits == "1" + code):
            return code
    return None


def _phone_text(value: object) -> str:
    """Turn the raw input into text the parser may see, refusing what it must not."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _invalid_type(value)
    if isinstance(value, int):
        if value <= 0:
            raise _invalid(value, "a phone given as an int must be positive")
        return str(value)
    if len(value) > _MAX_PHONE_INPUT:
        raise _invalid(value, f"it is longer than {_MAX_PHONE_INPUT} characters")
    text = _TEL_PREFIX.sub("", value.strip())
    if not text:
        raise _invalid(value, "it is empty")
    if not _PHONE_SHAPE.fullmatch(text):
        raise _invalid(value, "it may contain only digits, spaces, '+', '-', '.', '(' and ')'")
    return text


def _parse(text: str, region: str, value: object) -> phonenumbers.PhoneNumber:
    """Parse ``text``, reading digits-only input as international where that is what it is.

    Our own output (``4915123456700``: country code + number, no ``+``) must normalise to
    itself, or a re-run fed from an earlier summary would double the country code and opt
    out a different phone. So digits-only input that starts with the region's own country
    code and is, digit for digit, a valid international number is read as one. Otherwise it is
    national; a foreign international reading is the fallback only for 11 or more digits:
    shorter strings ("4930000") are far likelier local numbers missing their area code.
    """
    import phonenumbers

    international = None
    if not text.startswith(("+", "\uff0b")):
        digits = phonenumbers.normalize_digits_only(text)
        own_code = digits.startswith(str(phonenumbers.country_code_for_region(region)))
        if own_code or len(digits) >= _MIN_INTERNATIONAL_DIGITS:  # else no parse is wasted on it
            international = _exact_international(digits)
        if international and own_code:
            return international
    try:
        return _checked(phonenumbers.parse(text, region), value)
    except phonenumbers.NumberParseException as exc:
        if international:
            return international
        raise _invalid(value, _PARSE_REASONS.get(exc.error_type, "it is not a phone number")) from None
    except InvalidPhoneNumberError:
        if international:
            return international
        raise


def _exact_international(digits: str) -> phonenumbers.PhoneNumber | None:
    """``+digits`` as a valid number whose E.164 form is exactly these digits, or None."""
    import phonenumbers

    try:
        number = _checked(phonenumbers.parse(f"+{digits}", None), digits)
    except (phonenumbers.NumberParseException, InvalidPhoneNumberError):
        return None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return number if e164 == f"+{digits}" else None


def _checked(number: phonenumbers.PhoneNumber, value: object) -> phonenumbers.PhoneNumber:
    import phonenumbers

    if number.extension:
        raise _invalid(value, "it has an extension; SMS subscribers have none")
    if not phonenumbers.is_possible_number(number):
        raise _invalid(value, "it has the wrong number of digits for its country")
    if not phonenumbers.is_valid_number(number):
        raise _invalid(value, f"it is not an assigned number range in region {_region_of(number)}")
    return number


def _region_of(number: phonenumbers.PhoneNumber) -> str:
    import phonenumbers

    return phonenumbers.region_code_for_number(number) or f"+{number.country_code}"


# NumberParseException.error_type values (INVALID_COUNTRY_CODE ... TOO_LONG), without the import.
_PARSE_REASONS = {
    0: "its country code is unknown",
    1: "it is not a phone number",
    2: "it is too short after the international prefix",
    3: "it is too short",
    4: "it is too long",
}


def _invalid(value: object, reason: str) -> InvalidPhoneNumberError:
    return InvalidPhoneNumberError(f"phone {mask_phone(value)!r} is invalid: {reason}")


def _invalid_type(value: object) -> InvalidPhoneNumberError:
    return InvalidPhoneNumberError(
        f"phone must be a single phone number as str or int, got {type(value).__name__}"
    )
