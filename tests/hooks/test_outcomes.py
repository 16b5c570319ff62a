"""WhatCountsHook.stop_sms_pairs: one outcome per input over (phone, sender code) pairs.

requests-mock for exact per-input outcomes, the emulator for a shared rate cap; the pair
sorting and the bounded, lazy work window are tested on their own at the end.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from typing import Any

import pytest

from tests.helpers import no_subscription
from whatcounts_provider.exceptions import (
    InvalidSenderCodeError,
    WhatCountsApiError,
    WhatCountsAuthError,
    WhatCountsConfigError,
    WhatCountsTransportError,
)
from whatcounts_provider.hooks import _bulk
from whatcounts_provider.hooks._outcomes import Job, Sorter
from whatcounts_provider.hooks.whatcounts import WhatCountsHook
from whatcounts_provider.phone import normalize_phone
from whatcounts_provider.types import Row, StopOutcome

REALM = "pairs-realm"
PASSWORD = "pairs-Pa55word"
REST = "https://mail.example.com/rest"
CODE_A = "2065551212"
CODE_B = "ACME"


@pytest.fixture
def two_retries_connection(use_connection, fast_retries: None) -> None:
    """The default connection at a fake https site, 2 retries that wait 0 s."""
    use_connection(login=REALM, password=PASSWORD, max_retries=2)


def stop_url(phone: str, code: str) -> str:
    return f"{REST}/sms/stopSubscriberSend/{phone}/{code}"


def record(phone: str, code: str) -> dict[str, Any]:
    return {"id": 1, "phone": phone, "senderCode": code}


def by_index(outcomes: list[StopOutcome]) -> list[StopOutcome]:
    return sorted(outcomes, key=lambda outcome: outcome.index)


# --- the mixed table ---------------------------------------------------------------------------

MIXED = [
    # (input, expected (status, phone, sender_code, attempts))
    (("+1 (206) 595-9696", CODE_A), ("stopped", "12065959696", CODE_A, 1)),
    (("not a phone", CODE_A), ("invalid", None, CODE_A, 0)),
    (("206-595-9697", "a/b"), ("invalid", "12065959697", None, 0)),
    (("2065959696", CODE_A), ("duplicate", "12065959696", CODE_A, 0)),
    (("2065959696", CODE_B), ("stopped", "12065959696", CODE_B, 1)),
    (("2065959698", CODE_A), ("not_subscribed", "12065959698", CODE_A, 1)),
    (("2065959699", CODE_A), ("failed", "12065959699", CODE_A, 3)),
    (("2065959690", CODE_A), ("already_done", "12065959690", CODE_A, 0)),
    ((12065959691, int(CODE_A)), ("stopped", "12065959691", CODE_A, 2)),
    ("2065959692", ("invalid", None, None, 0)),
    (({"phone": "2065959693"}, CODE_A), ("invalid", None, CODE_A, 0)),
    ((True, CODE_A), ("invalid", None, CODE_A, 0)),
    (("2065959694", ""), ("invalid", "12065959694", None, 0)),
]


@pytest.fixture
def mixed_api(requests_mock):
    requests_mock.post(stop_url("12065959696", CODE_A), json=record("12065959696", CODE_A))
    requests_mock.post(stop_url("12065959696", CODE_B), json=record("12065959696", CODE_B))
    requests_mock.post(
        stop_url("12065959698", CODE_A),
        status_code=500,
        json=no_subscription("12065959698"),
    )
    requests_mock.post(
        stop_url("12065959699", CODE_A), status_code=503, json={"error": "Service Unavailable"}
    )
    requests_mock.post(
        stop_url("12065959691", CODE_A),
        [{"status_code": 503, "json": {}}, {"json": record("12065959691", CODE_A)}],
    )
    return requests_mock  # anything else raises NoMockAddress: a "failed" outcome in the table


def test_every_input_gets_exactly_one_outcome_and_each_valid_pair_is_posted_once(
    two_retries_connection, mixed_api
):
    outcomes = list(
        WhatCountsHook().stop_sms_pairs(
            (item for item, _ in MIXED), max_workers=4, already_done={("12065959690", CODE_A)}
        )
    )

    assert [o.index for o in by_index(outcomes)] == list(range(len(MIXED))), "one outcome per input"
    got = [(o.status, o.phone, o.sender_code, o.attempts) for o in by_index(outcomes)]
    assert got == [expected for _, expected in MIXED]
    posted = sorted(tuple(r.url.rsplit("/", 2)[1:]) for r in mixed_api.request_history)
    assert posted == sorted(
        [
            ("12065959696", CODE_A),
            ("12065959696", CODE_B),
            ("12065959698", CODE_A),
            *[("12065959699", CODE_A)] * 3,  # 1 try + 2 retries
            *[("12065959691", CODE_A)] * 2,  # a 503, then stopped
        ]
    ), "valid pairs only, each once plus its retries; never the already-done pair"


def test_the_same_table_against_the_emulator(whatcounts_conn_env, use_connection, fast_retries):
    emulator = whatcounts_conn_env
    use_connection(uri=emulator.conn_uri(), max_retries=2)
    emulator.subscribe(CODE_A, ["12065959696", "12065959699", "12065959691"])
    emulator.subscribe(CODE_B, ["12065959696"])
    emulator.faults.update(failing_phones={"12065959699"})
    # 12065959691 is subscribed; the emulator answers it at once (no scripted 503): 1 attempt
    expected = [e if e[1] != "12065959691" else ("stopped", "12065959691", CODE_A, 1) for _, e in MIXED]

    outcomes = by_index(
        list(
            WhatCountsHook().stop_sms_pairs(
                (item for item, _ in MIXED), max_workers=4, already_done={("12065959690", CODE_A)}
            )
        )
    )

    assert [(o.status, o.phone, o.sender_code, o.attempts) for o in outcomes] == expected
    state = emulator.state
    assert state.post_count(CODE_A, "12065959696") == 1
    assert state.post_count(CODE_B, "12065959696") == 1
    assert state.post_count(CODE_A, "12065959698") == 1
    assert state.post_count(CODE_A, "12065959699") == 3
    assert state.post_count(CODE_A, "12065959690") == 0, "already done: never sent"
    assert state.is_stopped(CODE_A, "12065959696")
    assert state.is_stopped(CODE_B, "12065959696")
    assert not state.is_stopped(CODE_A, "12065959699")


def test_outcomes_say_why_without_full_phones_or_secrets(two_retries_connection, mixed_api):
    done = {("12065959690", CODE_A)}
    outcomes = by_index(list(WhatCountsHook().stop_sms_pairs((i for i, _ in MIXED), already_done=done)))

    errors = {o.index: o.error for o in outcomes}
    assert "phone" in errors[1]
    assert "is invalid" in errors[1]
    assert "sender_code" in errors[2]
    assert "ASCII letters and digits" in errors[2]
    assert "HTTP 503" in errors[6]
    assert "gave up after 3 attempts" in errors[6]
    assert "(phone, sender_code) pair" in errors[9]
    assert "str" in errors[9]
    assert "sender_code is empty" in errors[12]
    assert all(o.error is None for o in outcomes if o.status in ("stopped", "not_subscribed", "duplicate"))
    text = json.dumps([o.error for o in outcomes])
    for full in ("12065959699", "2065959699", "2065959697", PASSWORD):
        assert full not in text
    assert outcomes[0].response == record("12065959696", CODE_A)
    assert outcomes[5].response is None


def test_missing_ok_false_makes_not_subscribed_a_failure(two_retries_connection, mixed_api):
    (outcome,) = WhatCountsHook().stop_sms_pairs([("2065959698", CODE_A)], missing_ok=False)
    assert (outcome.status, outcome.attempts) == ("failed", 1)
    assert "STOP sends for phone" in (outcome.error or "")
    assert outcome.permanent, "WhatCounts' answer is final: a task retry would get it again"


ODD_INPUTS = [
    {"phone": "2065959696", "nested": {1: {2, 3}}},
    True,
    None,
    b"2065959696",
    float("nan"),
    float("inf"),
    2.5,
    object(),
    ["2065959696"],
    "x" * 5000,
]


@pytest.mark.parametrize("raw", ODD_INPUTS, ids=lambda raw: type(raw).__name__)
def test_any_input_is_json_safe(two_retries_connection, requests_mock, raw):
    requests_mock.post(re.compile(".*"), json={})
    outcomes = list(WhatCountsHook().stop_sms_pairs([(raw, CODE_A), raw]))

    assert [o.status for o in outcomes] == ["invalid", "invalid"]
    for outcome in outcomes:
        text = json.dumps(outcome.as_dict(), allow_nan=False)
        assert json.loads(text)["input"] == outcome.input
    assert requests_mock.call_count == 0
    if raw is None or isinstance(raw, (bool, str)) or (isinstance(raw, float) and math.isfinite(raw)):
        assert outcomes[0].input == raw, "JSON values are kept as given"
    elif isinstance(raw, (dict, list)):
        assert type(outcomes[0].input) is type(raw), "structures stay structures, with text keys"
    else:
        assert isinstance(outcomes[0].input, str)
        assert len(outcomes[0].input) <= 200


def test_rejected_credentials_stop_the_whole_run(two_retries_connection, requests_mock):
    requests_mock.post(re.compile(".*"), status_code=401, json={"error": "Unauthorized"})
    with pytest.raises(WhatCountsAuthError):
        list(
            WhatCountsHook().stop_sms_pairs(((f"20659596{i:02d}", CODE_A) for i in range(50)), max_workers=2)
        )
    assert requests_mock.call_count <= 2 * 2, "no point sending the rest"


def test_an_unusable_connection_fails_before_anything_is_read(use_connection, requests_mock):
    use_connection(uri=f"whatcounts://{REALM}:{PASSWORD}@mail.example.com", timeout="soon")
    read = []

    def pairs():
        read.append(1)
        yield ("2065959696", CODE_A)

    with pytest.raises(WhatCountsConfigError, match="timeout"):
        WhatCountsHook().stop_sms_pairs(pairs())
    assert read == []
    # Only this test's phone counts: a worker thread of an earlier test's aborted run (the hook
    # does not wait for requests in flight) may still land in this test's mock.
    assert [r.url for r in requests_mock.request_history if "/12065959696/" in r.url] == []


@pytest.mark.parametrize("pairs", ["2065959696", b"x", {"2065959696": CODE_A}, 5, None])
def test_pairs_must_be_a_collection(two_retries_connection, pairs):
    with pytest.raises(TypeError, match=r"pairs must be a list of \(phone, sender_code\) pairs"):
        WhatCountsHook().stop_sms_pairs(pairs)


# --- laziness and the window -------------------------------------------------------------------


def test_a_100000_row_generator_is_read_as_outcomes_are_consumed(two_retries_connection, requests_mock):
    requests_mock.post(re.compile(".*"), json={"id": 1})
    read = 0
    workers = 4

    def rows():
        nonlocal read
        for i in range(100_000):
            read += 1
            yield (f"1206{2_000_000 + i}", CODE_A)

    ahead: list[int] = []
    outcomes = WhatCountsHook().stop_sms_pairs(rows(), max_workers=workers)
    for consumed, outcome in enumerate(outcomes, start=1):
        assert outcome.status == "stopped"
        ahead.append(read - consumed)
        if consumed == 300:
            break
    outcomes.close()

    assert max(ahead) <= 2 * workers, "never more than 2 x workers rows ahead of the consumer"
    assert read <= 300 + 2 * workers, "the other 99,700 rows were never read"
    assert requests_mock.call_count <= 300 + 2 * workers


def test_one_rate_cap_covers_every_sender_code(whatcounts_conn_env):
    """45 pairs over 3 codes at 20/s: one cap for the run, not one per code (the API limit is per account)."""
    emulator = whatcounts_conn_env
    pairs = [(f"1206{2_000_000 + i}", code) for i in range(15) for code in ("111", "222", "333")]
    for phone, code in pairs:
        emulator.subscribe(code, [phone])
    started = time.monotonic()

    outcomes = list(WhatCountsHook().stop_sms_pairs(pairs, max_workers=8, max_requests_per_second=20))

    assert [o.status for o in outcomes].count("stopped") == 45
    stamps = sorted(r.timestamp for r in emulator.state.requests if r.method == "POST")
    # Load-proof: a request arrives after its slot, and slots are 50 ms apart from the start
    # for all codes together (with a cap per code, 3 would share each slot). A loaded machine
    # only delays requests; it cannot make one arrive before its slot.
    early = [(i, round(t - started, 3)) for i, t in enumerate(stamps) if t - started < i / 20]
    assert early == []


# --- the parts on their own ----------------------------------------------------------------------


def sorter(**kwargs: Any) -> Sorter:
    return Sorter(normalize_phone, **kwargs)


def row(number: int, phone: Any, code: Any, **fields: Any) -> Row:
    return Row(number, phone, phone, code, **fields)


def one(sorted_: list[Job | StopOutcome]) -> Job | StopOutcome:
    """The row's only pair (a row without ``codes`` is one pair)."""
    assert len(sorted_) == 1, sorted_
    return sorted_[0]


