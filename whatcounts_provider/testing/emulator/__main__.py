"""The command line: ``python -m whatcounts_provider.testing.emulator --port 8080 --subscribe S:PHONES``."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from whatcounts_provider.testing.emulator.api import DEMO_CREDENTIALS, naive_whatcounts_phone
from whatcounts_provider.testing.emulator.faults import Faults
from whatcounts_provider.testing.emulator.server import WhatCountsEmulator

if TYPE_CHECKING:
    from collections.abc import Sequence

_FAULT_FLAGS = ("seed", "p_503", "p_429", "p_drop", "p_drop_after_act", "latency", "latency_jitter")


def _subscription(value: str) -> tuple[str, list[str]]:
    sender, _, phones = value.partition(":")
    items = [phone.strip() for phone in phones.split(",") if phone.strip()]
    if not sender or not items or any(naive_whatcounts_phone(phone) is None for phone in items):
        raise argparse.ArgumentTypeError(f"expected SENDER:PHONE[,PHONE...], digits only; got {value!r}")
    return sender, items


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Serve the WhatCounts emulator on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port (see --ready-file)")
    parser.add_argument("--realm", default=DEMO_CREDENTIALS[0])
    parser.add_argument("--password", default=DEMO_CREDENTIALS[1])
    parser.add_argument("--api-key", metavar="NAME:AUTH", help="also require this API Client's x-api-key")
    parser.add_argument("--subscribe", type=_subscription, action="append", default=[], metavar="S:PHONES")
    parser.add_argument("--seed", type=int)
    for name in _FAULT_FLAGS[1:]:
        parser.add_argument(f"--{name.replace('_', '-')}", type=float, default=0.0)
    parser.add_argument("--no-record-requests", action="store_true", help="keep no request log")
    parser.add_argument("--ready-file", type=Path, help="write the URL here once listening")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until SIGINT or SIGTERM."""
    args = _parse_args(argv)
    emulator = WhatCountsEmulator(
        args.realm,
        args.password,
        port=args.port,
        faults=Faults(**{name: getattr(args, name) for name in _FAULT_FLAGS}),
        record_requests=not args.no_record_requests,
        api_key=args.api_key,
    )
    for sender, phones in args.subscribe:
        emulator.subscribe(sender, phones)
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    with emulator:
        print(f"WhatCounts emulator listening on {emulator.url}", flush=True)
        if args.ready_file is not None:  # written whole at once: a reader never sees half a URL
            partial = args.ready_file.with_name(f"{args.ready_file.name}.partial")
            partial.write_text(f"{emulator.url}\n")
            partial.replace(args.ready_file)
        stopping.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
