"""The queue step of ``make demo``: STOP replies as events, from an SQS queue embedded in the demo.

moto's SQS server runs in this process on 127.0.0.1; the Airflow connection ``aws_default`` and
the AWS SDK environment point at it, so nothing reaches AWS. The step subscribes a few phones in
the WhatCounts emulator, publishes one reply per phone as the inbound-SMS webhook would (plus
one body that is not JSON and one without a phone), shows what the watcher
(``WhatCountsQueueTrigger``) makes of the queue, runs ``whatcounts_stop_sms_from_queue`` with
``airflow dags test`` (which runs no watchers), and prints each message's fate and the time from
its publish to its receipt. Called from ``scripts/demo.py``, whose helpers it uses.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from demo import emulator_state, out, print_task_states, say, subscribe, task_states, test_dag

from whatcounts_provider.phone import mask_phone, normalize_phone
from whatcounts_provider.receipts import iter_receipts

if TYPE_CHECKING:
    from pathlib import Path

QUEUE_DAG_ID = "whatcounts_stop_sms_from_queue"
QUEUE_NAME = "whatcounts-stop-replies"
QUEUE_SENDER = "2065551212"
REGION = "us-east-1"
#: The watcher's first look fires at once when messages wait; this only bounds a broken queue.
WATCH_TIMEOUT = 30.0


@dataclass(frozen=True)
class Reply:
    """One message to publish, and what must become of it.

    :param shown: the reply as the demo prints it (never a phone).
    :param phone: the subscriber it is from, or ``None`` (the message names none).
    :param status: the receipt status it must get.
    :param decision: the receipt's ``reply_decision`` (``None``: there was no reply to read).
    """

    shown: str
    body: str
    phone: str | None
    status: str
    decision: str | None


def replies() -> list[Reply]:
    """Eight replies: three opt-outs, two that are not, one ambiguous, two the task cannot honour."""
    received_at = datetime.now(timezone.utc).isoformat(timespec="seconds")

    def reply(n: int, text: str, status: str, decision: str) -> Reply:
        phone = f"+1312555015{n}"  # 555-01xx: fictional numbers, none of them in the replies CSV
        body = {
            "phone": phone,
            "sender_code": QUEUE_SENDER,
            "message": text,
            "received_at": received_at,
            "message_id": f"SMdemo{n:02d}",
        }
        return Reply(json.dumps(text, ensure_ascii=False), json.dumps(body), phone, status, decision)

    no_phone = json.dumps({"sender_code": QUEUE_SENDER, "message": "STOP", "message_id": "SMdemo07"})
    return [
        reply(0, "STOP", "stopped", "opt_out"),
        reply(1, "Stop texting me", "stopped", "opt_out"),
        reply(2, "no más mensajes", "stopped", "opt_out"),
        reply(3, "thanks!", "not_opt_out", "not_opt_out"),
        reply(4, "HELP", "not_opt_out", "not_opt_out"),
        # "end" is an opt-out word; in a question it may not be one. The DAG sends ambiguous
        # replies as opt-outs (ambiguous="opt_out"): a wrong STOP costs less than a missed one.
        reply(5, "when does the sale end?", "stopped", "ambiguous"),
        # A webhook that forgot to wrap the text in JSON, and one that dropped the phone.
        Reply("STOP (raw text, not JSON)", "STOP", None, "invalid", None),
        # Its reply is read (an opt-out) before the missing phone makes it invalid.
        Reply('{"message": "STOP"} (no phone)', no_phone, None, "invalid", "opt_out"),
    ]


@dataclass(frozen=True)
class Published:
    reply: Reply
    queue_message_id: str
    published_at: datetime


def point_airflow_at(endpoint: str) -> None:
    """Every ``airflow`` command started from now on reaches the embedded queue, never AWS.

    Left set after the step: a later command that touched SQS would fail on the closed port
    instead of reaching AWS.
    """
    os.environ.update(
        {
            "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(
                {
                    "conn_type": "aws",
                    "login": "testing",
                    "password": "testing",
                    "extra": {"endpoint_url": endpoint, "region_name": REGION},
                }
            ),
            # Also for any SDK call that bypasses the connection: fake keys, and no lookups of
            # an instance role (the metadata endpoint would be a real network call).
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )


def sqs(endpoint: str) -> Any:
    """The demo's own client, standing in for the webhook that publishes the replies."""
    import boto3  # the amazon provider's dependency: imported only by this step

    return boto3.client("sqs", endpoint_url=endpoint, region_name=REGION)


