"""When a queue watcher fires: a pure decision, so that it can be tested with a clock of our own."""

from __future__ import annotations


class Watch:
    """Decide, from each look at the queue, whether to schedule a run.

    Fires when messages wait and none fired yet since the queue was last seen empty, and again
    every ``rearm_seconds`` while messages still wait (the run that the last event started may
    have ended with a backlog, been lost with its event, or be still on its way). Asset events
    that arrive while a run is active wait for it (the DAG's ``max_active_runs=1``) and start
    one more run between them, so a burst becomes a few runs, not one per message.

    :param rearm_seconds: how long messages may keep waiting before the watch fires again.
    """

    def __init__(self, rearm_seconds: float) -> None:
        self.rearm_seconds = rearm_seconds
        self._fired_at: float | None = None

    def fire(self, waiting: int, now: float) -> bool:
        """Whether to fire now, with ``waiting`` messages visible at time ``now`` (seconds)."""
        if waiting <= 0:
            self._fired_at = None
            return False
        if self._fired_at is None or now - self._fired_at >= self.rearm_seconds:
            self._fired_at = now
            return True
        return False
