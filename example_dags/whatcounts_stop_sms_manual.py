"""
### Stop SMS to one phone (manual)

Opts one phone out of SMS from a WhatCounts sender code, for the odd opt-out that reaches you
by e-mail or phone call instead of a STOP reply.

Trigger it from the UI: the form asks for the **phone** (any common format, e.g.
`+1 (206) 555-0100`) and the **sender code**. From the CLI:
`airflow dags trigger whatcounts_stop_sms_manual -c '{"phone": "2065550100", "sender_code": "2065551212"}'`.

Uses the `whatcounts_default` connection. A phone that was never subscribed is not an error:
the task succeeds with status `not_subscribed` (see its XCom).

The form only insists that both fields are filled in. Everything else is checked by the task
before anything is sent, with a short message in its log: a phone with letters or stray
characters, a number that is not a real one ("it is not an assigned number range"), a bad
sender code. (A JSON-schema `pattern` here would make Airflow answer a typo with a dump of the
schema and its regular expression.)
"""

from __future__ import annotations

from datetime import datetime, timezone

from whatcounts_provider.operators.sms import StopSmsSubscriberOperator

try:
    from airflow.sdk import DAG
except ImportError:  # Airflow 2.11
    from airflow import DAG  # type: ignore[no-redef,assignment,attr-defined,unused-ignore]
try:
    from airflow.sdk import Param
except ImportError:  # Airflow 2.11
    from airflow.models.param import Param  # type: ignore[no-redef,assignment,attr-defined,unused-ignore]

with DAG(
    dag_id="whatcounts_stop_sms_manual",
    schedule=None,
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["whatcounts", "example"],
    doc_md=__doc__,
    params={
        # Required strings only: the operator validates them before sending, in plain words.
        "phone": Param(
            "+1 (206) 555-0100",
            type="string",
            minLength=1,
            title="Phone number",
            description=(
                "The subscriber's phone: digits, with optional +, spaces, dashes, dots or "
                "parentheses, e.g. +1 (206) 555-0100. Without a country code, US is assumed."
            ),
        ),
        "sender_code": Param(
            "2065551212",
            type="string",
            minLength=1,
            title="Sender code",
            description="The WhatCounts SMS sender code to stop: letters and digits, e.g. 2065551212.",
        ),
    },
):
    StopSmsSubscriberOperator(
        task_id="stop_sms",
        phone="{{ params.phone }}",
        sender_code="{{ params.sender_code }}",
    )
