"""Resume trusts only earlier tries of the same DAG run, whatever the run id.

A run id does not name one DAG run for ever: a deleted run triggered again under its id, a
``scheduled__<date>`` id after a metadata-database reset, or two environments sharing a receipts
bucket all reuse one. A retry or a clear of the same DAG run resumes; a new DAG run sends every
pair again (found in a real deployment: the new run sent nothing and left 1,000 phones subscribed).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any

import pytest

from tests.helpers import SENDER, make_context, phones
from whatcounts_provider.exceptions import WhatCountsBulkError
from whatcounts_provider.operators.sms import BulkStopSmsSubscriberOperator
from whatcounts_provider.receipts import find_receipts
from whatcounts_provider.receipts.integrity import verify_receipts
from whatcounts_provider.storage import Location

COUNT = 6
RUN_ID = "fixed-run-1"  # the id the deployment reused
FIRST_RUN = {
    "run_after": datetime(2026, 11, 30, 9, tzinfo=timezone.utc),
    "logical_date": datetime(2026, 11, 30, 9, tzinfo=timezone.utc),
    "start_date": datetime(2026, 11, 30, 9, 0, 5, tzinfo=timezone.utc),
    "clear_number": 0,
}
# Deleted, then triggered again under the same id: Airflow gives it its own dates.
SECOND_RUN = {
    "run_after": datetime(2026, 12, 1, 9, tzinfo=timezone.utc),
    "logical_date": datetime(2026, 12, 1, 9, tzinfo=timezone.utc),
    "start_date": datetime(2026, 12, 1, 9, 0, 5, tzinfo=timezone.utc),
    "clear_number": 0,
}


@pytest.fixture
def subscribed(whatcounts_conn_env: Any) -> Any:
    """The emulator with COUNT phones subscribed to SENDER."""
    whatcounts_conn_env.subscribe(SENDER, phones(COUNT))
    return whatcounts_conn_env


def run_try(receipts: str, dag_run: dict[str, Any], try_number: int) -> dict[str, Any]:
    """One try of the task instance ``RUN_ID``/stop of the DAG run ``dag_run``; the record."""
    context = make_context(dag_id="opt_out", run_id=RUN_ID, task_id="stop", try_number=try_number)
    context["dag_run"] = SimpleNamespace(conf={}, **dag_run)
    op = BulkStopSmsSubscriberOperator(
        task_id="stop",
        phones=phones(COUNT),
        sender_code=SENDER,
        receipts_path=receipts,
        hook_params={"max_retries": 0},  # a failing phone fails at once
    )
    try:
        return op.execute(context)
    except WhatCountsBulkError:
        return context["ti"].pushed["return_value"]


def posts(emulator: Any) -> int:
    return sum(emulator.state.post_count(SENDER, phone) for phone in phones(COUNT))


def still_subscribed(emulator: Any) -> list[str]:
    return [phone for phone in phones(COUNT) if emulator.state.is_subscribed(SENDER, phone)]


def test_a_retry_of_the_same_run_resumes(subscribed: Any, tmp_path: Any) -> None:
    subscribed.faults.update(failing_phones={phones(COUNT)[0]})
    first = run_try(str(tmp_path), FIRST_RUN, 1)
    assert (first["stopped"], len(first["failed"])) == (COUNT - 1, 1)
    subscribed.faults.update(failing_phones=set())

    retry = run_try(str(tmp_path), FIRST_RUN, 2)

    # The record counts what the run honoured across its tries; already_done says how many
    # of them an earlier try did.
    assert (retry["already_done"], retry["stopped"], retry["stopped_this_try"]) == (COUNT - 1, COUNT, 1)
    assert retry["by_sender_code"][SENDER]["stopped"] == COUNT
    assert posts(subscribed) == COUNT + 1  # the failed phone twice, every other once
    assert still_subscribed(subscribed) == []


def test_a_clear_of_the_same_run_resumes(subscribed: Any, tmp_path: Any) -> None:
    run_try(str(tmp_path), FIRST_RUN, 1)
    # A clear raises the clear number and may give the run a new start date; the run stays.
    cleared = {**FIRST_RUN, "clear_number": 1, "start_date": datetime(2026, 11, 30, 10, tzinfo=timezone.utc)}

    again = run_try(str(tmp_path), cleared, 2)

    assert (again["already_done"], again["stopped"], again["stopped_this_try"]) == (COUNT, COUNT, 0)
    assert posts(subscribed) == COUNT


def test_a_new_run_under_a_reused_run_id_trusts_nothing(subscribed: Any, tmp_path: Any) -> None:
    assert run_try(str(tmp_path), FIRST_RUN, 1)["stopped"] == COUNT
    subscribed.subscribe(SENDER, phones(COUNT))  # the phones opted in again

    second = run_try(str(tmp_path), SECOND_RUN, 1)

    assert (second["already_done"], second["stopped"]) == (0, COUNT)
    assert posts(subscribed) == 2 * COUNT
    assert still_subscribed(subscribed) == []


def test_the_old_runs_tries_stay_in_the_chain_so_deleting_one_shows(subscribed: Any, tmp_path: Any) -> None:
    """The new run trusts nothing of the old one, yet its first try links the old run's last
    try: deleting the old run's receipts (the evidence of its opt-outs) breaks the chain."""
    run_try(str(tmp_path), FIRST_RUN, 1)
    subscribed.subscribe(SENDER, phones(COUNT))
    run_try(str(tmp_path), SECOND_RUN, 1)
    assert verify_receipts(tmp_path).ok
    (old,) = [
        marker.parent
        for marker in tmp_path.rglob("try.json")
        if json.loads(marker.read_text())["run"]["run_after"] == FIRST_RUN["run_after"].isoformat()
    ]
    for path in old.iterdir():
        path.unlink()
    old.rmdir()

    problems = verify_receipts(tmp_path).problems

    assert [problem.kind for problem in problems] == ["broken_chain"]
    assert old.name in problems[0].detail


