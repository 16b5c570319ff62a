"""OptOutDeadlineWatchOperator: templated arguments, fail or return as chosen, no phone in the log."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import make_context
from tests.operators.test_import_cost import modules_after_import
from tests.receipts.test_watch import (
    HELD,
    LATE,
    NINE_DAYS_OLD,
    NOW,
    REOPENED,
    THREE_DAYS_OLD,
    UNDATED,
    write_scenario,
)
from whatcounts_provider._compat import AirflowFailException
from whatcounts_provider.exceptions import WhatCountsDeadlineError, WhatCountsInputError
from whatcounts_provider.operators.deadlines import OptOutDeadlineWatchOperator

OPEN_PHONES = (LATE, REOPENED, NINE_DAYS_OLD, HELD, UNDATED, THREE_DAYS_OLD)


@pytest.fixture
def receipts(tmp_path: Any) -> str:
    root = tmp_path / "receipts"
    write_scenario(root)
    return str(root)


def rendered(op: OptOutDeadlineWatchOperator, **params: Any) -> tuple[OptOutDeadlineWatchOperator, Any]:
    context = make_context(params=params)
    op.render_template_fields(context)
    return op, context


def test_template_fields_are_the_documented_ones() -> None:
    assert OptOutDeadlineWatchOperator.template_fields == (
        "receipts_path",
        "within_business_days",
        "honour_within_business_days",
        "now",
    )


def test_fails_the_task_without_spending_retries_and_logs_no_phone(receipts: str, log_text: Any) -> None:
    op, context = rendered(
        OptOutDeadlineWatchOperator(
            task_id="watch",
            receipts_path="{{ params.storage }}",
            within_business_days="{{ params.days }}",
            now="{{ params.now }}",
            retries=3,
        ),
        storage=receipts,
        days=2,
        now=NOW.isoformat(),
    )

    with pytest.raises(WhatCountsDeadlineError, match=r"^5 opt-out\(s\) not honoured yet: 1 past") as raised:
        op.execute(context)

    assert isinstance(raised.value, AirflowFailException), "no retry can change the receipts"
    assert [r["phone"] for r in raised.value.risks] == [LATE, REOPENED, NINE_DAYS_OLD, HELD, UNDATED]
    logs = log_text()
    assert "6 open pair(s) (1 without requested_at); 4 due within 2 business day(s)" in logs
    assert not any(phone in logs for phone in OPEN_PHONES)


def test_returns_the_list_when_told_not_to_fail(receipts: str, log_text: Any) -> None:
    op = OptOutDeadlineWatchOperator(
        task_id="watch",
        receipts_path=receipts,
        within_business_days=7,
        fail_on_risk=False,
        include_undated=False,
        now=NOW,
    )

    risks = op.execute(make_context())

    assert [(r["phone"], r["business_days_left"]) for r in risks] == [
        (LATE, -2),
        (REOPENED, 0),
        (NINE_DAYS_OLD, 1),
        (HELD, 2),
        (THREE_DAYS_OLD, 7),
    ]
    logs = log_text()
    assert "5 opt-out(s) not honoured yet: 1 past the deadline, 4 due within 7 business day(s)" in logs
    assert "1 open pair(s) have no requested_at" in logs
    assert not any(phone in logs for phone in OPEN_PHONES)


def test_succeeds_with_an_empty_list_when_nothing_is_near_its_deadline(receipts: str) -> None:
    op = OptOutDeadlineWatchOperator(
        task_id="watch",
        receipts_path=receipts,
        within_business_days=0,
        include_undated=False,
        now="2026-11-12T00:00:00Z",  # before any deadline had come near
    )
    assert op.execute(make_context()) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"within_business_days": -1}, "within_business_days must be a whole number of business days >= 0"),
        ({"honour_within_business_days": "ten"}, "honour_within_business_days must be a whole number"),
        ({"fail_on_risk": "yes"}, "fail_on_risk must be True or False, got 'yes'"),
        ({"include_undated": None}, "include_undated must be True or False"),
    ],
)
def test_bad_arguments_fail_when_the_dag_is_parsed(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(WhatCountsInputError, match=message):
        OptOutDeadlineWatchOperator(task_id="watch", receipts_path="/receipts", **kwargs)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"days": "two", "now": ""},
            "within_business_days must be a whole number of business days >= 0, got 'two'",
        ),
        ({"days": "2", "now": "yesterday"}, "now 'yesterday' is not a datetime or ISO-8601 text"),
    ],
)
def test_templated_arguments_are_checked_once_rendered_before_any_read(
    tmp_path: Any, params: dict[str, Any], message: str
) -> None:
    op, context = rendered(
        OptOutDeadlineWatchOperator(
            task_id="watch",
            receipts_path=str(tmp_path / "nothing-here"),
            within_business_days="{{ params.days }}",
            now="{{ params.now }}",
        ),
        **params,
    )
    with pytest.raises(WhatCountsInputError, match=message):
        op.execute(context)


def test_a_wrong_receipts_path_fails_instead_of_reporting_all_clear(tmp_path: Any) -> None:
    op = OptOutDeadlineWatchOperator(task_id="watch", receipts_path=str(tmp_path / "recipts"))
    with pytest.raises(WhatCountsInputError, match="holds no files: check the path") as raised:
        op.execute(make_context())
    assert isinstance(raised.value, AirflowFailException)


def test_importing_the_operator_loads_no_http_stack() -> None:
    baseline = modules_after_import("import whatcounts_provider._compat")
    loaded = modules_after_import(
        "from whatcounts_provider.operators.deadlines import OptOutDeadlineWatchOperator"
    )
    assert set(loaded) == set(baseline), loaded
