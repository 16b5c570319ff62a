"""SqsQueue against SQS (moto's server on 127.0.0.1): receive hides without deleting, delete by
handle, counts, and the client from an Airflow AWS connection."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

import pytest

from whatcounts_provider.exceptions import WhatCountsConfigError
from whatcounts_provider.queues import sqs_client

if TYPE_CHECKING:
    from tests.conftest import Publish
    from whatcounts_provider.queues import SqsQueue


def test_receive_hides_without_deleting_and_says_when_the_queue_got_it(
    queue: SqsQueue, publish: Publish
) -> None:
    before = time.time()
    (queue_id,) = publish({"phone": "2065959696"})
    (message,) = queue.receive(max_messages=10, wait_seconds=0, visibility_timeout=30)
    assert (message.queue_message_id, message.body, message.receive_count) == (
        queue_id,
        '{"phone": "2065959696"}',
        1,
    )
    assert message.sent_at is not None
    assert abs(message.sent_at.timestamp() - before) < 60  # the server's clock, in UTC
    assert queue.counts() == (0, 1)  # hidden, not gone
    assert queue.receive(max_messages=10, wait_seconds=0, visibility_timeout=30) == []


def test_a_message_not_deleted_comes_back_with_its_count(queue: SqsQueue, publish: Publish) -> None:
    publish("STOP")
    queue.receive(max_messages=1, wait_seconds=0, visibility_timeout=1)
    time.sleep(1.5)  # SQS's visibility timeout; correctness does not depend on this machine's speed
    (again,) = queue.receive(max_messages=1, wait_seconds=0, visibility_timeout=30)
    assert again.receive_count == 2


def test_delete_takes_up_to_ten_by_handle_and_names_what_it_could_not_delete(
    queue: SqsQueue, publish: Publish
) -> None:
    publish(*("STOP" for _ in range(12)))
    received: list[Any] = []
    while batch := queue.receive(max_messages=10, wait_seconds=0, visibility_timeout=30):
        received += batch
    assert len(received) == 12
    assert queue.delete(received[:10]) == []
    stale = type(received[10])(received[10].queue_message_id, "not-a-handle", "")
    assert queue.delete([stale, received[11]]) == [received[10].queue_message_id]
    assert queue.counts() == (0, 1)
    assert queue.delete([]) == []


def test_without_the_amazon_provider_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from whatcounts_provider import _compat

    monkeypatch.delattr(_compat, "SqsHook", raising=False)  # looked up again, not from the cache
    monkeypatch.setitem(sys.modules, "airflow.providers.amazon.aws.hooks.sqs", None)  # "not installed"
    with pytest.raises(WhatCountsConfigError, match=r"pip install 'airflow-provider-whatcounts\[sqs\]'"):
        sqs_client("aws_default")
