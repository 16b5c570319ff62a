"""Read receipts back: one task instance's folder, or a whole run's or DAG's."""

from __future__ import annotations

import json
import logging
import zlib
from typing import TYPE_CHECKING, Any

from whatcounts_provider.storage import Location
from whatcounts_provider.types import HONOURED_STATUSES

if TYPE_CHECKING:
    from collections.abc import Collection, Iterator

log = logging.getLogger(__name__)

_PART_SUFFIXES = (".jsonl", ".jsonl.gz")


def is_part_name(name: str) -> bool:
    """Whether ``name`` is a receipts part (``part-*.jsonl`` or ``part-*.jsonl.gz``)."""
    return name.startswith("part-") and name.endswith(_PART_SUFFIXES)


def iter_receipts(
    path: Any, *, tries: Collection[str] | None = None, skipped: list[str] | None = None
) -> Iterator[dict[str, Any]]:
    """Yield every receipt below ``path``, part by part, in name order.

    :param path: a task instance's receipts folder (the record's ``receipts``), or any folder
        above it (a run, a DAG, the whole ``receipts_path``): local path, ``file://`` or fsspec
        URI, or ``ObjectStoragePath``.

    Only ``part-*.jsonl`` / ``part-*.jsonl.gz`` files are read; summaries, temporary files and
    anything else are skipped. A torn last line (no newline, not JSON: a copy or a disk that
    stopped mid-write) is skipped with a warning naming the file; a bad line elsewhere raises
    ``ValueError`` naming the file and line.

    :param tries: read only the parts of these try folders (names directly in a task instance's
        folder, e.g. ``lineage_of(...).trusted``); ``None`` reads every part.
    :param skipped: if given, a bad line is skipped and described here (the file and line)
        instead of raising, and so is compressed data that ends early: the reports read on past
        one damaged part and say what they could not read.
    """
    folder = Location.of(path, what="receipts path")
    for rel, name in folder.files():
        if not is_part_name(name) or (tries is not None and (len(rel) != 1 or rel[0] not in tries)):
            continue
        data = folder.read_bytes(rel, name)
        where = "/".join((folder.uri.rstrip("/"), *rel, name))
        yield from parse_part(data, name.endswith(".gz"), where, skipped)


def parse_part(
    data: bytes, compressed: bool, where: str, skipped: list[str] | None = None
) -> Iterator[dict[str, Any]]:
    """The receipts of one part's content (see :func:`iter_receipts` for torn and bad lines,
    and ``skipped``)."""
    if compressed:
        data, complete = _gunzip(data)
        if not complete:
            log.warning("Receipts part %s is truncated; reading its whole lines only", where)
            if skipped is not None:
                skipped.append(f"{where}: the compressed data ends early or is damaged")
    lines = data.split(b"\n")
    last = len(lines) - 1
    for number, raw in enumerate(lines):
        if not raw.strip():
            continue
        try:
            receipt = json.loads(raw)
        except ValueError:
            if number == last:  # no newline after it: a torn write, not a bad receipt
                log.warning("Skipping the torn last line %d of receipts part %s", number + 1, where)
                return
            problem = f"receipts part {where}: line {number + 1} is not JSON"
        else:
            if isinstance(receipt, dict):
                yield receipt
                continue
            problem = f"receipts part {where}: line {number + 1} is not a JSON object"
        if skipped is None:
            raise ValueError(problem)
        skipped.append(problem)


def _gunzip(data: bytes) -> tuple[bytes, bool]:
    decompressor = zlib.decompressobj(wbits=31)
    try:
        out = decompressor.decompress(data)
    except zlib.error:
        return b"", False
    return out, decompressor.eof


def completed_pairs(folder: Any, tries: Collection[str] | None = None) -> set[tuple[str, str]]:
    """The ``(phone, sender_code)`` pairs with a final (``stopped`` or ``not_subscribed``)
    receipt in a task instance's folder: the ``already_done`` set a new try passes to the hook so
    that it does not send them again.

    :param folder: the task instance's receipts folder (``task_instance_folder(...)``).
    :param tries: only the receipts of these try folders count (the new try's lineage); ``None``:
        every try's.
    """
    pairs: set[tuple[str, str]] = set()
    for receipt in iter_receipts(folder, tries=tries):
        phone, sender_code = receipt.get("phone"), receipt.get("sender_code")
        if receipt.get("status") in HONOURED_STATUSES and phone and sender_code:
            pairs.add((str(phone), str(sender_code)))
    return pairs


def final_statuses(folder: Any, tries: Collection[str] | None = None) -> dict[tuple[str, str], str]:
    """Like :func:`completed_pairs`, with each pair's final status (``stopped`` or
    ``not_subscribed``): what earlier tries honoured, for the record of the run across its tries."""
    statuses: dict[tuple[str, str], str] = {}
    for receipt in iter_receipts(folder, tries=tries):
        phone, sender_code, status = receipt.get("phone"), receipt.get("sender_code"), receipt.get("status")
        if status in HONOURED_STATUSES and phone and sender_code:
            statuses.setdefault((str(phone), str(sender_code)), str(status))
    return statuses


def final_receipt(
    folder: Any, phone: str, sender_code: str, tries: Collection[str] | None = None
) -> dict[str, Any] | None:
    """The first final (``stopped`` or ``not_subscribed``) receipt of one pair, or None."""
    for receipt in iter_receipts(folder, tries=tries):
        same = (receipt.get("phone"), receipt.get("sender_code")) == (phone, sender_code)
        if same and receipt.get("status") in HONOURED_STATUSES:
            return receipt
    return None
