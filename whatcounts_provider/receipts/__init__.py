"""Opt-out receipts: per-input evidence as JSON Lines on local or object storage.

Layout under ``receipts_path`` (one folder per task instance; every try writes its own
``try=…`` folder of parts and one ``summary.json``)::

    dag_id=<d>/run_id=<r>/task_id=<t>/map_index=<m>/
        try=<NNN>-<start>-<token>/part-<NNN>-<time>-<token>-<seq>.jsonl[.gz]
        try=<NNN>-<start>-<token>/summary.json

Receipts hold full phone numbers by design: they are the evidence.
"""

from __future__ import annotations

from whatcounts_provider.receipts._location import (
    ReceiptsFolder,
    TaskIdentity,
    decode_component,
    encode_component,
    parse_task_instance_parts,
    task_instance_folder,
    task_instance_parts,
)
from whatcounts_provider.receipts._reader import completed_pairs, is_part_name, iter_receipts
from whatcounts_provider.receipts._writer import (
    FINAL_STATUSES,
    RECEIPT_KEYS,
    RECEIPT_STATUSES,
    SUMMARY_NAME,
    ReceiptsError,
    ReceiptWriter,
    outcome_fields,
    receipt_is_late,
)

__all__ = [
    "FINAL_STATUSES",
    "RECEIPT_KEYS",
    "RECEIPT_STATUSES",
    "SUMMARY_NAME",
    "ReceiptWriter",
    "ReceiptsError",
    "ReceiptsFolder",
    "TaskIdentity",
    "completed_pairs",
    "decode_component",
    "encode_component",
    "is_part_name",
    "iter_receipts",
    "outcome_fields",
    "parse_task_instance_parts",
    "receipt_is_late",
    "task_instance_folder",
    "task_instance_parts",
]
