"""The receipts of one try: where they go, what earlier tries of the same DAG run honoured."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from whatcounts_provider.exceptions import WhatCountsConfigError
from whatcounts_provider.receipts import (
    ReceiptWriter,
    completed_pairs,
    final_receipt,
    lineage_of,
    task_instance_folder,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from whatcounts_provider.receipts import TaskIdentity
    from whatcounts_provider.storage import Location
    from whatcounts_provider.types import StopOutcome


@dataclass
class TryReceipts:
    """This try's receipts, or none (``writer`` None) when receipts are off.

    :param writer: writes this try's receipts.
    :param folder: the task instance's folder.
    :param done: pairs that earlier tries of this DAG run honoured: not sent again.
    :param trusted: the earlier try folders they come from.
    """

    writer: ReceiptWriter | None = None
    folder: Location | None = None
    done: set[tuple[str, str]] = field(default_factory=set)
    trusted: frozenset[str] = frozenset()

    @property
    def uri(self) -> str | None:
        """The task instance's folder, as the record names it."""
        return None if self.folder is None else self.folder.uri

    def add(self, outcome: StopOutcome) -> None:
        """Write the outcome's receipt (none for ``already_done``: an earlier one covers it)."""
        if self.writer is not None:
            self.writer.add_outcome(outcome)

    def earlier(self, phone: str, sender_code: str) -> dict[str, Any] | None:
        """The final receipt an earlier try of this DAG run wrote for the pair, if any."""
        if self.folder is None:
            return None
        return final_receipt(self.folder, phone, sender_code, tries=self.trusted)

    def close(self, record: dict[str, Any]) -> None:
        """Flush and write the try's summary with ``record``."""
        if self.writer is not None:
            self.writer.close(record)


@contextmanager
def try_receipts(receipts_path: Any, task: TaskIdentity | None) -> Iterator[TryReceipts]:
    """Open this try's receipts under ``receipts_path`` (``None``: receipts off, nothing resumed).

    The try resumes only from its own DAG run's earlier tries (see
    :mod:`whatcounts_provider.receipts.runs`); the marker is written before anything is sent.
    """
    if receipts_path is None:
        yield TryReceipts()
        return
    if task is None:
        raise WhatCountsConfigError(
            "receipts_path needs the task identity: pass task=TaskIdentity.from_context(context)"
        )
    folder = task_instance_folder(receipts_path, task)
    lineage = lineage_of(folder, task.try_number, task.run)
    done = completed_pairs(folder, tries=lineage.trusted)
    with ReceiptWriter(folder, task, lineage=lineage.token) as writer:
        yield TryReceipts(writer, folder, done, lineage.trusted)