def queue_counts(client: Any, queue_url: str) -> tuple[int, int]:
    """(visible, in flight), as ``GetQueueAttributes`` says: what the watcher looks at too."""
    attributes = client.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def publish(client: Any, queue_url: str, messages: list[Reply]) -> list[Published]:
    published = []
    for reply in messages:
        published_at = datetime.now(timezone.utc)
        answer = client.send_message(QueueUrl=queue_url, MessageBody=reply.body)
        published.append(Published(reply, answer["MessageId"], published_at))
    return published


def watcher_event(queue_url: str) -> dict[str, Any]:
    """Run the DAG's watcher here until its first event, as the triggerer would; return the payload.

    :raises RuntimeError: no event within ``WATCH_TIMEOUT`` (the watcher logs why it cannot look).
    """
    # Imported here: it imports Airflow, which this process needs for nothing else.
    from whatcounts_provider.triggers.queue import WhatCountsQueueTrigger

    async def first() -> dict[str, Any]:
        events = WhatCountsQueueTrigger(queue_url=queue_url, aws_conn_id="aws_default").run()
        try:
            event = await asyncio.wait_for(anext(events), WATCH_TIMEOUT)
        except asyncio.TimeoutError:
            raise RuntimeError(f"the queue watcher fired no event within {WATCH_TIMEOUT:g} s") from None
        finally:
            await events.aclose()  # leaves its SQS client's session cleanly
        payload: dict[str, Any] = event.payload
        return payload

    return asyncio.run(first())


def receipts_by_message(storage: Path, ids: set[str]) -> dict[str, list[dict[str, Any]]]:
    """The queue DAG's receipts of the messages ``ids``, by the queue's message id."""
    found: dict[str, list[dict[str, Any]]] = {message_id: [] for message_id in ids}
    folder = storage / "receipts"
    if folder.exists():
        for receipt in iter_receipts(folder):
            message_id = (receipt.get("input") or {}).get("queue_message_id")
            if receipt["dag_id"] == QUEUE_DAG_ID and message_id in found:
                found[message_id].append(receipt)
    return found


def fate(receipt: dict[str, Any]) -> str:
    if receipt["status"] == "invalid":
        # "message <id> cannot be honoured: <reason>" or "message <id>: <reason>"
        return f"invalid: {str(receipt['error']).split(': ', 1)[-1]}"
    return f"{receipt['status']} ({receipt['reply_decision']})"


def print_fates(published: list[Published], receipts: dict[str, list[dict[str, Any]]]) -> list[str]:
    """One line per message; return what differs from what each message had to become."""
    problems = []
    say("Each message: phone, reply, publish -> receipt, fate (receipt status and reply decision)")
    for item in published:
        reply, found = item.reply, receipts[item.queue_message_id]
        phone = "(none)" if reply.phone is None else mask_phone(normalize_phone(reply.phone))
        if len(found) != 1:
            out(f"    {phone:<14} {reply.shown:<34}     -    {len(found)} receipts")
            problems.append(f"{reply.shown}: {len(found)} receipts, not 1")
            continue
        receipt = found[0]
        latency = datetime.fromisoformat(receipt["processed_at"]) - item.published_at
        out(f"    {phone:<14} {reply.shown:<34} {latency.total_seconds():5.1f} s  {fate(receipt)}")
        if (receipt["status"], receipt["reply_decision"]) != (reply.status, reply.decision):
            problems.append(
                f"{reply.shown}: receipted {receipt['status']}/{receipt['reply_decision']}, "
                f"expected {reply.status}/{reply.decision}"
            )
    return problems


def explain_latency(published: list[Published], started: datetime, receipts: list[dict[str, Any]]) -> None:
    """Split publish -> receipt into its parts, so that nobody reads the demo's figure as the path's."""
    processed = sorted(datetime.fromisoformat(receipt["processed_at"]) for receipt in receipts)
    if not processed:
        return
    waited = (started - published[-1].published_at).total_seconds()
    start_up = (processed[0] - started).total_seconds()
    work = (processed[-1] - processed[0]).total_seconds()
    say("Where that time went")
    out(f"    {waited:5.1f} s  from the last publish to `airflow dags test` starting (the watcher's look)")
    out(
        f"    {start_up:5.1f} s  `airflow dags test` until the first receipt: a new Python process imports "
        "Airflow, parses the DAG, creates the run and starts the task, which receives the messages "
        "(its last receive, finding none, waits 1 s)"
    )
    out(f"    {work:5.1f} s  from the first receipt to the last ({len(processed)} replies read and honoured)")
    out(
        "    The `airflow dags test` start-up dominates here. Deployed, no run pays it: the triggerer's "
        "watcher looks every 2 s, and the scheduler creates the run for executors already running. "
        "docs/events.md has the deployment figures."
    )


