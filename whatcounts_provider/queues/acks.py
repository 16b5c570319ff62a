"""Acknowledge a message only once every receipt of its row is on storage, and only if final.

The engine hands over outcomes as their receipts are written (``run_opt_outs(on_receipted=)``);
a message's row may have several (one per sender code with ``scope="all"``), so the message is
acknowledged when the last one arrives. A row with a pair that failed in a way a retry may fix
is not acknowledged: the queue delivers the message again after its visibility timeout, and a
later run sends it again (STOP is idempotent). Deletes run on their own thread, so the receipt
writer, which calls in with its lock held, never waits on the queue.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import TYPE_CHECKING, Any, Protocol

from whatcounts_provider.queues.sqs import SQS_BATCH

if TYPE_CHECKING:
    from collections.abc import Mapping

    from whatcounts_provider.queues.messages import QueueMessage
    from whatcounts_provider.types import StopOutcome

default_log = logging.getLogger("whatcounts_provider.queues")


class Deleter(Protocol):
    def delete(self, messages: list[QueueMessage]) -> list[str]: ...


def keeps_message(outcome: StopOutcome) -> bool:
    """Whether this outcome leaves its message on the queue: a failure a later try may fix."""
    return outcome.status == "failed" and not outcome.permanent


class Acknowledger:
    """Deletes each message whose row's receipts are all written and none of them awaits a retry.

    :param target: the queue (``delete(messages)`` returns the ids it could not delete).
    :param messages: row number -> the message it was read from.
    :param log: where delete failures go (message ids only).
    """

    def __init__(self, target: Deleter, messages: Mapping[int, QueueMessage], log: Any = default_log) -> None:
        self._target = target
        self._messages = messages
        self._log = log
        self._lock = threading.Lock()
        self._seen: dict[int, int] = {}
        self._kept: set[int] = set()
        self._todo: queue.SimpleQueue[QueueMessage | None] = queue.SimpleQueue()
        self.acknowledged = 0
        self.not_deleted: list[str] = []
        self._thread = threading.Thread(target=self._deletes, name="whatcounts-acks", daemon=True)
        self._thread.start()

    @property
    def kept(self) -> int:
        """Messages left on the queue because a pair of theirs failed."""
        with self._lock:
            return len(self._kept)

    def receipted(self, outcomes: list[StopOutcome]) -> None:
        """Take outcomes whose receipts are written; queue the messages whose rows are complete."""
        with self._lock:
            for outcome in outcomes:
                number = outcome.row.row
                if keeps_message(outcome):
                    self._kept.add(number)
                seen = self._seen[number] = self._seen.get(number, 0) + 1
                if seen == outcome.of and number not in self._kept:
                    self._todo.put(self._messages[number])

    def close(self) -> None:
        """Wait until every queued delete is done."""
        self._todo.put(None)
        self._thread.join()

    def _deletes(self) -> None:
        done = False
        while not done:
            batch: list[QueueMessage] = []
            item = self._todo.get()
            while item is not None:
                batch.append(item)
                if len(batch) == SQS_BATCH or self._todo.empty():
                    break
                item = self._todo.get()
            done = item is None
            if batch:
                self._delete(batch)

    def _delete(self, batch: list[QueueMessage]) -> None:
        try:
            failed = self._target.delete(batch)
        except Exception as exc:
            # Not deleted means delivered again after the visibility timeout: one more request
            # and receipt, never a lost opt-out. The run says how many.
            failed = [message.queue_message_id for message in batch]
            self._log.warning("Could not acknowledge %d message(s): %s", len(batch), type(exc).__name__)
        with self._lock:
            self.acknowledged += len(batch) - len(failed)
            self.not_deleted.extend(failed)
