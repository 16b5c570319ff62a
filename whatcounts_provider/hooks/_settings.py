"""Resolve a WhatCounts Airflow connection into validated settings.

Precedence for every tunable: hook argument > connection extra > default. Extras given in
a connection URI arrive as strings and are coerced here; anything unusable raises
:class:`WhatCountsConfigError` naming the field, before a request is built.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import logging
import os
from typing import TYPE_CHECKING, Any, TypeVar, cast
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

if TYPE_CHECKING:
    from collections.abc import Callable

_T = TypeVar("_T")

log = logging.getLogger(__name__)

__all__ = ["WhatCountsSettings", "api_key_secrets", "resolve_settings", "rest_base_url"]

MAX_RETRIES_LIMIT = 20

# Tuning knobs accepted as extras (and hook arguments) but kept off the connection form:
# few users need them, and every form field is one more thing to get wrong.
RETRY_EXTRAS = ("retry_backoff_initial", "retry_backoff_max", "retry_after_max")

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}
# Airflow 2.x forms stored custom fields with this prefix; both spellings are accepted.
_PREFIX = "extra__whatcounts__"
# What Airflow 2.11's Edit page sends for a saved sensitive extra instead of its value.
_SENSITIVE_PLACEHOLDER = "RATHER_LONG_SENSITIVE_FIELD_PLACEHOLDER"


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
    # Every field is checked, and every problem reported at once: a form user fixes them in one go.
    problems = _Problems(conn_id)
    realm = (conn.login or "").strip()
    if not realm:
        problems.add(f"connection {conn_id!r}: Login (the WhatCounts realm) is empty")
    if not conn.password:
        problems.add(f"connection {conn_id!r}: Password (the realm's API password) is empty")
    base_url = problems.check(rest_base_url, conn.host, conn.port, conn_id=conn_id)
    api_version = problems.check(_api_version, extras.get("api_version"), conn_id)
    if timeout is not None:
        read_timeout = problems.check(_seconds, "timeout argument", timeout, conn_id)
    else:
        raw_timeout = extras.get("timeout", DEFAULT_READ_TIMEOUT)
        read_timeout = problems.check(_seconds, _extra_name("timeout"), raw_timeout, conn_id)
    if max_retries is not None:
        retries = problems.check(_retries, "max_retries argument", max_retries, conn_id)
    else:
        raw_retries = extras.get("max_retries", DEFAULT_MAX_RETRIES)
        retries = problems.check(_retries, _extra_name("max_retries"), raw_retries, conn_id)
    region = problems.check(_region, extras.get("default_region", DEFAULT_REGION), conn_id)
    verify = problems.check(_verify, extras.get("verify", True), conn_id)
    api_key = problems.check(_api_key, extras.get("api_key"), conn_id)
    waits = {
        name: problems.check(_wait_seconds, name, argument, extras, default, conn_id)
        for name, argument, default in (
            ("retry_backoff_initial", retry_backoff_initial, DEFAULT_RETRY_BACKOFF_INITIAL),
            ("retry_backoff_max", retry_backoff_max, DEFAULT_RETRY_BACKOFF_MAX),
            ("retry_after_max", retry_after_max, DEFAULT_RETRY_AFTER_MAX),
        )
    }
    problems.raise_if_any()  # so none of the values below is None (the casts are for mypy)
    return WhatCountsSettings(
        conn_id=conn_id,
        base_url=cast("str", base_url),
        realm=realm,
        password=conn.password,
        api_version=cast("str", api_version),
        read_timeout=cast("float", read_timeout),
        max_retries=cast("int", retries),
        default_region=cast("str", region),
        verify=cast("bool | str", verify),
        api_key=api_key,
        retry_backoff_initial=cast("float", waits["retry_backoff_initial"]),
        retry_backoff_max=cast("float", waits["retry_backoff_max"]),
        retry_after_max=cast("float", waits["retry_after_max"]),
    )


class _Problems:
    """Collects configuration problems so that one error can name all of them."""

    def __init__(self, conn_id: str) -> None:
        self._prefix = f"connection {conn_id!r}: "
        self._conn_id = conn_id
        self._items: list[str] = []

    def add(self, message: str) -> None:
        self._items.append(message.removeprefix(self._prefix))

    def check(self, parse: Callable[..., _T], *args: Any, **kwargs: Any) -> _T | None:
        try:
            return parse(*args, **kwargs)
        except WhatCountsConfigError as exc:
            self.add(str(exc))
            return None

    def raise_if_any(self) -> None:
        if len(self._items) == 1:
            raise WhatCountsConfigError(self._prefix + self._items[0])
        if self._items:
            listed = "; ".join(f"({n}) {item}" for n, item in enumerate(self._items, 1))
            raise WhatCountsConfigError(
                f"connection {self._conn_id!r} has {len(self._items)} invalid settings: {listed}"
            )


def _extra_name(name: str) -> str:
    """How an extra is named in errors: its form label, then its key for JSON/URI users."""
    return f"{CONN_FIELDS[name]['label']} (extra {name!r})"


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
            f"connection {conn_id!r}: {_extra_name('api_version')} must look like 'v1', got {value!r}"
        )
    return text


def _region(value: Any, conn_id: str) -> str:
    text = str(value).strip().upper()
    if text not in phonenumbers.SUPPORTED_REGIONS:
        raise WhatCountsConfigError(
            f"connection {conn_id!r}: {_extra_name('default_region')} must be a two-letter region code "
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
        f"connection {conn_id!r}: {_extra_name('verify')} must be true, false or the path of an existing "
        f"CA bundle file, got {value!r}"
    )


def _api_key(value: Any, conn_id: str) -> str | None:
    """The ``x-api-key`` header value for an API client key, or None when there is none.

    WhatCounts documents the header as ``x-api-key: [apiClientName:apiClientAuth]``, "a Base64
    string", like Basic auth's ``[realmName:apiPassword]``: the pair is sent Base64-encoded.
    The extra takes the pair as written, or already encoded. The value never enters a message.
    """
    if value is None:
        return None
    where = f"connection {conn_id!r}: {_extra_name('api_key')}"
    text = str(value).strip()
    if text == _SENSITIVE_PLACEHOLDER:
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


def api_key_secrets(settings: WhatCountsSettings) -> tuple[str, ...]:
    """The header value, the ``name:auth`` pair and the auth part of an API client key, to mask."""
    if not settings.api_key:
        return ()
    pair = base64.b64decode(settings.api_key).decode()
    return (settings.api_key, pair, pair.partition(":")[2])
