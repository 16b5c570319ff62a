"""Writes receipt parts in a loop until killed; run by test_crash.py as a subprocess.

usage: crash_writer.py LOCATION BATCH [--hold-before-part N] [--die-inside-local-write N]

Prints ``wrote <parts>`` after each part and ``before <n>`` before writing part n. With
``--hold-before-part N`` it waits for a line on stdin before writing part N (the test arms its
proxy, then lets it go); with ``--die-inside-local-write N`` it SIGKILLs itself after writing
half of part N's bytes to the temporary file.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from typing import TYPE_CHECKING, Any

from whatcounts_provider.receipts import ReceiptWriter, TaskIdentity, task_instance_folder

if TYPE_CHECKING:
    from whatcounts_provider.storage import Location

MAX_SECONDS = 120  # a bound of its own: the loop ends even if the test never kills it


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class _HalfThenDie:
    def __init__(self, handle: Any) -> None:
        self._handle = handle

    def __enter__(self) -> _HalfThenDie:
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.close()

    def write(self, data: bytes) -> int:
        self._handle.write(data[: len(data) // 2])
        self._handle.flush()
        os.fsync(self._handle.fileno())
        os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError("unreachable")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("location")
    parser.add_argument("batch", type=int)
    parser.add_argument("--hold-before-part", type=int, default=0)
    parser.add_argument("--die-inside-local-write", type=int, default=0)
    parser.add_argument("--gz", action="store_true")
    args = parser.parse_args()
    identity = TaskIdentity("crash_dag", "manual__2026-11-25T16:00:00+00:00", "stop", -1, 1)
    folder: Location = task_instance_folder(args.location, identity)
    writer = ReceiptWriter(folder, identity, max_receipts=args.batch, background=False, compress=args.gz)
    padding = "x" * 500  # large parts: the kill is likelier to land inside a write
    real_fdopen = os.fdopen
    deadline = time.monotonic() + MAX_SECONDS
    row = 0
    while time.monotonic() < deadline:
        part = len(writer.parts) + 1
        if row % args.batch == args.batch - 1:  # the next add flushes part `part`
            say(f"before {part}")
            if part == args.hold_before_part:
                sys.stdin.readline()
            if part == args.die_inside_local_write:
                os.fdopen = lambda fd, *a, **k: _HalfThenDie(real_fdopen(fd, *a, **k))  # type: ignore[assignment]
        row += 1
        writer.add(
            {
                "row": row,
                "input": {"phone": f"1206{2_000_000 + row}", "note": padding},
                "phone": f"1206{2_000_000 + row}",
                "sender_code": "2065551212",
                "status": "stopped",
                "attempts": 1,
            }
        )
        if len(writer.parts) >= part and row % args.batch == 0:
            say(f"wrote {len(writer.parts)}")


if __name__ == "__main__":
    main()
