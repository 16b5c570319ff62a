"""The event path under the deployment stage: STOP replies published to moto's SQS queue, the
queue example's watcher in the triggerer, its runs on the Celery workers, and the accounting of
each scenario (published -> receipted, redelivered, DAG runs, seconds to recover).

Every scenario publishes its own messages (phones from its own slice of ``phone_series``, its own
sender code) and is judged by the SQS message ids it got back, so receipts of other scenarios in
the same receipts folder never count. The figures go to ``FIGURES`` (timings.json) and to
``events.json`` in the stage folder, for the docs.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from whatcounts_provider.receipts import is_part_name, iter_receipts
from whatcounts_provider.receipts.layout import encode_component
from whatcounts_provider.testing.series import phone_series
from whatcounts_provider.types import RECEIPT_STATUSES

from .conftest import FIGURES, REPORT
from .scenarios import count_of
from .services import wait_for

if TYPE_CHECKING:
    from pathlib import Path

    from whatcounts_provider.testing.emulator import WhatCountsEmulator

    from .stage import Stage

QUEUE_DAG = "whatcounts_stop_sms_from_queue"
QUEUE_TASK = "stop_sms"
#: The example's ``max_messages`` (the operator's default): a burst needs at least this many runs.
MAX_MESSAGES = 2_000
ACTIVE_RUN_STATES = {"queued", "running"}

#: A receipt is *final* when it says what became of its message for good: WhatCounts' answer
#: (``stopped``, ``not_subscribed``), the reply's (``not_opt_out``, ``needs_review``) or the
#: message's own (``invalid``, ``duplicate``). That is every status but ``failed``: a message with
#: a failed pair is not acknowledged, comes back after the visibility timeout, and a later run
#: writes its final receipt. "Exactly one final receipt per message" is the event path's promise
#: (at-least-once delivery, honoured once); a message may also have any number of failed ones.
FINAL_STATUSES = frozenset(RECEIPT_STATUSES) - {"failed"}

#: What each kind of message must end as (its final receipt's status). A STOP is ``not_subscribed``
#: when it was sent again after its first request had stopped the phone (a receipt lost with a
#: killed try).
EXPECTED = {
    "stop": {"stopped", "not_subscribed"},
    "thanks": {"not_opt_out"},
    "not_json": {"invalid"},
    "no_phone": {"invalid"},
    "unknown_field": {"invalid"},
}
_BAD_KINDS = ("not_json", "no_phone", "unknown_field")


def kind_of(index: int) -> str:
    """The mix of a burst: per 50 messages, 44 STOP, 5 "thanks" (not an opt-out), 1 bad one."""
    if index % 50 == 49:
        return _BAD_KINDS[(index // 50) % len(_BAD_KINDS)]
    return "thanks" if index % 10 == 5 else "stop"


def body_of(kind: str, phone: str, code: str, message_id: str) -> str:
    received_at = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
    body: dict[str, Any] = {"phone": phone, "sender_code": code, "message": "STOP"}
    body.update(received_at=received_at, message_id=message_id)
    if kind == "thanks":
        body["message"] = "thanks!"
    elif kind == "not_json":
        return f"STOP from {message_id} (not JSON)"
    elif kind == "no_phone":
        del body["phone"]
    elif kind == "unknown_field":
        body["carrier"] = "example"
    return json.dumps(body)


def utc(text: str | None) -> float | None:
    """Seconds since the epoch of an ISO time from the REST API or a receipt (``Z`` or an offset)."""
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat()


def percentile(values: list[float], share: float) -> float:
    """The ``share`` percentile (0-1), by the nearest rank: of 20 samples, p95 is the 19th."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


# --- the stage's queue and the queue DAG ------------------------------------------------------


def receipts_folder(stage: Stage) -> Path:
    return stage.root / "pipeline-storage" / "receipts" / f"dag_id={QUEUE_DAG}"


#: try folder -> (its part names, its receipts) as last read. A part is written once, whole, and
#: never rewritten, so a try folder is read again only when it has a new part: the scenarios poll
#: every fraction of a second, and the test process also serves the emulator and the queue.
_READ: dict[Path, tuple[frozenset[str], list[dict[str, Any]]]] = {}


def queue_receipts(stage: Stage) -> list[dict[str, Any]]:
    """Every receipt of the queue DAG (``iter_receipts`` per try folder)."""
    found: list[dict[str, Any]] = []
    for folder in sorted(receipts_folder(stage).glob("run_id=*/task_id=*/map_index=*/try=*")):
        parts = frozenset(p.name for p in folder.iterdir() if is_part_name(p.name))
        read = _READ.get(folder)
        if read is None or read[0] != parts:
            read = _READ[folder] = (parts, list(iter_receipts(folder)))
        found += read[1]
    return found


