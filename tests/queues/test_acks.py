"""Which messages are acknowledged, and when: only whole rows, only once written, never a
retryable failure."""

from __future__ import annotations

import threading

from whatcounts_provider.queues.acks import Acknowledger
from whatcounts_provider.queues.messages import QueueMessage
from whatcounts_provider.types import Row, StopOutcome


class FakeQueue:
    def __init__(self, refuse: set[str] = frozenset(), raises: bool = False) -> None:
        self.deleted: list[str] = []
        self.refuse = refuse
        self.raises = raises
        self.lock = threading.Lock()

    def delete(self, messages: list[QueueMessage]) -> list[str]:
        if self.raises:
            raise ConnectionError("queue unreachable")
        with self.lock:
            self.deleted.extend(m.queue_message_id for m in messages if m.queue_message_id not in self.refuse)
        return [m.queue_message_id for m in messages if m.queue_message_id in self.refuse]


def messages(count: int) -> dict[int, QueueMessage]:
    return {n: QueueMessage(f"m{n}", f"h{n}", "{}") for n in range(1, count + 1)}


def outcome(number: int, status: str = "stopped", *, of: int = 1, fanout: int = 0, permanent: bool = False):
    return StopOutcome(Row(number, {}, "1", "1"), status, fanout=fanout, of=of, permanent=permanent)  # type: ignore[arg-type]


def test_a_message_is_acknowledged_when_the_last_receipt_of_its_row_is_written():
    fake = FakeQueue()
    acks = Acknowledger(fake, messages(2))
    acks.receipted([outcome(1, of=3), outcome(2), outcome(1, "duplicate", of=3, fanout=1)])
    acks.receipted([outcome(1, "not_subscribed", of=3, fanout=2)])
    acks.close()
    assert sorted(fake.deleted) == ["m1", "m2"]
    assert acks.acknowledged == 2


def test_a_row_with_a_retryable_failure_stays_on_the_queue():
    fake = FakeQueue()
    acks = Acknowledger(fake, messages(3))
    acks.receipted(
        [outcome(1, "failed", of=2), outcome(1, of=2, fanout=1), outcome(2, "failed", permanent=True)]
    )
    acks.receipted(
        [
            outcome(3, "invalid"),
        ]
    )
    acks.close()
    assert sorted(fake.deleted) == ["m2", "m3"]  # a permanent failure would fail alike forever
    assert (acks.acknowledged, acks.kept) == (2, 1)


def test_every_final_status_acknowledges():
    statuses = [
        "stopped",
        "not_subscribed",
        "invalid",
        "duplicate",
        "already_done",
        "not_opt_out",
        "needs_review",
    ]
    fake = FakeQueue()
    acks = Acknowledger(fake, messages(len(statuses)))
    acks.receipted([outcome(n, status) for n, status in enumerate(statuses, 1)])
    acks.close()
    assert acks.acknowledged == len(statuses)


def test_a_row_not_yet_complete_is_not_acknowledged():
    fake = FakeQueue()
    acks = Acknowledger(fake, messages(1))
    acks.receipted([outcome(1, of=2)])
    acks.close()
    assert fake.deleted == []


def test_deletes_that_fail_are_counted_not_raised(log_text):
    refused = FakeQueue(refuse={"m2"})
    acks = Acknowledger(refused, messages(3))
    acks.receipted([outcome(1), outcome(2), outcome(3)])
    acks.close()
    assert (acks.acknowledged, acks.not_deleted) == (2, ["m2"])
    broken = Acknowledger(FakeQueue(raises=True), messages(2))
    broken.receipted([outcome(1), outcome(2)])
    broken.close()
    assert (broken.acknowledged, sorted(broken.not_deleted)) == (0, ["m1", "m2"])
    assert "Could not acknowledge" in log_text()


def test_deletes_go_in_batches_of_ten():
    sizes: list[int] = []

    class Counting(FakeQueue):
        def delete(self, messages: list[QueueMessage]) -> list[str]:
            sizes.append(len(messages))
            return super().delete(messages)

    fake = Counting()
    acks = Acknowledger(fake, messages(25))
    acks.receipted([outcome(n) for n in range(1, 26)])
    acks.close()
    assert len(fake.deleted) == 25
    assert max(sizes) <= 10
