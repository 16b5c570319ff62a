"""RetryPolicy: which answers are retried, how long it waits, what it counts; and where its knobs come from.

The policy gets a fake sleep and a pinned jitter, so every wait is asserted exactly and no test
depends on how fast the machine is.
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any

import pytest
import requests

from tests.helpers import NO_SUBSCRIPTION
from whatcounts_provider.exceptions import TransientError, WhatCountsCancelledError, WhatCountsConfigError
from whatcounts_provider.hooks import _settings
from whatcounts_provider.hooks._answers import Reply
from whatcounts_provider.hooks._client import transient
from whatcounts_provider.hooks._retry import FinalAnswer, RetryPolicy, Tally
from whatcounts_provider.hooks._settings import resolve_settings
from whatcounts_provider.hooks.whatcounts import WhatCountsHook

if TYPE_CHECKING:
    from tests.helpers import FakeClock

REALM = "policy-realm"
PASSWORD = "policy-Pa55word"


class Lines:
    """Stands in for a logger: keeps the formatted WARNING lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def warning(self, message: str, *args: Any) -> None:
        self.lines.append(message % args)


def policy(fake_clock: FakeClock, log: Lines | None = None, **knobs: Any) -> RetryPolicy:
    """A policy on the fake clock; jitter pinned to half of ``backoff_initial`` unless ``rand`` is given."""
    settings = {
        "attempts": 6,
        "backoff_initial": 0.5,
        "backoff_max": 30.0,
        "retry_after_max": 60.0,
        "rand": lambda: 0.5,
        **knobs,
    }
    return RetryPolicy(
        **settings,
        sleep=fake_clock.sleep,
        log=log or Lines(),
        describe=lambda exc: f"network failure ({type(exc).__name__})",
    )


def response(status: int, body: object = None, **headers: str) -> Reply:
    return Reply(status, headers, json.dumps(body if body is not None else {}).encode())


def script(*outcomes: Reply | Exception):
    """An ``attempt`` callable giving these outcomes in turn; ``.calls`` counts the attempts.

    A network failure is raised as the client raises it (:func:`transient`)."""
    queue = list(outcomes)

    def attempt() -> Reply:
        attempt.calls += 1  # type: ignore[attr-defined]
        outcome = queue.pop(0)
        if isinstance(outcome, (requests.ConnectionError, requests.Timeout)):
            raise transient(outcome)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    attempt.calls = 0  # type: ignore[attr-defined]
    return attempt


def label() -> str:
    return "STOP for phone *******9696 on sender code 2065551212"


# --- the waits -------------------------------------------------------------------------------


def test_backoff_doubles_from_the_first_wait_and_is_capped_then_jittered(fake_clock):
    retry = policy(fake_clock, backoff_initial=0.5, backoff_max=3.0)
    # base 0.5, 1, 2, then capped at 3; jitter is initial x rand() = 0.25 with rand pinned to 0.5
    assert [retry.backoff(n) for n in range(1, 7)] == [0.75, 1.25, 2.25, 3.25, 3.25, 3.25]


@pytest.mark.parametrize(("rand", "expected"), [(0.0, 0.5), (0.999, 0.5 + 0.4995)])
def test_jitter_is_at_most_one_initial_backoff(fake_clock, rand, expected):
    retry = policy(fake_clock, attempts=2, rand=lambda: rand)
    assert retry.backoff(1) == pytest.approx(expected)


def test_a_zero_backoff_retries_at_once(fake_clock):
    retry = policy(fake_clock, backoff_initial=0.0, backoff_max=0.0)
    answer = retry.send(
        script(response(503), response(503), response(200)), throttle=fake_clock.throttle(), label=label
    )
    assert answer.reply.status == 200
    assert fake_clock.sleeps == [0.0, 0.0]


# --- what is retried -------------------------------------------------------------------------


def test_transient_answers_are_retried_with_the_computed_waits(fake_clock):
    log = Lines()
    retry = policy(fake_clock, log)
    attempt = script(response(503), response(429), response(502), response(200, {"id": 1}))
    tally = Tally()

    answer = retry.send(attempt, throttle=fake_clock.throttle(), label=label, tally=tally)

    assert answer == FinalAnswer(answer.reply)
    assert answer.reply.json() == {"id": 1}
    assert fake_clock.sleeps == [0.75, 1.25, 2.25]
    assert (attempt.calls, tally.attempts, retry.retries) == (4, 4, 3)
    assert log.lines[0] == f"{label()}: HTTP 503 on attempt 1; retrying in 0.75 s"
    assert [line.split(": ", 1)[1].split(" on")[0] for line in log.lines] == [
        "HTTP 503",
        "HTTP 429",
        "HTTP 502",
    ]