def test_sorter_sends_each_distinct_normalised_pair_once():
    sort = sorter().sort
    rows = [
        row(1, "+1 206 595 9696", "A1"),
        row(2, "2065959696", "A1"),
        row(3, "2065959696", "B2"),
        row(4, 12065959696, "A1"),
    ]
    results = [one(sort(r)) for r in rows]
    assert results[0] == Job(rows[0], "12065959696", "A1")
    assert results[1] == StopOutcome(rows[1], "duplicate", "12065959696", "A1")
    assert (results[1].index, results[1].input) == (1, "2065959696")
    assert results[2] == Job(rows[2], "12065959696", "B2")
    assert isinstance(results[3], StopOutcome)
    assert results[3].status == "duplicate"


def test_sorter_reports_already_done_pairs_once_then_duplicates():
    sort = sorter(already_done={("12065959696", "A1")}).sort
    first, second = one(sort(row(1, "2065959696", "A1"))), one(sort(row(2, "2065959696", "A1")))
    assert isinstance(first, StopOutcome)
    assert first.status == "already_done"
    assert isinstance(second, StopOutcome)
    assert second.status == "duplicate"


def test_sorter_names_both_problems_of_a_row():
    outcome = one(sorter().sort(row(8, "nope", "a/b")))
    assert isinstance(outcome, StopOutcome)
    assert (outcome.status, outcome.phone, outcome.sender_code, outcome.index) == ("invalid", None, None, 7)
    assert "phone" in (outcome.error or "")
    assert "sender_code" in (outcome.error or "")


