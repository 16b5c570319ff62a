"""Resolve a WhatCounts Airflow connection into validated settings.

Precedence for every tunable: hook argument > connection extra > default. Each extra is read by
its parser in :mod:`whatcounts_provider.hooks._extras`; anything unusable raises
:class:`WhatCountsConfigError` naming the field by its form label, before a request is built,
and every problem of a connection is reported at once.
"""

from __future__ import annotations

import base64
import ipaddress
from typing import TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import urlsplit

from whatcounts_provider.exceptions import WhatCountsConfigError
from whatcounts_provider.hooks import _extras
from whatcounts_provider.hooks._extras import MAX_RETRIES_LIMIT, RETRY_EXTRAS
from whatcounts_provider.types import (
    DEFAULT_BREAKER_FAILURES,
    DEFAULT_BREAKER_SECONDS,
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

__all__ = [
    "MAX_RETRIES_LIMIT",
    "RETRY_EXTRAS",
    "WhatCountsSettings",
    "api_key_secrets",
    "resolve_settings",
    "rest_base_url",
]

#: How the hook's messages name the standard fields: the form's label, then Airflow's name.
REALM = "Realm (Login)"
API_PASSWORD = "API password (Password)"  # noqa: S105 - a field's name, not a password
SITE_URL = "Site URL (Host)"


def resolve_settings(
    conn: Any,
    *,
    timeout: float | None = None,
    max_retries: int | None = None,
    retry_backoff_initial: float | None = None,
    retry_backoff_max: float | None = None,
    retry_after_max: float | None = None,
    breaker_failures: int | None = None,
    breaker_seconds: float | None = None,
) -> WhatCountsSettings:
    """Build :class:`WhatCountsSettings` from an Airflow ``Connection`` and hook arguments.

    :param conn: the Airflow connection (``host``, ``login``, ``password``, ``port``, extras).
    :param timeout: read timeout in seconds from the hook; overrides the ``timeout`` extra.
    :param max_retries: retries from the hook; overrides the ``max_retries`` extra.
    :param retry_backoff_initial: first backoff in seconds; overrides the extra of that name.
    :param retry_backoff_max: longest backoff in seconds; overrides the extra of that name.
    :param retry_after_max: cap on a ``Retry-After`` wait; overrides the extra of that name.
    :param breaker_failures: failed attempts in a row that open the circuit breaker (0: off);
        overrides the extra of that name.
    :param breaker_seconds: how long those failures must have lasted, at least; overrides the
        extra of that name.
    """
    conn_id = conn.conn_id
    extras = _extras.known_extras(conn)
    # Every field is checked, and every problem reported at once: a form user fixes them in one go.
    problems = _Problems(conn_id)
    realm = (conn.login or "").strip()
    if not realm:
        problems.add(f"{REALM} is empty; set it to your WhatCounts realm")
    if not conn.password:
        problems.add(f"{API_PASSWORD} is empty; set it to the realm's API password")
    base_url = problems.check(rest_base_url, conn.host, conn.port, conn_id=conn_id)
    api_version = problems.check(_extras.api_version, extras.get("api_version"), conn_id)
    if timeout is not None:
        read_timeout = problems.check(_extras.seconds, "timeout argument", timeout, conn_id)
    else:
        raw_timeout = extras.get("timeout", DEFAULT_READ_TIMEOUT)
        read_timeout = problems.check(_extras.seconds, _extras.extra_name("timeout"), raw_timeout, conn_id)
    if max_retries is not None:
        retries = problems.check(_extras.retries, "max_retries argument", max_retries, conn_id)
    else:
        raw_retries = extras.get("max_retries", DEFAULT_MAX_RETRIES)
        retries = problems.check(_extras.retries, _extras.extra_name("max_retries"), raw_retries, conn_id)
    region = problems.check(_extras.region, extras.get("default_region", DEFAULT_REGION), conn_id)
    verify = problems.check(_extras.verify, extras.get("verify", True), conn_id)
    api_key = problems.check(_extras.api_key, extras.get("api_key"), conn_id)
    sender_codes = problems.check(_extras.sender_codes, extras.get("sender_codes"), conn_id)
    waits = {
        name: problems.check(_extras.wait_seconds, name, argument, extras, default, conn_id)
        for name, argument, default in (
            ("retry_backoff_initial", retry_backoff_initial, DEFAULT_RETRY_BACKOFF_INITIAL),
            ("retry_backoff_max", retry_backoff_max, DEFAULT_RETRY_BACKOFF_MAX),
            ("retry_after_max", retry_after_max, DEFAULT_RETRY_AFTER_MAX),
            ("breaker_seconds", breaker_seconds, DEFAULT_BREAKER_SECONDS),
        )
    }
    failures = problems.check(
        _extras.failure_count, "breaker_failures", breaker_failures, extras, DEFAULT_BREAKER_FAILURES, conn_id
    )
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
        sender_codes=cast("tuple[str, ...]", sender_codes),
        retry_backoff_initial=cast("float", waits["retry_backoff_initial"]),
        retry_backoff_max=cast("float", waits["retry_backoff_max"]),
        retry_after_max=cast("float", waits["retry_after_max"]),
        breaker_failures=cast("int", failures),
        breaker_seconds=cast("float", waits["breaker_seconds"]),
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


def rest_base_url(host: str | None, port: int | None, *, conn_id: str) -> str:
    """Turn the connection's Site URL into the REST base, ``<scheme>://<site>[:port][/prefix]/rest``.

    No scheme means https. Plain http is refused unless the host is loopback (the emulator):
    Basic credentials would otherwise cross the network in clear text.
    """
    raw = (host or "").strip()
    if not raw:
        raise WhatCountsConfigError(
            f"connection {conn_id!r}: {SITE_URL} is empty; set it to your WhatCounts site, "
            "e.g. https://mail.example.com"
        )
    parts = urlsplit(raw if "://" in raw else f"https://{raw}")
    # Checked first: every later message quotes the host, which must not carry a password.
    if parts.username is not None or parts.password is not None:
        raise WhatCountsConfigError(
            f"connection {conn_id!r}: {SITE_URL} must not contain credentials; "
            f"put the realm in {REALM} and the API password in {API_PASSWORD}"
        )
    where = f"connection {conn_id!r}: {SITE_URL} {raw!r}"
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


def api_key_secrets(settings: WhatCountsSettings) -> tuple[str, ...]:
    """The header value, the ``name:auth`` pair and the auth part of an API client key, to mask."""
    if not settings.api_key:
        return ()
    pair = base64.b64decode(settings.api_key).decode()
    return (settings.api_key, pair, pair.partition(":")[2])
