"""Constant-memory tallies for the period report: percentiles from a histogram, and the top N.

A period may hold millions of receipts; the report keeps counters and bounded lists only.
"""

from __future__ import annotations

import heapq
import itertools
import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping


def percentile(histogram: Mapping[int, int], fraction: float) -> int | None:
    """The nearest-rank percentile of whole values counted in ``histogram`` (value -> count).

    Nearest rank: the smallest value that at least ``fraction`` of all values are at or below, so
    the answer is always a value that occurred (a whole number of business days). None if empty.
    """
    total = sum(histogram.values())
    if total == 0:
        return None
    rank = max(1, math.ceil(fraction * total))
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    return max(histogram)  # pragma: no cover - rank <= total always stops the loop


class TopN:
    """Keep the ``n`` entries with the largest keys seen (keys: tuples of ints), in one pass.

    ``offer`` builds an entry only when it would be kept, so millions of offers stay cheap.
    """

    def __init__(self, n: int) -> None:
        self.n = n
        self.total = 0
        self._heap: list[tuple[tuple[int, ...], int, dict[str, Any]]] = []
        self._order = itertools.count()

    def offer(self, key: tuple[int, ...], make: Callable[[], dict[str, Any]]) -> None:
        """Count one more, and keep ``make()`` if ``key`` is among the ``n`` largest so far."""
        self.total += 1
        if self.n == 0:
            return
        # Ties keep the entry offered first: a later one needs a strictly larger key.
        order = -next(self._order)
        if len(self._heap) < self.n:
            heapq.heappush(self._heap, (key, order, make()))
        elif (key, order) > self._heap[0][:2]:
            heapq.heapreplace(self._heap, (key, order, make()))

    def largest_first(self) -> list[dict[str, Any]]:
        """The kept entries, largest key first (ties: in the order they were offered)."""
        return [entry for _, _, entry in sorted(self._heap, key=lambda item: item[:2], reverse=True)]