def test_sorter_never_sends_a_row_that_came_with_an_error_and_keeps_its_reason():
    outcome = one(
        sorter().sort(
            Row(3, {"phone": "2065959696"}, "2065959696", "A1", error="row 3 has a bad requested_at")
        )
    )
    assert isinstance(outcome, StopOutcome)
    assert (outcome.status, outcome.phone, outcome.sender_code, outcome.error) == (
        "invalid", None, "A1", "row 3 has a bad requested_at",
    )  # fmt: skip


def test_sorter_sends_one_pair_per_code_and_deduplicates_after_the_expansion():
    sort = sorter(already_done={("12065959696", "C3")}).sort
    first = sort(row(1, "2065959696", "A1", codes=("A1", "B2", "C3"), scope="all"))
    assert first == [
        Job(first[0].row, "12065959696", "A1", 0, of=3),
        Job(first[0].row, "12065959696", "B2", 1, of=3),
        StopOutcome(first[0].row, "already_done", "12065959696", "C3", fanout=2, of=3),
    ]
    again = sort(row(2, "+1 206 595 9696", "B2", codes=("A1", "B2", "C3"), scope="all"))
    assert [(item.status, item.sender_code, item.fanout) for item in again] == [  # type: ignore[union-attr]
        ("duplicate", "A1", 0),
        ("duplicate", "B2", 1),
        ("duplicate", "C3", 2),
    ]


