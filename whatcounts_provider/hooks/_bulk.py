"""Bulk stops over (phone, sender code) pairs: checked one by one as they are read, sent by a
bounded window of worker threads, one outcome per input."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from typing import Any

from whatcounts_provider.exceptions import (
    InvalidPhoneNumberError,
    InvalidSenderCodeError,
    WhatCountsCancelledError,
)
from whatcounts_provider.phone import validate_sender_code
from whatcounts_provider.types import StopOutcome, json_safe

MAX_WORKERS_LIMIT = 64
# How often a waiting run looks at the cancel flag; bounds how long a cancel takes to be seen.
_CANCEL_POLL_SECONDS = 0.1

#: One pair to send: (index, input as given (JSON-safe), normalised phone, validated code).
Job = tuple[int, Any, str, str]


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


def check_phone_list(phones: Any) -> Iterable[Any]:
    return check_inputs(phones)


class Sorter:
    """Turn each input into a job to send or a final outcome; remembers the distinct pairs seen.

    :param normalize: the hook's phone normaliser (connection's default region).
    :param already_done: normalised pairs an earlier try honoured: reported, never sent.
    """

    def __init__(
        self, normalize: Callable[[object], str], already_done: Container[tuple[str, str]] = ()
    ) -> None:
        self._normalize = normalize
        self._already_done = already_done
        # Distinct pairs as {code: {phone as int}}: ~70 bytes a pair instead of ~150 for a set
        # of string tuples (a million distinct pairs is a realistic opt-out file). Normalised
        # phones are digits that start with a country code, never with 0: int() loses nothing.
        self._seen: dict[str, set[int]] = {}

    def sort(self, index: int, item: object) -> Job | StopOutcome:
        if isinstance(item, (str, bytes, Mapping)) or not isinstance(item, Sequence) or len(item) != 2:
            return StopOutcome(
                None,
                "invalid",
                error=f"input must be a (phone, sender_code) pair, got {_shape(item)}",
                index=index,
                input=json_safe(item),
            )
        raw_phone, raw_code = item
        given = json_safe(raw_phone)
        phone = code = None
        errors = []
        try:
            phone = self._normalize(raw_phone)
        except InvalidPhoneNumberError as exc:
            errors.append(str(exc))
        try:
            code = validate_sender_code(raw_code)
        except InvalidSenderCodeError as exc:
            errors.append(str(exc))
        if phone is None or code is None:
            return StopOutcome(
                phone, "invalid", error="; ".join(errors), index=index, input=given, sender_code=code
            )
        phones = self._seen.setdefault(code, set())
        if int(phone) in phones:
            return StopOutcome(phone, "duplicate", index=index, input=given, sender_code=code)
        phones.add(int(phone))
        if (phone, code) in self._already_done:
            return StopOutcome(phone, "already_done", index=index, input=given, sender_code=code)
        return (index, given, phone, code)


def run(
    items: Iterable[object],
    sorter: Sorter,
    stop_one: Callable[[Job], StopOutcome],
    *,
    workers: int,
    cancelled: threading.Event,
) -> Iterator[StopOutcome]:
    """Yield one outcome per input: checked ones at once, sent ones as they complete.

    ``items`` is read lazily, and at most ``2 * workers`` jobs are queued or running at once, so
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
        for index, item in enumerate(items):
            if cancelled.is_set():
                raise WhatCountsCancelledError("cancelled")
            read += 1
            sorted_ = sorter.sort(index, item)
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


def _shape(item: object) -> str:
    if isinstance(item, Sequence) and not isinstance(item, (str, bytes)):
        return f"a {type(item).__name__} of {len(item)}"
    return type(item).__name__
