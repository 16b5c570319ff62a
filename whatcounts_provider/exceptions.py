"""Typed errors raised by the WhatCounts provider.

Callers branch on the class, never on message text. Messages never contain the API
password and show phone numbers only in masked form.

Errors that no retry can fix (rejected credentials, an unusable connection, invalid input) are
also :class:`AirflowFailException`: a task that raises one fails at once, without spending its
Airflow ``retries``. Transient failures (:class:`WhatCountsTransportError`, a 503 that outlived
the retries) keep them.
"""

from __future__ import annotations

from whatcounts_provider._compat import AirflowException, AirflowFailException


class WhatCountsError(AirflowException):
    """Base class of every error this provider raises."""


class WhatCountsConfigError(WhatCountsError, ValueError, AirflowFailException):
    """The Airflow connection (or a hook argument) is unusable; raised before any request."""


class WhatCountsApiError(WhatCountsError):
    """WhatCounts answered with an error status.

    :param message: WhatCounts' own ``error`` text, or a short sanitised excerpt of the body.
    :param status_code: the HTTP status of the final answer.
    """

    def __init__(self, message: str, *, status_code: int) -> None:
        super().__init__(f"WhatCounts API error (HTTP {status_code}): {message}")
        # AirflowException declares status_code as an HTTPStatus; any int is valid here.
        self.status_code: int = status_code  # type: ignore[assignment,unused-ignore]
        self.message = message


class WhatCountsAuthError(WhatCountsApiError, AirflowFailException):
    """WhatCounts rejected the realm / API password (HTTP 401 or 403)."""


class SmsSubscriberNotFoundError(WhatCountsApiError, AirflowFailException):
    """The phone has no (remaining) subscription on the sender code.

    WhatCounts reports this as HTTP 500 with a specific error text. It is a permanent
    answer, never retried (neither by the hook nor by the task's Airflow ``retries``); a phone
    that was already stopped answers the same way.
    """


class WhatCountsTransportError(WhatCountsError):
    """No answer from WhatCounts: connection refused or dropped, or a timeout, after all retries."""


class WhatCountsCircuitOpenError(WhatCountsTransportError):
    """The run's circuit breaker is open: WhatCounts kept failing, so this request was not sent
    (again). Like any transport error it keeps the task's retries: a later try sends it.

    :param failures: the failed attempts in a row that opened the breaker.
    :param seconds: how long that run of failures lasted.
    :param reasons: what went wrong, each said once (``HTTP 503``, a transport description).
    """

    def __init__(
        self, message: str, *, failures: int = 0, seconds: float = 0.0, reasons: tuple[str, ...] = ()
    ) -> None:
        # Keyword arguments with defaults: unpickling calls cls(*args), then restores __dict__.
        super().__init__(message)
        self.failures = failures
        self.seconds = seconds
        self.reasons = reasons


class InvalidPhoneNumberError(WhatCountsError, ValueError, AirflowFailException):
    """A phone number cannot be normalised; no request was sent for it."""


class InvalidSenderCodeError(WhatCountsError, ValueError, AirflowFailException):
    """A sender code is empty, too long, or has characters other than ASCII letters and digits."""


class WhatCountsCancelledError(WhatCountsError):
    """A bulk run was cancelled (``WhatCountsHook.cancel()``, e.g. from a task's ``on_kill``)."""


class WhatCountsBulkError(WhatCountsError):
    """A bulk run finished but some phones need attention (failed, invalid, or not subscribed
    with ``missing_ok=False``). Every phone was attempted; ``summary`` is the task's XCom record.
    """

    def __init__(self, message: str, *, summary: dict[str, object]) -> None:
        super().__init__(message)
        self.summary = summary


class WhatCountsInputError(WhatCountsConfigError, TypeError):
    """The bulk operator's ``phones`` / ``rows`` / ``source`` / ``columns`` arguments are unusable.

    Raised before any request: not exactly one input form, a value of the wrong type, text
    that is not a list, or unknown ``columns`` keys. Also a ``TypeError``, as ``phones`` of the
    wrong type always was.
    """


class WhatCountsSourceError(WhatCountsError, ValueError):
    """A ``source`` file cannot be used: missing, unreadable, an unknown extension, a missing
    column, or (mid-stream) content that cannot be decoded.

    The message names the file (URI without credentials) and, for a column, the name the file
    should have. ``uri`` is that credential-free location.
    """

    def __init__(self, message: str, *, uri: str = "") -> None:
        # uri has a default so that unpickling (cls(*args), then __dict__) works.
        super().__init__(message)
        self.uri = uri


class WhatCountsBadSourceError(WhatCountsSourceError, AirflowFailException):
    """A ``source`` file that no retry can fix: missing, a directory, not readable, an unknown
    extension, empty, or without a required column. The task fails without spending its retries.
    (A ``source`` that cannot be reached, e.g. an object store outage, stays a retryable
    :class:`WhatCountsSourceError`.)
    """


class WhatCountsInvalidInputsError(WhatCountsBulkError, AirflowFailException):
    """A bulk run finished and every input was answered for good, but some inputs were invalid,
    or had no subscription with ``missing_ok=False``: retrying cannot change either, so no retry
    is spent. (Any pair that ``failed`` for a transient reason makes it a :class:`WhatCountsBulkError`.)
    """


class InvalidRequestedAtError(WhatCountsError, ValueError, AirflowFailException):
    """A ``requested_at`` value is neither an ISO-8601 date-time nor epoch seconds.

    In a bulk input it makes that row invalid; given to the single-phone operator it fails the
    task before anything is sent, without spending retries.
    """


class ReceiptsError(WhatCountsError):
    """Receipts could not be written; the evidence for some inputs may be missing."""


class WhatCountsIncompleteRunError(WhatCountsBulkError):
    """A scaled-out run is not complete: fewer chunks reported than were mapped, a chunk
    reported that it aborted, or some phone failed or is invalid. ``summary`` is the merged
    report (see :func:`whatcounts_provider.reports.merge_stop_reports`).
    """


class TransientError(Exception):
    """An attempt got no answer, for a reason another attempt may not meet (connection refused,
    dropped, timed out). The transport raises it around its own exception (``cause``) for the
    retry loop; the client turns the last one into a :class:`WhatCountsTransportError`: it never
    reaches a task."""

    def __init__(self, cause: BaseException, *, permanent: bool = False) -> None:
        super().__init__(str(cause))
        self.cause = cause
        #: No other attempt will do better (a TLS failure: a certificate does not fix itself).
        self.permanent = permanent


class WhatCountsDeadlineError(WhatCountsError, AirflowFailException):
    """The deadline watch found opt-outs not honoured yet whose deadline is near or has passed
    (see :func:`whatcounts_provider.receipts.watch.check_deadlines`).

    The message counts them and names up to 10, phones masked. A retry minutes later would read
    the same receipts, so none is spent: the failure is the alert. ``risks`` is the full list
    (full phones: keep it out of logs).
    """

    def __init__(self, message: str, *, risks: list[dict[str, object]] | None = None) -> None:
        # risks has a default so that unpickling (cls(*args), then __dict__) works.
        super().__init__(message)
        self.risks: list[dict[str, object]] = [] if risks is None else risks
