"""The chain of a task instance's tries: each try's summary names the try started before it
and that try's summary digest, so that a changed or deleted summary, or a try taken out of the
middle, shows (``python -m whatcounts_provider.receipts verify``).

A try that was killed wrote no summary. The try after it then records, in its link, the SHA-256 of
each part the killed try left: its parts are covered from then on too.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Any

from whatcounts_provider.receipts.reader import is_part_name
from whatcounts_provider.receipts.writer import SUMMARY_NAME

if TYPE_CHECKING:
    from whatcounts_provider.storage import Location

_TRY_NUMBER = re.compile(r"try=(\d+)-")


def try_number_of(try_folder: str) -> int | None:
    """The try number a try folder's name holds (``try=002-…`` is 2), or None."""
    match = _TRY_NUMBER.match(try_folder)
    return int(match.group(1)) if match else None


def try_files(folder: Location) -> dict[str, list[str]]:
    """The files of each try folder directly in a task instance's ``folder``, by folder name."""
    found: dict[str, list[str]] = {}
    for rel, name in folder.files():
        if len(rel) == 1:
            found.setdefault(rel[0], []).append(name)
    return found


def sha256_of(folder: Location, rel: tuple[str, ...], name: str) -> str:
    """The SHA-256 (hex) of the file ``rel/name`` below ``folder``."""
    return hashlib.sha256(folder.read_bytes(rel, name)).hexdigest()


def link_to(folder: Location, previous: str | None, files: dict[str, list[str]]) -> dict[str, Any] | None:
    """The ``previous`` link a new try writes into its summary, or None for a task instance's first try.

    :param folder: the task instance's folder.
    :param previous: the try folder the new try follows (``Lineage.previous``).
    :param files: :func:`try_files` of ``folder``.
    """
    if previous is None:
        return None
    names = files.get(previous, [])
    if SUMMARY_NAME in names:
        return {"try": previous, "summary_sha256": sha256_of(folder, (previous,), SUMMARY_NAME)}
    parts = sorted(name for name in names if is_part_name(name))
    return {
        "try": previous,
        "summary_sha256": None,
        "part_sha256": {name: sha256_of(folder, (previous,), name) for name in parts},
    }


def cut_short(trusted: frozenset[str], files: dict[str, list[str]]) -> int | None:
    """The latest try number among the ``trusted`` earlier tries that ended without a summary."""
    numbers = [try_number_of(name) for name in trusted if SUMMARY_NAME not in files.get(name, [])]
    found = [number for number in numbers if number is not None]
    return max(found) if found else None