def queue_runs(stage: Stage, since: float) -> list[dict[str, Any]]:
    """The queue DAG's runs whose ``run_after`` (their first event's time) is at or after ``since``."""
    params = {"run_after_gte": iso(since), "order_by": "run_after", "limit": 1000}
    return list(stage.api("GET", f"/api/v2/dags/{QUEUE_DAG}/dagRuns", params=params).json()["dag_runs"])


def active_runs(stage: Stage) -> list[dict[str, Any]]:
    return [r for r in stage.runs(QUEUE_DAG) if r["state"] in ACTIVE_RUN_STATES]


def queued_events(stage: Stage) -> int:
    """Asset events waiting to start a run of the queue DAG (the DAG is at ``max_active_runs``)."""
    path = f"/api/v2/dags/{QUEUE_DAG}/assets/queuedEvents"
    return int(stage.api("GET", path).json()["total_entries"])


def quiet(stage: Stage) -> bool:
    """Nothing on the queue, no run of the queue DAG going or waiting to start."""
    return stage.sqs.counts(stage.queue_url) == (0, 0) and not active_runs(stage) and not queued_events(stage)


def wait_quiet(stage: Stage, timeout: float = 180.0) -> None:
    wait_for(
        lambda: quiet(stage), timeout=timeout, interval=1.0, what="the queue DAG to be idle",
        on_timeout=lambda: describe_queue(stage) + "\n" + stage.log_tails(),
    )  # fmt: skip


def describe_queue(stage: Stage) -> str:
    visible, in_flight = stage.sqs.counts(stage.queue_url)
    runs = [f"  {r['dag_run_id']} {r['state']}" for r in stage.runs(QUEUE_DAG)[:10]]
    return f"queue: {visible} visible, {in_flight} in flight\nlatest runs of {QUEUE_DAG}:\n" + "\n".join(runs)


def first_part_written(stage: Stage, run_id: str) -> float | None:
    """When the first receipts part of a run's ``stop_sms`` was written (its file's mtime)."""
    folder = receipts_folder(stage) / f"run_id={encode_component(run_id)}"
    times = [p.stat().st_mtime for p in folder.glob("task_id=*/map_index=*/try=*/part-*")]
    return min(times) if times else None


def run_events(stage: Stage, run_id: str) -> list[dict[str, Any]]:
    """The asset events a run consumed, each with the watcher's payload (``extra.payload``)."""
    path = f"/api/v2/dags/{QUEUE_DAG}/dagRuns/{run_id}/upstreamAssetEvents"
    return list(stage.api("GET", path).json()["asset_events"])


def watcher_events(stage: Stage, since: float) -> list[dict[str, Any]]:
    """The watcher's asset events at or after ``since`` (``GET /api/v2/assets/events``)."""
    params = {"timestamp_gte": iso(since), "order_by": "timestamp", "limit": 1000}
    events = stage.api("GET", "/api/v2/assets/events", params=params).json()["asset_events"]
    return [e for e in events if (e.get("extra") or {}).get("from_trigger")]


# --- one scenario ------------------------------------------------------------------------------


@dataclass
class Account:
    """What became of a scenario's messages, from the receipts (keyed by the SQS message id)."""

    published: int
    receipted: int  # messages with at least one final receipt
    lost: list[str]  # messages with none
    more_than_once: dict[str, list[dict[str, Any]]]  # messages with several final receipts
    wrong_status: dict[str, tuple[str, str]]  # message -> (kind, final status)
    final_receipts: int
    failed_receipts: int
    redelivered: int  # messages a receipt says were delivered more than once
    statuses: Counter[str]
    runs_with_receipts: int

    def counts(self) -> dict[str, int]:
        return {
            "published": self.published,
            "receipted": self.receipted,
            "lost": len(self.lost),
            "final_receipts": self.final_receipts,
            "more_than_one_final_receipt": len(self.more_than_once),
            "failed_receipts": self.failed_receipts,
            "redelivered": self.redelivered,
            "runs_with_receipts": self.runs_with_receipts,
        }


