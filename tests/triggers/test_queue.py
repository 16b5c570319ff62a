"""The queue watcher's trigger against SQS (moto's server on 127.0.0.1): it looks, fires with
counts and never with a message, never takes a message, and never dies of a bad queue."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import TYPE_CHECKING, Any

import pytest

from tests.helpers import AIRFLOW_VERSION
from tests.receipts.support import S3_CONN_ID

if TYPE_CHECKING:
    from tests.conftest import Publish
    from whatcounts_provider.queues import SqsQueue

if AIRFLOW_VERSION.major < 3:
    pytest.skip(
        "event-driven scheduling is Airflow 3 only; 2.11 (a schedule): tests/e2e/test_queue_dag.py",
        allow_module_level=True,
    )

from whatcounts_provider.triggers.queue import WhatCountsQueueTrigger


def trigger(queue_url: str, **kwargs: Any) -> WhatCountsQueueTrigger:
    return WhatCountsQueueTrigger(queue_url=queue_url, aws_conn_id=S3_CONN_ID, poll_interval=0.05, **kwargs)


async def first_event(watcher: WhatCountsQueueTrigger, timeout: float = 30) -> Any:
    events = watcher.run()
    try:
        return await asyncio.wait_for(events.__anext__(), timeout)
    finally:
        await events.aclose()


def test_it_fires_with_the_counts_and_leaves_every_message_on_the_queue(
    queue: SqsQueue, publish: Publish
) -> None:
    publish(*({"phone": f"20655501{n:02d}", "message": "STOP"} for n in range(3)))
    event = asyncio.run(first_event(trigger(queue.url)))
    assert event.payload["queue"] == queue.url
    assert (event.payload["waiting"], event.payload["in_flight"]) == (3, 0)
    assert "phone" not in json.dumps(event.payload)  # the triggerer logs every event
    assert queue.counts() == (3, 0)  # nothing received, hidden or deleted


def test_it_does_not_fire_on_an_empty_queue(queue: SqsQueue) -> None:
    with pytest.raises(asyncio.TimeoutError):  # not the builtin on Python 3.10
        asyncio.run(first_event(trigger(queue.url), timeout=1))


def test_a_queue_it_cannot_read_is_logged_and_watched_again_not_a_crash(
    queue: SqsQueue, log_text: Any
) -> None:
    missing = queue.url + "-missing"
    warned = f"Cannot read queue {missing}"

    async def watch() -> bool:
        """Run the trigger until it has warned (bounded); whether it was still running then."""
        events = trigger(missing).run()
        step = asyncio.ensure_future(events.__anext__())
        for _ in range(600):  # up to 30 s for a loaded machine; usually the first tenth of a second
            if warned in log_text() or step.done():
                break
            await asyncio.sleep(0.05)
        running = not step.done()
        step.cancel()
        with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
            await step
        await events.aclose()
        return running

    assert asyncio.run(watch()), "the trigger ended or fired instead of looking again"
    assert warned in log_text()


def test_it_serializes_to_what_builds_it_again(queue: SqsQueue) -> None:
    classpath, kwargs = trigger(queue.url, rearm_seconds=7).serialize()
    assert classpath == "whatcounts_provider.triggers.queue.WhatCountsQueueTrigger"
    assert WhatCountsQueueTrigger(**kwargs).serialize() == (classpath, kwargs)
    assert kwargs["rearm_seconds"] == 7


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"queue_url": ""}, "queue_url must be an SQS queue URL"),
        ({"queue_url": "u", "poll_interval": 0}, "poll_interval must be a number of seconds > 0"),
        ({"queue_url": "u", "rearm_seconds": "10"}, "rearm_seconds"),
    ],
)
def test_bad_arguments_are_refused_when_the_dag_is_parsed(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WhatCountsQueueTrigger(**kwargs)
