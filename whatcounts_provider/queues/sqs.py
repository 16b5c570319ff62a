"""Amazon SQS, as the queue path uses it: receive without deleting, delete once receipted, count.

The client is the amazon provider's (``SqsHook(aws_conn_id).get_conn()``), so the queue is
reached with an ordinary Airflow AWS connection (its ``endpoint_url`` extra points it at any
SQS-compatible server). Install the provider with ``pip install 'airflow-provider-whatcounts[sqs]'``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from whatcounts_provider.exceptions import WhatCountsConfigError
from whatcounts_provider.queues.messages import QueueMessage

#: SQS answers at most 10 messages per receive, and takes at most 10 deletes per call.
SQS_BATCH = 10
#: The longest long-poll SQS allows, in seconds.
MAX_WAIT_SECONDS = 20
#: SQS's longest visibility timeout, in seconds (12 hours).
MAX_VISIBILITY_TIMEOUT = 12 * 60 * 60


def sqs_client(aws_conn_id: str | None, region_name: str | None = None) -> Any:
    """A boto3 SQS client for the Airflow AWS connection ``aws_conn_id``.

    :raises WhatCountsConfigError: the amazon provider is not installed.
    """
    try:
        from whatcounts_provider._compat import SqsHook
    except ImportError as exc:
        raise WhatCountsConfigError(
            "the SQS queue path needs the amazon provider: pip install 'airflow-provider-whatcounts[sqs]'"
        ) from exc
    return SqsHook(aws_conn_id=aws_conn_id, region_name=region_name).get_conn()


class SqsQueue:
    """One SQS queue, through a boto3 client.

    :param client: a boto3 SQS client (:func:`sqs_client`).
    :param url: the queue URL.
    """

    def __init__(self, client: Any, url: str) -> None:
        self.client = client
        self.url = url

    @property
    def display(self) -> str:
        """The queue as records and logs name it (a queue URL holds no credentials)."""
        return self.url

    def receive(self, *, max_messages: int, wait_seconds: int, visibility_timeout: int) -> list[QueueMessage]:
        """Up to ``max_messages`` (at most 10) messages, hidden from others for ``visibility_timeout`` s.

        Nothing is deleted: a message comes back after the visibility timeout unless
        :meth:`delete` is called with its handle first.
        """
        answer = self.client.receive_message(
            QueueUrl=self.url,
            MaxNumberOfMessages=min(max_messages, SQS_BATCH),
            WaitTimeSeconds=wait_seconds,
            VisibilityTimeout=visibility_timeout,
            MessageSystemAttributeNames=["SentTimestamp", "ApproximateReceiveCount"],
        )
        return [_message(raw) for raw in answer.get("Messages", [])]

    def delete(self, messages: list[QueueMessage]) -> list[str]:
        """Delete up to 10 messages by their handles; return the queue ids that were not deleted."""
        if not messages:
            return []
        entries = [{"Id": str(n), "ReceiptHandle": m.handle} for n, m in enumerate(messages)]
        answer = self.client.delete_message_batch(QueueUrl=self.url, Entries=entries)
        return [messages[int(failure["Id"])].queue_message_id for failure in answer.get("Failed", [])]

    def counts(self) -> tuple[int, int]:
        """How many messages wait (visible) and how many are being worked on (in flight)."""
        return counts_of(
            self.client.get_queue_attributes(
                QueueUrl=self.url,
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )
        )


def counts_of(answer: dict[str, Any]) -> tuple[int, int]:
    """(visible, in flight) from a ``GetQueueAttributes`` answer."""
    attributes = answer.get("Attributes", {})
    return (
        int(attributes.get("ApproximateNumberOfMessages", 0)),
        int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
    )


def _message(raw: dict[str, Any]) -> QueueMessage:
    attributes = raw.get("Attributes", {})
    sent = attributes.get("SentTimestamp")
    return QueueMessage(
        queue_message_id=str(raw["MessageId"]),
        handle=str(raw["ReceiptHandle"]),
        body=str(raw.get("Body", "")),
        sent_at=None if sent is None else datetime.fromtimestamp(int(sent) / 1000, tz=timezone.utc),
        receive_count=int(attributes.get("ApproximateReceiveCount", 1)),
    )
