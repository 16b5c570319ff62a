"""``python -m whatcounts_provider.receipts``: see :mod:`whatcounts_provider.receipts.cli`."""

from __future__ import annotations

import sys

from whatcounts_provider.receipts.cli import main

if __name__ == "__main__":
    sys.exit(main())
