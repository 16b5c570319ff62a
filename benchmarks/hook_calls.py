"""Hook-level sections: the cost of one call, and the throughput of a bulk run.

per-call: one stop through WhatCountsHook against a raw keep-alive requests loop (the floor) and
HttpHook, sequential, zero latency. Each round runs every client on fresh phones, rotating the
order, so a noise burst on a shared machine hits one round of one client; the median round counts.
bulk: stop_sms_subscribers over N phones with a per-request latency, against the ideal
N x latency / workers and a bare thread pool on the same load (what this machine allows; the
target is relative to it). A fresh hook and no warm-up: the operator builds one per task run, so
connection set-up and the up-front validation of the whole list belong in the figure.
Every call checks its answer (the phone echoed back): a figure never comes from fast errors.
"""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from statistics import median
from typing import TYPE_CHECKING, Any

import requests
from _harness import (
    API_HEADERS,
    HTTP_CONN_ID,
    PASSWORD,
    REALM,
    WHATCOUNTS_CONN_ID,
    MeasurementError,
    Row,
    Section,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from _harness import Bench

SENDER, BULK_SENDER = "2065550100", "2065550101"
PER_CALL_TARGET = 1.15  # ours / floor
# Of a bare thread pool on the same load, not of the ideal: the pool is what this machine allows,
# so the ratio measures our overhead rather than the machine.
BULK_TARGET = 0.95
TIMEOUT = (10.0, 30.0)  # the hook's own (connect, read): the floor sends the same request


def check_echo(phone: str, body: Any) -> None:
    if not isinstance(body, dict) or body.get("phone") != phone:
        raise MeasurementError(f"unexpected answer for {phone}: {str(body)[:200]}")


def floor_client(url: str, sender: str) -> tuple[requests.Session, Callable[[str], None]]:
    """The least any client must do: one keep-alive session, Basic auth, the two headers, parse JSON."""
    session = requests.Session()
    session.auth, prefix = (REALM, PASSWORD), f"{url}/rest/sms/stopSubscriberSend/"
    session.headers.update(API_HEADERS)
    return session, lambda phone: check_echo(
        phone, session.post(f"{prefix}{phone}/{sender}", timeout=TIMEOUT).json()
    )


def clients(url: str) -> dict[str, Callable[[str], None]]:
    from airflow.providers.http.hooks.http import HttpHook

    from whatcounts_provider.hooks.whatcounts import WhatCountsHook

    ours = WhatCountsHook(WHATCOUNTS_CONN_ID)  # one per task run, as the operator holds it
    http = HttpHook(method="POST", http_conn_id=HTTP_CONN_ID)  # a new session per call
    path = "/rest/sms/stopSubscriberSend/{}/" + SENDER
    return {
        "raw requests.Session, floor": floor_client(url, SENDER)[1],
        "WhatCountsHook.stop_sms_subscriber": lambda p: check_echo(p, ours.stop_sms_subscriber(p, SENDER)),
        "HttpHook.run": lambda p: check_echo(p, http.run(path.format(p), headers=API_HEADERS).json()),
    }


def ms_per_call(stop: Callable[[str], None], phones: list[str]) -> float:
    start = time.perf_counter()
    for phone in phones:
        stop(phone)
    return (time.perf_counter() - start) * 1e3 / len(phones)


def run_per_call(bench: Bench) -> list[Row]:
    per_round, rounds = max(1, bench.sizes.n_calls // bench.sizes.rounds), bench.sizes.rounds
    bench.reset()
    stops = clients(bench.url)
    names = list(stops)
    plan = {name: [bench.fresh_phones(per_round) for _ in range(rounds + 1)] for name in names}
    bench.subscribe(SENDER, [p for blocks in plan.values() for block in blocks for p in block])
    times: dict[str, list[float]] = {name: [] for name in names}
    for name in names:  # the first block warms each client up
        ms_per_call(stops[name], plan[name][0])
    for r in range(1, rounds + 1):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            times[name].append(ms_per_call(stops[name], plan[name][r]))
    floor, rows = median(times[names[0]]), []
    for name in names:
        ms = median(times[name])
        rows.append(
            Row(f"per call: {name} (rounds {min(times[name]):.3f}-{max(times[name]):.3f})", f"{ms:.3f} ms")
        )
        if name != names[0]:
            rows[-1].reference, rows[-1].ratio = f"floor {floor:.3f} ms", f"{ms / floor:.2f}x"
    rows[1].target, rows[1].met = (
        f"<= {PER_CALL_TARGET:.2f}x",
        median(times[names[1]]) / floor <= PER_CALL_TARGET,
    )
    return rows


def bare_pool(url: str, phones: list[str], workers: int) -> float:
    """Seconds for a thread pool sharing one keep-alive session: this machine's ceiling."""
    from requests.adapters import HTTPAdapter

    session, stop = floor_client(url, BULK_SENDER)
    session.mount("http://", HTTPAdapter(pool_maxsize=workers, pool_block=True))
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(stop, phones))
    return time.perf_counter() - start


def ours(phones: list[str], workers: int) -> float:
    """Seconds to consume one bulk run of a fresh hook; every outcome must be 'stopped'."""
    from whatcounts_provider.hooks.whatcounts import WhatCountsHook

    start = time.perf_counter()
    outcomes = WhatCountsHook(WHATCOUNTS_CONN_ID).stop_sms_subscribers(
        phones, BULK_SENDER, max_workers=workers
    )
    statuses = Counter(outcome.status for outcome in outcomes)
    elapsed = time.perf_counter() - start
    if statuses != {"stopped": len(phones)}:
        raise MeasurementError(f"bulk outcomes are not all 'stopped': {dict(statuses)}")
    return elapsed


def run_bulk(bench: Bench) -> list[Row]:
    n, latency, workers = bench.sizes.bulk_n, bench.sizes.latency, bench.sizes.workers
    bench.reset(latency=latency)
    ours_phones, pool_phones = bench.fresh_phones(n), bench.fresh_phones(n)
    bench.subscribe(BULK_SENDER, ours_phones + pool_phones)
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
            f">= {BULK_TARGET:.0%} of pool",
            pool / elapsed >= BULK_TARGET,
        ),
    ]


PER_CALL = Section("per-call", run_per_call, lambda sizes: 120 + sizes.n_calls * 0.2)
BULK = Section("bulk", run_bulk, lambda sizes: 120 + sizes.bulk_n * sizes.latency / sizes.workers * 10)
