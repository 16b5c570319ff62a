"""Operators that opt phones out of a WhatCounts SMS sender code."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from whatcounts_provider._compat import BaseOperator
from whatcounts_provider.deadline import DEFAULT_HONOUR_WITHIN_BUSINESS_DAYS
from whatcounts_provider.exceptions import WhatCountsInputError
from whatcounts_provider.get_provider_info import DEFAULT_CONN_ID
from whatcounts_provider.inputs import Inputs, check_input_form
from whatcounts_provider.inputs.form import check_choice
from whatcounts_provider.types import AMBIGUOUS_POLICIES, HOOK_SETTINGS, NO_MESSAGE, SCOPES

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from whatcounts_provider._compat import Context
    from whatcounts_provider.engine import OptOutOptions
    from whatcounts_provider.hooks.whatcounts import WhatCountsHook
    from whatcounts_provider.replies import ReplyClassifier


class StopSmsSubscriberOperator(BaseOperator):
    """
    Opt one phone out of SMS from a WhatCounts sender code (the subscriber replied STOP).

    ``phone`` and ``sender_code`` are templated, so they can come from params, ``dag_run.conf``,
    ``ti.xcom_pull(...)``, an XComArg (``phone=extract.output``) or ``.expand(phone=...)``.

    :param phone: the phone, any common format (``+1 (206) 595-9696``, ``2065959696``, an int).
    :param sender_code: the SMS sender code to stop sending from.
    :param whatcounts_conn_id: the Airflow connection of type ``whatcounts``.
    :param missing_ok: if True (default) a phone without a subscription succeeds with
        status ``not_subscribed``; if False the task fails with ``SmsSubscriberNotFoundError``,
        without spending its Airflow ``retries`` (WhatCounts' answer will not change).
    :param receipts_path: where to keep a receipt of the opt-out (a folder path, an fsspec URI such
        as ``s3://conn_id@bucket/prefix`` or an ``ObjectStoragePath``; templated); ``None``: no
        receipt. A retry or clear of the same DAG run that finds a final receipt does not send
        again; a new DAG run, whatever its run id, trusts no earlier receipt.
    :param requested_at: when the subscriber asked to opt out (ISO-8601 or epoch seconds;
        templated), recorded in the receipt with the business days it took; ``None``: unknown.
    :param message: the subscriber's reply, when the opt-out comes from one (templated). It is
        classified (see docs/replies.md): a reply that is not an opt-out sends nothing and
        returns ``status: "not_opt_out"``; an ambiguous one is sent as an opt-out.
        ``None`` (default): no reply, the task is an opt-out request as it stands.
    :param scope: ``"sender_code"`` (default) stops ``sender_code`` only; ``"all"`` stops every
        sender code of the connection's ``sender_codes`` extra (the FCC's revoke-all rule, in
        force from 2027-01-31). Templated.
    :param opt_out_phrases: words or phrases of your own that mean "stop" in your replies.
    :param not_opt_out_phrases: whole replies of your own that are not opt-outs (such as "no");
        one the rules read as a certain opt-out ("stop", "remove me") is refused.
    :param hook_params: the hook's settings (``timeout``, ``max_retries``,
        ``retry_backoff_initial``, ``retry_backoff_max``, ``retry_after_max``, ``breaker_failures``,
        ``breaker_seconds``); each overrides the connection extra of the same name.
    :return: ``{"phone", "sender_code", "status": "stopped" | "not_subscribed" | "not_opt_out",
        "response"}`` with the phone normalised (``12065959696``) and WhatCounts' record or
        ``None``; with receipts on, also ``receipts`` (the task instance's receipts folder); with
        a ``message``, ``reply_decision`` and ``reply_reason``; with ``scope="all"``, ``scope``
        and ``by_sender_code``.
    """

    template_fields: Sequence[str] = (
        "phone",
        "sender_code",
        "whatcounts_conn_id",
        "receipts_path",
        "requested_at",
        "message",
        "scope",
    )
    ui_color = "#fde8e8"

    def __init__(
        self,
        *,
        phone: str | int,
        sender_code: str | int,
        whatcounts_conn_id: str = DEFAULT_CONN_ID,
        missing_ok: bool = True,
        receipts_path: Any = None,
        requested_at: Any = None,
        message: Any = None,
        scope: str = "sender_code",
        opt_out_phrases: Sequence[str] = (),
        not_opt_out_phrases: Sequence[str] = (),
        hook_params: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.hook_params = check_hook_params(hook_params)
        self.phone = phone
        self.sender_code = sender_code
        self.whatcounts_conn_id = whatcounts_conn_id
        self.missing_ok = missing_ok
        self.receipts_path = receipts_path
        self.requested_at = requested_at
        self.message = message
        self.scope = check_untemplated_choice("scope", scope, SCOPES)
        self.reply_classifier = reply_classifier(opt_out_phrases, not_opt_out_phrases)

    @cached_property
    def hook(self) -> WhatCountsHook:
        """One hook (and so one session) per task run."""
        return _hook(self.whatcounts_conn_id, self.hook_params)

    def execute(self, context: Context) -> dict[str, Any]:
        from whatcounts_provider.engine import opt_out_one
        from whatcounts_provider.receipts import TaskIdentity

        return opt_out_one(
            self.hook,
            self.phone,
            self.sender_code,
            requested_at=self.requested_at,
            message=NO_MESSAGE if self.message is None else self.message,
            scope=self.scope,
            classifier=self.reply_classifier,
            missing_ok=self.missing_ok,
            receipts_path=self.receipts_path,
            # Only receipts need the task's identity: without them any context will do.
            task=TaskIdentity.from_context(context) if self.receipts_path is not None else None,
            log=self.log,
        )

    def on_kill(self) -> None:
        if "hook" in self.__dict__:
            self.hook.cancel()


class BulkStopSmsSubscriberOperator(BaseOperator):
    """
    Opt many phones out of WhatCounts sender codes, concurrently, in one task.

    Give exactly one of ``phones`` (with ``sender_code``), ``rows`` or ``source``. Every valid
    (phone, sender code) pair is sent once; invalid inputs never stop the run. The task then fails
    if any pair ``failed`` (a transient error outlived its retries: a task retry is safe, STOP is
    idempotent) or any input was ``invalid`` or, with ``missing_ok=False``, not subscribed (no
    retry is spent when these are all that is left). The record is pushed to
    XCom either way, and also when the run aborts (rejected credentials, an unusable source).

    :param phones: a list of phones (an XComArg such as ``upstream.output`` keeps it a list), or
        the rendered text of a JSON array / Python list literal; all go with ``sender_code``.
    :param rows: a list of mappings with ``phone``, ``sender_code`` (else the operator's), an
        optional ``requested_at`` and an optional ``message`` (the subscriber's reply); native
        from an XComArg, or as JSON text.
    :param source: a ``.csv`` (header row), ``.jsonl`` or ``.ndjson`` file, optionally ``.gz``:
        a local path, an fsspec URI that Airflow's ``ObjectStoragePath`` reads
        (``s3://conn_id@bucket/key``) or an ``ObjectStoragePath``. Streamed, never through XCom.
    :param columns: the file's names for ``phone`` / ``sender_code`` / ``requested_at`` /
        ``message`` (a ``message`` column named here must exist).
    :param sender_code: the SMS sender code of ``phones``; the default of rows without one.
    :param whatcounts_conn_id: the Airflow connection of type ``whatcounts``.
    :param max_workers: concurrent requests (1 to 64).
    :param max_requests_per_second: cap on requests per second across workers and sender codes
        (the API limit is per account), or ``None``.
    :param missing_ok: if False, a phone without a subscription counts as failed (and no task
        retry is spent on it: WhatCounts' answer will not change).
    :param receipts_path: where to write one receipt per input (see docs/receipts.md); ``None``: off.
        A retry of the task instance reads them first and does not send pairs already honoured.
    :param honour_within_business_days: the deadline (FCC: 10 business days) after
        ``requested_at``; pairs honoured later, or failing past it, count as ``late``.
    :param scope: ``"sender_code"`` (default) stops each row's own code; ``"all"`` stops each
        phone on every code of the connection's ``sender_codes`` extra (the FCC's revoke-all
        rule, in force from 2027-01-31). Templated.
    :param ambiguous: for inputs with replies (a ``message`` key or column): ``"opt_out"``
        (default) sends an ambiguous reply as an opt-out; ``"review"`` sends nothing for it,
        receipts it ``needs_review`` and fails the task, without spending retries, once
        everything else is done. Replies that are not opt-outs are never sent.
    :param opt_out_phrases: words or phrases of your own that mean "stop" in your replies.
    :param not_opt_out_phrases: whole replies of your own that are not opt-outs (such as "no");
        one the rules read as a certain opt-out ("stop", "remove me") is refused.
    :param expect_not_subscribed: a run in which 20 or more pairs of one sender code were all
        answered "not subscribed" fails, naming the code (the usual cause is a code in the wrong
        form, which WhatCounts answers the same way); set True when that is expected.
    :param hook_params: the hook's settings, as for :class:`StopSmsSubscriberOperator`.
    :return: the bulk record: ``sender_code``, ``total``, ``stopped``, ``not_subscribed``,
        ``invalid``, ``failed``, ``duplicates``, ``by_sender_code``, ``already_done``, ``late``,
        ``not_opt_out``, ``ambiguous``, ``needs_review``, ``receipts``, ``retries``, ``source``,
        ``error`` (see docs/inputs.md).
    """

    template_fields: Sequence[str] = (
        "phones",
        "rows",
        "source",
        "columns",
        "sender_code",
        "whatcounts_conn_id",
        "receipts_path",
        "scope",
    )
    ui_color = "#fde8e8"

    def __init__(
        self,
        *,
        phones: Any = None,
        rows: Any = None,
        source: Any = None,
        columns: dict[str, str] | None = None,
        sender_code: str | int | None = None,
        whatcounts_conn_id: str = DEFAULT_CONN_ID,
        max_workers: int = 8,
        max_requests_per_second: float | None = None,
        missing_ok: bool = True,
        receipts_path: Any = None,
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
        # Only which arguments are given is checked here: values may still be templates or XComArgs.
        check_input_form(phones=phones, rows=rows, source=source, sender_code=sender_code, columns=columns)
        self.phones = phones
        self.rows = rows
        self.source = source
        self.columns = columns
        self.sender_code = sender_code
        self.whatcounts_conn_id = whatcounts_conn_id
        self.max_workers = max_workers
        self.max_requests_per_second = max_requests_per_second
        self.missing_ok = missing_ok
        self.receipts_path = receipts_path
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
        from whatcounts_provider.engine import run_opt_outs
        from whatcounts_provider.receipts import TaskIdentity

        inputs = Inputs(
            phones=self.phones,
            rows=self.rows,
            source=self.source,
            sender_code=self.sender_code,
            columns=self.columns,
        )

        def push(record: dict[str, Any]) -> None:
            self._lineage_record = record  # also when the task fails: lineage reports it
            context["ti"].xcom_push(key="return_value", value=record)

        self._lineage_record = run_opt_outs(
            self.hook,
            inputs,
            receipts_path=self.receipts_path,
            task=TaskIdentity.from_context(context),
            options=run_options(self),
            push=push,
            log=self.log,
        )
        return self._lineage_record

    def on_kill(self) -> None:
        """Stop sending at once (Airflow calls this when the task is marked failed or killed)."""
        if "hook" in self.__dict__:
            self.hook.cancel()

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """OpenLineage's datasets for the run (called by the OpenLineage provider, when installed,
        after the task succeeds or fails): the ``source`` file as the input, the
        ``receipts_path`` folder as the output, with counts; ``None`` without the provider or
        without a record. See docs/lineage.md."""
        from whatcounts_provider.operators.lineage import bulk_lineage

        record = getattr(self, "_lineage_record", None)
        return bulk_lineage(source=self.source, receipts_path=self.receipts_path, record=record)


def run_options(operator: Any) -> OptOutOptions:
    """The engine's options from a bulk or queue operator's arguments of the same names."""
    from whatcounts_provider.engine import OptOutOptions

    return OptOutOptions(
        max_workers=operator.max_workers,
        max_requests_per_second=operator.max_requests_per_second,
        missing_ok=operator.missing_ok,
        honour_within_business_days=operator.honour_within_business_days,
        scope=operator.scope,
        ambiguous=operator.ambiguous,  # checked in the operator's __init__
        classifier=operator.reply_classifier,
        expect_not_subscribed=operator.expect_not_subscribed,
    )


def check_hook_params(hook_params: Mapping[str, Any] | None) -> dict[str, Any]:
    """``hook_params`` as a dict, if every key is a hook setting (checked when the DAG is parsed).

    :raises WhatCountsInputError: not a mapping, or a key the hook does not take.
    """
    if hook_params is None:
        return {}
    if not hasattr(hook_params, "keys"):
        raise WhatCountsInputError(
            f"hook_params must be a mapping of hook settings, got {type(hook_params).__name__}"
        )
    unknown = sorted(str(key) for key in hook_params if key not in HOOK_SETTINGS)
    if unknown:
        raise WhatCountsInputError(
            f"hook_params has unknown key(s) {', '.join(map(repr, unknown))}; "
            f"the hook takes {', '.join(HOOK_SETTINGS)}"
        )
    return dict(hook_params)


def check_untemplated_choice(name: str, value: Any, choices: tuple[str, ...]) -> Any:
    """``value``, checked now unless it is a template (then it is checked once rendered).

    :raises WhatCountsConfigError: not one of ``choices``.
    """
    if not (isinstance(value, str) and "{{" in value):
        check_choice(name, value, choices)
    return value


def reply_classifier(opt_out: Sequence[str], not_opt_out: Sequence[str]) -> ReplyClassifier | None:
    """The reply rules with the user's own phrases, or None for the default ones.

    :raises WhatCountsInputError: a phrase that is not usable text (naming it).
    """
    if not opt_out and not not_opt_out:
        return None
    from whatcounts_provider.replies import ReplyClassifier

    try:
        return ReplyClassifier(opt_out=opt_out, not_opt_out=not_opt_out)
    except ValueError as exc:
        raise WhatCountsInputError(f"opt_out_phrases / not_opt_out_phrases: {exc}") from exc


def _hook(conn_id: str, hook_params: Mapping[str, Any]) -> WhatCountsHook:
    # Imported here, not at the top: the hook pulls in requests (~26 ms to import), and the
    # scheduler imports this module with every parse of a DAG file that uses the operators.
    from whatcounts_provider.hooks.whatcounts import WhatCountsHook

    return WhatCountsHook(conn_id, **hook_params)
