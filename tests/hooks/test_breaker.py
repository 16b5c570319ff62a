"""The circuit breaker: when it opens, what counts, what a request meets once it is open; its settings.

The breaker reads an injected clock: every test moves that clock itself, so none waits real time
and none depends on how fast the machine is.
"""

from __future__ import annotations

import json
import re
import threading
from typing import TYPE_CHECKING, Any

import pytest
import requests

from tests.helpers import NO_SUBSCRIPTION, PHONE, REST, SENDER, STOPPED, phones
from whatcounts_provider.exceptions import (
    WhatCountsApiError,
    WhatCountsCircuitOpenError,
    WhatCountsConfigError,
)
from whatcounts_provider.hooks import _settings
from whatcounts_provider.hooks._answers import Reply
from whatcounts_provider.hooks._breaker import Breaker
from whatcounts_provider.hooks._client import transient
from whatcounts_provider.hooks._retry import RetryPolicy, Tally
from whatcounts_provider.hooks._settings import resolve_settings
from whatcounts_provider.hooks.whatcounts import WhatCountsHook
from whatcounts_provider.operators.sms import check_hook_params
from whatcounts_provider.types import Row

if TYPE_CHECKING:
    from tests.helpers import FakeClock

OPENED = "WhatCounts failed {n} attempts in a row over {s} s ({why}); the circuit breaker stopped the run"


