"""WhatCountsHook: the Airflow connection, one pooled session, retries, and the API calls."""

from __future__ import annotations

import base64
import threading
import time
from dataclasses import replace
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import requests

from whatcounts_provider._compat import BaseHook, mask_secret
from whatcounts_provider.exceptions import (
    SmsSubscriberNotFoundError,
    WhatCountsApiError,
    WhatCountsAuthError,
    WhatCountsCancelledError,
    WhatCountsError,
    WhatCountsTransportError,
)
from whatcounts_provider.get_provider_info import DEFAULT_CONN_ID
from whatcounts_provider.hooks import _bulk, _form
from whatcounts_provider.hooks._answers import parse_answer, sanitize
from whatcounts_provider.hooks._retry import Answer, RetryPolicy, Tally
from whatcounts_provider.hooks._session import build_session, describe_transport_error
from whatcounts_provider.hooks._settings import api_key_secrets, resolve_settings
from whatcounts_provider.hooks._throttle import Throttle
from whatcounts_provider.phone import mask_phone, normalize_phone, validate_sender_code
from whatcounts_provider.types import StopOutcome, WhatCountsSettings, json_safe

if TYPE_CHECKING:
    from collections.abc import Callable, Container, Iterable, Iterator

    from whatcounts_provider.types import Status


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
    :param retry_backoff_initial: first backoff in seconds (default 0.5; doubles per retry, plus
        jitter); overrides the extra of the same name.
    :param retry_backoff_max: longest backoff in seconds (default 30); overrides the extra.
    :param retry_after_max: longest ``Retry-After`` wait honoured, in seconds (default 60; longer
        ones are capped and logged); overrides the extra.
    """

    conn_name_attr = "whatcounts_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = "whatcounts"
    hook_name = "WhatCounts"

    def __init__(
        self,
        whatcounts_conn_id: str = default_conn_name,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        retry_backoff_initial: float | None = None,
        retry_backoff_max: float | None = None,
        retry_after_max: float | None = None,
    ) -> None:
        super().__init__()
        self.whatcounts_conn_id = whatcounts_conn_id
        self._overrides: dict[str, Any] = {
            "timeout": timeout,
            "max_retries": max_retries,
            "retry_backoff_initial": retry_backoff_initial,
            "retry_backoff_max": retry_backoff_max,
            "retry_after_max": retry_after_max,
        }
        self._cancelled = threading.Event()

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
        settings = resolve_settings(self.get_connection(self.whatcounts_conn_id), **self._overrides)
        # Airflow masks the password itself; the derived forms are ours to register.
        mask_secret(self._basic_token(settings))
        mask_secret(f"{settings.realm}:{settings.password}")
        for secret in api_key_secrets(settings):
            mask_secret(secret)
        return settings

    @property
    def retries(self) -> int:
        """How many retries this hook has made so far (all calls, all threads)."""
        policy: RetryPolicy | None = self.__dict__.get("_retry_policy")
        return policy.retries if policy else 0

    @cached_property
    def _retry_policy(self) -> RetryPolicy:
        """The connection's retry policy, built once and shared by every call and thread."""
        return RetryPolicy.from_settings(
            self.settings, sleep=self._sleep, log=self.log, describe=self._describe, cancelled=self._cancelled
        )

    # The hook's only clock and sleep (throttle waits, retry waits): tests replace these two.
    @staticmethod
    def _now() -> float:
        return time.monotonic()

    def _sleep(self, seconds: float) -> None:
        """Wait, unless :meth:`cancel` is called meanwhile."""
        if self._cancelled.wait(seconds):
            raise WhatCountsCancelledError(f"connection {self.whatcounts_conn_id!r}: cancelled while waiting")

    def _throttle(self, rate: float | None = None) -> Throttle:
        return Throttle(rate, clock=self._now, sleep=self._sleep)

    def get_conn(self) -> requests.Session:
        """Return the hook's authenticated, pooled session (built once)."""
        return self._session

    @cached_property
    def _session(self) -> requests.Session:
        settings = self.settings
        if settings.verify is False:
            self.log.warning(
                "TLS certificate verification is OFF for connection %r (extra verify=false): "
                "the API password can be intercepted. Use a CA bundle path instead.",
                settings.conn_id,
            )
        return build_session(settings)

    def cancel(self) -> None:
        """Stop this hook's work, from any thread (an operator's ``on_kill``).

        A bulk run stops reading and sending, abandons requests in flight and raises
        :class:`WhatCountsCancelledError` within a fraction of a second; a retry or throttle
        wait ends at once. A cancelled hook stays cancelled: use a new one for new work.
        """
        self._cancelled.set()

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
        response = self.stop_sms_subscriber_outcome(phone, sender_code, missing_ok=False).response
        assert response is not None  # missing_ok=False: "stopped" or an exception
        return response

    def stop_sms_subscriber_outcome(
        self,
        phone: object,
        sender_code: object,
        *,
        missing_ok: bool = True,
        already_done: Container[tuple[str, str]] = (),
    ) -> StopOutcome:
        """
        Opt one phone out like :meth:`stop_sms_subscriber`, and say what was done, with what.

        The inputs are validated and normalised here, once; the outcome carries the normalised
        ``phone`` and ``sender_code``, the ``status`` (``stopped`` or ``not_subscribed``),
        WhatCounts' record and the number of HTTP attempts.

        :param missing_ok: if True, no subscription is the outcome ``not_subscribed``; if False
            it raises :class:`SmsSubscriberNotFoundError`.
        :param already_done: normalised ``(phone, sender_code)`` pairs an earlier try honoured:
            such a pair is the outcome ``already_done`` and is not sent.
        :raises InvalidPhoneNumberError, InvalidSenderCodeError: bad input; nothing was sent.
        :raises WhatCountsAuthError, WhatCountsApiError, WhatCountsTransportError: see their docs.
        """
        code = validate_sender_code(sender_code)
        normalised = self.normalize_phone(phone)
        tally = Tally()
        given = json_safe(phone)
        if (normalised, code) in already_done:
            return StopOutcome(normalised, "already_done", input=given, sender_code=code)
        try:
            response = self._stop(normalised, code, self._throttle(), tally)
        except SmsSubscriberNotFoundError:
            if not missing_ok:
                raise
            return StopOutcome(
                normalised, "not_subscribed", input=given, sender_code=code, attempts=tally.attempts
            )
        return StopOutcome(
            normalised, "stopped", response=response, input=given, sender_code=code, attempts=tally.attempts
        )

    def stop_sms_pairs(
        self,
        pairs: Iterable[tuple[object, object]],
        *,
        max_workers: int = 8,
        max_requests_per_second: float | None = None,
        missing_ok: bool = True,
        already_done: Container[tuple[str, str]] = (),
    ) -> Iterator[StopOutcome]:
        """
        Opt many (phone, sender code) pairs out concurrently; yield one outcome per input.

        ``pairs`` is read lazily (a generator over a file of millions of rows is fine): each
        input is validated as it is read, and memory grows with the distinct pairs, not the
        input. A pair is sent once however often it repeats (later ones are ``duplicate``;
        the same phone under two codes is two stops); a bad phone or sender code is an
        ``invalid`` outcome for that input only. ``max_workers`` threads share this hook's
        session and one rate cap, with at most ``2 * max_workers`` pairs in flight. Outcomes
        come as they complete, not in input order: each carries its ``index``.

        :param pairs: ``(phone, sender_code)`` items, of any types; anything else is ``invalid``.
        :param max_workers: concurrent requests, 1 to 64.
        :param max_requests_per_second: cap on attempts per second across all workers and
            sender codes (retries included); ``None`` for no cap. A ``Retry-After`` pauses all.
        :param missing_ok: if False, a phone without a subscription is a ``failed`` outcome
            (with ``permanent=True``) instead of ``not_subscribed``.
        :param already_done: normalised ``(phone, sender_code)`` pairs an earlier try already
            honoured (a set of tuples): reported as ``already_done`` and never sent.
        :raises WhatCountsAuthError: stops the whole run; every other pair would fail alike.
        :raises WhatCountsConfigError: the connection is unusable; raised before anything is read.
        :raises WhatCountsCancelledError: :meth:`cancel` was called.
        """
        items = _bulk.check_inputs(pairs, "pairs", "(phone, sender_code) pairs")
        workers = _bulk.check_workers(max_workers)
        throttle = self._throttle(max_requests_per_second)
        # Built now, before the worker threads share them (and so config errors come first).
        self._retry_policy  # noqa: B018
        self.get_conn()

        def stop_one(job: _bulk.Job) -> StopOutcome:
            index, given, phone, code = job
            tally = Tally()
            permanent = False
            try:
                response = self._stop(phone, code, throttle, tally)
                status: Status = "stopped"
                error = None
            except SmsSubscriberNotFoundError as exc:
                response, status = None, "not_subscribed" if missing_ok else "failed"
                error, permanent = None if missing_ok else str(exc), not missing_ok
            except (WhatCountsAuthError, WhatCountsCancelledError):
                raise
            except WhatCountsError as exc:
                response, status, error = None, "failed", str(exc)
            return StopOutcome(
                phone,
                status,
                error=error,
                response=response,
                index=index,
                input=given,
                sender_code=code,
                attempts=tally.attempts,
                permanent=permanent,
            )

        sorter = _bulk.Sorter(self.normalize_phone, already_done)
        return _bulk.run(items, sorter, stop_one, workers=workers, cancelled=self._cancelled)

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

        :meth:`stop_sms_pairs` with every phone paired with ``sender_code``, checked first (an
        invalid code raises before anything is read or sent). Repeats of a phone yield nothing;
        an ``invalid`` outcome's ``phone`` is the input as given.

        :param phones: phones in any format accepted by :meth:`stop_sms_subscriber`.
        :param sender_code: the SMS sender code.
        :param max_workers: concurrent requests, 1 to 64.
        :param max_requests_per_second: cap on attempts per second across all workers
            (retries included); ``None`` for no cap. A ``Retry-After`` pauses all workers.
        :param missing_ok: if False, a phone without a subscription is a ``failed`` outcome
            instead of ``not_subscribed``.
        :raises InvalidSenderCodeError: ``sender_code`` is invalid; nothing was sent.
        :raises WhatCountsAuthError: stops the whole run; every other phone would fail alike.
        """
        code = validate_sender_code(sender_code)
        raw = _bulk.check_phone_list(phones)
        outcomes = self.stop_sms_pairs(
            ((phone, code) for phone in raw),
            max_workers=max_workers,
            max_requests_per_second=max_requests_per_second,
            missing_ok=missing_ok,
        )
        return (
            replace(outcome, phone=outcome.input) if outcome.status == "invalid" else outcome
            for outcome in outcomes
            if outcome.status != "duplicate"
        )

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

    def _stop(self, phone: str, code: str, throttle: Throttle, tally: Tally) -> dict[str, Any]:
        """The one request path of single and bulk stops: ``phone`` and ``code`` are already valid."""
        path = f"/sms/stopSubscriberSend/{quote(phone, safe='')}/{quote(code, safe='')}"
        body = self._parse(
            self._call("POST", path, label=partial(_stop_label, phone, code), throttle=throttle, tally=tally)
        )
        if not isinstance(body, dict):
            raise WhatCountsApiError(f"expected a JSON object, got {type(body).__name__}", status_code=200)
        # DEBUG: a bulk run of 100,000 phones must not write 100,000 task-log lines.
        self.log.debug("Stopped SMS to %s from sender code %s", mask_phone(phone), code)
        return body

    def _parse(self, answer: Answer) -> Any:
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
        tally: Tally | None = None,
        attempts: int | None = None,
    ) -> Answer:
        """Send one logical request, retrying transient failures; return the final answer.

        :param label: builds the masked description used in retry logs and errors (only then).
        :param tally: counts the HTTP attempts of this request, retries included.
        :param attempts: overrides the connection's retry budget (``test_connection`` uses 1).
        """
        settings = self.settings
        url = settings.base_url + path
        tally = tally or Tally()

        def attempt() -> requests.Response:
            if self._cancelled.is_set():
                raise WhatCountsCancelledError(f"{label()}: cancelled before it was sent")
            # verify is passed per request: requests would otherwise let REQUESTS_CA_BUNDLE or
            # CURL_CA_BUNDLE from the environment override the connection's setting.
            return self.get_conn().request(
                method,
                url,
                timeout=(settings.connect_timeout, settings.read_timeout),
                allow_redirects=False,
                verify=settings.verify,
            )

        try:
            return self._retry_policy.send(
                attempt, throttle=throttle or self._throttle(), label=label, tally=tally, attempts=attempts
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise WhatCountsTransportError(
                f"{label()}: {self._describe(exc)} after {tally.attempts} attempt(s)"
            ) from None

    def _describe(self, exc: BaseException) -> str:
        return describe_transport_error(exc, self.settings)

    @staticmethod
    def _basic_token(settings: WhatCountsSettings) -> str:
        return base64.b64encode(f"{settings.realm}:{settings.password}".encode()).decode()

    def _secrets(self, settings: WhatCountsSettings) -> tuple[str, ...]:
        return (settings.password, self._basic_token(settings), *api_key_secrets(settings))


def _stop_label(phone: str, code: str) -> str:
    return f"STOP for phone {mask_phone(phone)} on sender code {code}"
