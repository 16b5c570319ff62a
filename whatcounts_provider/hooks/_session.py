"""The hook's HTTP session, and what to say when a request got no answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ReadTimeoutError
from urllib3.util import Retry

from whatcounts_provider import __version__
from whatcounts_provider.hooks._bulk import MAX_WORKERS_LIMIT

if TYPE_CHECKING:
    from whatcounts_provider.types import WhatCountsSettings

USER_AGENT = f"airflow-provider-whatcounts/{__version__} python-requests/{requests.__version__}"


def build_session(settings: WhatCountsSettings) -> requests.Session:
    """An authenticated session with one connection pool for every worker of any run."""
    session = requests.Session()
    session.auth = (settings.realm, settings.password)
    session.headers.update(
        {
            "Accept": f"application/vnd.whatcounts-{settings.api_version}+json",
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
        }
    )
    if settings.api_key:  # a WhatCounts API Client other than the default one
        session.headers["x-api-key"] = settings.api_key
    session.verify = settings.verify
    # Sized once for the largest allowed worker count: urllib3 opens connections only as
    # workers need them (16 workers use at most 16), and nothing is swapped mid-run.
    # Retries happen in the hook (RetryPolicy) so every attempt passes the throttle; the
    # adapter itself never retries. pool_block keeps workers on pooled connections.
    adapter = HTTPAdapter(pool_maxsize=MAX_WORKERS_LIMIT, pool_block=True, max_retries=Retry(0, read=False))
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def describe_transport_error(exc: BaseException, settings: WhatCountsSettings) -> str:
    """Say what went wrong in transport, and where, without the URL path (it holds the phone)."""
    from whatcounts_provider.hooks import _form

    if isinstance(exc, requests.exceptions.SSLError) and _form.answered_in_plain_http(exc):
        return _form.plain_http_hint(settings.base_url)
    if isinstance(exc, requests.exceptions.SSLError):
        return (
            f"TLS verification failed for {settings.base_url} (SSLError); check the certificate "
            "or point the connection's 'verify' extra at your CA bundle"
        )
    if isinstance(exc, requests.Timeout) or _is_read_timeout(exc):
        kind = "connecting" if isinstance(exc, requests.ConnectTimeout) else "waiting for the answer"
        limit = settings.connect_timeout if kind == "connecting" else settings.read_timeout
        return f"timed out after {limit:g} s {kind} from {settings.base_url}"
    return f"connection to {settings.base_url} failed ({type(exc).__name__})"


def _is_read_timeout(exc: BaseException) -> bool:
    """A body that stalls after the headers surfaces as ConnectionError(ReadTimeoutError)."""
    return isinstance(exc, requests.ConnectionError) and any(
        isinstance(arg, ReadTimeoutError) for arg in exc.args
    )
