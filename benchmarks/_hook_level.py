"""(a) per-call cost of one stop against a raw-requests floor and HttpHook; (b) bulk throughput.

Every timed call checks its answer (status 200, the phone echoed back), so a figure can never
come from fast error answers.
"""

from __future__ import annotations

import collections
import time
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
    median,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from _harness import EmulatorProcess, PhoneAllocator

SENDER_PER_CALL = "2065550100"
SENDER_BULK = "2065550101"
# The hook's own timeouts (connect 10 s, read 30 s), given to the floor too so both build the same request.
CLIENT_TIMEOUT = (10.0, 30.0)
PER_CALL_TARGET = 1.15
BULK_TARGET = 0.85


def check_echo(phone: str, body: Any, who: str) -> None:
    if not isinstance(body, dict) or body.get("phone") != phone:
        raise MeasurementError(f"{who}: unexpected answer for {phone}: {str(body)[:200]}")


class FloorClient:
    """The least any client must do: one keep-alive session, Basic auth, the two headers, parse JSON."""

    def __init__(self, url: str, sender: str = SENDER_PER_CALL) -> None:
        self.session = requests.Session()
        self.session.auth = (REALM, PASSWORD)
        self.session.headers.update(API_HEADERS)
        self._prefix = f"{url}/rest/sms/stopSubscriberSend/"
        self._sender = sender

    def __call__(self, phone: str) -> None:
        response = self.session.post(f"{self._prefix}{phone}/{self._sender}", timeout=CLIENT_TIMEOUT)
        if response.status_code != 200:
            raise MeasurementError(f"floor: HTTP {response.status_code} for {phone}")
        check_echo(phone, response.json(), "floor")


def _ours() -> Callable[[str], None]:
    """One WhatCountsHook for the whole loop, as an operator holds one per task run."""
    from whatcounts_provider.hooks.whatcounts import WhatCountsHook

    hook = WhatCountsHook(WHATCOUNTS_CONN_ID)

    def stop(phone: str) -> None:
        check_echo(phone, hook.stop_sms_subscriber(phone, SENDER_PER_CALL), "WhatCountsHook")

    return stop


def _http_hook() -> Callable[[str], None]:
    """The generic alternative: HttpHook.run, which builds a new session (and connection) per call."""
    from airflow.providers.http.hooks.http import HttpHook

    hook = HttpHook(method="POST", http_conn_id=HTTP_CONN_ID)

    def stop(phone: str) -> None:
        response = hook.run(f"/rest/sms/stopSubscriberSend/{phone}/{SENDER_PER_CALL}", headers=API_HEADERS)
        check_echo(phone, response.json(), "HttpHook")

    return stop


def stop_loop(stop: Callable[[str], None], numbers: list[str]) -> float:
    """Milliseconds per call of stopping ``numbers`` one after the other."""
    start = time.perf_counter()
    for number in numbers:
        stop(number)
    return (time.perf_counter() - start) * 1e3 / len(numbers)


