"""``StopSmsFromQueueOperator``: honour the STOP replies waiting on a queue, then acknowledge them."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from whatcounts_provider._compat import BaseOperator
from whatcounts_provider.deadline import DEFAULT_HONOUR_WITHIN_BUSINESS_DAYS
from whatcounts_provider.get_provider_info import DEFAULT_CONN_ID
from whatcounts_provider.inputs.form import check_choice
from whatcounts_provider.operators.sms import (
    _hook,
    check_hook_params,
    check_untemplated_choice,
    reply_classifier,
    run_options,
)
from whatcounts_provider.types import AMBIGUOUS_POLICIES, SCOPES

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from whatcounts_provider._compat import Context
    from whatcounts_provider.hooks.whatcounts import WhatCountsHook

DEFAULT_AWS_CONN_ID = "aws_default"


class StopSmsFromQueueOperator(BaseOperator):
    """
    Opt out every phone whose STOP reply waits on an SQS queue; acknowledge each message once
    its receipt is written.

    Takes up to ``max_messages`` messages (each a JSON object with ``phone``, and optionally
    ``sender_code``, ``message``, ``received_at``, ``message_id``: see docs/events.md), classifies
    each reply, stops each opt-out on its sender code (or every code of the account with
    ``scope="all"``), writes one receipt per pair with the message id, and only then deletes the
    message. A message that cannot be honoured as it stands (not JSON, no phone, an unknown
    field, too big, an unreadable phone) is receipted ``invalid`` and deleted, so it never loops.
    A message with a pair that failed in a way a later try may get past (5xx, network, the
    circuit breaker) stays on the queue and comes back after ``visibility_timeout``; a final
    answer (a 4xx other than 429) is receipted ``failed`` and the message deleted. The task
    fails like the bulk operator's (failed pairs: a retryable error; only invalid inputs, final
    answers or replies held for review: no retry spent).

    On Airflow 3 schedule its DAG on an ``Asset`` watched by
    :class:`~whatcounts_provider.triggers.queue.WhatCountsQueueTrigger`; on Airflow 2.11 run it
    on a short schedule. Either way, give the DAG ``max_active_runs=1``.

    :param queue_url: the SQS queue URL. Templated.
    :param aws_conn_id: the Airflow AWS connection of the queue.
    :param region_name: the AWS region, if the connection does not say.
    :param receipts_path: where receipts go (required). Templated.
    :param sender_code: the code of messages without one. Templated.
    :param max_messages: the most messages one run takes (1 to 100,000); the rest wait for the
        next run.
    :param visibility_timeout: seconds a received message stays hidden from other receivers; it
        must outlast the run (a message not acknowledged by then is delivered again).
    :param wait_seconds: how long a receive waits for messages (0 to 20 s); the run stops taking
        messages at the first receive that gets none.
    :param scope, ambiguous, opt_out_phrases, not_opt_out_phrases, max_workers,
        max_requests_per_second, missing_ok, honour_within_business_days, expect_not_subscribed,
        whatcounts_conn_id, hook_params: as for
        :class:`~whatcounts_provider.operators.sms.BulkStopSmsSubscriberOperator`.
    :return: the bulk record with ``queue``: the queue, ``received``, ``acknowledged``,
        ``left_for_redelivery`` and ``visibility_timeout``.
    """

    template_fields: Sequence[str] = (
        "queue_url",
        "receipts_path",
        "sender_code",
        "whatcounts_conn_id",
        "scope",
    )
    ui_color = "#fde8e8"

    def __init__(
        self,
        *,
        queue_url: str,
        receipts_path: Any,
        aws_conn_id: str | None = DEFAULT_AWS_CONN_ID,
        region_name: str | None = None,
        sender_code: str | int | None = None,
        whatcounts_conn_id: str = DEFAULT_CONN_ID,
        max_messages: int = 2_000,
        visibility_timeout: int = 900,
        wait_seconds: int = 1,
        max_workers: int = 8,
        max_requests_per_second: float | None = None,
        missing_ok: bool = True,
        honour_within_business_days: int = DEFAULT_HONOUR_WITHIN_BUSINESS_DAYS,
        scope: str = "sender_code",
        ambiguous: str = "opt_out",
        opt_out_phrases: Sequence[str] = (),
        not_opt_out_phrases: Sequence[str] = (),
        expect_not_subscribed: bool = False,
        hook_params: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.hook_params = check_hook_params(hook_params)
        self.queue_url = queue_url
        self.receipts_path = receipts_path
        self.aws_conn_id = aws_conn_id
        self.region_name = region_name
        self.sender_code = sender_code
        self.whatcounts_conn_id = whatcounts_conn_id
        self.max_messages = max_messages
        self.visibility_timeout = visibility_timeout
        self.wait_seconds = wait_seconds
        self.max_workers = max_workers
        self.max_requests_per_second = max_requests_per_second
        self.missing_ok = missing_ok
        self.honour_within_business_days = honour_within_business_days
        self.scope = check_untemplated_choice("scope", scope, SCOPES)
        check_choice("ambiguous", ambiguous, AMBIGUOUS_POLICIES)
        self.ambiguous = ambiguous
        self.reply_classifier = reply_classifier(opt_out_phrases, not_opt_out_phrases)
        self.expect_not_subscribed = expect_not_subscribed

    @cached_property
    def hook(self) -> WhatCountsHook:
        """One hook (and so one connection pool) per task run."""
        return _hook(self.whatcounts_conn_id, self.hook_params)

    def execute(self, context: Context) -> dict[str, Any]:
        from whatcounts_provider.queues import SqsQueue, honour_queue, sqs_client
        from whatcounts_provider.receipts import TaskIdentity

        return honour_queue(
            self.hook,
            SqsQueue(sqs_client(self.aws_conn_id, self.region_name), self.queue_url),
            receipts_path=self.receipts_path,
            task=TaskIdentity.from_context(context),
            options=run_options(self),
            sender_code=self.sender_code,
            max_messages=self.max_messages,
            visibility_timeout=self.visibility_timeout,
            wait_seconds=self.wait_seconds,
            push=lambda record: context["ti"].xcom_push(key="return_value", value=record),
            log=self.log,
        )

    def on_kill(self) -> None:
        """Stop sending at once; what is not acknowledged comes back after the visibility timeout."""
        if "hook" in self.__dict__:
            self.hook.cancel()
