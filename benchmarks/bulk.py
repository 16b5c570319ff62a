"""Bulk throughput: stop_sms_subscribers over N phones with a per-request latency, against the
ideal N x latency / workers and a bare thread pool on the same load (what this machine allows).

A fresh hook and no warm-up: the operator builds a new hook per task run, so connection set-up
and the up-front validation of the whole list belong in the figure.
"""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from _harness import WHATCOUNTS_CONN_ID, MeasurementError, Row, Section
from per_call import floor_client

if TYPE_CHECKING:
    from _harness import Bench

SENDER = "2065550101"
TARGET = 0.85  # of ideal


def bare_pool(url: str, phones: list[str], workers: int) -> float:
    """Seconds for a thread pool sharing one keep-alive session: this machine's ceiling."""
    from requests.adapters import HTTPAdapter

    session, stop = floor_client(url, SENDER)
    session.mount("http://", HTTPAdapter(pool_maxsize=workers, pool_block=True))
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(stop, phones))
    return time.perf_counter() - start


def ours(phones: list[str], workers: int) -> float:
    """Seconds to consume one bulk run of a fresh hook; every outcome must be 'stopped'."""
    from whatcounts_provider.hooks.whatcounts import WhatCountsHook

    start = time.perf_counter()
    outcomes = WhatCountsHook(WHATCOUNTS_CONN_ID).stop_sms_subscribers(phones, SENDER, max_workers=workers)
    statuses = Counter(outcome.status for outcome in outcomes)
    elapsed = time.perf_counter() - start
    if statuses != {"stopped": len(phones)}:
        raise MeasurementError(f"bulk outcomes are not all 'stopped': {dict(statuses)}")
    return elapsed


def run(bench: Bench) -> list[Row]:
    n, latency, workers = bench.sizes.bulk_n, bench.sizes.latency, bench.sizes.workers
    bench.reset(latency=latency)
    ours_phones, pool_phones = bench.fresh_phones(n), bench.fresh_phones(n)
    bench.subscribe(SENDER, ours_phones + pool_phones)
    pool = bare_pool(bench.url, pool_phones, workers)
    elapsed = ours(ours_phones, workers)
    bench.reset()
    ideal = n * latency / workers
    return [
        Row(
            "bulk: bare ThreadPoolExecutor + requests, same load",
            f"{pool:.2f} s ({n / pool:.0f}/s)",
            f"ideal {ideal:.2f} s",
            f"{ideal / pool:.1%} of ideal",
        ),
        Row(
            f"bulk: stop_sms_subscribers, {n} phones, {latency * 1e3:g} ms latency, {workers} workers",
            f"{elapsed:.2f} s ({n / elapsed:.0f}/s)",
            f"ideal {ideal:.2f} s; pool {pool:.2f} s",
            f"{ideal / elapsed:.1%} of ideal, {pool / elapsed:.1%} of pool",
            f">= {TARGET:.0%} of ideal",
            ideal / elapsed >= TARGET,
        ),
    ]


SECTION = Section("bulk", run, lambda sizes: 120 + sizes.bulk_n * sizes.latency / sizes.workers * 10)