class Lines:
    """Stands in for a logger: keeps the formatted lines, by level."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def error(self, message: str, *args: Any) -> None:
        self.errors.append(message % args)

    def warning(self, message: str, *args: Any) -> None:
        self.warnings.append(message % args)


def breaker(fake_clock: FakeClock, log: Lines | None = None, **limits: Any) -> Breaker:
    """A breaker with the default limits (20 failures, 60 s) unless ``limits`` says otherwise."""
    return Breaker(
        **{"failures": 20, "seconds": 60.0, **limits}, clock=fake_clock.monotonic, log=log or Lines()
    )


def reply(status: int, body: object = None) -> Reply:
    return Reply(status, {}, json.dumps(body if body is not None else {}).encode())


def fail(tripped: Breaker, fake_clock: FakeClock, times: int, every: float = 0.0) -> None:
    """``times`` failed attempts (503), ``every`` seconds apart, the first one now."""
    for number in range(times):
        if number:
            fake_clock.now += every
        tripped.record_reply(reply(503))


def label() -> str:
    return "STOP for phone *******9696 on sender code 2065551212"


def is_open(tripped: Breaker) -> bool:
    """Whether a request would be refused now (the check itself may open the breaker)."""
    try:
        tripped.check(label)
    except WhatCountsCircuitOpenError:
        return True
    return False


# --- when it opens ---------------------------------------------------------------------------


def test_it_opens_once_20_failures_in_a_row_span_60_seconds(fake_clock):
    tripped = breaker(fake_clock)
    fail(tripped, fake_clock, 20, every=3.0)  # the 20th, 57 s after the first
    assert not is_open(tripped)

    fake_clock.now += 3.0  # every worker in backoff: time alone completes the case

    with pytest.raises(WhatCountsCircuitOpenError) as raised:
        tripped.check(label)
    error = raised.value
    assert (error.failures, error.seconds, error.reasons) == (20, 60.0, ("HTTP 503",))
    assert OPENED.format(n=20, s=60, why="HTTP 503") in str(error)


def test_many_fast_failures_do_not_open_it_before_60_seconds(fake_clock):
    """A blip that 8 fast workers fail hundreds of times in 2 s."""
    tripped = breaker(fake_clock)
    fail(tripped, fake_clock, 500, every=0.004)
    assert not is_open(tripped)


def test_60_seconds_of_failures_do_not_open_it_below_20(fake_clock):
    tripped = breaker(fake_clock)
    fail(tripped, fake_clock, 19, every=30.0)
    fake_clock.now += 600
    assert not is_open(tripped)


@pytest.mark.parametrize(
    "final",
    [
        reply(200, STOPPED),
        reply(500, NO_SUBSCRIPTION),
        reply(400, {"error": "Bad sender code"}),
        reply(401),
        reply(404),
        reply(409),
        reply(302),
    ],
    ids=["stopped", "no-subscription-500", "400", "401", "404", "409", "redirect"],
)
def test_an_answer_worth_keeping_starts_the_count_again(fake_clock, final):
    tripped = breaker(fake_clock)
    fail(tripped, fake_clock, 19, every=10.0)
    tripped.record_reply(final)
    fail(tripped, fake_clock, 19, every=10.0)
    assert not is_open(tripped)

    fail(tripped, fake_clock, 1)  # the 20th since that answer, 180 s after the first of them

    assert is_open(tripped)


def test_a_429_neither_counts_nor_starts_the_count_again(fake_clock):
    """WhatCounts is up and says to slow down: Retry-After handles that."""
    tripped = breaker(fake_clock)
    fail(tripped, fake_clock, 19, every=5.0)
    for _ in range(100):
        fake_clock.now += 1.0
        tripped.record_reply(reply(429))
    assert not is_open(tripped)

    fail(tripped, fake_clock, 1)

    assert is_open(tripped)


@pytest.mark.parametrize(
    "failure",
    [reply(500, {"error": "java.lang.NullPointerException"}), reply(502), reply(503), reply(504)],
    ids=["plain-500", "502", "503", "504"],
)
def test_server_errors_and_network_failures_count(fake_clock, failure):
    tripped = breaker(fake_clock)
    for _ in range(10):
        tripped.record_failure("connection to https://mail.example.com/rest failed (ConnectionError)")
        fake_clock.now += 5.0
        tripped.record_reply(failure)
        fake_clock.now += 5.0

    with pytest.raises(WhatCountsCircuitOpenError) as raised:
        tripped.check(label)

    assert raised.value.reasons == (
        "connection to https://mail.example.com/rest failed (ConnectionError)",
        f"HTTP {failure.status}",
    )


def test_zero_failures_turns_it_off(fake_clock):
    tripped = breaker(fake_clock, failures=0)
    fail(tripped, fake_clock, 10_000, every=1.0)
    assert not is_open(tripped)


def test_zero_seconds_lets_the_count_alone_open_it(fake_clock):
    tripped = breaker(fake_clock, failures=3, seconds=0)
    fail(tripped, fake_clock, 3)
    assert is_open(tripped)


def test_once_open_it_stays_open(fake_clock):
    tripped = breaker(fake_clock, failures=3, seconds=0)
    fail(tripped, fake_clock, 3)
    tripped.record_reply(reply(200, STOPPED))  # a request that was in flight when it opened
    assert is_open(tripped)


# --- what it says ----------------------------------------------------------------------------


def test_the_error_says_whether_the_request_was_ever_sent(fake_clock):
    tripped = breaker(fake_clock, failures=2, seconds=0)
    fail(tripped, fake_clock, 2)

    with pytest.raises(WhatCountsCircuitOpenError) as never:
        tripped.check(label)
    with pytest.raises(WhatCountsCircuitOpenError) as again:
        tripped.check(label, 3)

    ending = f": {OPENED.format(n=2, s=0, why='HTTP 503')}, a task retry sends it again"
    assert str(never.value) == f"{label()}: not sent{ending}"
    assert str(again.value) == f"{label()}: not sent again after 3 attempt(s){ending}"


def test_opening_is_logged_once_at_error_without_a_phone(fake_clock):
    log = Lines()
    tripped = breaker(fake_clock, log, failures=5, seconds=10)
    tripped.record_failure("timed out after 30 s waiting for the answer from https://mail.example.com/rest")
    fail(tripped, fake_clock, 30, every=1.0)
    for _ in range(10):
        is_open(tripped)

    assert log.errors == [
        "WhatCounts failed 12 attempts in a row over 10 s (timed out after 30 s waiting for the answer "
        "from https://mail.example.com/rest / HTTP 503): the circuit breaker is open. This run sends "
        "nothing more: every pair not yet answered is failed, and a task retry sends those again"
    ]


def test_many_threads_count_every_failure_and_open_it_once(fake_clock):
    log = Lines()
    tripped = breaker(fake_clock, log, failures=2_000, seconds=0)
    refused = []
    start = threading.Barrier(8)

    def worker() -> None:
        start.wait()
        for _ in range(250):
            tripped.record_reply(reply(503))
            refused.append(is_open(tripped))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Open exactly at the 2,000th failure (none lost), so only a check after the last one refuses.
    with pytest.raises(WhatCountsCircuitOpenError) as raised:
        tripped.check(label)
    assert raised.value.failures == 2_000
    assert refused.count(True) >= 1
    assert len(log.errors) == 1


# --- in the retry loop -----------------------------------------------------------------------


def policy(
    fake_clock: FakeClock, tripped: Breaker, log: Lines | None = None, sleep: Any = None
) -> RetryPolicy:
    """The default retry knobs on the fake clock, jitter pinned to half the first backoff."""
    return RetryPolicy(
        attempts=6,
        backoff_initial=0.5,
        backoff_max=30.0,
        retry_after_max=60.0,
        sleep=sleep or fake_clock.sleep,
        log=log or Lines(),
        describe=lambda exc: f"network failure ({type(exc).__name__})",
        rand=lambda: 0.5,
        breaker=tripped,
    )


def script(*outcomes: Reply | Exception):
    """An ``attempt`` callable giving these outcomes in turn; ``.calls`` counts the attempts."""
    queue = list(outcomes)

    def attempt() -> Reply:
        attempt.calls += 1  # type: ignore[attr-defined]
        outcome = queue.pop(0)
        if isinstance(outcome, requests.ConnectionError):
            raise transient(outcome)
        assert isinstance(outcome, Reply)
        return outcome

    attempt.calls = 0  # type: ignore[attr-defined]
    return attempt


def test_an_open_breaker_sends_nothing(fake_clock):
    tripped = breaker(fake_clock, failures=1, seconds=0)
    fail(tripped, fake_clock, 1)
    attempt, tally = script(reply(200, STOPPED)), Tally()

    with pytest.raises(WhatCountsCircuitOpenError, match=": not sent: "):
        policy(fake_clock, tripped).send(attempt, throttle=fake_clock.throttle(), label=label, tally=tally)

    assert (attempt.calls, tally.attempts, fake_clock.sleeps) == (0, 0, [])


def test_the_failure_that_opens_it_ends_its_request_without_a_wait(fake_clock):
    tripped = breaker(fake_clock, failures=2, seconds=0)
    log = Lines()
    retry = policy(fake_clock, tripped, log)
    attempt, tally = script(requests.ConnectionError("refused"), reply(503), reply(200, STOPPED)), Tally()

    with pytest.raises(WhatCountsCircuitOpenError) as raised:
        retry.send(attempt, throttle=fake_clock.throttle(), label=label, tally=tally)

    assert str(raised.value).startswith(f"{label()}: not sent again after 2 attempt(s): ")
    assert raised.value.reasons == ("network failure (ConnectionError)", "HTTP 503")
    assert (attempt.calls, tally.attempts, retry.retries, fake_clock.sleeps) == (2, 2, 1, [0.75])
    assert len(log.warnings) == 1, "the retry that does not happen is not announced"


def test_a_breaker_opened_during_a_backoff_stops_the_retry(fake_clock):
    tripped = breaker(fake_clock, failures=10, seconds=0)

    def other_workers_fail(seconds: float) -> None:
        fake_clock.sleep(seconds)
        fail(tripped, fake_clock, 10)

    retry = policy(fake_clock, tripped, sleep=other_workers_fail)
    attempt = script(reply(503), reply(200, STOPPED))

    with pytest.raises(WhatCountsCircuitOpenError, match="not sent again after 1 attempt"):
        retry.send(attempt, throttle=fake_clock.throttle(), label=label)

    assert attempt.calls == 1


# --- through the hook --------------------------------------------------------------------------


@pytest.fixture
def down(requests_mock: Any) -> Any:
    """WhatCounts answers 503 to every stop, for ever."""
    return requests_mock.post(
        re.compile(rf"^{re.escape(REST)}/sms/stopSubscriberSend/"),
        status_code=503,
        json={"error": "Service Unavailable"},
    )


def test_a_single_phone_spends_its_retries(clock, down):
    with pytest.raises(WhatCountsApiError, match=r"gave up after 6 attempts"):
        WhatCountsHook().stop_sms_subscriber(PHONE, SENDER)
    assert down.call_count == 6


def test_a_hook_whose_breaker_opened_sends_nothing_more(clock, down):
    hook = WhatCountsHook(breaker_failures=6, breaker_seconds=0)
    with pytest.raises(WhatCountsApiError):
        hook.stop_sms_subscriber(PHONE, SENDER)  # its 6th and last attempt opens it

    with pytest.raises(
        WhatCountsCircuitOpenError, match=r"\*\*\*\*\*\*\*0001 on sender code \d+: not sent: "
    ):
        hook.stop_sms_subscriber(phones(2)[1], SENDER)

    assert down.call_count == 6


def test_one_pair_with_20_retries_opens_the_breaker_itself(clock, down):
    """Its 20 failures span 400 s: the 21st attempt is not made (breaker_failures=0 would allow it)."""
    with pytest.raises(WhatCountsCircuitOpenError, match="not sent again after 20 attempt"):
        WhatCountsHook(max_retries=20).stop_sms_subscriber(PHONE, SENDER)
    assert down.call_count == 20


def test_a_bulk_run_during_an_outage_gives_every_input_exactly_one_outcome(clock, down):
    valid = phones(400)
    rows = [Row(number, phone, phone, SENDER) for number, phone in enumerate(valid, 1)]
    rows += [
        Row(401, valid[0], valid[0], SENDER),  # the same pair again
        Row(402, "not a phone", "not a phone", SENDER),
        Row(403, valid[1], valid[1], "22222"),  # a pair an earlier try honoured
    ]
    hook = WhatCountsHook()

    outcomes = list(hook.stop_sms_rows(rows, already_done={(valid[1], "22222")}))

    assert sorted(outcome.row.row for outcome in outcomes) == list(range(1, 404))
    by_row = {outcome.row.row: outcome.status for outcome in outcomes}
    assert (by_row[401], by_row[402], by_row[403]) == ("duplicate", "invalid", "already_done")
    assert {by_row[number] for number in range(1, 401)} == {"failed"}
    # 60 s of failures, each but a pair's last followed by >= 0.5 s of backoff: at most 144
    # failed attempts, and up to 8 workers may each have one more in flight.
    assert sum(outcome.attempts for outcome in outcomes) == down.call_count < 200


# --- the settings --------------------------------------------------------------------------------


class StandInConnection:
    def __init__(self, **extra: Any) -> None:
        self.conn_id = "whatcounts_default"
        self.host = "https://mail.example.com"
        self.port = None
        self.login = "breaker-realm"
        self.password = "breaker-Pa55word"
        self.extra_dejson = extra


def test_the_defaults_are_20_failures_over_60_seconds():
    settings = resolve_settings(StandInConnection())
    assert (settings.breaker_failures, settings.breaker_seconds) == (20, 60.0)


@pytest.mark.parametrize(
    ("knob", "extra", "argument", "expected"),
    [
        ("breaker_failures", "50", None, 50),
        ("breaker_failures", 50, None, 50),
        ("breaker_failures", "50", 5, 5),
        ("breaker_failures", "50", 0, 0),
        ("breaker_seconds", "120", None, 120.0),
        ("breaker_seconds", 2.5, None, 2.5),
        ("breaker_seconds", "120", 30, 30.0),
        ("breaker_seconds", None, 0, 0.0),
    ],
)
def test_a_hook_argument_beats_the_extra_which_beats_the_default(knob, extra, argument, expected):
    conn = StandInConnection(**({knob: extra} if extra is not None else {}))
    assert getattr(resolve_settings(conn, **{knob: argument}), knob) == expected


@pytest.mark.parametrize("value", ["-1", "2.5", "many", "inf", "nan", True, [20]])
def test_an_unusable_failure_count_is_refused_naming_it(value):
    expected = "extra 'breaker_failures' must be a whole number, 0 or more (0 turns the circuit breaker off)"
    with pytest.raises(WhatCountsConfigError, match=re.escape(f"{expected}, got {value!r}")):
        resolve_settings(StandInConnection(breaker_failures=value))


@pytest.mark.parametrize("value", ["-1", "soon", "nan", "inf", True])
def test_an_unusable_breaker_seconds_is_refused_naming_it(value):
    expected = "extra 'breaker_seconds' must be a number of seconds, 0 or more"
    with pytest.raises(WhatCountsConfigError, match=expected):
        resolve_settings(StandInConnection(breaker_seconds=value))


def test_an_unusable_hook_argument_is_refused_naming_it():
    with pytest.raises(
        WhatCountsConfigError, match="breaker_failures argument must be a whole number"
    ) as raised:
        resolve_settings(StandInConnection(), breaker_failures=-1, breaker_seconds=-2)
    assert "breaker_seconds argument must be a number of seconds, 0 or more, got -2" in str(raised.value)


def test_the_breaker_extras_are_known(caplog):
    with caplog.at_level("WARNING", logger=_settings.__name__):
        resolve_settings(StandInConnection(breaker_failures="30", breaker_seconds="90"))
    assert caplog.records == []


def test_the_hook_builds_its_breaker_from_the_resolved_settings(use_connection):
    use_connection(breaker_failures="30", breaker_seconds="90")
    tripped = WhatCountsHook(breaker_seconds=15)._retry_policy.breaker
    assert (tripped.failures, tripped.seconds) == (30, 15.0)


def test_the_operators_take_them_as_hook_params():
    params = {"breaker_failures": 0, "breaker_seconds": 120}
    assert check_hook_params(params) == params