@pytest.mark.parametrize(
    "final",
    [response(400), response(401), response(404), response(500, NO_SUBSCRIPTION), response(200)],
    ids=["400", "401", "404", "no-subscription-500", "200"],
)
def test_a_final_answer_is_returned_after_one_attempt(fake_clock, final):
    retry = policy(fake_clock)
    tally = Tally()
    answer = retry.send(script(final), throttle=fake_clock.throttle(), label=label, tally=tally)
    assert answer == FinalAnswer(final, gave_up_after=None)
    assert (tally.attempts, retry.retries, fake_clock.sleeps) == (1, 0, [])


def test_when_attempts_run_out_the_last_transient_answer_is_returned_with_the_count(fake_clock):
    retry = policy(fake_clock, attempts=3)
    tally = Tally()
    answer = retry.send(
        script(*[response(503)] * 3), throttle=fake_clock.throttle(), label=label, tally=tally
    )
    assert answer.reply.status == 503
    assert answer.gave_up_after == 3
    assert (tally.attempts, retry.retries) == (3, 2)


def test_network_failures_are_retried_then_re_raised_with_the_tally_complete(fake_clock):
    retry = policy(fake_clock, attempts=3)
    tally = Tally()
    attempt = script(requests.ConnectionError("refused"), requests.ReadTimeout(), requests.ConnectTimeout())
    with pytest.raises(TransientError) as raised:
        retry.send(attempt, throttle=fake_clock.throttle(), label=label, tally=tally)
    assert isinstance(raised.value.cause, requests.ConnectTimeout)
    assert (tally.attempts, retry.retries) == (3, 2)
    assert fake_clock.sleeps == [0.75, 1.25]


def test_a_tls_failure_is_not_retried(fake_clock):
    retry = policy(fake_clock)
    tally = Tally()
    with pytest.raises(TransientError) as raised:
        retry.send(
            script(requests.exceptions.SSLError("bad cert")),
            throttle=fake_clock.throttle(),
            label=label,
            tally=tally,
        )
    assert (tally.attempts, retry.retries) == (1, 0)
    assert isinstance(raised.value.cause, requests.exceptions.SSLError)


def test_any_other_exception_is_not_retried(fake_clock):
    retry = policy(fake_clock)
    with pytest.raises(RuntimeError):
        retry.send(script(RuntimeError("bug")), throttle=fake_clock.throttle(), label=label)
    assert retry.retries == 0


def test_the_attempts_argument_overrides_the_budget(fake_clock):
    retry = policy(fake_clock, attempts=6)
    answer = retry.send(
        script(response(503), response(200)), throttle=fake_clock.throttle(), label=label, attempts=1
    )
    assert answer.gave_up_after == 1
    assert retry.retries == 0


def test_the_retry_count_adds_up_across_calls(fake_clock):
    retry = policy(fake_clock)
    retry.send(script(response(503), response(200)), throttle=fake_clock.throttle(), label=label)
    retry.send(
        script(response(502), response(504), response(200)), throttle=fake_clock.throttle(), label=label
    )
    assert retry.retries == 3


# --- Retry-After -----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_replaces_the_backoff_and_pauses_the_whole_run(fake_clock, status):
    retry = policy(fake_clock)
    throttle = fake_clock.throttle()
    attempts_at: list[float] = []
    outcomes = [response(status, **{"Retry-After": "7"}), response(200)]

    def attempt() -> Reply:
        attempts_at.append(fake_clock.now)
        return outcomes.pop(0)

    retry.send(attempt, throttle=throttle, label=label)

    assert fake_clock.sleeps == [7.0]
    assert attempts_at == [1_000.0, 1_007.0]
    # Another worker of the same run, asking for a slot just after the 429, is held until then.
    fake_clock.now = 1_001.0
    paused = fake_clock.throttle()
    retry.send(script(response(429, **{"Retry-After": "5"}), response(200)), throttle=paused, label=label)
    assert paused.reserve()[1] >= 1_006.0


def test_a_long_retry_after_is_capped_and_the_cap_logged(fake_clock):
    log = Lines()
    retry = policy(fake_clock, log, retry_after_max=60.0)
    retry.send(
        script(response(429, **{"Retry-After": "3600"}), response(200)),
        throttle=fake_clock.throttle(),
        label=label,
    )
    assert fake_clock.sleeps == [60.0]
    assert log.lines == [
        f"{label()}: HTTP 429 on attempt 1; retrying in 60.00 s (Retry-After 3600 s capped to 60 s)"
    ]


@pytest.mark.parametrize("header", ["soon", "", "-5"])
def test_an_unusable_retry_after_falls_back_to_the_backoff(fake_clock, header):
    retry = policy(fake_clock)
    retry.send(
        script(response(429, **{"Retry-After": header}), response(200)),
        throttle=fake_clock.throttle(),
        label=label,
    )
    assert fake_clock.sleeps == [0.75]