def test_an_invalid_phone_is_one_invalid_outcome_whatever_the_codes():
    outcome = one(sorter().sort(row(1, "nope", "A1", codes=("A1", "B2"), scope="all")))
    assert (outcome.status, outcome.sender_code) == ("invalid", "A1")  # type: ignore[union-attr]


def test_a_requested_code_none_of_the_accounts_is_invalid_but_the_accounts_codes_are_still_sent():
    sorted_ = sorter().sort(row(1, "2065959696", "999", codes=("A1", "B2"), code_error="'999' is not one"))
    assert [type(item).__name__ for item in sorted_] == ["Job", "Job", "StopOutcome"]
    invalid = sorted_[2]
    assert isinstance(invalid, StopOutcome)
    assert (invalid.status, invalid.error, invalid.fanout) == ("invalid", "'999' is not one", 2)
    assert isinstance(invalid.cause, InvalidSenderCodeError)


def test_with_scope_sender_code_a_code_none_of_the_accounts_is_invalid_and_nothing_is_sent():
    outcome = one(sorter().sort(row(1, "2065959696", "12065551212", code_error="not the account's")))
    assert isinstance(outcome, StopOutcome)
    assert (outcome.status, outcome.phone, outcome.error) == ("invalid", "12065959696", "not the account's")
    assert isinstance(outcome.cause, InvalidSenderCodeError)


