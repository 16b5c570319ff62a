"""Bulk stops: rows sorted one by one as they are read, jobs sent by a bounded window of worker
threads, one outcome per row."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from whatcounts_provider.exceptions import WhatCountsCancelledError
from whatcounts_provider.types import Row, StopOutcome

if TYPE_CHECKING:
    from whatcounts_provider.hooks._outcomes import Job, Sorter

MAX_WORKERS_LIMIT = 64
# How often a waiting run looks at the cancel flag; bounds how long a cancel takes to be seen.
_CANCEL_POLL_SECONDS = 0.1


def check_workers(max_workers: object) -> int:
    if isinstance(max_workers, bool) or not isinstance(max_workers, int):
        raise ValueError(f"max_workers must be a whole number, got {max_workers!r}")
    if not 1 <= max_workers <= MAX_WORKERS_LIMIT:
        raise ValueError(f"max_workers must be from 1 to {MAX_WORKERS_LIMIT}, got {max_workers}")
    return max_workers


def check_inputs(values: Any, name: str = "phones", what: str = "phone numbers") -> Iterable[Any]:
    """``values`` itself, if it is a collection of inputs: not text (its characters) nor a mapping."""
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
        raise TypeError(f"{name} must be a list of {what}, got {type(values).__name__}")
    checked: Iterable[Any] = values  # mypy 1.19 (the 3.0 lane's) calls a narrowed Any still Any
    return checked


def run(
    rows: Iterable[Row],
    sorter: Sorter,
    stop_one: Callable[[Job], StopOutcome],
    *,
    workers: int,
    cancelled: threading.Event,
) -> Iterator[StopOutcome]:
    """Yield one outcome per pair of each row: sorted-out ones at once, sent ones as they complete.

    ``rows`` is read lazily, and at most ``2 * workers`` jobs are queued or running at once, so
    memory grows with the distinct pairs (for de-duplication), not with the input. Workers are
    daemon threads: a cancelled run returns at once, without waiting for requests in flight
    (they end by themselves within the read timeout, and their answers are dropped). An
    exception from ``stop_one`` (e.g. rejected credentials) ends the run.

    :raises WhatCountsCancelledError: ``cancelled`` was set; nothing more is sent.
    """
    window = 2 * workers
    crew = _Crew(stop_one, workers)
    read = done = 0
    try:
        for row in rows:
            if cancelled.is_set():
                raise WhatCountsCancelledError("cancelled")
            read += 1
            for sorted_ in sorter.sort(row):
                if isinstance(sorted_, StopOutcome):
                    done += 1
                    yield sorted_
                    continue
                crew.submit(sorted_)
                while crew.outstanding >= window:
                    outcome = crew.next_result(cancelled)
                    done += 1
                    yield outcome
        while crew.outstanding:
            outcome = crew.next_result(cancelled)
            done += 1
            yield outcome
    except WhatCountsCancelledError:
        raise WhatCountsCancelledError(
            f"bulk stop cancelled after {read} input(s) read and {done} outcome(s); "
            f"{crew.outstanding} pair(s) were queued or being sent; nothing more is sent"
        ) from None
    finally:
        crew.stop()


class _Crew:
    """Daemon worker threads fed through a queue; results come back through another."""

    def __init__(self, work: Callable[[Job], StopOutcome], size: int) -> None:
        self._work = work
        self._size = size
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._results: queue.SimpleQueue[tuple[StopOutcome | None, BaseException | None]] = (
            queue.SimpleQueue()
        )
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self.outstanding = 0

    def submit(self, job: Job) -> None:
        if not self._threads:  # started on the first job: a run of invalid inputs needs none
            for number in range(self._size):
                thread = threading.Thread(target=self._loop, name=f"whatcounts-{number}", daemon=True)
                thread.start()
                self._threads.append(thread)
        self.outstanding += 1
        self._jobs.put(job)

    def next_result(self, cancelled: threading.Event) -> StopOutcome:
        """The next finished job's outcome; re-raises what the job raised."""
        while True:
            try:
                outcome, error = self._results.get(timeout=_CANCEL_POLL_SECONDS)
            except queue.Empty:
                if cancelled.is_set():
                    raise WhatCountsCancelledError("cancelled") from None
                continue
            self.outstanding -= 1
            if error is not None:
                raise error
            assert outcome is not None
            return outcome

    def stop(self) -> None:
        """Workers finish what they are sending, skip what is queued, and exit."""
        self._stopping.set()
        for _ in self._threads:
            self._jobs.put(None)

    def _loop(self) -> None:
        while (job := self._jobs.get()) is not None:
            if self._stopping.is_set():
                continue
            try:
                self._results.put((self._work(job), None))
            except BaseException as exc:  # handed to the run, which re-raises it
                self._results.put((None, exc))
