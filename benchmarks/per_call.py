"""Per call: one stop through WhatCountsHook, against a raw keep-alive requests loop and HttpHook.

Sequential, zero latency. Each round runs every client on fresh phones, rotating the order, so a
noise burst on a shared machine hits one round of one client; the median round counts. Every
call checks its answer (the phone echoed back): a figure never comes from fast errors.
"""

from __future__ import annotations

import time
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

SENDER = "2065550100"
TARGET = 1.15  # ours / floor
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


def run(bench: Bench) -> list[Row]:
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
    rows[1].target, rows[1].met = f"<= {TARGET:.2f}x", median(times[names[1]]) / floor <= TARGET
    return rows


SECTION = Section("per-call", run, lambda sizes: 120 + sizes.n_calls * 0.2)