def test_a_retry_of_a_new_run_ignores_the_old_run(subscribed: Any, tmp_path: Any) -> None:
    """Try 2 of the new run inherits its own try 1 only, never the old run's receipts."""
    run_try(str(tmp_path), FIRST_RUN, 1)
    subscribed.subscribe(SENDER, phones(COUNT))
    subscribed.faults.update(failing_phones={phones(COUNT)[0]})
    assert run_try(str(tmp_path), SECOND_RUN, 1)["stopped"] == COUNT - 1
    subscribed.faults.update(failing_phones=set())

    retry = run_try(str(tmp_path), SECOND_RUN, 2)

    assert (retry["already_done"], retry["stopped"], retry["stopped_this_try"]) == (COUNT - 1, COUNT, 1)
    assert still_subscribed(subscribed) == []


def test_a_new_run_whose_first_try_left_nothing_trusts_nothing(subscribed: Any, tmp_path: Any) -> None:
    """Try 2 of the new run finds only the old run's tries (its own try 1 died before it wrote)."""
    run_try(str(tmp_path), FIRST_RUN, 1)
    subscribed.subscribe(SENDER, phones(COUNT))

    retry = run_try(str(tmp_path), SECOND_RUN, 2)

    assert (retry["already_done"], retry["stopped"]) == (0, COUNT)
    assert still_subscribed(subscribed) == []


# --- on_receipted: outcomes handed over once their receipts are on storage ---------------------


def _outcome(number: int, status: str = "stopped") -> Any:
    from whatcounts_provider.types import Row, StopOutcome

    return StopOutcome(Row(number, {}, "2065959696", SENDER), status, "12065959696", SENDER)  # type: ignore[arg-type]


def _identity() -> Any:
    from whatcounts_provider.receipts import TaskIdentity

    return TaskIdentity.from_context(make_context(dag_id="d", run_id="r", task_id="t"))


def test_outcomes_are_handed_over_in_order_only_once_their_part_is_written(tmp_path: Any) -> None:
    from whatcounts_provider.engine.resume import try_receipts
    from whatcounts_provider.receipts import iter_receipts

    handed: list[list[int]] = []

    def receipted(outcomes: list[Any]) -> None:
        on_disk = {r["row"] for r in iter_receipts(tmp_path)}
        written = [o for o in outcomes if o.status != "already_done"]
        assert all(o.row.row in on_disk for o in written), "handed over before its receipt was written"
        handed.append([o.row.row for o in outcomes])

    with try_receipts(tmp_path, _identity(), receipted) as receipts:
        for number in (1, 2, 3):
            receipts.add(_outcome(number))
        assert handed == []  # buffered, not yet on storage
        receipts.writer.flush()  # type: ignore[union-attr]
        assert handed == [[1, 2, 3]]
        receipts.add(_outcome(4, "already_done"))  # an earlier try's receipt covers it: at once
        receipts.add(_outcome(5))
    assert handed == [[1, 2, 3], [4], [5]]  # the last part at close


