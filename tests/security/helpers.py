"""Constants and helpers of the security suite: unique secrets, their derived forms, and where to look."""

from __future__ import annotations

import socket
import traceback
from typing import Any

from tests.helpers import MASKED, PHONE, basic_token, make_context

# Unique strings: wherever they show up, they came from this suite's connection.
S_REALM = "Zq9-unique-realm"
S_PASSWORD = "Zq9-unique-S3cret-pw"
WRONG_PASSWORD = "Wr0ng-unique-S3cret-pw"

PHONE_MASKED = MASKED  # PHONE is subscribed in most scenarios
UNSUBSCRIBED = "12065959697"
FAILING = "12065959698"  # the emulator answers 503 to it, always
OTHER = "12065959699"
ALL_PHONES = (PHONE, UNSUBSCRIBED, FAILING, OTHER)

VERIFY_OFF_WARNING = "TLS certificate verification is OFF"


def secret_forms(password: str, realm: str = S_REALM) -> tuple[str, ...]:
    """The password, ``realm:password`` and the Basic token derived from them."""
    return password, f"{realm}:{password}", basic_token(realm, password)


SECRETS = secret_forms(S_PASSWORD)
WRONG_SECRETS = secret_forms(WRONG_PASSWORD)


def phone_forms(phones: tuple[str, ...] | list[str]) -> list[str]:
    """Each 11-digit phone and its 10-digit national form."""
    return [form for phone in phones for form in (phone, phone[1:])]


def assert_absent(text: str, needles: tuple[str, ...] | list[str], what: str) -> None:
    found = [needle for needle in needles if needle in text]
    assert not found, f"{what} contains {found}:\n{text[-3000:]}"


def exception_text(exc: BaseException | None) -> str:
    """Everything an exception shows: str, repr and the formatted traceback (with its chain)."""
    if exc is None:
        return ""
    return "\n".join([str(exc), repr(exc), "".join(traceback.format_exception(exc))])


def closed_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(op: Any) -> tuple[Any, BaseException | None, dict[str, Any]]:
    """Execute like one task run; return (result, raised exception, the stub context)."""
    context = make_context()
    try:
        return op.execute(context), None, context
    except Exception as exc:
        return None, exc, context
