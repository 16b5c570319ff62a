"""Resolve a WhatCounts Airflow connection into validated settings.

Precedence for every tunable: hook argument > connection extra > default. Extras given in
a connection URI arrive as strings and are coerced here; anything unusable raises
:class:`WhatCountsConfigError` naming the field, before a request is built.
"""

from __future__ import annotations

import ipaddress
import logging
import os
from typing import Any
from urllib.parse import urlsplit

import phonenumbers

from whatcounts_provider.exceptions import WhatCountsConfigError
from whatcounts_provider.get_provider_info import CONN_FIELDS
from whatcounts_provider.types import (
    DEFAULT_API_VERSION,
    DEFAULT_MAX_RETRIES,
    DEFAULT_READ_TIMEOUT,
    DEFAULT_REGION,
    DEFAULT_RETRY_AFTER_MAX,
    DEFAULT_RETRY_BACKOFF_INITIAL,
    DEFAULT_RETRY_BACKOFF_MAX,
    WhatCountsSettings,
)

log = logging.getLogger(__name__)

__all__ = ["WhatCountsSettings", "resolve_settings", "rest_base_url"]

MAX_RETRIES_LIMIT = 20

# Tuning knobs accepted as extras (and hook arguments) but kept off the connection form:
# few users need them, and every form field is one more thing to get wrong.
RETRY_EXTRAS = ("retry_backoff_initial", "retry_backoff_max", "retry_after_max")

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}
# Airflow 2.x forms stored custom fields with this prefix; both spellings are accepted.
_PREFIX = "extra__whatcounts__"


def resolve_settings(
    conn: Any,
    *,
    timeout: float | None = None,
    max_retries: int | None = None,
    retry_backoff_initial: float | None = None,
    retry_backoff_max: float | None = None,
    retry_after_max: float | None = None,
) -> WhatCountsSettings:
    """Build :class:`WhatCountsSettings` from an Airflow ``Connection`` and hook arguments.

    :param conn: the Airflow connection (``host``, ``login``, ``password``, ``port``, extras).
    :param timeout: read timeout in seconds from the hook; overrides the ``timeout`` extra.
    :param max_retries: retries from the hook; overrides the ``max_retries`` extra.
    :param retry_backoff_initial: first backoff in seconds; overrides the extra of that name.
    :param retry_backoff_max: longest backoff in seconds; overrides the extra of that name.
    :param retry_after_max: cap on a ``Retry-After`` wait; overrides the extra of that name.
    """
    conn_id = conn.conn_id
    extras = _extras(conn)
    realm = (conn.login or "").strip()
    if not realm:
        raise WhatCountsConfigError(f"connection {conn_id!r}: Login (the WhatCounts realm) is empty")
    if not conn.password:
        raise WhatCountsConfigError(f"connection {conn_id!r}: Password (the realm's API password) is empty")
    return WhatCountsSettings(
        conn_id=conn_id,
        base_url=rest_base_url(conn.host, conn.port, conn_id=conn_id),
        realm=realm,
        password=conn.password,
        api_version=_api_version(extras.get("api_version"), conn_id),
        read_timeout=(
            _seconds("timeout argument", timeout, conn_id)
            if timeout is not None
            else _seconds("extra 'timeout'", extras.get("timeout", DEFAULT_READ_TIMEOUT), conn_id)
        ),
        max_retries=(
            _retries("max_retries argument", max_retries, conn_id)
            if max_retries is not None
            else _retries("extra 'max_retries'", extras.get("max_retries", DEFAULT_MAX_RETRIES), conn_id)
        ),
        default_region=_region(extras.get("default_region", DEFAULT_REGION), conn_id),
        verify=_verify(extras.get("verify", True), conn_id),
        retry_backoff_initial=_wait_seconds(
            "retry_backoff_initial", retry_backoff_initial, extras, DEFAULT_RETRY_BACKOFF_INITIAL, conn_id
        ),
        retry_backoff_max=_wait_seconds(
            "retry_backoff_max", retry_backoff_max, extras, DEFAULT_RETRY_BACKOFF_MAX, conn_id
        ),
        retry_after_max=_wait_seconds(
            "retry_after_max", retry_after_max, extras, DEFAULT_RETRY_AFTER_MAX, conn_id
        ),
    )