@pytest.mark.parametrize("hold", ["not_opt_out", "needs_review"])
def test_a_held_row_is_never_sent_and_does_not_count_as_its_pair_seen(hold: str):
    sort = sorter().sort
    held = one(sort(row(1, "2065959696", "A1", hold=hold)))
    assert isinstance(held, StopOutcome)
    assert (held.status, held.phone, held.sender_code) == (hold, "12065959696", "A1")
    assert isinstance(one(sort(row(2, "2065959696", "A1"))), Job), "a later opt-out of the pair is sent"


def job(index: int) -> Job:
    return Job(Row(index + 1, str(index), str(index), "A1"), f"1206{2_000_000 + index}", "A1")


def stopped(job: Job) -> StopOutcome:
    return StopOutcome(job.row, "stopped", job.phone, job.sender_code)


class ListSorter(Sorter):
    """Every row is already a job: tests the window without phone parsing."""

    def __init__(self) -> None:
        super().__init__(normalize_phone)

    def sort(self, row: Row) -> list[Job | StopOutcome]:
        return [job(row.row - 1)]


def rows(count: int) -> list[Row]:
    return [Row(n, n, n, "A1") for n in range(1, count + 1)]


def test_run_keeps_at_most_two_windows_of_work_in_flight_and_runs_each_job_once():
    started: list[int] = []
    lock = threading.Lock()

    def note_and_stop(item: Job) -> StopOutcome:
        with lock:
            started.append(item.row.row - 1)
        return stopped(item)

    ahead = []
    outcomes = _bulk.run(rows(100), ListSorter(), note_and_stop, workers=4, cancelled=threading.Event())
    for consumed, outcome in enumerate(outcomes, start=1):
        with lock:
            ahead.append(len(started) - consumed)
        assert outcome.status == "stopped"
    assert sorted(started) == list(range(100)), "every job exactly once"
    assert max(ahead) <= 2 * 4


def test_run_propagates_a_fatal_error_from_a_job():
    def stop_one(item: Job) -> StopOutcome:
        if item.row.row == 4:
            raise PermissionError("stop everything")
        return stopped(item)

    with pytest.raises(PermissionError):
        list(_bulk.run(rows(10), ListSorter(), stop_one, workers=2, cancelled=threading.Event()))


@pytest.mark.parametrize(
    ("error", "final"),
    [
        (WhatCountsApiError("bad phone", status_code=400), True),
        (WhatCountsApiError("unknown", status_code=404), True),
        (WhatCountsApiError("slow down", status_code=429), False),
        (WhatCountsApiError("busy", status_code=503), False),
        (WhatCountsTransportError("connection refused"), False),
    ],
)
def test_a_failure_is_permanent_only_when_whatcounts_answer_is_final(error: Exception, final: bool):
    """A final answer must not be sent again: not by a task retry, nor by a queue redelivering it."""
    from whatcounts_provider.hooks._outcomes import stop_outcome
    from whatcounts_provider.hooks._retry import Tally

    def send(job: Job, tally: Tally) -> dict[str, Any]:
        raise error

    job = Job(Row(1, "x", "2065959696", "2065551212"), "12065959696", "2065551212")
    outcome = stop_outcome(job, send, Tally())
    assert (outcome.status, outcome.permanent) == ("failed", final)
