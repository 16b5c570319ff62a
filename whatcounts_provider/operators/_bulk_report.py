"""Input coercion, the summary record and progress logging of the bulk operator."""

from __future__ import annotations

import ast
import json
import time
from typing import TYPE_CHECKING, Any

from whatcounts_provider.hooks._bulk import check_phone_list
from whatcounts_provider.phone import mask_phone

if TYPE_CHECKING:
    import logging
    from collections.abc import Callable

    from whatcounts_provider.types import StopOutcome

PROGRESS_EVERY_SECONDS = 10.0
_NATIVE_HINT = (
    "pass a list: give the upstream task's output directly (phones=upstream.output) or set "
    "render_template_as_native_obj=True on the DAG so Jinja returns a list, not its text"
)


def coerce_phones(value: Any) -> list[Any]:
    """Accept a list/tuple/sequence of phones, or the text of a JSON array / Python list literal."""
    if isinstance(value, str):
        return _parse_list_text(value)
    try:
        return list(check_phone_list(value))
    except TypeError as exc:
        raise TypeError(f"{exc}; {_NATIVE_HINT}") from None


def _parse_list_text(text: str) -> list[Any]:
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            parsed = json.loads(stripped)
        except ValueError:
            try:
                parsed = ast.literal_eval(stripped)  # literals only: never evaluates code
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                parsed = None
        if isinstance(parsed, list):
            return parsed
    raise TypeError(
        f"phones was rendered as a string that is not a JSON array or list literal "
        f"({len(text)} characters); {_NATIVE_HINT}"
    )


class BulkSummary:
    """Counts every outcome; keeps only the phones that need attention."""

    def __init__(self, sender_code: str, total: int) -> None:
        self.sender_code = sender_code
        self.total = total
        self.stopped = 0
        self.not_subscribed: list[str] = []
        self.invalid: list[Any] = []
        self.failed: list[dict[str, str]] = []

    def add(self, outcome: StopOutcome) -> None:
        if outcome.status == "stopped":
            self.stopped += 1
        elif outcome.status == "not_subscribed":
            self.not_subscribed.append(outcome.phone)
        elif outcome.status == "invalid":
            self.invalid.append(outcome.phone)
        else:
            self.failed.append({"phone": outcome.phone, "error": outcome.error or "unknown error"})

    @property
    def done(self) -> int:
        return self.stopped + len(self.not_subscribed) + len(self.invalid) + len(self.failed)

    def record(self, *, retries: int) -> dict[str, Any]:
        """The XCom record. ``duplicates`` counts inputs that repeated an earlier phone."""
        return {
            "sender_code": self.sender_code,
            "total": self.total,
            "stopped": self.stopped,
            "not_subscribed": self.not_subscribed,
            "invalid": self.invalid,
            "failed": self.failed,
            "duplicates": self.total - self.done,
            "retries": retries,
        }

    def log_lines(self, *, limit: int = 20) -> list[str]:
        """Human-readable report; phones masked, at most ``limit`` listed per category."""
        lines = [
            f"sender code {self.sender_code}: {self.total} inputs, {self.stopped} stopped, "
            f"{len(self.not_subscribed)} not subscribed, {len(self.invalid)} invalid, "
            f"{len(self.failed)} failed, {self.total - self.done} duplicates"
        ]
        for item in self.failed[:limit]:
            lines.append(f"failed {mask_phone(item['phone'])}: {item['error']}")
        for raw in self.invalid[:limit]:
            lines.append(f"invalid input {mask_phone(raw)}")
        for phone in self.not_subscribed[:limit]:
            lines.append(f"not subscribed {mask_phone(phone)}")
        hidden = sum(max(0, len(x) - limit) for x in (self.failed, self.invalid, self.not_subscribed))
        if hidden:
            lines.append(f"... and {hidden} more (all of them are in the XCom record)")
        return lines


class Progress:
    """Log done/total, rate and ETA at most every ``every`` seconds, and once at the end.

    :param clock: monotonic seconds; injected by tests.
    """

    def __init__(
        self,
        total: int,
        log: logging.Logger | Any,
        every: float = PROGRESS_EVERY_SECONDS,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = total
        self.log = log
        self.every = every
        self.clock = clock
        self.started = clock()
        self.last = self.started

    def tick(self, done: int) -> None:
        now = self.clock()
        if now - self.last >= self.every:
            self.last = now
            self._log(done, now)

    def finish(self, done: int) -> None:
        self._log(done, self.clock())

    def _log(self, done: int, now: float) -> None:
        elapsed = max(now - self.started, 1e-9)
        rate = done / elapsed
        eta = (self.total - done) / rate if rate else float("inf")
        self.log.info(
            "Progress: %d/%d phones (%.1f%%), %.0f/s, elapsed %.1f s, ETA %s",
            done,
            self.total,
            100.0 * done / self.total if self.total else 100.0,
            rate,
            elapsed,
            f"{eta:.0f} s" if eta != float("inf") else "unknown",
        )
