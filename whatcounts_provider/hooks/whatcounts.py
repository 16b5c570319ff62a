"""WhatCountsHook: the Airflow connection, one pooled session, retries, and the API calls."""

from __future__ import annotations

import base64
import threading
import time
from functools import cached_property
from typing import TYPE_CHECKING, Any

from whatcounts_provider._compat import BaseHook, mask_secret
from whatcounts_provider.exceptions import WhatCountsCancelledError, WhatCountsError
from whatcounts_provider.get_provider_info import DEFAULT_CONN_ID
from whatcounts_provider.hooks import _bulk, _form
from whatcounts_provider.hooks._answers import sanitize
from whatcounts_provider.hooks._breaker import Breaker
from whatcounts_provider.hooks._client import Client
from whatcounts_provider.hooks._outcomes import Job, Sorter, as_given, pair_rows, stop_outcome
from whatcounts_provider.hooks._retry import RetryPolicy, Tally
from whatcounts_provider.hooks._session import build_session
from whatcounts_provider.hooks._settings import api_key_secrets, resolve_settings
from whatcounts_provider.hooks._throttle import Throttle
from whatcounts_provider.phone import mask_phone, normalize_phone
from whatcounts_provider.types import Row, StopOutcome, WhatCountsSettings, json_safe

if TYPE_CHECKING:
    from collections.abc import Container, Iterable, Iterator

    import requests


