"""``WhatCountsQueueTrigger``: schedules the queue DAG when STOP replies wait on an SQS queue.

The trigger only *looks* at the queue (``GetQueueAttributes``): it never receives, holds or
deletes a message. Its event is a wake-up carrying counts, never a message: a lost event, a
triggerer killed mid-poll, or a trigger that runs twice after a restart loses nothing, because
the messages are still on the queue for the run to take (and the next look fires again). It
also keeps phone numbers out of the triggerer's log, which records every event it fires.

Use it in an ``AssetWatcher`` (Airflow 3 only)::

    Asset("whatcounts_stop_replies", watchers=[
        AssetWatcher(name="stop_replies", trigger=WhatCountsQueueTrigger(queue_url=URL)),
    ])
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from whatcounts_provider.triggers.watch import Watch

try:
    from whatcounts_provider._compat import BaseEventTrigger, TriggerEvent
except ImportError as exc:  # Airflow 2.11: no event-driven scheduling
    raise ImportError(
        "WhatCountsQueueTrigger needs Airflow 3 (AssetWatcher); on Airflow 2.11 run "
        "StopSmsFromQueueOperator on a short schedule instead (docs/events.md)"
    ) from exc

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

DEFAULT_POLL_INTERVAL = 2.0
DEFAULT_REARM_SECONDS = 10.0
#: The longest wait between looks while the queue cannot be read (a wrong URL, no network).
_MAX_BACKOFF = 60.0


class WhatCountsQueueTrigger(BaseEventTrigger):  # type: ignore[misc,unused-ignore]
    """Fire when messages wait on the SQS queue ``queue_url``.

    :param queue_url: the SQS queue URL.
    :param aws_conn_id: the Airflow AWS connection (its ``endpoint_url`` extra for an
        SQS-compatible server).
    :param region_name: the AWS region, if the connection does not say.
    :param poll_interval: seconds between looks at the queue (one ``GetQueueAttributes`` each).
    :param rearm_seconds: fire again after this long while messages keep waiting.
    """

    def __init__(
        self,
        *,
        queue_url: str,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        rearm_seconds: float = DEFAULT_REARM_SECONDS,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call,unused-ignore]
        if not isinstance(queue_url, str) or not queue_url.strip():
            raise ValueError(f"queue_url must be an SQS queue URL, got {queue_url!r}")
        for name, value in (("poll_interval", poll_interval), ("rearm_seconds", rearm_seconds)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"{name} must be a number of seconds > 0, got {value!r}")
        self.queue_url = queue_url
        self.aws_conn_id = aws_conn_id
        self.region_name = region_name
        self.poll_interval = float(poll_interval)
        self.rearm_seconds = float(rearm_seconds)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "queue_url": self.queue_url,
                "aws_conn_id": self.aws_conn_id,
                "region_name": self.region_name,
                "poll_interval": self.poll_interval,
                "rearm_seconds": self.rearm_seconds,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        watch = Watch(self.rearm_seconds)
        backoff = self.poll_interval
        while True:
            try:
                async with await self._client() as client:
                    while True:
                        visible, in_flight = await self._counts(client)
                        backoff = self.poll_interval
                        if watch.fire(visible, time.monotonic()):
                            yield TriggerEvent(self._payload(visible, in_flight))  # type: ignore[no-untyped-call,unused-ignore]
                        await asyncio.sleep(self.poll_interval)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # A watcher that dies schedules nothing until someone notices; one that keeps
                # looking recovers by itself when the queue is back. Nothing is lost meanwhile.
                self.log.warning(
                    "Cannot read queue %s (%s: %s); looking again in %.0f s",
                    self.queue_url,
                    type(exc).__name__,
                    exc,
                    backoff,
                )
                await asyncio.sleep(backoff)
                backoff = min(_MAX_BACKOFF, backoff * 2)

    async def _client(self) -> Any:
        from whatcounts_provider._compat import SqsHook

        hook = SqsHook(aws_conn_id=self.aws_conn_id, region_name=self.region_name)
        return await hook.get_async_conn()  # type: ignore[no-untyped-call,unused-ignore]

    async def _counts(self, client: Any) -> tuple[int, int]:
        from whatcounts_provider.queues.sqs import counts_of

        answer = await client.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )
        return counts_of(answer)

    def _payload(self, visible: int, in_flight: int) -> dict[str, Any]:
        return {
            "queue": self.queue_url,
            "waiting": visible,
            "in_flight": in_flight,
            "observed_at": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
        }