def test_a_receipt_that_cannot_be_built_is_never_handed_over_in_anothers_place(tmp_path: Any) -> None:
    from whatcounts_provider.engine.resume import try_receipts

    handed: list[int] = []
    with try_receipts(
        tmp_path, _identity(), lambda outcomes: handed.extend(o.row.row for o in outcomes)
    ) as receipts:
        receipts.add(_outcome(1))
        with pytest.raises(ValueError, match="receipt status"):
            receipts.add(_outcome(2, "no-such-status"))
        receipts.add(_outcome(3))
    assert handed == [1, 3]


def test_without_receipts_each_outcome_is_handed_over_as_it_comes() -> None:
    from whatcounts_provider.engine.resume import try_receipts

    handed: list[int] = []
    with try_receipts(None, None, lambda outcomes: handed.extend(o.row.row for o in outcomes)) as receipts:
        receipts.add(_outcome(1))
        assert handed == [1]


LAYOUT_1_RUN_ID = "manual__2026-11-30T09:00:00+00:00"


def test_a_task_instance_begun_under_layout_1_resumes_and_stays_in_its_folder(
    subscribed: Any, tmp_path: Any
) -> None:
    """Try 1 ran before layout 2 (its run id's ":" and "+" escaped in the folder name, no index,
    no digests); try 2, of this version, resumes from it and writes beside it."""
    subscribed.faults.update(failing_phones={phones(COUNT)[0]})
    run_layout_1_try(tmp_path)
    subscribed.faults.update(failing_phones=set())

    retry = run_try_of(str(tmp_path), LAYOUT_1_RUN_ID, 2)

    assert (retry["already_done"], retry["stopped"], retry["stopped_this_try"]) == (COUNT - 1, COUNT, 1)
    assert posts(subscribed) == COUNT + 1
    (task_instance,) = tmp_path.glob("dag_id=opt_out/run_id=*/task_id=stop/map_index=-1")
    assert "%3A" in str(task_instance), "no second folder under the layout 2 name"
    assert retry["receipts"] == Location.of(task_instance).uri
    (second,) = [s for s in task_instance.glob("try=002-*/summary.json")]
    summary = json.loads(second.read_text())
    (first,) = task_instance.glob("try=001-*/summary.json")
    assert summary["layout"] == 2
    assert summary["previous"] == {
        "try": first.parent.name,
        "summary_sha256": hashlib.sha256(first.read_bytes()).hexdigest(),
    }
    assert [r["status"] for r in find_receipts(tmp_path, phones(COUNT)[0])] == ["failed", "stopped"]
    result = verify_receipts(tmp_path)
    assert result.ok
    assert [note.kind for note in result.notes] == ["legacy"]


def run_try_of(receipts: str, run_id: str, try_number: int) -> dict[str, Any]:
    context = make_context(dag_id="opt_out", run_id=run_id, task_id="stop", try_number=try_number)
    context["dag_run"] = SimpleNamespace(conf={}, **FIRST_RUN)
    op = BulkStopSmsSubscriberOperator(
        task_id="stop",
        phones=phones(COUNT),
        sender_code=SENDER,
        receipts_path=receipts,
        hook_params={"max_retries": 0},
    )
    try:
        return op.execute(context)
    except WhatCountsBulkError:
        return context["ti"].pushed["return_value"]


def run_layout_1_try(root: Any) -> None:
    """Try 1 as a version before layout 2 left it: folder name escaped, no index, no digests."""
    run_try_of(str(root), LAYOUT_1_RUN_ID, 1)
    (folder,) = root.glob("dag_id=opt_out/run_id=*")
    folder.rename(folder.with_name("run_id=manual__2026-11-30T09%3A00%3A00%2B00%3A00"))
    (summary,) = root.glob("dag_id=opt_out/*/task_id=stop/map_index=-1/try=001-*/summary.json")
    body = json.loads(summary.read_text())
    for key in ("layout", "part_sha256", "previous", "index"):
        del body[key]
    summary.write_text(json.dumps(body))
    (summary.parent / "phones.idx").unlink()