def check_emulator(url: str, published: list[Published]) -> list[str]:
    """Opt-outs (ambiguous ones too) stopped in the emulator; the rest still subscribed."""
    state = emulator_state(url)
    stopped = set(state["stopped"].get(QUEUE_SENDER, []))
    subscribed = set(state["subscribed"].get(QUEUE_SENDER, []))
    problems = []
    for item in published:
        if item.reply.phone is None:
            continue
        phone = normalize_phone(item.reply.phone)
        if item.reply.status == "stopped" and phone not in stopped:
            problems.append(f"{item.reply.shown} is an opt-out but the emulator did not stop it")
        if item.reply.status != "stopped" and (phone in stopped or phone not in subscribed):
            problems.append(
                f"{item.reply.shown} is not an opt-out but the emulator no longer has it subscribed"
            )
    phones = {normalize_phone(item.reply.phone) for item in published if item.reply.phone is not None}
    say(
        f"Emulator, sender code {QUEUE_SENDER}: {len(phones & stopped)} of these {len(phones)} phones "
        f"stopped, {len(phones & subscribed)} still subscribed"
    )
    return problems


def run_queue(url: str, storage: Path) -> str | None:
    """The queue step, against the emulator at ``url``; return why it failed, or ``None``."""
    from moto.server import ThreadedMotoServer  # the demo's own test dependency, only here

    # moto's server logs every request through werkzeug: the demo prints what matters itself.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        point_airflow_at(endpoint)
        client = sqs(endpoint)
        queue_url = client.create_queue(QueueName=QUEUE_NAME)["QueueUrl"]
        # The queue DAG reads it when its file is parsed: the `airflow` command below inherits it.
        os.environ["WHATCOUNTS_EXAMPLE_QUEUE_URL"] = queue_url
        say(f"Embedded SQS queue (moto) at {queue_url}; connection aws_default points at it")
        messages = replies()
        subscribe(url, QUEUE_SENDER, [normalize_phone(r.phone) for r in messages if r.phone is not None])
        published = publish(client, queue_url, messages)
        with_phone = sum(item.reply.phone is not None for item in published)
        say(
            f"Published {len(published)} replies to the queue ({with_phone} from phones the emulator has "
            f"subscribed to {QUEUE_SENDER})"
        )
        event = watcher_event(queue_url)
        say(f"The watcher fired (it holds counts only, never a message): {json.dumps(event)}")
        out("    `airflow dags test` runs no watchers: the demo starts the run the scheduler would start")
        say(f"airflow dags test {QUEUE_DAG_ID}  (the two bad messages fail stop_sms by design: a traceback)")
        started = datetime.now(timezone.utc)
        began = time.monotonic()
        exit_code, logical_date = test_dag(QUEUE_DAG_ID)
        say(f"`airflow dags test` exited {exit_code} after {time.monotonic() - began:.0f} s")
        tasks = task_states(QUEUE_DAG_ID, logical_date)
        print_task_states(tasks)
        receipts = receipts_by_message(storage, {item.queue_message_id for item in published})
        problems = print_fates(published, receipts)
        explain_latency(published, started, [r for found in receipts.values() for r in found])
        problems += check_emulator(url, published)
        visible, in_flight = queue_counts(client, queue_url)
        say(f"Queue after the run: {visible} visible, {in_flight} in flight (GetQueueAttributes)")
        if visible or in_flight:
            problems.append(f"the queue still holds {visible} visible and {in_flight} in-flight message(s)")
        invalid = sum(item.reply.status == "invalid" for item in published)
        # The bad messages fail the task by design (WhatCountsInvalidInputsError, no retry): the
        # run turns red so that a person looks at them, while every other message is honoured.
        if not exit_code or dict(tasks) != {"stop_sms": {"failed": 1}}:
            problems.append(
                f"stop_sms should fail on the {invalid} invalid message(s); the run exited {exit_code} "
                f"with {dict(tasks)}"
            )
        if problems:
            return "; ".join(problems)  # main() prints it as the demo's failure
        say(
            f"stop_sms failed as it must: {invalid} message(s) could not be honoured as written, so the "
            "run turns red for a person to look at them (their receipts say why); every other message "
            "was honoured, and every message, the bad ones included, was receipted and deleted"
        )
        return None
    finally:  # also on Ctrl-C and on any error above
        server.stop()
