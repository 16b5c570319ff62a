"""WhatCountsHook: the Airflow connection, one pooled session, retries, and the API calls."""

from __future__ import annotations

import base64
import threading
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import quote

import requests
import tenacity
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ReadTimeoutError
from urllib3.util import Retry

from whatcounts_provider import __version__
from whatcounts_provider._compat import BaseHook, mask_secret
from whatcounts_provider.exceptions import (
    SmsSubscriberNotFoundError,
    WhatCountsApiError,
    WhatCountsAuthError,
    WhatCountsError,
    WhatCountsTransportError,
)
from whatcounts_provider.get_provider_info import DEFAULT_CONN_ID
from whatcounts_provider.hooks import _bulk, _form
from whatcounts_provider.hooks._answers import is_retryable, parse_answer, sanitize
from whatcounts_provider.hooks._settings import WhatCountsSettings, api_key_secrets, resolve_settings
from whatcounts_provider.hooks._throttle import Throttle
from whatcounts_provider.phone import mask_phone, normalize_phone, validate_sender_code

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from whatcounts_provider.hooks._bulk import StopOutcome

    _Wait = Callable[[tenacity.RetryCallState], float]

_TRANSIENT_ERRORS = (requests.ConnectionError, requests.Timeout)
_DEFAULT_POOL_SIZE = 10
_USER_AGENT = f"airflow-provider-whatcounts/{__version__} python-requests/{requests.__version__}"


class _Answer(NamedTuple):
    """The final answer to one logical request; ``gave_up_after`` is set when retries ran out."""

    response: requests.Response
    gave_up_after: int | None = None


class _Request(NamedTuple):
    """One logical request, as the retry callbacks see it (tenacity passes it as the call's argument)."""

    method: str
    url: str
    throttle: Throttle
    label: Callable[[], str]