def rest_base_url(host: str | None, port: int | None, *, conn_id: str) -> str:
    """Turn the connection's Site URL into the REST base, ``<scheme>://<site>[:port][/prefix]/rest``.

    No scheme means https. Plain http is refused unless the host is loopback (the emulator):
    Basic credentials would otherwise cross the network in clear text.
    """
    raw = (host or "").strip()
    if not raw:
        raise WhatCountsConfigError(
            f"connection {conn_id!r}: Host (Site URL) is empty; set it to your WhatCounts site, "
            "e.g. https://mail.example.com"
        )
    parts = urlsplit(raw if "://" in raw else f"https://{raw}")
    # Checked first: every later message quotes the host, which must not carry a password.
    if parts.username is not None or parts.password is not None:
        raise WhatCountsConfigError(
            f"connection {conn_id!r}: Host (Site URL) must not contain credentials; "
            "put the realm in Login and the API password in Password"
        )
    where = f"connection {conn_id!r}: Host (Site URL) {raw!r}"
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise WhatCountsConfigError(f"{where} uses {scheme}://; only https:// is supported")
    if parts.query or parts.fragment:
        raise WhatCountsConfigError(f"{where} must not contain a query or fragment ('?', '#')")
    hostname = parts.hostname
    if not hostname:
        raise WhatCountsConfigError(f"{where} has no host name")
    try:
        url_port = parts.port
    except ValueError:
        raise WhatCountsConfigError(f"{where} has an invalid port") from None
    if scheme == "http" and not _is_loopback(hostname):
        raise WhatCountsConfigError(
            f"{where} uses plain http://, which would send the realm and API password in clear "
            "text; use https:// (http:// is allowed only for loopback hosts such as the emulator)"
        )
    netloc = f"[{hostname}]" if ":" in hostname else hostname
    effective_port = url_port or port
    if effective_port:
        netloc = f"{netloc}:{effective_port}"
    path = parts.path.rstrip("/")
    if path.lower().endswith("/rest"):
        path = path[: -len("/rest")]
    return f"{scheme}://{netloc}{path}/rest"


def _is_loopback(hostname: str) -> bool:
    if hostname.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def _extras(conn: Any) -> dict[str, Any]:
    """Known extras by bare name, with empty form values dropped and unknown keys reported."""
    raw: dict[str, Any] = conn.extra_dejson or {}
    extras: dict[str, Any] = {}
    unknown = []
    for key, value in raw.items():
        name = key.removeprefix(_PREFIX)
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


def _seconds(name: str, value: Any, conn_id: str) -> float:
    number = _number(value)
    if number is None or not number > 0 or number == float("inf"):
        raise WhatCountsConfigError(
            f"connection {conn_id!r}: {name} must be a number of seconds greater than 0, got {value!r}"
        )
    return number


def _wait_seconds(
    name: str, argument: float | None, extras: dict[str, Any], default: float, conn_id: str
) -> float:
    """A retry wait knob, hook argument > extra > default; 0 is allowed (no wait)."""
    label, value = (
        (f"{name} argument", argument)
        if argument is not None
        else (f"extra {name!r}", extras.get(name, default))
    )
    number = _number(value)
    if number is None or not 0 <= number < float("inf"):
        raise WhatCountsConfigError(
            f"connection {conn_id!r}: {label} must be a number of seconds, 0 or more, got {value!r}"
        )
    return number


def _retries(name: str, value: Any, conn_id: str) -> int:
    number = _number(value)
    if number is None or not 0 <= number <= MAX_RETRIES_LIMIT or number != int(number):
        raise WhatCountsConfigError(
            f"connection {conn_id!r}: {name} must be a whole number from 0 to {MAX_RETRIES_LIMIT}, "
            f"got {value!r}"
        )
    return int(number)


def _number(value: Any) -> float | None:
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


def _api_version(value: Any, conn_id: str) -> str:
    if value is None:
        return DEFAULT_API_VERSION
    text = str(value).strip().lower()
    if not (text.startswith("v") and text[1:].isdigit() and text[1:].isascii()):
        raise WhatCountsConfigError(
            f"connection {conn_id!r}: extra 'api_version' must look like 'v1', got {value!r}"
        )
    return text


def _region(value: Any, conn_id: str) -> str:
    text = str(value).strip().upper()
    if text not in phonenumbers.SUPPORTED_REGIONS:
        raise WhatCountsConfigError(
            f"connection {conn_id!r}: extra 'default_region' must be a two-letter region code "
            f"such as 'US' or 'GB', got {value!r}"
        )
    return text


def _verify(value: Any, conn_id: str) -> bool | str:
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
        f"connection {conn_id!r}: extra 'verify' must be true, false or the path of an existing "
        f"CA bundle file, got {value!r}"
    )
