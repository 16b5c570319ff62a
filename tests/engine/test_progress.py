"""The progress log of a bulk run: rate and ETA, at most once per interval."""

from __future__ import annotations

from whatcounts_provider.engine.progress import Progress


def test_progress_logs_rate_and_eta_at_most_every_interval(caplog):
    import logging

    now = [100.0]
    logger = logging.getLogger("test.progress")
    progress = Progress(total=1000, log=logger, every=10.0, clock=lambda: now[0])
    with caplog.at_level("INFO", logger="test.progress"):
        for done in range(1, 1001):
            now[0] += 1 / 32  # 32 phones a second (exact in binary): 31.25 s in all
            progress.tick(done)
        progress.finish(1000)
    lines = [r.getMessage() for r in caplog.records]
    # ticks at 10 s, 20 s and 30 s (phones 320, 640, 960), then finish(): never one line per phone
    assert lines == [
        "Progress: 320/1000 phones (32.0%), 32/s, elapsed 10.0 s, ETA 21 s",
        "Progress: 640/1000 phones (64.0%), 32/s, elapsed 20.0 s, ETA 11 s",
        "Progress: 960/1000 phones (96.0%), 32/s, elapsed 30.0 s, ETA 1 s",
        "Progress: 1000/1000 phones (100.0%), 32/s, elapsed 31.2 s, ETA 0 s",
    ]
    assert all("/s" in line and "ETA" in line for line in lines)
