"""The receipts of one try: where they go, what earlier tries of the same DAG run honoured."""

from __future__ import annotations

import threading
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from whatcounts_provider.exceptions import WhatCountsConfigError
from whatcounts_provider.receipts import (
    ReceiptWriter,
    final_receipt,
    final_statuses,
    legacy_task_instance_folder,
    lineage_of,
    task_instance_folder,
)
from whatcounts_provider.receipts.chain import cut_short, link_to, try_files

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from whatcounts_provider.receipts import TaskIdentity
    from whatcounts_provider.storage import Location
    from whatcounts_provider.types import StopOutcome


@dataclass
class TryReceipts:
    """This try's receipts, or none (``writer`` None) when receipts are off.

    :param writer: writes this try's receipts.
    :param folder: the task instance's folder.
    :param done: pairs that earlier tries of this DAG run honoured (not sent again), with the
        final status their receipt holds.
    :param trusted: the earlier try folders they come from.
    :param durable: the outcomes whose receipts are written (see :class:`Durable`).
    :param cut_short: the latest earlier try of this DAG run that ended without a summary (killed
        after it may have sent pairs whose answers it never wrote), or None.
    """

    writer: ReceiptWriter | None = None
    folder: Location | None = None
    done: dict[tuple[str, str], str] = field(default_factory=dict)
    trusted: frozenset[str] = frozenset()
    durable: Durable | None = None
    cut_short: int | None = None

    @property
    def uri(self) -> str | None:
        """The task instance's folder, as the record names it."""
        return None if self.folder is None else self.folder.uri

    def add(self, outcome: StopOutcome) -> None:
        """Write the outcome's receipt (none for ``already_done``: an earlier one covers it)."""
        if self.writer is None:
            if self.durable is not None:
                self.durable.report([outcome])
            return
        if self.durable is None:
            self.writer.add_outcome(outcome)
        elif outcome.status == "already_done":
            self.durable.report([outcome])  # an earlier try's receipt, written long ago
        else:
            self.durable.pending(outcome)
            try:
                self.writer.add_outcome(outcome)
            except ValueError:
                # Refused before it was buffered (bad fields): it will never be written, so it
                # must not take a written one's place. A ReceiptsError comes after buffering:
                # that line is still written, at the next flush or at close.
                self.durable.withdraw()
                raise

    def earlier(self, phone: str, sender_code: str) -> dict[str, Any] | None:
        """The final receipt an earlier try of this DAG run wrote for the pair, if any."""
        if self.folder is None:
            return None
        return final_receipt(self.folder, phone, sender_code, tries=self.trusted)

    def close(self, record: dict[str, Any]) -> None:
        """Flush and write the try's summary with ``record``."""
        if self.writer is not None:
            self.writer.close(record)


class Durable:
    """Hands outcomes to ``report`` once their receipts are written, in the order they were added.

    Parts are written whole and in order, so the writer's count of receipts written says which
    of the pending outcomes are now on storage. ``report`` is called from the thread that wrote
    the part (the run's, or the writer's timer).
    """

    def __init__(self, report: Callable[[list[StopOutcome]], object]) -> None:
        self.report = report
        self._pending: deque[StopOutcome] = deque()
        self._lock = threading.Lock()

    def pending(self, outcome: StopOutcome) -> None:
        with self._lock:
            self._pending.append(outcome)

    def withdraw(self) -> None:
        """Forget the last pending outcome (its receipt could not be built)."""
        with self._lock:
            self._pending.pop()

    def written(self, count: int) -> None:
        with self._lock:
            done = [self._pending.popleft() for _ in range(min(count, len(self._pending)))]
        if done:
            self.report(done)


@contextmanager
def try_receipts(
    receipts_path: Any,
    task: TaskIdentity | None,
    on_receipted: Callable[[list[StopOutcome]], object] | None = None,
) -> Iterator[TryReceipts]:
    """Open this try's receipts under ``receipts_path`` (``None``: receipts off, nothing resumed).

    The try resumes only from its own DAG run's earlier tries (see
    :mod:`whatcounts_provider.receipts.runs`); the marker is written before anything is sent.
    ``on_receipted`` is given each outcome once its receipt is on storage (at once, when
    receipts are off or an earlier try's receipt covers it).
    """
    durable = None if on_receipted is None else Durable(on_receipted)
    if receipts_path is None:
        yield TryReceipts(durable=durable)
        return
    if task is None:
        raise WhatCountsConfigError(
            "receipts_path needs the task identity: pass task=TaskIdentity.from_context(context)"
        )
    folder = task_instance_folder(receipts_path, task)
    files = try_files(folder)
    legacy = None if files else legacy_task_instance_folder(receipts_path, task)
    if legacy is not None and (legacy_files := try_files(legacy)):
        # Its first tries were written under layout 1: the task instance stays in that folder.
        folder, files = legacy, legacy_files
    lineage = lineage_of(folder, task.try_number, task.run)
    done = final_statuses(folder, tries=lineage.trusted)
    killed = cut_short(lineage.trusted, files)
    on_written = None if durable is None else durable.written
    previous = link_to(folder, lineage.previous, files)
    with ReceiptWriter(
        folder, task, lineage=lineage.token, on_written=on_written, previous=previous, cut_short=killed
    ) as writer:
        yield TryReceipts(writer, folder, done, lineage.trusted, durable, killed)
