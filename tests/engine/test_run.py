"""run_opt_outs without an operator: the documented @task entry point, its arguments and errors."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

import whatcounts_provider.engine
from tests.helpers import SENDER, make_context, phones
from whatcounts_provider.engine import OptOutOptions, run_opt_outs
from whatcounts_provider.exceptions import WhatCountsBulkError, WhatCountsConfigError
from whatcounts_provider.hooks.whatcounts import WhatCountsHook
from whatcounts_provider.inputs import Inputs
from whatcounts_provider.receipts import TaskIdentity, iter_receipts

IDENTITY = {"dag_id": "replies", "run_id": "manual__2026-12-01T09:00:00+00:00", "task_id": "opt_out"}
DOCUMENTED_RECEIPTS = "s3://aws_default@bucket/receipts"


def documented_example() -> str:
    """The ``@task`` example of the engine's docstring (the one the docs show), as code."""
    doc = whatcounts_provider.engine.__doc__ or ""
    block: list[str] = []
    for line in doc.split("::\n", 1)[1].splitlines():
        if line and not line.startswith(" "):  # the indented block ends at the next paragraph
            break
        block.append(line)
    return textwrap.dedent("\n".join(block))


@pytest.fixture
def three_subscribed(whatcounts_conn_env: Any) -> Any:
    """The emulator, behind ``whatcounts_default``, with three phones subscribed to SENDER."""
    whatcounts_conn_env.subscribe(SENDER, phones(3))
    return whatcounts_conn_env


def test_the_documented_task_example_runs_and_writes_receipts(
    three_subscribed: Any, s3_location: str
) -> None:
    """The docstring's example, run as written but for its bucket (the loopback S3 server's)."""
    code = documented_example()
    assert "@task" in code
    assert DOCUMENTED_RECEIPTS in code
    namespace: dict[str, Any] = {"task": lambda function: function}  # the decorator, undone
    example = compile(code.replace(DOCUMENTED_RECEIPTS, s3_location), "engine-example", "exec")
    exec(example, namespace)  # noqa: S102 - the example is the project's own text

    rows = [{"phone": phone} for phone in [*phones(3), phones(3)[0]]]
    record = namespace["opt_out"](rows, **make_context(try_number=1, **IDENTITY))

    assert (record["total"], record["stopped"], record["duplicates"]) == (4, 3, 1)
    assert [three_subscribed.state.is_subscribed(SENDER, phone) for phone in phones(3)] == [False] * 3
    statuses = sorted(receipt["status"] for receipt in iter_receipts(s3_location))
    assert statuses == ["duplicate", "stopped", "stopped", "stopped"]


def test_it_takes_a_hook_and_inputs_and_returns_the_record(three_subscribed: Any) -> None:
    record = run_opt_outs(WhatCountsHook(), Inputs(phones=phones(3), sender_code=SENDER))
    assert (record["total"], record["stopped"], record["receipts"]) == (3, 3, None)


def test_receipts_need_the_task_identity(three_subscribed: Any, tmp_path: Any) -> None:
    with pytest.raises(WhatCountsConfigError, match="receipts_path needs the task identity"):
        run_opt_outs(WhatCountsHook(), Inputs(phones=phones(3), sender_code=SENDER), receipts_path=tmp_path)
    assert sum(three_subscribed.state.post_count(SENDER, phone) for phone in phones(3)) == 0


def test_failed_pairs_push_the_record_then_raise(three_subscribed: Any) -> None:
    three_subscribed.faults.update(failing_phones={phones(3)[1]})
    pushed: list[dict[str, Any]] = []
    with pytest.raises(WhatCountsBulkError) as error:
        run_opt_outs(
            WhatCountsHook(max_retries=0),
            Inputs(phones=phones(3), sender_code=SENDER),
            push=pushed.append,
        )
    assert pushed == [error.value.summary]
    assert (pushed[0]["stopped"], [f["phone"] for f in pushed[0]["failed"]]) == (2, [phones(3)[1]])


def test_a_bad_max_workers_fails_before_any_request(three_subscribed: Any) -> None:
    with pytest.raises(ValueError, match="max_workers must be from 1 to 64, got 0"):
        run_opt_outs(
            WhatCountsHook(),
            Inputs(phones=phones(3), sender_code=SENDER),
            options=OptOutOptions(max_workers=0),
        )
    assert sum(three_subscribed.state.post_count(SENDER, phone) for phone in phones(3)) == 0


def test_the_task_identity_comes_from_the_context() -> None:
    identity = TaskIdentity.from_context(make_context(try_number=2, map_index=5, **IDENTITY))
    assert (identity.dag_id, identity.run_id, identity.task_id, identity.map_index, identity.try_number) == (
        "replies",
        IDENTITY["run_id"],
        "opt_out",
        5,
        2,
    )
