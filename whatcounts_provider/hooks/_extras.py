"""Read and check each connection extra: one parser per extra, each naming the extra in its error.

Extras given in a connection URI arrive as strings and are coerced here; anything unusable raises
:class:`WhatCountsConfigError` naming the extra by its form label (and its key, for JSON and URI
users). :mod:`whatcounts_provider.hooks._settings` calls these and reports every problem at once.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import re
from typing import Any

import phonenumbers

from whatcounts_provider.exceptions import InvalidSenderCodeError, WhatCountsConfigError
from whatcounts_provider.get_provider_info import CONN_FIELDS
from whatcounts_provider.phone import validate_sender_code
from whatcounts_provider.types import DEFAULT_API_VERSION

log = logging.getLogger(__name__)

MAX_RETRIES_LIMIT = 20

# Tuning knobs of the retry loop and its circuit breaker, accepted as extras (and hook arguments)
# but kept off the connection form: few users need them, and every form field is one more thing
# to get wrong.
RETRY_EXTRAS = (
    "retry_backoff_initial",
    "retry_backoff_max",
    "retry_after_max",
    "breaker_failures",
    "breaker_seconds",
)

#: Airflow 2.x forms stored custom fields with this prefix; both spellings are accepted.
PREFIX = "extra__whatcounts__"
#: What Airflow 2.11's Edit page sends for a saved sensitive extra instead of its value.
SENSITIVE_PLACEHOLDER = "RATHER_LONG_SENSITIVE_FIELD_PLACEHOLDER"

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}
# Separators of a sender-code list given as text: commas and any whitespace (newlines too).
_LIST_SEPARATORS = re.compile(r"[\s,]+")
_SHOWN_CODE_LIMIT = 24


def extra_name(name: str) -> str:
    """How an extra is named in errors: its form label, then its key for JSON/URI users."""
    return f"{CONN_FIELDS[name]['label']} (extra {name!r})"


def known_extras(conn: Any) -> dict[str, Any]:
    """Known extras by bare name, with empty form values dropped and unknown keys reported."""
    raw: dict[str, Any] = conn.extra_dejson or {}
    extras: dict[str, Any] = {}
    unknown = []
    for key, value in raw.items():
        name = key.removeprefix(PREFIX)
        if name not in CONN_FIELDS and name not in RETRY_EXTRAS:
            unknown.append(key)
        elif value is not None and value != "":
            extras[name] = value
    if unknown:
        log.warning(
            "Connection %r has extras this provider does not use; they are ignored: %s",
            conn.conn_id,
            ", ".join(sorted(unknown)),
        )
    return extras


def seconds(name: str, value: Any, conn_id: str) -> float:
    """A duration greater than 0 (the read timeout)."""
    number_ = number(value)
    if number_ is None or not number_ > 0 or number_ == float("inf"):
        raise WhatCountsConfigError(
            f"connection {conn_id!r}: {name} must be a number of seconds greater than 0, got {value!r}"
        )
    return number_


def wait_seconds(
    name: str, argument: float | None, extras: dict[str, Any], default: float, conn_id: str
) -> float:
    """A knob in seconds (a retry wait, the breaker's span), hook argument > extra > default; 0 is
    allowed (no wait, no minimum span)."""
    label, value = (
        (f"{name} argument", argument)
        if argument is not None
        else (f"extra {name!r}", extras.get(name, default))
    )
    number_ = number(value)
    if number_ is None or not 0 <= number_ < float("inf"):
        raise WhatCountsConfigError(
            f"connection {conn_id!r}: {label} must be a number of seconds, 0 or more, got {value!r}"
        )
    return number_


def failure_count(name: str, argument: int | None, extras: dict[str, Any], default: int, conn_id: str) -> int:
    """A count of failures (the breaker's), hook argument > extra > default; 0 is allowed (off)."""
    label, value = (
        (f"{name} argument", argument)
        if argument is not None
        else (f"extra {name!r}", extras.get(name, default))
    )
    number_ = number(value)
    if number_ is None or not 0 <= number_ < float("inf") or number_ != int(number_):
        raise WhatCountsConfigError(
            f"connection {conn_id!r}: {label} must be a whole number, 0 or more (0 turns the "
            f"circuit breaker off), got {value!r}"
        )
    return int(number_)


def retries(name: str, value: Any, conn_id: str) -> int:
    """A whole number of retries from 0 to :data:`MAX_RETRIES_LIMIT`."""
    number_ = number(value)
    if number_ is None or not 0 <= number_ <= MAX_RETRIES_LIMIT or number_ != int(number_):
        raise WhatCountsConfigError(
            f"connection {conn_id!r}: {name} must be a whole number from 0 to {MAX_RETRIES_LIMIT}, "
            f"got {value!r}"
        )
    return int(number_)


def number(value: Any) -> float | None:
    """A number given as a number or as text; None for anything else (bools included)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def api_version(value: Any, conn_id: str) -> str:
    """``v`` and digits (``v1``), lower-cased; the default when not set."""
    if value is None:
        return DEFAULT_API_VERSION
    text = str(value).strip().lower()
    if not (text.startswith("v") and text[1:].isdigit() and text[1:].isascii()):
        raise WhatCountsConfigError(
            f"connection {conn_id!r}: {extra_name('api_version')} must look like 'v1', got {value!r}"
        )
    return text


def region(value: Any, conn_id: str) -> str:
    """A two-letter region phonenumbers knows, upper-cased."""
    text = str(value).strip().upper()
    if text not in phonenumbers.SUPPORTED_REGIONS:
        raise WhatCountsConfigError(
            f"connection {conn_id!r}: {extra_name('default_region')} must be a two-letter region code "
            f"such as 'US' or 'GB', got {value!r}"
        )
    return text


def verify(value: Any, conn_id: str) -> bool | str:
    """True, False, or the path of an existing CA bundle file."""
    if isinstance(value, bool):
        return value
    text = str(value).strip()
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    if os.path.isfile(text):
        return text
    raise WhatCountsConfigError(
        f"connection {conn_id!r}: {extra_name('verify')} must be true, false or the path of an existing "
        f"CA bundle file, got {value!r}"
    )


def api_key(value: Any, conn_id: str) -> str | None:
    """The ``x-api-key`` header value for an API client key, or None when there is none.

    WhatCounts documents the header as ``x-api-key: [apiClientName:apiClientAuth]``, "a Base64
    string", like Basic auth's ``[realmName:apiPassword]``: the pair is sent Base64-encoded.
    The extra takes the pair as written, or already encoded. The value never enters a message.
    """
    if value is None:
        return None
    where = f"connection {conn_id!r}: {extra_name('api_key')}"
    text = str(value).strip()
    if text == SENSITIVE_PLACEHOLDER:
        raise WhatCountsConfigError(
            f"{where} holds Airflow's placeholder for a saved secret, not the key: "
            "type the key again to test from this page"
        )
    if ":" not in text:
        try:
            decoded = base64.b64decode(text, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        text = decoded
    name, _, auth = text.partition(":")
    if not name.strip() or not auth.strip():
        raise WhatCountsConfigError(
            f"{where} must be apiClientName:apiClientAuth (or its Base64 form); "
            "the value given is not (not shown: it is a secret)"
        )
    return base64.b64encode(text.encode()).decode()


def sender_codes(value: Any, conn_id: str) -> tuple[str, ...]:
    """Every SMS sender code of the account: validated, in the order given, without repeats.

    Accepted: a JSON list (a real list in ``extra_dejson``, or its text, as a URI extra carries
    it), or text with the codes separated by commas, spaces or newlines. Each code is checked
    like any sender code (:func:`~whatcounts_provider.phone.validate_sender_code`); every bad
    one is named at once. Not set: an empty tuple.
    """
    if value is None:
        return ()
    where = f"connection {conn_id!r}: {extra_name('sender_codes')}"
    items = _listed(value, where)
    codes: list[str] = []
    bad: list[str] = []
    for item in items:
        try:
            code = validate_sender_code(item)
        except InvalidSenderCodeError:
            bad.append(_shown(item))
            continue
        if code not in codes:
            codes.append(code)
    if bad:
        noun = "code" if len(bad) == 1 else "codes"
        raise WhatCountsConfigError(
            f"{where} has {len(bad)} invalid sender {noun}: {', '.join(bad)}; each must be 1 to 20 "
            "ASCII letters and digits, the codes separated by commas"
        )
    return tuple(codes)


def _listed(value: Any, where: str) -> list[Any]:
    """The items of a sender-code list given as a list, JSON list text, or separated text."""
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return [value]  # one code, given as a JSON number
    if not isinstance(value, str):
        raise WhatCountsConfigError(
            f"{where} must be a list of sender codes or text such as '12345, 67890', "
            f"got {type(value).__name__}"
        )
    text = value.strip()
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None  # not JSON: e.g. ['12345', '67890'], a list's Python text; read as text
        if isinstance(parsed, list):
            return parsed
        text = text.strip("[]")
    return [token.strip("'\"") for token in _LIST_SEPARATORS.split(text) if token.strip("'\"")]


def _shown(item: Any) -> str:
    """A bad sender code as an error shows it: quoted, shortened."""
    text = repr(item)
    return text if len(text) <= _SHOWN_CODE_LIMIT else text[: _SHOWN_CODE_LIMIT - 1] + "…"
