"""Operators that opt phones out of a WhatCounts SMS sender code."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from whatcounts_provider._compat import BaseOperator
from whatcounts_provider.exceptions import WhatCountsBulkError
from whatcounts_provider.get_provider_info import DEFAULT_CONN_ID
from whatcounts_provider.operators._bulk_report import BulkSummary, Progress, coerce_phones
from whatcounts_provider.phone import mask_phone

if TYPE_CHECKING:
    from collections.abc import Sequence

    from whatcounts_provider._compat import Context
    from whatcounts_provider.hooks.whatcounts import WhatCountsHook


class StopSmsSubscriberOperator(BaseOperator):
    """
    Opt one phone out of SMS from a WhatCounts sender code (the subscriber replied STOP).

    ``phone`` and ``sender_code`` are templated, so they can come from params, ``dag_run.conf``,
    ``ti.xcom_pull(...)``, an XComArg (``phone=extract.output``) or ``.expand(phone=...)``.

    :param phone: the phone, any common format (``+1 (206) 595-9696``, ``2065959696``, an int).
    :param sender_code: the SMS sender code to stop sending from.
    :param whatcounts_conn_id: the Airflow connection of type ``whatcounts``.
    :param missing_ok: if True (default) a phone without a subscription succeeds with
        status ``not_subscribed``; if False the task fails with ``SmsSubscriberNotFoundError``.
    :return: ``{"phone", "sender_code", "status": "stopped" | "not_subscribed", "response"}``
        with the phone normalised (``12065959696``) and WhatCounts' record or ``None``.
    """

    template_fields: Sequence[str] = ("phone", "sender_code", "whatcounts_conn_id")
    ui_color = "#fde8e8"

    def __init__(
        self,
        *,
        phone: str | int,
        sender_code: str | int,
        whatcounts_conn_id: str = DEFAULT_CONN_ID,
        missing_ok: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.phone = phone
        self.sender_code = sender_code
        self.whatcounts_conn_id = whatcounts_conn_id
        self.missing_ok = missing_ok

    @cached_property
    def hook(self) -> WhatCountsHook:
        """One hook (and so one session) per task run."""
        return _hook(self.whatcounts_conn_id)

    def execute(self, context: Context) -> dict[str, Any]:
        # The hook validates and normalises the inputs; the outcome carries them normalised.
        outcome = self.hook.stop_sms_subscriber_outcome(
            self.phone, self.sender_code, missing_ok=self.missing_ok
        )
        phone, code = mask_phone(outcome.phone), outcome.sender_code
        if outcome.status == "stopped":
            self.log.info("Stopped SMS to %s from sender code %s", phone, code)
        else:
            self.log.warning(
                "Phone %s has no SMS subscription on sender code %s: nothing to stop (missing_ok=True)",
                phone,
                code,
            )
        return {
            "phone": outcome.phone,
            "sender_code": code,
            "status": outcome.status,
            "response": outcome.response,
        }


class BulkStopSmsSubscriberOperator(BaseOperator):
    """
    Opt a whole list of phones out of one WhatCounts sender code, concurrently, in one task.

    Every phone is attempted. The task then fails if any phone ``failed`` (a transient error
    outlived its retries: retrying the task is safe, STOP is idempotent) or is ``invalid``, or,
    with ``missing_ok=False``, had no subscription. The summary is pushed to XCom either way.

    :param phones: a list of phones (an XComArg such as ``upstream.output`` keeps it a list),
        or the rendered text of a JSON array / Python list literal.
    :param sender_code: the SMS sender code to stop sending from.
    :param whatcounts_conn_id: the Airflow connection of type ``whatcounts``.
    :param max_workers: concurrent requests (1 to 64).
    :param max_requests_per_second: cap on requests per second across workers, or ``None``.
    :param missing_ok: if False, a phone without a subscription counts as failed.
    :return: ``{"sender_code", "total", "stopped": int, "not_subscribed": [phones],
        "invalid": [inputs], "failed": [{"phone", "error"}], "duplicates": int, "retries": int}``.
    """

    template_fields: Sequence[str] = ("phones", "sender_code", "whatcounts_conn_id")
    ui_color = "#fde8e8"

    def __init__(
        self,
        *,
        phones: Any,
        sender_code: str | int,
        whatcounts_conn_id: str = DEFAULT_CONN_ID,
        max_workers: int = 8,
        max_requests_per_second: float | None = None,
        missing_ok: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.phones = phones
        self.sender_code = sender_code
        self.whatcounts_conn_id = whatcounts_conn_id
        self.max_workers = max_workers
        self.max_requests_per_second = max_requests_per_second
        self.missing_ok = missing_ok

    @cached_property
    def hook(self) -> WhatCountsHook:
        """One hook (and so one connection pool) per task run."""
        return _hook(self.whatcounts_conn_id)

    def execute(self, context: Context) -> dict[str, Any]:
        phones = coerce_phones(self.phones)
        outcomes = self.hook.stop_sms_subscribers(
            phones,
            self.sender_code,  # validated by the hook, before anything is sent
            max_workers=self.max_workers,
            max_requests_per_second=self.max_requests_per_second,
            missing_ok=self.missing_ok,
        )
        summary = BulkSummary(str(self.sender_code), total=len(phones))
        progress = Progress(len(phones), self.log)
        for outcome in outcomes:
            summary.sender_code = outcome.sender_code or summary.sender_code  # the validated form
            summary.add(outcome)
            progress.tick(summary.done)
        progress.finish(summary.total)
        record = summary.record(retries=self.hook.retries)
        for line in summary.log_lines():
            self.log.info("%s", line)
        self.log.info("Retries during this run: %d", record["retries"])
        if summary.failed or summary.invalid:
            context["ti"].xcom_push(key="return_value", value=record)
            raise WhatCountsBulkError(
                f"{len(summary.failed)} phone(s) failed and {len(summary.invalid)} input(s) were invalid "
                f"out of {summary.total}; all others were processed. See the XCom summary.",
                summary=record,
            )
        return record


def _hook(conn_id: str) -> WhatCountsHook:
    # Imported here, not at the top: the hook pulls in requests (~26 ms to import), and the
    # scheduler imports this module with every parse of a DAG file that uses the operators.
    from whatcounts_provider.hooks.whatcounts import WhatCountsHook

    return WhatCountsHook(conn_id)