def interleaved(
    emulator: EmulatorProcess,
    allocator: PhoneAllocator,
    clients: dict[str, Callable[[str], None]],
    n_calls: int,
    rounds: int,
) -> dict[str, list[float]]:
    """ms/call of each client per round: N fresh phones per client, split over rounds.

    Each round runs every client on its own fresh phones, rotating the order, so that on a
    shared 2-core machine a noise burst hits one round of one client, not a whole client; the
    caller takes the median round. A short warm-up per client comes first.
    """
    warmup = min(50, max(5, n_calls // 20))
    per_round = [n_calls // rounds + (1 if r < n_calls % rounds else 0) for r in range(rounds)]
    plan = {
        name: [allocator.take_list(warmup), *(allocator.take_list(k) for k in per_round)] for name in clients
    }
    emulator.subscribe(SENDER_PER_CALL, [p for blocks in plan.values() for block in blocks for p in block])
    for name, stop in clients.items():
        stop_loop(stop, plan[name][0])
    results: dict[str, list[float]] = collections.defaultdict(list)
    names = list(clients)
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            results[name].append(stop_loop(clients[name], plan[name][1 + r]))
    return results


def measure_per_call(
    emulator: EmulatorProcess, allocator: PhoneAllocator, n_calls: int, rounds: int
) -> list[Row]:
    """(a) N sequential stops per client, zero latency, in interleaved rounds (median round counts)."""
    emulator.reset()
    clients: dict[str, Callable[[str], None]] = {
        "floor": FloorClient(emulator.url),
        "ours": _ours(),
        "HttpHook": _http_hook(),
    }
    results = interleaved(emulator, allocator, clients, n_calls, rounds)
    floor, ours, http = (median(results[name]) for name in ("floor", "ours", "HttpHook"))
    spread = {name: f"{min(v):.3f}-{max(v):.3f}" for name, v in results.items()}
    rows = [
        Row(f"(a) raw requests.Session, floor (rounds {spread['floor']})", f"{floor:.3f} ms/call"),
        Row(
            f"(a) WhatCountsHook.stop_sms_subscriber (rounds {spread['ours']})",
            f"{ours:.3f} ms/call",
            f"floor {floor:.3f} ms",
            f"{ours / floor:.2f}x",
            f"<= {PER_CALL_TARGET:.2f}x",
            ours / floor <= PER_CALL_TARGET,
        ),
        Row(
            f"(a) HttpHook.run (rounds {spread['HttpHook']})",
            f"{http:.3f} ms/call",
            f"floor {floor:.3f} ms",
            f"{http / floor:.2f}x",
        ),
    ]
    return rows


def _raw_pool(url: str, numbers: list[str], workers: int) -> float:
    """Seconds for a bare thread pool sharing one keep-alive session: this machine's ceiling for (b)."""
    from concurrent.futures import ThreadPoolExecutor

    from requests.adapters import HTTPAdapter

    stop = FloorClient(url, sender=SENDER_BULK)
    stop.session.mount("http://", HTTPAdapter(pool_maxsize=workers, pool_block=True))
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for _ in pool.map(stop, numbers):
            pass
    return time.perf_counter() - start


def _bulk_ours(numbers: list[str], workers: int) -> tuple[float, float]:
    """(seconds in all, seconds of up-front validation) of fully consuming one bulk run of a fresh hook."""
    from whatcounts_provider.hooks.whatcounts import WhatCountsHook

    hook = WhatCountsHook(WHATCOUNTS_CONN_ID)
    statuses: collections.Counter[str] = collections.Counter()
    wrong: list[str] = []
    start = time.perf_counter()
    outcomes = hook.stop_sms_subscribers(numbers, SENDER_BULK, max_workers=workers)
    validated = time.perf_counter() - start  # the whole list is normalised before the first request
    for outcome in outcomes:
        statuses[outcome.status] += 1
        if outcome.status != "stopped" and len(wrong) < 5:
            wrong.append(f"{outcome.phone}: {outcome.status} {outcome.error}")
    elapsed = time.perf_counter() - start
    if statuses != collections.Counter({"stopped": len(numbers)}):
        raise MeasurementError(f"bulk outcomes are not all 'stopped': {dict(statuses)}; e.g. {wrong}")
    return elapsed, validated


def measure_bulk(
    emulator: EmulatorProcess, allocator: PhoneAllocator, n: int, latency: float, workers: int
) -> list[Row]:
    """(b) One bulk call over N phones with a per-request latency: how close to N x latency / workers.

    A fresh hook, no warm-up: the operator builds a new hook per task run, so connection set-up
    and the eager validation of the whole list belong in the figure. A bare thread pool on the
    same load shows how much of the gap is this machine (GIL hand-offs, the emulator sharing
    two cores) rather than the hook.
    """
    emulator.reset()
    ours_numbers, raw_numbers = allocator.take_list(n), allocator.take_list(n)
    emulator.subscribe(SENDER_BULK, ours_numbers + raw_numbers)
    emulator.set_latency(latency)
    raw = _raw_pool(emulator.url, raw_numbers, workers)
    elapsed, validated = _bulk_ours(ours_numbers, workers)
    emulator.set_latency(0.0)
    ideal = n * latency / workers
    return [
        Row(
            "(b) bare ThreadPoolExecutor + requests, same load (this machine's ceiling)",
            f"{raw:.2f} s ({n / raw:.0f}/s)",
            f"ideal {ideal:.2f} s",
            f"{ideal / raw:.1%} of ideal",
        ),
        Row(
            f"(b) bulk {n} phones, {latency * 1e3:g} ms latency, {workers} workers "
            f"(of which up-front validation {validated:.2f} s)",
            f"{elapsed:.2f} s ({n / elapsed:.0f}/s)",
            f"ideal {ideal:.2f} s",
            f"{ideal / elapsed:.1%} of ideal",
            f">= {BULK_TARGET:.0%}",
            ideal / elapsed >= BULK_TARGET,
        ),
    ]
