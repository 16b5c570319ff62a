"""Opt-out receipts: per-input evidence as JSON Lines on local or object storage.

Layout under ``receipts_path`` (one folder per task instance; every try writes its own
``try=…`` folder with its marker, its parts and one ``summary.json``)::

    dag_id=<d>/run_id=<r>/task_id=<t>/map_index=<m>/
        try=<NNN>-<start>-<token>/try.json
        try=<NNN>-<start>-<token>/part-<NNN>-<time>-<token>-<seq>.jsonl[.gz]
        try=<NNN>-<start>-<token>/phones.idx
        try=<NNN>-<start>-<token>/summary.json

Receipts hold full phone numbers by design: they are the evidence.

Modules: ``layout`` (who writes, and where), ``runs`` (which earlier tries a try may resume from),
``schema`` (the receipt line), ``writer`` and ``reader``; ``index`` (the phone index each try
writes), ``find`` (``find_receipts``), ``chain`` and ``integrity`` (the chain of tries, ``verify``),
``evidence`` (the evidence page and the period report), ``watch`` (the deadline watch) and ``cli``
(``python -m whatcounts_provider.receipts``).
"""

from __future__ import annotations

from whatcounts_provider.receipts.find import find_receipts
from whatcounts_provider.receipts.layout import (
    LAYOUT_VERSION,
    TaskIdentity,
    decode_component,
    encode_component,
    legacy_task_instance_folder,
    parse_task_instance_parts,
    task_instance_folder,
    task_instance_parts,
)
from whatcounts_provider.receipts.reader import (
    completed_pairs,
    final_receipt,
    final_statuses,
    is_part_name,
    iter_receipts,
)
from whatcounts_provider.receipts.runs import MARKER_NAME, Lineage, RunStamp, lineage_of
from whatcounts_provider.receipts.schema import RECEIPT_KEYS, outcome_fields, receipt_is_late
from whatcounts_provider.receipts.writer import SUMMARY_NAME, ReceiptWriter

__all__ = [
    "LAYOUT_VERSION",
    "MARKER_NAME",
    "RECEIPT_KEYS",
    "SUMMARY_NAME",
    "Lineage",
    "ReceiptWriter",
    "RunStamp",
    "TaskIdentity",
    "completed_pairs",
    "decode_component",
    "encode_component",
    "final_receipt",
    "final_statuses",
    "find_receipts",
    "is_part_name",
    "iter_receipts",
    "legacy_task_instance_folder",
    "lineage_of",
    "outcome_fields",
    "parse_task_instance_parts",
    "receipt_is_late",
    "task_instance_folder",
    "task_instance_parts",
]
