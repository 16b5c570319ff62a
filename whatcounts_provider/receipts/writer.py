"""``ReceiptWriter``: one JSON line per input, written as whole part files while a task runs."""

from __future__ import annotations

import gzip
import hashlib
import logging
import secrets
import threading
from collections import Counter
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from whatcounts_provider import __version__
from whatcounts_provider.deadline import utc_now
from whatcounts_provider.exceptions import ReceiptsError
from whatcounts_provider.receipts.index import INDEX_NAME, build_index, entry
from whatcounts_provider.receipts.layout import LAYOUT_VERSION
from whatcounts_provider.receipts.runs import MARKER_NAME, marker_bytes
from whatcounts_provider.receipts.schema import build_receipt, dumps_document, dumps_line, iso, outcome_fields

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from types import TracebackType

    from whatcounts_provider.receipts.layout import TaskIdentity
    from whatcounts_provider.storage import Location
    from whatcounts_provider.types import StopOutcome

log = logging.getLogger(__name__)

DEFAULT_MAX_RECEIPTS = 250
DEFAULT_MAX_INTERVAL = 1.0
SUMMARY_NAME = "summary.json"


def _stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")


class ReceiptWriter:
    """Write receipts of one try of a task instance into its folder (a context manager).

    :meth:`start` (entering the ``with`` block, or the first :meth:`add`) writes the try's marker
    (``try.json``: its DAG run and lineage, see :mod:`whatcounts_provider.receipts.runs`) and starts
    the timed flush. Receipts are then buffered and written as new part files
    ``try=<try>-<start>-<token>/part-<try>-<time>-<token>-<seq>.jsonl[.gz]``: when
    ``max_receipts`` are buffered, when the oldest buffered receipt is ``max_interval`` seconds
    old (a background thread checks even when no receipt arrives), and at close. Each part is
    written once, whole, and never rewritten. :meth:`close` (or leaving the ``with`` block)
    flushes and writes the try's ``summary.json`` next to its parts. ``folder`` is the task
    instance's folder (for the record's ``receipts``); ``attempt_folder`` is this try's folder in it.

    :param folder: the task instance's folder (``task_instance_folder(...)``).
    :param identity: the task instance and try writing the receipts.
    :param lineage: the lineage this try continues (``lineage_of(...).token``); a new one if None.
    :param provider_version: written into every receipt.
    :param compress: write ``.jsonl.gz`` parts.
    :param clock: returns the current aware UTC time; used for ``processed_at``, part names and
        flush timing (inject one in tests).
    :param max_receipts: flush when this many receipts are buffered (default
        ``DEFAULT_MAX_RECEIPTS``).
    :param max_interval: flush when the oldest buffered receipt is this many seconds old (default
        ``DEFAULT_MAX_INTERVAL``).
    :param background: run the timed flush in a background thread (off: call ``flush_due``).
    :param ticker: called by the background thread between checks with the check interval;
        defaults to waiting that long (interrupted by close). Tests inject one.
    :param on_written: called with the number of receipts of each part once that part is
        written (receipts are written in the order they were added), from whichever thread
        flushed it, with the writer's lock held: keep it short (a queue acknowledging messages
        hands them to its own thread).
    :param previous: the link to the try started before this one, written into the
        summary (``receipts.chain.link_to``): it chains the tries of a task instance.
    :param cut_short: the number of an earlier try of this lineage that ended without a summary
        (killed), if any: written into every ``not_subscribed`` receipt of this try as
        ``earlier_try_cut_short`` (that try may have stopped the pair, its answer lost).

    Besides its parts, :meth:`close` writes the try's phone index (``phones.idx``, see
    :mod:`whatcounts_provider.receipts.index`), and the summary records each part's SHA-256, the
    index's, the receipts layout version and ``previous``.
    """

    def __init__(
        self,
        folder: Location,
        identity: TaskIdentity,
        *,
        lineage: str | None = None,
        provider_version: str = __version__,
        compress: bool = False,
        clock: Callable[[], datetime] = utc_now,
        max_receipts: int | None = None,
        max_interval: float | None = None,
        background: bool = True,
        ticker: Callable[[float], object] | None = None,
        on_written: Callable[[int], object] | None = None,
        previous: Mapping[str, Any] | None = None,
        cut_short: int | None = None,
    ) -> None:
        # Read when a writer is made, not when the module is: the benchmark compares settings.
        max_receipts = DEFAULT_MAX_RECEIPTS if max_receipts is None else max_receipts
        max_interval = DEFAULT_MAX_INTERVAL if max_interval is None else max_interval
        if max_receipts < 1:
            raise ValueError(f"max_receipts must be >= 1, got {max_receipts!r}")
        if max_interval <= 0:
            raise ValueError(f"max_interval must be > 0, got {max_interval!r}")
        self.identity = identity
        self.lineage = lineage or secrets.token_hex(8)
        self.provider_version = provider_version
        self.compress = compress
        self.max_receipts = max_receipts
        self.max_interval = max_interval
        self._clock = clock
        self._token = secrets.token_hex(4)
        self.started_at = clock()
        self.attempt_name = f"try={identity.try_number:03d}-{_stamp(self.started_at)}-{self._token}"
        self.folder = folder
        self.attempt_folder = folder.child(self.attempt_name)
        self._suffix = ".jsonl.gz" if compress else ".jsonl"
        self._lock = threading.RLock()
        self._lines: list[str] = []
        self._oldest: datetime | None = None
        # A batch whose write failed keeps its name: retrying it can only write the same file.
        self._unwritten: list[tuple[str, bytes, list[str | None]]] = []
        self._seq = 0
        self._parts: list[str] = []
        self._counts: Counter[str] = Counter()
        self._written = 0
        self._started = False
        self._closed = False
        # Flush when the oldest receipt will be max_interval old by the next check.
        self._tick = min(1.0, max_interval / 20)
        self._stop = threading.Event()
        self._ticker = ticker or self._stop.wait
        self._background = background
        self._thread: threading.Thread | None = None
        self._on_written = on_written
        self._previous = None if previous is None else dict(previous)
        self.cut_short = cut_short
        # The index entries of the buffered lines, then of each part as it is written.
        self._phones: list[str | None] = []
        self._entries: list[int] = []
        self._digests: dict[str, str] = {}

    # -- public -------------------------------------------------------------------------
    @property
    def parts(self) -> list[str]:
        """Names of the part files written so far, in order."""
        with self._lock:
            return list(self._parts)

    @property
    def counts(self) -> dict[str, int]:
        """Receipts added so far, by status."""
        with self._lock:
            return dict(self._counts)

    def start(self) -> ReceiptWriter:
        """Write this try's marker, then start the timed flush (once; later calls do nothing).

        Called before anything is sent, so that every try that may have sent left its marker.

        :raises ReceiptsError: the marker could not be written (nothing should be sent then).
        """
        with self._lock:
            if self._started:
                return self
            self._started = True
            run = self.identity.run
            data = marker_bytes(self.identity.try_number, run, iso(self.started_at), self.lineage)
            self._put(MARKER_NAME, data)
            if self._background:
                self._thread = threading.Thread(
                    target=self._run_timer, name="whatcounts-receipts", daemon=True
                )
                self._thread.start()
        return self

    def add(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Buffer the receipt of one input; returns the full receipt line as written.

        :param fields: ``row`` (1-based input position), ``input`` (JSON-safe), ``status``
            (``stopped|not_subscribed|invalid|failed|duplicate``) and optionally ``phone``,
            ``sender_code``, ``error``, ``whatcounts`` (the API's record), ``requested_at``
            (datetime, ISO-8601 text or epoch seconds) and ``attempts`` (default 0).
        :raises ValueError: unknown or missing fields, or a status no receipt carries.
        """
        receipt = build_receipt(fields, self.identity, self._clock(), self.provider_version)
        line = dumps_line(receipt)
        self.start()
        with self._lock:
            if self._closed:
                raise ReceiptsError("this ReceiptWriter is closed")
            if self._oldest is None:
                self._oldest = self._clock()
            self._lines.append(line)
            phone = receipt.get("phone")
            self._phones.append(phone if isinstance(phone, str) and phone else None)
            self._counts[receipt["status"]] += 1
            if len(self._lines) >= self.max_receipts:
                self._flush_locked()
        return receipt

    def add_outcome(self, outcome: StopOutcome) -> dict[str, Any] | None:
        """Buffer the receipt of one outcome; ``already_done`` outcomes get none (None)."""
        fields = outcome_fields(outcome)
        if fields is None:
            return None
        if self.cut_short is not None and fields["status"] == "not_subscribed":
            fields["earlier_try_cut_short"] = self.cut_short
        return self.add(fields)

    def flush(self) -> None:
        """Write the buffered receipts as one new part (nothing when the buffer is empty)."""
        with self._lock:
            self._flush_locked()

    def flush_due(self) -> bool:
        """Flush if the oldest buffered receipt has waited (about) ``max_interval``; True if so."""
        with self._lock:
            if self._oldest is None or self._closed:
                return False
            waited = (self._clock() - self._oldest).total_seconds()
            # A clock stepped backwards must not hold receipts back forever.
            if 0 <= waited < self.max_interval - self._tick:
                return False
            self._flush_locked()
            return True

    def close(self, record: Mapping[str, Any] | None = None, *, error: BaseException | None = None) -> None:
        """Flush, stop the timer and write this try's ``summary.json``.

        :param record: the task's XCom record, stored in the summary.
        :param error: the exception that ended the try, if any (only its type is stored).
        """
        if self._closed:
            return
        self.start()
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        with self._lock:
            self._closed = True
            self._flush_locked()
            index = build_index(self._parts, self._entries)
            self._put(INDEX_NAME, index)
            summary = self._summary(record, error)
            summary["index"] = {"name": INDEX_NAME, "sha256": hashlib.sha256(index).hexdigest()}
            self._put(SUMMARY_NAME, dumps_document(summary))

    def __enter__(self) -> ReceiptWriter:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.close()
            return
        try:
            self.close(error=exc)
        except Exception:
            # The task's own error matters more; the receipts' failure is logged, not raised.
            log.exception("Could not finish the receipts in %s", self.folder.uri)

    # -- internals ----------------------------------------------------------------------
    def _summary(self, record: Mapping[str, Any] | None, error: BaseException | None) -> dict[str, Any]:
        identity = self.identity
        return {
            "dag_id": identity.dag_id,
            "run_id": identity.run_id,
            "task_id": identity.task_id,
            "map_index": identity.map_index,
            "try_number": identity.try_number,
            "lineage": self.lineage,
            "provider_version": self.provider_version,
            "started_at": iso(self.started_at),
            "finished_at": iso(self._clock()),
            "error": None if error is None else type(error).__name__,
            "receipts": self._written,
            "by_status": dict(sorted(self._counts.items())),
            "parts": list(self._parts),
            "record": None if record is None else dict(record),
            "layout": LAYOUT_VERSION,
            "part_sha256": dict(self._digests),
            "previous": self._previous,
        }

    def _put(self, name: str, data: bytes) -> None:
        try:
            self.attempt_folder.put(name, data)
        except Exception as err:
            raise ReceiptsError(f"could not write {self.attempt_folder.uri}/{name}: {err}") from err

    def _flush_locked(self) -> None:
        if self._lines:
            self._seq += 1
            name = (
                f"part-{self.identity.try_number:03d}-{_stamp(self._clock())}-{self._token}"
                f"-{self._seq:05d}{self._suffix}"
            )
            data = "".join(self._lines).encode("utf-8")
            if self.compress:
                data = gzip.compress(data, compresslevel=6, mtime=0)
            self._unwritten.append((name, data, self._phones))
            self._lines = []
            self._phones = []
            self._oldest = None
        while self._unwritten:
            name, data, phones = self._unwritten[0]
            self._put(name, data)
            self._unwritten.pop(0)
            position = len(self._parts)
            self._parts.append(name)
            self._digests[name] = hashlib.sha256(data).hexdigest()
            self._entries.extend(entry(phone, position) for phone in phones if phone is not None)
            count = len(phones)
            self._written += count
            if self._on_written is not None:
                self._on_written(count)

    def _run_timer(self) -> None:
        while not self._stop.is_set():
            self._ticker(self._tick)
            if self._stop.is_set():
                return
            try:
                self.flush_due()
            except ReceiptsError as err:
                # The batch stays queued under its name; the next flush writes it.
                log.warning("%s; it will be retried", err)
