"""Check that receipts are as their tries wrote them: ``verify``.

Each finished try's ``summary.json`` (layout 2) records the SHA-256 of each of its parts and of its
phone index, and a link to the try started before it with that try's summary digest (see
:mod:`whatcounts_provider.receipts.chain`). From these, verify finds:

- ``modified``: a part or index whose bytes no longer match the digest recorded for it;
- ``missing``: a recorded part or index that is gone;
- ``added``: a part in a try folder that its summary (or the link that covers a killed try) does
  not list, or a part outside any try folder;
- ``broken_chain``: a summary whose previous try is gone, or whose previous summary changed.

It also notes, without failing, what it cannot check: a try with no summary that no later try
covers (still running, or the last try was killed) and summaries of layout 1 (no digests).
What no digest can show is the deletion of a task instance's *last* try, or of everything: that
is what write-once storage (S3 Object Lock) is for; docs/receipts.md says how to set it up.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from itertools import groupby
from typing import TYPE_CHECKING, Any

from whatcounts_provider.receipts.index import INDEX_NAME
from whatcounts_provider.receipts.reader import is_part_name
from whatcounts_provider.receipts.writer import SUMMARY_NAME
from whatcounts_provider.storage import Location

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

FAILING = ("modified", "missing", "added", "broken_chain")
#: What verify notes without failing: a try it cannot check (see the module), one note per try.
NOTES = ("unfinished", "legacy")


def is_note(kind: object) -> bool:
    """Whether a finding of this kind is a note; any other kind, one added later included, fails."""
    return kind in NOTES


@dataclass(frozen=True)
class Finding:
    """One thing verify found: ``kind`` (see the module), the file or folder, and why."""

    kind: str
    where: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "where": self.where, "detail": self.detail}


@dataclass
class Verification:
    """What verify checked and found; ``problems`` fail it, ``notes`` do not."""

    tries: int = 0
    parts: int = 0
    problems: list[Finding] = field(default_factory=list)
    notes: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, finding: Finding) -> None:
        (self.notes if is_note(finding.kind) else self.problems).append(finding)

    def as_integrity(self) -> dict[str, Any]:
        """The evidence page's ``integrity`` section."""
        return {
            "status": "intact" if self.ok else "problems",
            "checked_tries": self.tries,
            "problems": [finding.as_dict() for finding in self.problems + self.notes],
        }


@dataclass
class _Try:
    name: str
    files: set[str]
    summary: dict[str, Any] | None = None
    summary_sha256: str | None = None


def verify_receipts(root: Any) -> Verification:
    """Check every try folder below ``root`` (a path, URI or ``ObjectStoragePath``; any folder
    from ``receipts_path`` down to one task instance's), reading each part once."""
    location = Location.of(root, what="receipts root")
    result = Verification()
    for _, tries in groupby(_try_folders(location, result), key=lambda item: item[0][:-1]):
        _verify_task_instance(location, list(tries), result)
    return result


def _try_folders(location: Location, result: Verification) -> Iterator[tuple[tuple[str, ...], set[str]]]:
    """Each try folder (``try=…``) as (its names below the root, its file names), streamed; parts
    in any other folder are found ``added``: every try writes into its own try folder."""
    root_is_a_try = location.name.startswith("try=")
    for rel, entries in groupby(location.files(), key=lambda item: item[0]):
        names = {name for _, name in entries}
        if (rel and rel[-1].startswith("try=")) or (not rel and root_is_a_try):
            yield rel, names
            continue
        for name in sorted(filter(is_part_name, names)):
            result.parts += 1
            result.add(Finding("added", _where(location, rel, name), "a part outside any try folder"))


