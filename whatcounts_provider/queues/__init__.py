"""Opt-outs as events: STOP replies from a durable queue, honoured by the engine, and each
message acknowledged only once its receipt is on storage (at-least-once: nothing is lost).

Modules: ``messages`` (a message body and the row it becomes; why one is refused), ``sqs``
(receive without deleting, delete, count), ``acks`` (which messages may be deleted, and when),
``honour`` (one run: receive, honour, acknowledge). The Airflow 3 trigger that schedules the
runs is :mod:`whatcounts_provider.triggers.queue`; the operator,
:mod:`whatcounts_provider.operators.queue`. See docs/events.md.
"""

from __future__ import annotations

from whatcounts_provider.queues.honour import honour_queue
from whatcounts_provider.queues.messages import MAX_BODY_BYTES, MESSAGE_FIELDS, QueueMessage, message_row
from whatcounts_provider.queues.sqs import SqsQueue, sqs_client

__all__ = [
    "MAX_BODY_BYTES",
    "MESSAGE_FIELDS",
    "QueueMessage",
    "SqsQueue",
    "honour_queue",
    "message_row",
    "sqs_client",
]