@dataclass
class EventScenario:
    """One scenario's messages: publish them (STOP phones subscribed first), then account for them."""

    stage: Stage
    emulator: WhatCountsEmulator
    name: str
    code: str
    first_phone: int
    kinds: dict[str, str] = field(default_factory=dict)  # SQS message id -> kind
    phones: dict[str, str] = field(default_factory=dict)  # SQS message id -> phone (if it has one)
    started: float = 0.0  # time.time() of the first publish
    published_s: float = 0.0  # how long publishing took, in all

    @property
    def stop_phones(self) -> list[str]:
        return [self.phones[m] for m, kind in self.kinds.items() if kind == "stop"]

    def publish(self, count: int, *, threads: int = 4, only: str | None = None) -> list[str]:
        """Publish ``count`` messages of the mix (or all of kind ``only``) with ``SendMessageBatch``
        (10 a call, on ``threads`` threads); the STOP phones are subscribed first. Returns the SQS
        message ids."""
        offset = len(self.kinds)
        phones = phone_series(count, self.first_phone + offset)
        kinds = [only or kind_of(offset + i) for i in range(count)]
        self.emulator.subscribe(self.code, [p for p, k in zip(phones, kinds, strict=True) if k == "stop"])
        self.stage.phones_used.update(phones)
        entries = [
            (kinds[i], phones[i], body_of(kinds[i], phones[i], self.code, f"{self.name}-{offset + i}"))
            for i in range(count)
        ]
        batches = [entries[i : i + 10] for i in range(0, count, 10)]
        begin = time.time()
        self.started = self.started or begin
        with ThreadPoolExecutor(threads) as pool:
            answers = list(pool.map(self._send_batch, batches))
        self.published_s += time.time() - begin
        ids = []
        for batch, answer in zip(batches, answers, strict=True):
            for (kind, phone, _), message_id in zip(batch, answer, strict=True):
                self.kinds[message_id] = kind
                if kind != "no_phone":
                    self.phones[message_id] = phone
                ids.append(message_id)
        return ids

    def _send_batch(self, batch: list[tuple[str, str, str]]) -> list[str]:
        entries = [{"Id": str(n), "MessageBody": body} for n, (_, _, body) in enumerate(batch)]
        answer = self.stage.sqs.client.send_message_batch(QueueUrl=self.stage.queue_url, Entries=entries)
        if answer.get("Failed"):
            raise self.stage.failure(f"SendMessageBatch refused {len(answer['Failed'])} of {len(batch)}")
        by_entry = {int(ok["Id"]): str(ok["MessageId"]) for ok in answer["Successful"]}
        return [by_entry[n] for n in range(len(batch))]

    def receipts(self) -> dict[str, list[dict[str, Any]]]:
        """This scenario's receipts by SQS message id (every receipt has it in its ``input``)."""
        mine: dict[str, list[dict[str, Any]]] = {}
        for receipt in queue_receipts(self.stage):
            message_id = (receipt.get("input") or {}).get("queue_message_id")
            if message_id in self.kinds:
                mine.setdefault(message_id, []).append(receipt)
        return mine

    def account(self) -> Account:
        mine = self.receipts()
        finals = {m: [r for r in rs if r["status"] in FINAL_STATUSES] for m, rs in mine.items()}
        statuses: Counter[str] = Counter(r["status"] for rs in mine.values() for r in rs)
        wrong = {
            m: (self.kinds[m], rs[0]["status"])
            for m, rs in finals.items()
            if rs and rs[0]["status"] not in EXPECTED[self.kinds[m]]
        }
        return Account(
            published=len(self.kinds),
            receipted=sum(1 for rs in finals.values() if rs),
            lost=[m for m in self.kinds if not finals.get(m)],
            more_than_once={m: rs for m, rs in finals.items() if len(rs) > 1},
            wrong_status=wrong,
            final_receipts=sum(len(rs) for rs in finals.values()),
            failed_receipts=statuses["failed"],
            redelivered=sum(
                1
                for rs in mine.values()
                if len({r["run_id"] for r in rs}) > 1
                or any(r["input"].get("receive_count", 1) > 1 for r in rs)
            ),
            statuses=statuses,
            runs_with_receipts=len({r["run_id"] for rs in mine.values() for r in rs}),
        )

    def drained(self) -> bool:
        """The queue is empty (nothing visible, nothing in flight) and every message has a final receipt."""
        if self.stage.sqs.counts(self.stage.queue_url) != (0, 0):
            return False
        mine = self.receipts()
        return all(any(r["status"] in FINAL_STATUSES for r in mine.get(m, ())) for m in self.kinds)

    def wait_drained(self, timeout: float) -> float:
        """Wait until :meth:`drained`; return when it was (``time.time()``)."""

        def detail() -> str:
            account = self.account()
            head = f"{self.name}: {account.counts()} {dict(account.statuses)}\n{describe_queue(self.stage)}"
            return f"{head}\n{self.stage.log_tails()}"

        wait_for(self.drained, timeout=timeout, interval=2.0, what=f"{self.name} to drain", on_timeout=detail)
        return time.time()

    def runs(self) -> list[dict[str, Any]]:
        return queue_runs(self.stage, self.started)

    def _failed_for_invalid_only(self, run: dict[str, Any]) -> bool:
        """The run's record says: every pair final, some messages invalid (no record: killed)."""
        record = self.stage.xcom(QUEUE_DAG, run["dag_run_id"], QUEUE_TASK)
        if not isinstance(record, dict) or "queue" not in record:
            return False
        return count_of(record.get("failed", 0)) == 0 and count_of(record.get("invalid", 0)) > 0

    def wait_posts(self, at_least: int, timeout: float = 300.0) -> None:
        """Wait until the emulator has had ``at_least`` stop requests (a run is sending)."""
        wait_for(
            lambda: self.emulator.state.by_endpoint["stop"] >= at_least, timeout=timeout, interval=0.2,
            what=f"{at_least} stop requests",
            on_timeout=lambda: describe_queue(self.stage) + "\n" + self.stage.log_tails(),
        )  # fmt: skip

    def check(
        self, *, drained_at: float, fault_over_at: float | None = None, extra: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """After recovery: every message has exactly one final receipt, of the status its kind
        calls for; none is lost; no phone is still subscribed; the "thanks" phones were never
        sent; the queue is empty and no run of the scenario is still going. Returns the counts."""
        wait_quiet(self.stage)
        account = self.account()
        runs = self.runs()
        failed = [r for r in runs if r["state"] == "failed"]
        counts: dict[str, Any] = {
            **account.counts(),
            "dag_runs": len(runs),
            "dag_runs_failed": len(failed),
            # A run that received a message it cannot honour (receipted invalid and deleted)
            # fails the task like the bulk operator does, without a retry: red, nothing pending.
            "dag_runs_failed_for_invalid_only": sum(1 for r in failed if self._failed_for_invalid_only(r)),
            "stop_requests": int(self.emulator.state.by_endpoint["stop"]),
            "statuses": dict(sorted(account.statuses.items())),
            "publish_s": round(self.published_s, 1),
            "drain_s": round(drained_at - self.started, 1),
            "load_average_1m": round(os.getloadavg()[0], 2),
        }
        if fault_over_at is not None:
            counts["recover_s"] = round(drained_at - fault_over_at, 1)
        counts.update(extra or {})
        record_scenario(self.stage, self.name, counts)
        assert not account.lost, (
            f"{self.name}: {len(account.lost)} of {account.published} messages lost (no final receipt), "
            f"e.g. {account.lost[:3]}; {counts}"
        )
        twice = {
            m: [(r["status"], r["run_id"], r["try_number"], r["processed_at"]) for r in rs]
            for m, rs in list(account.more_than_once.items())[:3]
        }
        assert not account.more_than_once, (
            f"{self.name}: {len(account.more_than_once)} messages have more than one final receipt, e.g. "
            f"{twice}; {counts}"
        )
        assert not account.wrong_status, f"{self.name}: {list(account.wrong_status.items())[:5]}"
        left = self.emulator.state.subscriptions.get(self.code, set())
        assert not left, f"{self.name}: {len(left)} phones still subscribed; {counts}"
        thanks = [self.phones[m] for m, kind in self.kinds.items() if kind == "thanks"]
        sent = [p for p in thanks if self.emulator.state.post_count(self.code, p)]
        assert not sent, f"{self.name}: {len(sent)} 'thanks' replies were sent as opt-outs"
        assert self.stage.sqs.counts(self.stage.queue_url) == (0, 0), "the queue is empty"
        assert all(r["state"] in {"success", "failed"} for r in runs), [
            (r["dag_run_id"], r["state"]) for r in runs
        ]
        return counts


# --- figures -----------------------------------------------------------------------------------

EVENTS: dict[str, Any] = {"scenarios": {}}


def record_scenario(stage: Stage, name: str, counts: dict[str, Any]) -> None:
    """Keep a scenario's counts in ``FIGURES`` (numbers only) and ``events.json``; print them."""
    EVENTS["scenarios"][name] = counts
    for key, value in counts.items():
        if isinstance(value, (int, float)):
            FIGURES[f"events_{name}_{key}"] = float(value)
    say(f"{name}: {json.dumps(counts)}")
    write_events(stage)


def say(line: str) -> None:
    """A line for the session's summary (the figures are also in events.json and timings.json)."""
    REPORT.append(line)


def record(stage: Stage, key: str, value: Any) -> None:
    EVENTS[key] = value
    write_events(stage)


def write_events(stage: Stage) -> None:
    load = os.getloadavg()
    EVENTS["machine"] = {"cores": os.cpu_count() or 0, "load_average": [round(x, 2) for x in load]}
    FIGURES["cores"], FIGURES["load_average_1m"] = os.cpu_count() or 0, load[0]
    (stage.root / "events.json").write_text(json.dumps(EVENTS, indent=1, sort_keys=True))


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50_s": round(percentile(values, 0.50), 2),
        "p95_s": round(percentile(values, 0.95), 2),
        "mean_s": round(statistics.fmean(values), 2),
        "max_s": round(max(values), 2),
    }
