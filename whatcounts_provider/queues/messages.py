"""A STOP reply on a queue, and the row it becomes: what its JSON may hold and why one is refused.

A message's body is a JSON object with the fields of :data:`MESSAGE_FIELDS`::

    {"phone": "+12065550100", "sender_code": "2065551212", "message": "STOP",
     "received_at": "2026-12-06T10:15:00Z", "message_id": "SM8f2c..."}

Only ``phone`` is required (and ``sender_code`` when the operator has no default). A message that
cannot be honoured as it stands (not JSON, not an object, no phone, an unknown field, a body
over :data:`MAX_BODY_BYTES`, a phone that cannot be read) becomes an *invalid* row: it is
receipted ``invalid`` with the reason and acknowledged, so that it never comes back (a poison
message would otherwise return after every visibility timeout, forever).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from whatcounts_provider.deadline import parse_requested_at
from whatcounts_provider.exceptions import InvalidRequestedAtError
from whatcounts_provider.inputs import InputForm, RowStream, make_row
from whatcounts_provider.types import NO_MESSAGE, Row, json_safe

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from datetime import datetime

#: The fields a message body may have; any other field makes the message invalid.
MESSAGE_FIELDS: tuple[str, ...] = ("phone", "sender_code", "message", "received_at", "message_id")
#: A STOP reply's JSON is well under 2 KB; a bigger body is not one (SQS allows up to 256 KB).
MAX_BODY_BYTES = 64 * 1024
#: How much of a body that cannot be read is kept in its receipt's ``input``.
PREVIEW_CHARS = 500
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}")


@dataclass(frozen=True)
class QueueMessage:
    """One message as received: the queue's id and receipt handle, the body, when it was sent.

    :param queue_message_id: the queue's id of the message (the same on every delivery).
    :param handle: what acknowledging this delivery takes (SQS: the receipt handle).
    :param body: the body as text.
    :param sent_at: when the message reached the queue (aware UTC), if the queue says.
    :param receive_count: how many times the queue has delivered it (1: the first time).
    """

    queue_message_id: str
    handle: str = field(repr=False)
    body: str = field(repr=False)
    sent_at: datetime | None = None
    receive_count: int = 1


def message_row(number: int, message: QueueMessage, sender_code: Any = None) -> Row:
    """The row of one message: its fields, or the reason it cannot be honoured (``error``).

    The row's ``input`` (its receipt's ``input``) holds the queue's id, when it was sent, how
    often it was delivered, and the body: the parsed object, or a preview of a body that cannot
    be read. ``requested_at`` is the body's ``received_at``, else when the queue got it;
    ``message_id`` the body's, else the queue's. A ``received_at`` that cannot be read, or a
    ``message_id`` that is not text, falls back to the queue's (the body keeps what was written):
    a STOP is never refused for its metadata.
    """
    size = len(message.body.encode("utf-8", "replace"))
    if size > MAX_BODY_BYTES:
        reason = f"its body is {size:,} bytes, more than the {MAX_BODY_BYTES:,} a STOP reply may have"
        return _refused(number, message, message.body[:PREVIEW_CHARS], sender_code, reason)
    try:
        data = json.loads(message.body)
    except ValueError as exc:
        reason = f"its body is not JSON ({type(exc).__name__} at character {getattr(exc, 'pos', '?')})"
        return _refused(number, message, message.body[:PREVIEW_CHARS], sender_code, reason)
    if not isinstance(data, dict):
        reason = f"its body is a JSON {type(data).__name__}, not an object with a 'phone'"
        return _refused(number, message, data, sender_code, reason)
    unknown = sorted(_shown(key) for key in data if key not in MESSAGE_FIELDS)
    if unknown:
        reason = (
            f"its body has unknown field(s) {', '.join(unknown)}; "
            f"a STOP reply may only have {', '.join(map(repr, MESSAGE_FIELDS))}"
        )
        return _refused(number, message, data, sender_code, reason)
    values = (
        data.get("phone"),
        data.get("sender_code"),
        _received_at(data.get("received_at"), message),
        data.get("message", NO_MESSAGE),
        _message_id(data.get("message_id"), message),
    )
    row = make_row(number, _input(message, data), values, sender_code)
    if row.error is not None:
        return row._replace(error=f"message {message.queue_message_id}: {row.error}")
    return row


def _shown(key: str) -> str:
    # The reason reaches the task log: a key that is not a plain name (a phone used as a key,
    # a 60 KB string) is described, not quoted.
    if _FIELD_NAME.fullmatch(key):
        return repr(key)
    return f"<a field name of {len(key)} character(s) that is not a plain name>"


def _received_at(value: Any, message: QueueMessage) -> Any:
    # A STOP is honoured even when its producer wrote a time we cannot read: the deadline then
    # runs from when the queue got it (earlier, so never later than the truth), and the body,
    # with the time as written, stays in the receipt's input.
    try:
        return parse_requested_at(value) if value not in (None, "") else message.sent_at
    except InvalidRequestedAtError:
        return message.sent_at


def _message_id(value: Any, message: QueueMessage) -> str:
    if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
        return str(value)
    return message.queue_message_id


def _refused(number: int, message: QueueMessage, body: Any, sender_code: Any, reason: str) -> Row:
    return Row(
        number,
        _input(message, body),
        None,
        sender_code,
        requested_at=message.sent_at,
        error=f"message {message.queue_message_id} cannot be honoured: {reason}",
        message_id=message.queue_message_id,
    )


def _input(message: QueueMessage, body: Any) -> dict[str, Any]:
    return {
        "queue_message_id": message.queue_message_id,
        "sent_at": None if message.sent_at is None else message.sent_at.isoformat(),
        "receive_count": message.receive_count,
        "body": json_safe(body),  # NaN and Infinity parse, but no JSON reader takes them back
    }


class QueueBatch:
    """The messages one run received, as the rows the engine reads (a ``RowSource``).

    :param messages: the messages, in the order received (row ``n`` is ``messages[n - 1]``).
    :param sender_code: the code of messages without one, or ``None``.
    :param queue: the queue, as the record and the receipts name it (no credentials).
    """

    form: InputForm = "queue"

    def __init__(self, messages: Sequence[QueueMessage], sender_code: Any, queue: str) -> None:
        self.messages = messages
        self.sender_code = sender_code
        self.queue = queue

    @property
    def source_display(self) -> str | None:
        return self.queue

    def open(self) -> RowStream:
        return RowStream(self._rows(), form="queue", total=len(self.messages), uri=self.queue)

    def _rows(self) -> Iterator[Row]:
        for number, message in enumerate(self.messages, start=1):
            yield message_row(number, message, self.sender_code)
