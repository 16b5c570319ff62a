"""Bulk stops: validate and de-duplicate up front, then run a bounded window of workers."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Literal

from whatcounts_provider.exceptions import InvalidPhoneNumberError, WhatCountsError

Status = Literal["stopped", "not_subscribed", "invalid", "failed"]
MAX_WORKERS_LIMIT = 64


@dataclass(frozen=True)
class StopOutcome:
    """What happened to one phone of a bulk run.

    :param phone: the normalised phone, or for ``invalid`` the input exactly as given.
    :param status: ``stopped``, ``not_subscribed``, ``invalid`` or ``failed``.
    :param error: why it is ``invalid`` or ``failed`` (phones masked, no secrets).
    :param response: WhatCounts' JSON record for ``stopped``.
    """

    phone: Any
    status: Status
    error: str | None = None
    response: dict[str, Any] | None = None


def check_workers(max_workers: object) -> int:
    if isinstance(max_workers, bool) or not isinstance(max_workers, int):
        raise ValueError(f"max_workers must be a whole number, got {max_workers!r}")
    if not 1 <= max_workers <= MAX_WORKERS_LIMIT:
        raise ValueError(f"max_workers must be from 1 to {MAX_WORKERS_LIMIT}, got {max_workers}")
    return max_workers


def check_phone_list(phones: Any) -> Iterable[Any]:
    """``phones`` itself, if it is a collection of phones: not text (its characters) nor a mapping."""
    if isinstance(phones, (str, bytes, Mapping)) or not isinstance(phones, Iterable):
        raise TypeError(f"phones must be a list of phone numbers, got {type(phones).__name__}")
    return phones


def partition(
    phones: Iterable[Any], normalize: Callable[[object], str]
) -> tuple[list[str], list[StopOutcome]]:
    """Split inputs into distinct normalised phones (first-seen order) and invalid outcomes."""
    seen: dict[str, None] = {}
    invalid: list[StopOutcome] = []
    for raw in check_phone_list(phones):
        try:
            seen.setdefault(normalize(raw), None)
        except InvalidPhoneNumberError as exc:
            invalid.append(StopOutcome(raw, "invalid", error=str(exc)))
    return list(seen), invalid


def stopped(phone: str, response: dict[str, Any]) -> StopOutcome:
    return StopOutcome(phone, "stopped", response=response)


def not_subscribed(phone: str, exc: WhatCountsError, *, missing_ok: bool) -> StopOutcome:
    if missing_ok:
        return StopOutcome(phone, "not_subscribed")
    return StopOutcome(phone, "failed", error=str(exc))


def failed(phone: str, exc: WhatCountsError) -> StopOutcome:
    return StopOutcome(phone, "failed", error=str(exc))


def run(
    invalid: list[StopOutcome],
    phones: list[str],
    stop_one: Callable[[str], StopOutcome],
    workers: int,
) -> Iterator[StopOutcome]:
    """Yield the invalid outcomes, then each phone's outcome as it completes.

    At most ``2 * workers`` futures exist at once, so memory does not grow with the list.
    Leaving the generator early cancels what has not started.
    """
    yield from invalid
    pending = iter(phones)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="whatcounts") as pool:
        in_flight: set[Future[StopOutcome]] = set()
        try:
            for phone in pending:
                in_flight.add(pool.submit(stop_one, phone))
                if len(in_flight) >= 2 * workers:
                    done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                    yield from (future.result() for future in done)
            while in_flight:
                done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                yield from (future.result() for future in done)
        finally:
            for future in in_flight:
                future.cancel()
