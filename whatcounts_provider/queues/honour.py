"""One run of the queue path: receive what waits (bounded), honour it with the engine, and
acknowledge each message only once its receipts are on storage."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from whatcounts_provider.engine import OptOutOptions, run_opt_outs
from whatcounts_provider.engine.intent import Intent
from whatcounts_provider.exceptions import WhatCountsConfigError, WhatCountsError
from whatcounts_provider.phone import validate_sender_code
from whatcounts_provider.queues.acks import Acknowledger
from whatcounts_provider.queues.messages import QueueBatch
from whatcounts_provider.queues.sqs import MAX_VISIBILITY_TIMEOUT, MAX_WAIT_SECONDS

if TYPE_CHECKING:
    from collections.abc import Callable

    from whatcounts_provider.hooks.whatcounts import WhatCountsHook
    from whatcounts_provider.queues.messages import QueueMessage
    from whatcounts_provider.queues.sqs import SqsQueue
    from whatcounts_provider.receipts import TaskIdentity

default_log = logging.getLogger("whatcounts_provider.queues")

DEFAULT_MAX_MESSAGES = 2_000
MAX_MESSAGES_LIMIT = 100_000
#: Long enough for a run of 2,000 messages at 8 workers, even through a breaker-length outage.
DEFAULT_VISIBILITY_TIMEOUT = 900
DEFAULT_WAIT_SECONDS = 1
#: The longest a run spends receiving before it honours what it has (2,000 messages take ~2 s).
RECEIVE_SECONDS = 10.0


def honour_queue(
    hook: WhatCountsHook,
    queue: SqsQueue,
    *,
    receipts_path: Any,
    task: TaskIdentity,
    options: OptOutOptions | None = None,
    sender_code: Any = None,
    max_messages: int = DEFAULT_MAX_MESSAGES,
    visibility_timeout: int = DEFAULT_VISIBILITY_TIMEOUT,
    wait_seconds: int = DEFAULT_WAIT_SECONDS,
    push: Callable[[dict[str, Any]], object] | None = None,
    log: logging.Logger | Any = default_log,
) -> dict[str, Any]:
    """Honour up to ``max_messages`` messages waiting on ``queue``; return the bulk record.

    Receives until the queue has no more (a receive waits up to ``wait_seconds``),
    ``max_messages`` are in hand or 10 s have passed, each hidden from other receivers for
    ``visibility_timeout`` seconds; runs them through
    :func:`~whatcounts_provider.engine.run_opt_outs` (replies classified, scope applied, one
    receipt per pair, the message id in each); and deletes a message only once all its receipts
    are written and none failed in a way a retry may fix. A message not deleted comes back after
    the visibility timeout, so at worst it costs one more request and a ``not_subscribed``
    receipt. The record gains ``queue``: the queue, and how many messages were received,
    acknowledged, and left for redelivery.

    :param receipts_path: where receipts go (required: a message is acknowledged only once its
        receipt is durable).
    :param task: who writes the receipts (``TaskIdentity.from_context(context)``).
    :raises WhatCountsConfigError, InvalidSenderCodeError: a bad argument or connection (named),
        before anything is received.
    :raises WhatCountsBulkError, WhatCountsInvalidInputsError, WhatCountsError: as
        ``run_opt_outs``, after the acknowledgements are done and the record is pushed (for any
        other exception the acknowledgements are still done, and nothing is pushed).
    """
    options = options or OptOutOptions()
    pairs_per_message = check_run_settings(hook, options, sender_code)
    check_queue_arguments(
        receipts_path, max_messages, visibility_timeout, wait_seconds, options, pairs_per_message
    )
    messages = receive(queue, max_messages, wait_seconds, visibility_timeout)
    log.info("Received %d message(s) from %s", len(messages), queue.display)
    acks = Acknowledger(queue, dict(enumerate(messages, start=1)), log)
    pushed: list[dict[str, Any]] = []
    error: WhatCountsError | None = None
    record: dict[str, Any] = {}
    try:
        record = run_opt_outs(
            hook,
            QueueBatch(messages, sender_code, queue.display),
            receipts_path=receipts_path,
            task=task,
            options=options,
            push=pushed.append,
            log=log,
            on_receipted=acks.receipted,
        )
    except WhatCountsError as exc:
        error = exc
    finally:
        acks.close()
    record = pushed[-1] if error is not None and pushed else record
    if record:
        record["queue"] = {
            "queue": queue.display,
            "received": len(messages),
            "acknowledged": acks.acknowledged,
            "left_for_redelivery": len(messages) - acks.acknowledged,
            "visibility_timeout": visibility_timeout,
        }
    _log_acks(messages, acks, visibility_timeout, log)
    if error is not None:
        if push is not None and record:
            push(record)
        raise error
    return record


def receive(
    queue: SqsQueue,
    max_messages: int,
    wait_seconds: int,
    visibility_timeout: int,
    *,
    clock: Callable[[], float] = time.monotonic,
    limit: float = RECEIVE_SECONDS,
) -> list[QueueMessage]:
    """What waits on ``queue``, up to ``max_messages``.

    Stops at the first receive that gets none, or once receiving has taken ``limit`` seconds:
    replies that keep arriving must not hold the first ones back (nor outlast their visibility
    timeout); what is left waits for the next run.
    """
    messages: dict[str, QueueMessage] = {}
    started = clock()
    while len(messages) < max_messages and clock() - started < limit:
        batch = queue.receive(
            max_messages=max_messages - len(messages),
            wait_seconds=wait_seconds,
            visibility_timeout=visibility_timeout,
        )
        if not batch:
            break
        for message in batch:
            # SQS may hand out a message twice; only the latest receipt handle surely deletes it.
            messages[message.queue_message_id] = message
    return list(messages.values())


def check_run_settings(hook: WhatCountsHook, options: OptOutOptions, sender_code: Any) -> int:
    """What would fail every message alike, checked before any is received (and hidden): the
    operator's sender code, the connection, ``scope="all"`` without the account's codes.

    :return: how many pairs a message becomes (the account's codes with ``scope="all"``).
    :raises WhatCountsConfigError, InvalidSenderCodeError: naming the setting.
    """
    if sender_code is not None:
        validate_sender_code(sender_code)
    codes = hook.settings.sender_codes  # resolves and checks the connection
    Intent(
        scope=options.scope,
        account_codes=codes,
        ambiguous=options.ambiguous,
        classifier=options.classifier,
        conn_id=hook.whatcounts_conn_id,
    )
    return len(codes) if options.scope == "all" else 1


def check_queue_arguments(
    receipts_path: Any,
    max_messages: Any,
    visibility_timeout: Any,
    wait_seconds: Any,
    options: OptOutOptions,
    pairs_per_message: int = 1,
) -> None:
    """Refuse what would lose or hold messages wrongly, naming the argument.

    :raises WhatCountsConfigError: no ``receipts_path``; a count out of range; a rate cap too
        low to send ``max_messages`` (times ``pairs_per_message``) within half the visibility
        timeout (they would come back while still being worked on).
    """
    if receipts_path is None:
        raise WhatCountsConfigError(
            "receipts_path is required on the queue path: a message is acknowledged only once its "
            "receipt is written, so without receipts none could ever be"
        )
    _check_whole("max_messages", max_messages, 1, MAX_MESSAGES_LIMIT)
    _check_whole("visibility_timeout", visibility_timeout, 1, MAX_VISIBILITY_TIMEOUT)
    _check_whole("wait_seconds", wait_seconds, 0, MAX_WAIT_SECONDS)
    rate = options.max_requests_per_second
    requests = max_messages * pairs_per_message
    if rate is not None and requests / rate > visibility_timeout / 2:
        per = f" ({pairs_per_message} sender codes each, scope='all')" if pairs_per_message > 1 else ""
        raise WhatCountsConfigError(
            f"max_messages={max_messages}{per} at max_requests_per_second={rate:g} takes about "
            f"{requests / rate:.0f} s, more than half of visibility_timeout={visibility_timeout} s: "
            "messages would be delivered again while this run still works on them; lower "
            "max_messages or raise visibility_timeout"
        )


def _check_whole(name: str, value: Any, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise WhatCountsConfigError(f"{name} must be a whole number from {low} to {high:,}, got {value!r}")


def _log_acks(messages: list[QueueMessage], acks: Acknowledger, visibility_timeout: int, log: Any) -> None:
    left = len(messages) - acks.acknowledged
    log.info("Acknowledged %d of %d message(s)", acks.acknowledged, len(messages))
    if left:
        log.warning(
            "%d message(s) stay on the queue and are delivered again after the visibility timeout "
            "(%d s): %d with a pair that failed, %d whose delete failed, the rest not finished",
            left,
            visibility_timeout,
            acks.kept,
            len(acks.not_deleted),
        )