class WhatCountsHook(BaseHook):
    """
    Talk to the WhatCounts REST API with the credentials of an Airflow connection.

    The connection holds the Site URL (Host), the realm (Login) and the API password
    (Password); optional extras are ``api_version``, ``timeout``, ``max_retries``,
    ``default_region``, ``verify``, ``api_key`` and ``sender_codes`` (every SMS sender code of
    the account: ``settings.sender_codes``, for revoke-all). One authenticated, pooled ``requests.Session`` is
    built per hook on first use. Transient failures (connection errors, timeouts, 429 and
    5xx other than WhatCounts' "no subscription" answer) are retried with capped exponential
    backoff and jitter, honouring ``Retry-After``.

    A circuit breaker ends an outage's run in minutes: once ``breaker_failures`` attempts in a row
    have failed (network failures and retryable 5xx, whichever call or thread made them; a 429
    does not count, an answer worth keeping starts the count again) over at least
    ``breaker_seconds``, the hook sends nothing more. Every request not yet sent, or waiting to be
    retried, raises :class:`~whatcounts_provider.exceptions.WhatCountsCircuitOpenError` (a bulk
    run's pair is then a ``failed`` outcome). There is one breaker per hook, not per call, like the
    retry count and :meth:`cancel`: the operators build one hook per try, so a task retry starts
    with a closed breaker, and code that loops over :meth:`stop_sms_subscriber` with one hook is
    protected too. An open breaker stays open: use a new hook for new work. With the defaults one
    pair alone never opens it (its 6 attempts are fewer than 20): a single phone spends its retries.

    :param whatcounts_conn_id: the Airflow connection of type ``whatcounts``.
    :param timeout: read timeout in seconds; overrides the connection's ``timeout`` extra.
    :param max_retries: retries of transient failures; overrides the ``max_retries`` extra.
    :param retry_backoff_initial: first backoff in seconds (default 0.5; doubles per retry, plus
        jitter); overrides the extra of the same name.
    :param retry_backoff_max: longest backoff in seconds (default 30); overrides the extra.
    :param retry_after_max: longest ``Retry-After`` wait honoured, in seconds (default 60; longer
        ones are capped and logged); overrides the extra.
    :param breaker_failures: failed attempts in a row that open the circuit breaker (default 20;
        0 turns it off); overrides the extra of the same name.
    :param breaker_seconds: how long, at least, those failures must have lasted (default 60);
        overrides the extra.
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
        breaker_failures: int | None = None,
        breaker_seconds: float | None = None,
    ) -> None:
        super().__init__()
        self.whatcounts_conn_id = whatcounts_conn_id
        self._overrides: dict[str, Any] = {
            "timeout": timeout,
            "max_retries": max_retries,
            "retry_backoff_initial": retry_backoff_initial,
            "retry_backoff_max": retry_backoff_max,
            "retry_after_max": retry_after_max,
            "breaker_failures": breaker_failures,
            "breaker_seconds": breaker_seconds,
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
            self.settings,
            sleep=self._sleep,
            log=self.log,
            describe=self._describe,
            cancelled=self._cancelled,
            breaker=Breaker.from_settings(self.settings, clock=self._now, log=self.log),
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
        ``phone`` and ``sender_code``, the ``status`` (``stopped``, ``not_subscribed`` or
        ``already_done``), WhatCounts' record and the number of HTTP attempts.

        :param missing_ok: if True, no subscription is the outcome ``not_subscribed``; if False
            it raises :class:`SmsSubscriberNotFoundError`.
        :param already_done: normalised ``(phone, sender_code)`` pairs an earlier try honoured:
            such a pair is the outcome ``already_done`` and is not sent.
        :raises InvalidPhoneNumberError, InvalidSenderCodeError: bad input; nothing was sent.
        :raises WhatCountsAuthError, WhatCountsApiError, WhatCountsTransportError: see their docs.
        """
        row = Row(1, json_safe(phone), phone, sender_code)
        outcome = self.stop_row(row, missing_ok=missing_ok, already_done=already_done)
        if outcome.cause is not None:
            raise outcome.cause
        return outcome

    def stop_row(
        self, row: Row, *, missing_ok: bool = True, already_done: Container[tuple[str, str]] = ()
    ) -> StopOutcome:
        """The outcome of one row of one pair, in this thread: :meth:`stop_sms_rows` on one row,
        without workers (a row with several ``codes`` has one outcome per pair: use
        :meth:`stop_row_pairs`).

        An ``invalid`` or ``failed`` outcome carries its exception as ``cause`` instead of raising it.

        :raises WhatCountsAuthError, WhatCountsCancelledError, WhatCountsConfigError: as
            :meth:`stop_sms_rows`.
        """
        return self.stop_row_pairs(row, missing_ok=missing_ok, already_done=already_done)[0]

    def stop_row_pairs(
        self, row: Row, *, missing_ok: bool = True, already_done: Container[tuple[str, str]] = ()
    ) -> list[StopOutcome]:
        """The outcome of each pair of one row, in this thread, one pair after the other.

        :raises WhatCountsAuthError, WhatCountsCancelledError, WhatCountsConfigError: as
            :meth:`stop_sms_rows`.
        """
        outcomes: list[StopOutcome] = []
        send = None
        for sorted_ in Sorter(self.normalize_phone, already_done).sort(row):
            if isinstance(sorted_, StopOutcome):
                outcomes.append(sorted_)
                continue
            send = send or self._sender(self._throttle())
            outcomes.append(stop_outcome(sorted_, send, Tally(), missing_ok=missing_ok))
        return outcomes

    def stop_sms_rows(
        self,
        rows: Iterable[Row],
        *,
        max_workers: int = 8,
        max_requests_per_second: float | None = None,
        missing_ok: bool = True,
        already_done: Container[tuple[str, str]] = (),
    ) -> Iterator[StopOutcome]:
        """
        Opt the rows' (phone, sender code) pairs out concurrently; yield one outcome per pair.

        ``rows`` is read lazily (a stream over a file of millions of rows is fine): each row is
        validated as it is read, and memory grows with the distinct pairs, not the input. A pair
        is sent once however often it repeats (later ones are ``duplicate``; the same phone under
        two codes is two stops); a bad phone or sender code, or a row with an ``error``, is an
        ``invalid`` outcome for that row only. ``max_workers`` threads share this hook's session
        and one rate cap, with at most ``2 * max_workers`` pairs in flight. Outcomes come as they
        complete, not in input order: each carries its :class:`~whatcounts_provider.types.Row`.

        :param rows: the rows (see :mod:`whatcounts_provider.inputs`).
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
        workers = _bulk.check_workers(max_workers)
        send = self._sender(self._throttle(max_requests_per_second))
        self._client  # noqa: B018 - built now, before worker threads share it (config errors first)

        def work(job: Job) -> StopOutcome:
            return stop_outcome(job, send, Tally(), missing_ok=missing_ok)

        sorter = Sorter(self.normalize_phone, already_done)
        return _bulk.run(rows, sorter, work, workers=workers, cancelled=self._cancelled)

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
        :meth:`stop_sms_rows` over ``(phone, sender_code)`` pairs; anything that is not a pair is
        an ``invalid`` outcome. An outcome's ``index`` is its pair's 0-based position.

        :raises TypeError: ``pairs`` is not a collection (text, a mapping).
        """
        items = _bulk.check_inputs(pairs, "pairs", "(phone, sender_code) pairs")
        return self.stop_sms_rows(
            pair_rows(items),
            max_workers=max_workers,
            max_requests_per_second=max_requests_per_second,
            missing_ok=missing_ok,
            already_done=already_done,
        )

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

        :meth:`stop_sms_rows` with every phone paired with ``sender_code``, checked first (an
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
        from whatcounts_provider.phone import validate_sender_code

        code = validate_sender_code(sender_code)
        raw = _bulk.check_inputs(phones)
        rows = (Row(number, json_safe(phone), phone, code) for number, phone in enumerate(raw, 1))
        outcomes = self.stop_sms_rows(
            rows,
            max_workers=max_workers,
            max_requests_per_second=max_requests_per_second,
            missing_ok=missing_ok,
        )
        return (as_given(outcome) for outcome in outcomes if outcome.status != "duplicate")

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
            client = self._client
            lists = client.parse(client.call("GET", "/lists", label=lambda: "GET /rest/lists", attempts=1))
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

    @cached_property
    def _client(self) -> Client:
        """The connection's request path, built once and shared by every call and thread."""
        settings = self.settings
        return Client(
            settings,
            self.get_conn(),
            self._retry_policy,
            self._cancelled,
            secrets=(settings.password, self._basic_token(settings), *api_key_secrets(settings)),
            throttle=self._throttle,
        )

    def _sender(self, throttle: Throttle) -> Any:
        """Send one job through ``throttle``: the one request path of single and bulk stops."""
        client = self._client

        def send(job: Job, tally: Tally) -> dict[str, Any]:
            response = client.stop(job.phone, job.sender_code, throttle=throttle, tally=tally)
            # DEBUG: a bulk run of 100,000 phones must not write 100,000 task-log lines.
            self.log.debug("Stopped SMS to %s from sender code %s", mask_phone(job.phone), job.sender_code)
            return response

        return send

    def _describe(self, exc: BaseException) -> str:
        from whatcounts_provider.hooks._session import describe_transport_error

        return describe_transport_error(exc, self.settings)

    @staticmethod
    def _basic_token(settings: WhatCountsSettings) -> str:
        return base64.b64encode(f"{settings.realm}:{settings.password}".encode()).decode()