class _RetryableAnswer(Exception):
    """Carries a transient answer (429, 5xx) through tenacity to the next attempt."""

    def __init__(self, response: requests.Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class WhatCountsHook(BaseHook):
    """
    Talk to the WhatCounts REST API with the credentials of an Airflow connection.

    The connection holds the Site URL (Host), the realm (Login) and the API password
    (Password); optional extras are ``api_version``, ``timeout``, ``max_retries``,
    ``default_region`` and ``verify``. One authenticated, pooled ``requests.Session`` is
    built per hook on first use. Transient failures (connection errors, timeouts, 429 and
    5xx other than WhatCounts' "no subscription" answer) are retried with capped exponential
    backoff and jitter, honouring ``Retry-After``.

    :param whatcounts_conn_id: the Airflow connection of type ``whatcounts``.
    :param timeout: read timeout in seconds; overrides the connection's ``timeout`` extra.
    :param max_retries: retries of transient failures; overrides the ``max_retries`` extra.
    """

    conn_name_attr = "whatcounts_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = "whatcounts"
    hook_name = "WhatCounts"

    #: First backoff in seconds; doubles per attempt up to ``retry_backoff_max``, plus jitter.
    retry_backoff_initial: float = 0.5
    retry_backoff_max: float = 30.0
    #: A ``Retry-After`` longer than this many seconds is capped (and the cap logged).
    retry_after_cap: float = 60.0

    def __init__(
        self,
        whatcounts_conn_id: str = default_conn_name,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> None:
        super().__init__()
        self.whatcounts_conn_id = whatcounts_conn_id
        self._timeout_arg = timeout
        self._max_retries_arg = max_retries
        self._pool_size = _DEFAULT_POOL_SIZE
        self._retries_lock = threading.Lock()
        self._retries = 0

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """Extra fields of the connection form on Airflow 2.11 (3.x reads provider info)."""
        return _form.connection_form_widgets()

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Hidden, relabelled and placeholder fields of the connection form on Airflow 2.11."""
        return _form.ui_field_behaviour()

    @cached_property
    def settings(self) -> WhatCountsSettings:
        """The connection resolved and validated once per hook (hook argument > extra > default)."""
        settings = resolve_settings(
            self.get_connection(self.whatcounts_conn_id),
            timeout=self._timeout_arg,
            max_retries=self._max_retries_arg,
        )
        # Airflow masks the password itself; the derived forms are ours to register.
        mask_secret(self._basic_token(settings))
        mask_secret(f"{settings.realm}:{settings.password}")
        for secret in api_key_secrets(settings):
            mask_secret(secret)
        return settings

    @property
    def retries(self) -> int:
        """How many retries this hook has made so far (all calls, all threads)."""
        return self._retries

    def get_conn(self) -> requests.Session:
        """Return the hook's authenticated, pooled session (built once)."""
        return self._session

    @cached_property
    def _session(self) -> requests.Session:
        settings = self.settings
        session = requests.Session()
        session.auth = (settings.realm, settings.password)
        session.headers.update(
            {
                "Accept": f"application/vnd.whatcounts-{settings.api_version}+json",
                "Content-Type": "application/json",
                "User-Agent": _USER_AGENT,
            }
        )
        if settings.api_key:  # a WhatCounts API Client other than the default one
            session.headers["x-api-key"] = settings.api_key
        session.verify = settings.verify
        if settings.verify is False:
            self.log.warning(
                "TLS certificate verification is OFF for connection %r (extra verify=false): "
                "the API password can be intercepted. Use a CA bundle path instead.",
                settings.conn_id,
            )
        self._mount_adapter(session, self._pool_size)
        return session

    def _mount_adapter(self, session: requests.Session, pool_size: int) -> None:
        # Retries happen in this hook (tenacity) so every attempt passes the throttle;
        # the adapter itself never retries. pool_block keeps workers on pooled connections.
        adapter = HTTPAdapter(pool_maxsize=pool_size, pool_block=True, max_retries=Retry(0, read=False))
        session.mount("https://", adapter)
        session.mount("http://", adapter)

    def _ensure_pool(self, workers: int) -> None:
        """Grow the connection pool so ``workers`` threads never wait for or discard a connection."""
        if workers > self._pool_size:
            self._pool_size = workers
            if "_session" in self.__dict__:
                stale = self._session.get_adapter("https://")
                self._mount_adapter(self._session, workers)
                stale.close()  # no request is in flight: the bulk run has not started

    def normalize_phone(self, phone: object) -> str:
        """Normalise ``phone`` using the connection's ``default_region`` extra."""
        return normalize_phone(phone, self.settings.default_region)

    def stop_sms_subscriber(self, phone: str | int, sender_code: str | int) -> dict[str, Any]:
        """
        Opt ``phone`` out of SMS from ``sender_code`` (``POST /sms/stopSubscriberSend/<phone>/<code>``).

        :param phone: the phone in any common format; normalised before anything is sent.
        :param sender_code: the SMS sender code (long code, short code or alphanumeric ID).
        :return: WhatCounts' JSON record of the stop (``phone`` in 11-digit form).
        :raises InvalidPhoneNumberError, InvalidSenderCodeError: bad input; nothing was sent.
        :raises SmsSubscriberNotFoundError: the phone has no subscription on that sender code.
        :raises WhatCountsAuthError, WhatCountsApiError, WhatCountsTransportError: see their docs.
        """
        code = validate_sender_code(sender_code)
        return self._stop(self.normalize_phone(phone), code, Throttle())

    def stop_sms_subscribers(
        self,
        phones: Iterable[str | int],
        sender_code: str | int,
        *,
        max_workers: int = 8,
        max_requests_per_second: float | None = None,
        missing_ok: bool = True,
    ) -> Iterator[StopOutcome]:
        """
        Opt many phones out of one sender code concurrently; yield one outcome per distinct phone.

        Inputs are validated eagerly: every phone is normalised and de-duplicated before the
        first request, invalid ones come out first as ``invalid`` outcomes and are never sent.
        Valid phones are then stopped exactly once each (plus retries) by ``max_workers``
        threads sharing this hook's session, with at most ``2 * max_workers`` in flight.

        :param phones: phones in any format accepted by :meth:`stop_sms_subscriber`.
        :param sender_code: the SMS sender code.
        :param max_workers: concurrent requests, 1 to 64.
        :param max_requests_per_second: cap on attempts per second across all workers
            (retries included); ``None`` for no cap. A ``Retry-After`` pauses all workers.
        :param missing_ok: if False, a phone without a subscription is a ``failed`` outcome
            instead of ``not_subscribed``.
        :raises WhatCountsAuthError: stops the whole run; every other phone would fail alike.
        """
        code = validate_sender_code(sender_code)
        workers = _bulk.check_workers(max_workers)
        throttle = Throttle(max_requests_per_second)
        valid, invalid = _bulk.partition(phones, self.normalize_phone)
        self._ensure_pool(workers)

        def stop_one(phone: str) -> StopOutcome:
            try:
                return _bulk.stopped(phone, self._stop(phone, code, throttle))
            except SmsSubscriberNotFoundError as exc:
                return _bulk.not_subscribed(phone, exc, missing_ok=missing_ok)
            except WhatCountsAuthError:
                raise
            except WhatCountsError as exc:
                return _bulk.failed(phone, exc)

        return _bulk.run(invalid, valid, stop_one, workers)

    def test_connection(self) -> tuple[bool, str]:
        """Check Site URL and credentials with a read-only ``GET /rest/lists``; never raises.

        Airflow's Test button tests a copy of the form under a random connection id; the
        message names the connection the user typed instead, when it can be found.
        """
        ok, message = self._test_connection()
        typed = _form.form_connection_id(self.whatcounts_conn_id)
        if typed is not None:
            message = message.replace(f"connection {self.whatcounts_conn_id!r}", f"connection {typed!r}")
            if not ok and _form.EMPTY_CREDENTIAL_TEXT in message:
                message += f" ({_form.NOT_SENT_HINT})"
        return ok, message

    def _test_connection(self) -> tuple[bool, str]:
        named = f"connection {self.whatcounts_conn_id!r}"
        try:
            lists = self._parse(self._call("GET", "/lists", label=lambda: "GET /rest/lists", attempts=1))
        except WhatCountsError as exc:
            text = str(exc)  # settings and auth errors already name the connection: once is enough
            return False, text if named in text else f"Could not use {named}: {text}"
        except Exception as exc:
            return False, f"Could not use {named}: Unexpected {type(exc).__name__}: {sanitize(str(exc))}"
        count = len(lists) if isinstance(lists, list) else "?"
        return (
            True,
            f"Connected to {self.settings.base_url} as realm {self.settings.realm!r} ({count} lists).",
        )

    def _stop(self, phone: str, code: str, throttle: Throttle) -> dict[str, Any]:
        """The one request path of single and bulk stops: ``phone`` and ``code`` are already valid."""
        path = f"/sms/stopSubscriberSend/{quote(phone, safe='')}/{quote(code, safe='')}"
        body = self._parse(
            self._call("POST", path, label=partial(_stop_label, phone, code), throttle=throttle)
        )
        if not isinstance(body, dict):
            raise WhatCountsApiError(f"expected a JSON object, got {type(body).__name__}", status_code=200)
        # DEBUG: a bulk run of 100,000 phones must not write 100,000 task-log lines.
        self.log.debug("Stopped SMS to %s from sender code %s", mask_phone(phone), code)
        return body

    def _parse(self, answer: _Answer) -> Any:
        settings = self.settings
        return parse_answer(
            answer.response,
            conn_id=settings.conn_id,
            realm=settings.realm,
            secrets=self._secrets(settings),
            gave_up_after=answer.gave_up_after,
        )

    def _call(
        self,
        method: str,
        path: str,
        *,
        label: Callable[[], str],
        throttle: Throttle | None = None,
        attempts: int | None = None,
    ) -> _Answer:
        """Send one logical request, retrying transient failures; return the final answer.

        :param label: builds the masked description used in retry logs and errors (only then).
        :param attempts: overrides the connection's retry budget (``test_connection`` uses 1).
        """
        request = _Request(method, self.settings.base_url + path, throttle or Throttle(), label)
        retrying = self._retrying if attempts is None else self._retry_policy(attempts)
        try:
            response = retrying(self._attempt, request)
        except _RetryableAnswer as exc:
            return _Answer(exc.response, gave_up_after=retrying.statistics.get("attempt_number", 1))
        except _TRANSIENT_ERRORS as exc:
            tries = retrying.statistics.get("attempt_number", 1)
            raise WhatCountsTransportError(
                f"{label()}: {self._describe(exc)} after {tries} attempt(s)"
            ) from None
        return _Answer(response)

    def _attempt(self, request: _Request) -> requests.Response:
        """One HTTP exchange; a transient answer is raised so that tenacity retries it."""
        settings = self.settings
        request.throttle.acquire()
        # verify is passed per request: requests would otherwise let REQUESTS_CA_BUNDLE or
        # CURL_CA_BUNDLE from the environment override the connection's setting.
        response = self.get_conn().request(
            request.method,
            request.url,
            timeout=(settings.connect_timeout, settings.read_timeout),
            allow_redirects=False,
            verify=settings.verify,
        )
        if is_retryable(response):
            raise _RetryableAnswer(response)
        return response

    @cached_property
    def _retrying(self) -> tenacity.Retrying:
        """The connection's retry policy, built once: tenacity keeps per-call state thread-local."""
        return self._retry_policy(self.settings.max_retries + 1)

    def _retry_policy(self, attempts: int) -> tenacity.Retrying:
        backoff = tenacity.wait_exponential(
            multiplier=self.retry_backoff_initial, max=self.retry_backoff_max
        ) + tenacity.wait_random(0, self.retry_backoff_initial)
        return tenacity.Retrying(
            stop=tenacity.stop_after_attempt(attempts),
            wait=partial(self._wait, backoff),
            retry=tenacity.retry_if_exception(_is_transient),
            before_sleep=self._log_retry,
            reraise=True,
        )

    def _wait(self, backoff: _Wait, state: tenacity.RetryCallState) -> float:
        retry_after = _retry_after(state)
        if retry_after is None:
            return float(backoff(state))
        delay = min(retry_after, self.retry_after_cap)
        _request_of(state).throttle.pause(delay)  # slow every worker, not only the one that was told
        return delay

    def _log_retry(self, state: tenacity.RetryCallState) -> None:
        with self._retries_lock:
            self._retries += 1
        exc = state.outcome.exception() if state.outcome else None
        reason = (
            f"HTTP {exc.response.status_code}" if isinstance(exc, _RetryableAnswer) else self._describe(exc)
        )
        retry_after = _retry_after(state)
        capped = ""
        if retry_after is not None and retry_after > self.retry_after_cap:
            capped = f" (Retry-After {retry_after:g} s capped to {self.retry_after_cap:g} s)"
        self.log.warning(
            "%s: %s on attempt %d; retrying in %.2f s%s",
            _request_of(state).label(),
            reason,
            state.attempt_number,
            state.upcoming_sleep,
            capped,
        )

    def _describe(self, exc: BaseException | None) -> str:
        """Say what went wrong in transport, and where, without the URL path (it holds the phone)."""
        settings = self.settings
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

    @staticmethod
    def _basic_token(settings: WhatCountsSettings) -> str:
        return base64.b64encode(f"{settings.realm}:{settings.password}".encode()).decode()

    def _secrets(self, settings: WhatCountsSettings) -> tuple[str, ...]:
        return (settings.password, self._basic_token(settings), *api_key_secrets(settings))


def _stop_label(phone: str, code: str) -> str:
    return f"STOP for phone {mask_phone(phone)} on sender code {code}"


def _request_of(state: tenacity.RetryCallState) -> _Request:
    request: _Request = state.args[0]
    return request


def _is_transient(exc: BaseException) -> bool:
    """Worth another attempt: a retryable answer or a network failure, but not a TLS failure."""
    if isinstance(exc, requests.exceptions.SSLError):
        return False  # a certificate problem does not fix itself between attempts
    return isinstance(exc, (_RetryableAnswer, *_TRANSIENT_ERRORS))


def _retry_after(state: tenacity.RetryCallState) -> float | None:
    """Seconds asked for by the last answer's ``Retry-After`` header, if it had a valid one."""
    exc = state.outcome.exception() if state.outcome else None
    if not isinstance(exc, _RetryableAnswer):
        return None
    header = exc.response.headers.get("Retry-After")
    if not header:
        return None
    try:
        return max(0.0, float(Retry().parse_retry_after(header)))
    except Exception:
        return None


def _is_read_timeout(exc: BaseException | None) -> bool:
    """A body that stalls after the headers surfaces as ConnectionError(ReadTimeoutError)."""
    return isinstance(exc, requests.ConnectionError) and any(
        isinstance(arg, ReadTimeoutError) for arg in exc.args
    )
