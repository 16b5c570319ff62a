"""What the deployment scenarios share: names of the example DAGs and tasks, wait bounds, and
helpers that set up a scenario, wait for it and read its receipts."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from whatcounts_provider.phone import mask_phone, normalize_phone
from whatcounts_provider.receipts import iter_receipts
from whatcounts_provider.replies import classify_reply
from whatcounts_provider.testing.series import phone_series

from .stage import REPO, Stage

if TYPE_CHECKING:
    from whatcounts_provider.testing.emulator import WhatCountsEmulator

BULK = "whatcounts_bulk_opt_out"
PIPELINE = "whatcounts_stop_sms_from_pipeline"
CHUNK_TASK = "stop_sms_chunk"
MERGE_TASK = "merge_reports"
REPLIES_CSV = REPO / "example_dags" / "data" / "stop_replies.csv"
#: Bounds for waits: generous for a 2-core machine shared with other work; a healthy run takes
#: a fraction of them, and a hung one fails with the logs instead of hanging the suite.
RUN_TIMEOUT = 900.0
#: After a chunk is marked failed, the worker's supervisor notices at its next heartbeat (every
#: MIN_HEARTBEAT_INTERVAL = 1 s) and sends SIGTERM, which only calls the operator's ``on_kill``;
#: if the task still runs 5 s later, Airflow SIGKILLs it and says so in the worker log. That log
#: line, not a clock, tells whether ``on_kill`` worked. The user-facing bound below, from the mark
#: to the last request, leaves a loaded 2-core machine seconds of slack (heartbeat + on_kill).
STOP_WITHIN_S = 5.0


FINAL = {"stopped", "not_subscribed"}


def subscribe_bulk(stage: Stage, emulator: WhatCountsEmulator, code: str, count: int) -> list[str]:
    """Subscribe the phones ``whatcounts_bulk_opt_out`` generates for ``count`` (``phone_series``)."""
    phones = phone_series(count)
    emulator.subscribe(code, phones)
    stage.phones_used.update(phones)
    return phones


def bulk_conf(stage: Stage, scenario: str, count: int, chunk_size: int, code: str) -> dict[str, Any]:
    """The trigger conf: the chunk files and receipts of each scenario in its own stage folder."""
    storage = stage.root / "storage" / scenario
    return {"count": count, "chunk_size": chunk_size, "sender_code": code, "storage": storage.as_uri()}


def receipts_of(conf: dict[str, Any]) -> list[dict[str, Any]]:
    return list(iter_receipts(f"{conf['storage']}/receipts"))


def final_receipts(receipts: list[dict[str, Any]]) -> Counter[tuple[str, str]]:
    """How many final receipts (stopped / not subscribed) each (phone, sender code) pair has."""
    return Counter((r["phone"], r["sender_code"]) for r in receipts if r["status"] in FINAL)


def still_subscribed(emulator: WhatCountsEmulator, code: str) -> set[str]:
    return set(emulator.state.subscriptions.get(code, set()))


def stop_posts(emulator: WhatCountsEmulator) -> int:
    return int(emulator.state.by_endpoint["stop"])


def posts_for(emulator: WhatCountsEmulator, code: str, phones: list[str]) -> Counter[str]:
    """How many stop POSTs each of ``phones`` has had on ``code`` (retries count)."""
    return Counter({phone: emulator.state.post_count(code, phone) for phone in phones})


def try_markers(conf: dict[str, Any]) -> dict[int, list[dict[str, Any]]]:
    """The ``try.json`` markers the chunk tries of a scenario wrote, per map index, oldest first."""
    receipts = Path(conf["storage"].removeprefix("file://")) / "receipts"
    found: dict[int, list[dict[str, Any]]] = {}
    for marker in receipts.rglob("try.json"):
        map_index = int(marker.parent.parent.name.removeprefix("map_index="))
        found.setdefault(map_index, []).append(json.loads(marker.read_text()))
    return {i: sorted(markers, key=lambda m: m["started_at"]) for i, markers in sorted(found.items())}


def task_tries(stage: Stage, run_id: str) -> dict[tuple[str, int], int]:
    """The try number of each task instance of a bulk run, by (task id, map index)."""
    return {(ti["task_id"], ti["map_index"]): ti["try_number"] for ti in stage.task_instances(BULK, run_id)}


def wait_cleared_run(stage: Stage, run_id: str, before: dict[tuple[str, int], int]) -> dict[str, Any]:
    """After a clear of the chunks (and the merge downstream), wait until each of them has run a
    later try than ``before`` and the run finished: its earlier "success" is never taken for it."""

    def done() -> dict[str, Any] | None:
        now = task_tries(stage, run_id)
        cleared = [key for key in before if key[0] in {CHUNK_TASK, MERGE_TASK}]
        if not cleared or any(now.get(key, 0) <= before[key] for key in cleared):
            return None
        run = stage.run(BULK, run_id)
        return run if run["state"] in {"success", "failed"} else None

    return dict(stage_wait(stage, done, RUN_TIMEOUT, f"the cleared tasks of {run_id} to run again", run_id))


def chunks(stage: Stage, run_id: str) -> list[dict[str, Any]]:
    return sorted(
        (ti for ti in stage.task_instances(BULK, run_id) if ti["task_id"] == CHUNK_TASK),
        key=lambda ti: ti["map_index"],
    )


def count_of(value: Any) -> int:
    """A report field that is a count, or a list of items needing attention."""
    return len(value) if isinstance(value, list) else int(value)


def wait_chunk_running(stage: Stage, run_id: str, map_index: int, timeout: float = 300.0) -> dict[str, Any]:
    def running() -> dict[str, Any] | None:
        for ti in chunks(stage, run_id):
            if ti["map_index"] == map_index and ti["state"] == "running":
                return ti
        return None

    return dict(stage_wait(stage, running, timeout, f"chunk {map_index} of {run_id} to run", run_id))


def stage_wait(stage: Stage, condition: Any, timeout: float, what: str, run_id: str | None = None) -> Any:
    from .services import wait_for

    def detail() -> str:
        head = stage.describe_run(BULK, run_id) + "\n" if run_id else ""
        return head + stage.log_tails()

    return wait_for(condition, timeout=timeout, what=what, on_timeout=detail)


def wait_posts(stage: Stage, emulator: WhatCountsEmulator, run_id: str, at_least: int) -> None:
    def enough() -> bool:
        if stage.run(BULK, run_id)["state"] in {"success", "failed"}:
            raise stage.failure(f"run {run_id} finished before the fault could be injected")
        return stop_posts(emulator) >= at_least

    stage_wait(stage, enough, 300.0, f"{at_least} stop requests", run_id)


def opt_out_pairs() -> tuple[set[tuple[str, str]], set[tuple[str, str]], set[str]]:
    """(opt-out pairs, other pairs, raw phone texts) of the replies file, phones normalised."""
    opt_outs, others, raw = set(), set(), set()
    with REPLIES_CSV.open(newline="", encoding="utf-8") as replies:
        for row in csv.DictReader(replies):
            pair = (row["sender_code"].strip(), normalize_phone(row["phone"]))
            raw.add(row["phone"].strip())
            # What the pipeline sends: every reply but those that are not opt-outs (ambiguous
            # ones are sent by default). tests/replies checks the decisions themselves.
            sent = classify_reply(row["message"]).decision != "not_opt_out"
            (opt_outs if sent else others).add(pair)
    return opt_outs, others - opt_outs, raw


def subscribe_replies(stage: Stage, emulator: WhatCountsEmulator) -> tuple[set[Any], set[Any]]:
    opt_outs, others, raw = opt_out_pairs()
    for code, phone in opt_outs | others:
        emulator.subscribe(code, [phone])
        stage.phones_used.add(phone)
    stage.raw_phones.update(raw)
    return opt_outs, others


def pipeline_asset(stage: Stage) -> dict[str, Any]:
    assets = stage.api("GET", "/api/v2/assets", params={"limit": 100}).json()["assets"]
    scheduled = [a for a in assets if PIPELINE in {d["dag_id"] for d in a["scheduled_dags"]}]
    assert len(scheduled) == 1, f"one asset schedules {PIPELINE}: {[a['uri'] for a in scheduled]}"
    return dict(scheduled[0])


def wait_new_pipeline_run(stage: Stage, before: set[str]) -> dict[str, Any]:
    def new_run() -> dict[str, Any] | None:
        fresh = [r for r in stage.runs(PIPELINE) if r["dag_run_id"] not in before]
        return fresh[0] if fresh else None

    run = stage_wait(stage, new_run, 180.0, f"an asset-triggered run of {PIPELINE}")
    assert run["run_type"] == "asset_triggered", run
    return dict(stage.wait_run(PIPELINE, run["dag_run_id"], RUN_TIMEOUT))


def assert_replies_honoured(
    stage: Stage, emulator: WhatCountsEmulator, run: dict[str, Any], pairs: Any
) -> None:
    opt_outs, others = pairs
    assert run["state"] == "success", stage.describe_run(PIPELINE, run["dag_run_id"])
    not_stopped = [(c, mask_phone(p)) for c, p in opt_outs if not emulator.state.is_stopped(c, p)]
    assert not not_stopped, f"opt-out replies not honoured: {not_stopped}"
    wrongly = [(c, mask_phone(p)) for c, p in others if emulator.state.is_stopped(c, p)]
    assert not wrongly, f"replies that are no opt-out were stopped: {wrongly}"
