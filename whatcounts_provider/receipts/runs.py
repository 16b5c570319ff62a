"""Which earlier tries a new try may resume from: only those of its own DAG run.

Receipts are filed by ``dag_id / run_id / task_id / map_index``, but a run id does not name one
DAG run for ever: deterministic ids (``scheduled__<date>``) repeat after a metadata-database
reset, a deleted run may be triggered again under its old id, and two environments may share one
receipts bucket. A new DAG run must never skip a pair because *another* run honoured it.

So every try writes, before it sends anything, a marker (``try.json``) into its try folder with
what it knows of its DAG run (:class:`RunStamp`) and a *lineage*: a token shared by the tries of
one DAG run. A new try inherits the lineage of its predecessor, the latest-started earlier try
that is provably of the same DAG run, or starts a new one; it resumes only from tries of its
lineage. The rules, from what Airflow keeps and changes:

- A DAG run's first try of a task instance is try 1: try 1 never inherits.
- A retry keeps the DAG run's start date and clear number: it inherits from a try with the same
  ones (and the same run date, logical date, DAG version and, on 2.11, DAG run row).
- A clear raises the clear number and may reset the start date: it inherits from a try with a
  lower clear number and the same run date, logical date, DAG version and DAG run row.

What no try can tell on Airflow 3 (where a task sees no DAG run row id) is a new run that reuses an
old run's id, dates and DAG version, whose try 1 died before writing its marker and that was then
*cleared*: its next try may inherit the old run's lineage. Every other way a run id repeats
starts a new lineage, and a new lineage costs at most a request per pair (STOP is idempotent).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator

    from whatcounts_provider.storage import Location

MARKER_NAME = "try.json"


@dataclass(frozen=True)
class RunStamp:
    """What a try can see of its DAG run, as text (``None`` where the running Airflow has none).

    :param run_after: when the run was due (3.x); never changes for a DAG run.
    :param logical_date: the run's logical date; never changes.
    :param dag_run_row: the DAG run's database id (2.11 only; 3.x does not show it to tasks).
    :param dag_version: the task instance's DAG version (3.x); kept by retries.
    :param started: the DAG run's start date; kept by retries, reset when a finished run is cleared.
    :param clear_number: how often the DAG run was cleared.
    """

    run_after: str | None = None
    logical_date: str | None = None
    dag_run_row: str | None = None
    dag_version: str | None = None
    started: str | None = None
    clear_number: int = 0

    @classmethod
    def of(cls, dag_run: Any, ti: Any = None) -> RunStamp:
        """Read the stamp from ``context["dag_run"]`` and ``context["ti"]`` (2.11 or 3.x)."""

        def text(owner: Any, name: str) -> str | None:
            value = getattr(owner, name, None)
            if value is None:
                return None
            return value.isoformat() if hasattr(value, "isoformat") else str(value)

        clear_number = getattr(dag_run, "clear_number", 0)
        return cls(
            run_after=text(dag_run, "run_after"),
            logical_date=text(dag_run, "logical_date"),
            dag_run_row=text(dag_run, "id"),
            dag_version=text(ti, "dag_version_id"),
            started=text(dag_run, "start_date"),
            clear_number=clear_number if isinstance(clear_number, int) else 0,
        )

    @classmethod
    def from_json(cls, body: Any) -> RunStamp:
        """The stamp a marker holds; ``TypeError`` if any field is not of its type (a marker
        edited or written by something else must be skipped, not compared)."""
        stamp = cls(**body)
        texts = (stamp.run_after, stamp.logical_date, stamp.dag_run_row, stamp.dag_version, stamp.started)
        if not all(value is None or isinstance(value, str) for value in texts) or not (
            isinstance(stamp.clear_number, int) and not isinstance(stamp.clear_number, bool)
        ):
            raise TypeError("a run stamp holds text and a whole clear number")
        return stamp

    def same_run_as(self, earlier: RunStamp) -> bool:
        """Whether a try with stamp ``earlier`` is provably of this try's DAG run (see the module)."""
        fixed = ("run_after", "logical_date", "dag_run_row", "dag_version")
        if any(getattr(self, name) != getattr(earlier, name) for name in fixed):
            return False
        retried = earlier.clear_number == self.clear_number and earlier.started == self.started
        return retried or earlier.clear_number < self.clear_number


@dataclass(frozen=True)
class TryMarker:
    """The marker an earlier try left in its try folder."""

    folder: str
    try_number: int
    started_at: str
    lineage: str
    run: RunStamp


@dataclass(frozen=True)
class Lineage:
    """The lineage of a new try, the earlier try folders it may resume from, and the one it
    follows in the chain of tries (``previous``): the latest-started try of the task instance,
    of any lineage, so that no try can be taken out of the chain's middle unnoticed. Resume
    trusts only ``trusted``."""

    token: str
    trusted: frozenset[str]
    previous: str | None = None


def marker_bytes(try_number: int, run: RunStamp, started_at: str, lineage: str) -> bytes:
    """The content of a try's ``try.json``."""
    body = {"try_number": try_number, "started_at": started_at, "lineage": lineage, "run": asdict(run)}
    return json.dumps(body, indent=1).encode("utf-8")


def lineage_of(folder: Location, try_number: int, run: RunStamp) -> Lineage:
    """The lineage of try ``try_number`` of a task instance whose folder is ``folder``.

    :param folder: the task instance's receipts folder.
    :param run: what the new try sees of its DAG run.
    """
    markers = list(read_markers(folder))
    # The chain of tries is one line through every try of the task instance, in the order they
    # started, whatever their lineage: a try taken out of its middle then always shows.
    latest = max(markers, key=lambda marker: marker.started_at).folder if markers else None
    candidates = [m for m in markers if m.try_number < try_number and run.same_run_as(m.run)]
    if try_number <= 1 or not candidates:
        return Lineage(_new_token(), frozenset(), latest)
    token = max(candidates, key=lambda marker: marker.started_at).lineage
    same = frozenset(marker.folder for marker in markers if marker.lineage == token)
    return Lineage(token, same, latest)


def read_markers(folder: Location) -> Iterator[TryMarker]:
    """The markers of the try folders directly in a task instance's ``folder``; unreadable ones
    (a try of an older provider version, a marker cut short) are skipped: never trusted."""
    for rel, name in folder.files():
        if len(rel) != 1 or name != MARKER_NAME:
            continue
        try:
            body = json.loads(folder.read_bytes(rel, name))
            yield TryMarker(
                folder=rel[0],
                try_number=int(body["try_number"]),
                started_at=str(body["started_at"]),
                lineage=str(body["lineage"]),
                run=RunStamp.from_json(body["run"]),
            )
        except (ValueError, KeyError, TypeError):
            continue


def _new_token() -> str:
    return secrets.token_hex(8)