def _verify_task_instance(
    location: Location, folders: list[tuple[tuple[str, ...], set[str]]], result: Verification
) -> None:
    tries: dict[str, _Try] = {}
    for rel, names in folders:
        attempt = _Try(rel[-1] if rel else location.name, names)
        if SUMMARY_NAME in names:
            data = location.read_bytes(rel, SUMMARY_NAME)
            attempt.summary_sha256 = hashlib.sha256(data).hexdigest()
            try:
                body = json.loads(data)
                attempt.summary = body if isinstance(body, dict) else None
            except ValueError:
                attempt.summary = None
            if attempt.summary is None:
                result.add(Finding("modified", _where(location, rel, SUMMARY_NAME), "not a JSON summary"))
        tries[attempt.name] = attempt
    parent = folders[0][0][:-1]
    # Verifying one try's own folder, the try before it is out of sight: its link is not checked.
    covered = _links(location, parent, tries, result) if folders[0][0] else {}
    for rel, _ in folders:
        attempt = tries[rel[-1] if rel else location.name]
        result.tries += 1
        result.parts += sum(1 for name in attempt.files if is_part_name(name))
        if attempt.summary is not None and "part_sha256" in attempt.summary:
            recorded = dict(attempt.summary["part_sha256"])
            index = attempt.summary.get("index") or {}
            if index.get("sha256"):
                recorded[INDEX_NAME] = str(index["sha256"])
            _compare(location, rel, attempt.files, recorded, "its summary", result)
        elif attempt.name in covered:
            _compare(location, rel, attempt.files, covered[attempt.name], "the next try's link", result)
        elif attempt.summary is not None:
            result.add(Finding("legacy", _where(location, rel), "summary of layout 1: no digests to check"))
        elif SUMMARY_NAME not in attempt.files:
            result.add(
                Finding("unfinished", _where(location, rel), "no summary (still running, or killed last)")
            )


def _links(
    location: Location, parent: tuple[str, ...], tries: dict[str, _Try], result: Verification
) -> dict[str, dict[str, str]]:
    """Check each summary's link to the try before it; return the part digests that links record
    for killed tries (by try folder)."""
    covered: dict[str, dict[str, str]] = {}
    for attempt in tries.values():
        link = (attempt.summary or {}).get("previous")
        if not isinstance(link, dict) or "try" not in link:
            continue
        target, where = str(link["try"]), _where(location, (*parent, attempt.name), SUMMARY_NAME)
        before = tries.get(target)
        if before is None:
            result.add(Finding("broken_chain", where, f"names the try before it, {target}, which is gone"))
        elif link.get("summary_sha256") is None:
            covered[target] = {str(k): str(v) for k, v in (link.get("part_sha256") or {}).items()}
        elif before.summary_sha256 is None:
            result.add(Finding("broken_chain", where, f"the summary of {target} it names is gone"))
        elif before.summary_sha256 != link["summary_sha256"]:
            result.add(
                Finding("broken_chain", where, f"the summary of {target} changed after this try recorded it")
            )
    return covered


def _compare(
    location: Location,
    rel: tuple[str, ...],
    files: Iterable[str],
    recorded: dict[str, str],
    by: str,
    result: Verification,
) -> None:
    present = {name for name in files if is_part_name(name) or name == INDEX_NAME}
    for name in sorted(recorded):
        where = _where(location, rel, name)
        if name not in present:
            result.add(Finding("missing", where, f"listed by {by}, gone"))
        elif hashlib.sha256(location.read_bytes(rel, name)).hexdigest() != recorded[name]:
            result.add(Finding("modified", where, f"its SHA-256 is not the one {by} recorded"))
    for name in sorted(present - set(recorded)):
        if name != INDEX_NAME:  # an index the index command wrote for a killed try
            result.add(Finding("added", _where(location, rel, name), f"not listed by {by}"))


def _where(location: Location, rel: tuple[str, ...], name: str | None = None) -> str:
    return "/".join((location.uri.rstrip("/"), *rel, *([name] if name else [])))


__all__ = ["FAILING", "NOTES", "Finding", "Verification", "is_note", "verify_receipts"]
