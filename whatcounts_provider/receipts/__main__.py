"""``python -m whatcounts_provider.receipts``: see :mod:`whatcounts_provider.receipts.cli`."""

from __future__ import annotations

import os
import sys

from whatcounts_provider.receipts.cli import main


def run() -> int:
    """Run the command with the results on stdout and everything else on stderr.

    Airflow's logging writes to the process's stdout (a connection looked up for ``s3://``
    logs a line); programs read ``find``'s JSON lines and ``--format json`` from stdout. So the
    results get their own copy of stdout, and file descriptor 1 becomes stderr for the rest.
    """
    sys.stdout.flush()
    results = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    with results:
        return main(out=results)


if __name__ == "__main__":
    sys.exit(run())