# --- where the knobs come from: hook argument > connection extra > default --------------------


class StandInConnection:
    def __init__(self, **extra: Any) -> None:
        self.conn_id = "whatcounts_default"
        self.host = "https://mail.example.com"
        self.port = None
        self.login = REALM
        self.password = PASSWORD
        self.extra_dejson = extra


KNOBS = ("retry_backoff_initial", "retry_backoff_max", "retry_after_max")
DEFAULTS = {"retry_backoff_initial": 0.5, "retry_backoff_max": 30.0, "retry_after_max": 60.0}


@pytest.mark.parametrize("knob", KNOBS)
@pytest.mark.parametrize(
    ("extra", "argument", "expected"),
    [(None, None, "default"), ("2.5", None, 2.5), (4, None, 4.0), ("2.5", 0.25, 0.25), (None, 0, 0.0)],
    ids=["default", "extra-text", "extra-number", "argument-over-extra", "argument-zero"],
)
def test_each_knob_follows_the_usual_precedence(knob, extra, argument, expected):
    conn = StandInConnection(**({knob: extra} if extra is not None else {}))
    settings = resolve_settings(conn, **{knob: argument})
    assert getattr(settings, knob) == (DEFAULTS[knob] if expected == "default" else expected)


@pytest.mark.parametrize("knob", KNOBS)
@pytest.mark.parametrize("value", ["-1", "soon", "nan", "inf", True])
def test_an_unusable_knob_is_a_config_error_naming_it(knob, value):
    with pytest.raises(
        WhatCountsConfigError, match=rf"extra '{knob}' must be a number of seconds, 0 or more"
    ):
        resolve_settings(StandInConnection(**{knob: value}))


def test_the_knobs_are_accepted_as_extras_without_a_warning(caplog):
    with caplog.at_level("WARNING", logger=_settings.__name__):
        resolve_settings(
            StandInConnection(retry_backoff_initial="1", retry_backoff_max="2", retry_after_max="3")
        )
    assert caplog.records == []


def test_the_hook_builds_its_policy_from_the_resolved_settings(use_connection):
    use_connection(max_retries="3", retry_backoff_initial="0.2", retry_backoff_max="9", retry_after_max="11")
    retry = WhatCountsHook(retry_backoff_max=4)._retry_policy
    assert (retry.attempts, retry.backoff_initial, retry.backoff_max, retry.retry_after_max) == (
        4,
        0.2,
        4,
        11,
    )


def test_fast_retries_makes_every_backoff_zero_unless_the_connection_says_otherwise(
    fast_retries, use_connection
):
    assert WhatCountsHook()._retry_policy.backoff(5) == 0.0
    use_connection(retry_backoff_initial="0.1")
    assert WhatCountsHook()._retry_policy.backoff_initial == 0.1


def test_a_cancelled_policy_does_not_retry(fake_clock):
    cancelled = threading.Event()
    retry = policy(fake_clock, cancelled=cancelled)
    attempt = script(response(503), response(200))
    cancelled.set()
    tally = Tally()
    with pytest.raises(WhatCountsCancelledError, match="cancelled after HTTP 503 on attempt 1"):
        retry.send(attempt, throttle=fake_clock.throttle(), label=label, tally=tally)
    assert (attempt.calls, tally.attempts, retry.retries, fake_clock.sleeps) == (1, 1, 0, [])


# --- the decision alone (no loop, no sleep) ----------------------------------------------------


def test_decide_retries_a_transient_answer_with_the_backoff_and_stops_at_the_budget(fake_clock):
    retry = policy(fake_clock)
    assert retry.decide(1, 6, reply=response(503)).delay == 0.75
    assert retry.decide(1, 6, reply=response(503)).reason == "HTTP 503"
    assert retry.decide(6, 6, reply=response(503)).retry is False
    assert retry.decide(1, 6, reply=response(500, NO_SUBSCRIPTION)).retry is False
    assert fake_clock.sleeps == [], "deciding never waits"


def test_decide_follows_retry_after_and_asks_every_worker_to_pause(fake_clock):
    decision = policy(fake_clock, retry_after_max=10).decide(
        1, 6, reply=response(429, **{"Retry-After": "30"})
    )
    assert (decision.retry, decision.delay, decision.pause) == (True, 10, 10)
    assert decision.note == " (Retry-After 30 s capped to 10 s)"


def test_decide_never_retries_a_permanent_network_failure(fake_clock):
    retry = policy(fake_clock)
    assert retry.decide(1, 6, error=transient(requests.exceptions.SSLError("bad cert"))).retry is False
    assert retry.decide(1, 6, error=transient(requests.ConnectionError("refused"))).retry is True
