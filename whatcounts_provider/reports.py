"""One report for a scaled-out bulk run: the records of its mapped chunks, merged and checked.

A mapped task's output holds only the records that exist. On Airflow 3 a chunk that died before
it pushed (worker killed, out of memory, marked failed) is simply absent from it; on 2.11 it is
``None``. So the only way to know a run is complete is to compare what reported with what was
mapped, which :func:`merge_stop_reports` does.

Typical use, in the task downstream of the mapped chunks::

    @task(trigger_rule="all_done", show_return_value_in_logs=False, multiple_outputs=False)
    def merge(records, chunks):
        return merge_stop_reports(records, expected=chunks)

    chunks = list_chunks()  # e.g. the chunk files' URIs
    stopped = BulkStopSmsSubscriberOperator.partial(task_id="stop", ...).expand(source=chunks)
    merge(stopped.output, chunks)
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, Protocol

from whatcounts_provider.exceptions import WhatCountsIncompleteRunError, WhatCountsInputError
from whatcounts_provider.phone import mask_phone
from whatcounts_provider.storage import comparable, safe_uri

log = logging.getLogger(__name__)

# Every record of a bulk task has these; the rest (by_sender_code, already_done, ...) may be absent.
_REQUIRED = ("total", "stopped", "not_subscribed", "invalid", "failed")
_COUNTS = (
    "total",
    "stopped",
    "stopped_this_try",
    "not_subscribed_after_cut_short",
    "duplicates",
    "already_done",
    "late",
    "not_opt_out",
    "ambiguous",
    "retries",
)
_LISTS = ("not_subscribed", "invalid", "failed", "needs_review")
_SHOWN = 10


class XComPusher(Protocol):
    """Anything with a task instance's ``xcom_push`` (``context["ti"]``)."""

    def xcom_push(self, key: str, value: Any) -> Any: ...


def merge_stop_reports(
    reports: Iterable[Any],
    *,
    expected: int | Iterable[Any],
    push_to: XComPusher | Literal["current"] | None = "current",
) -> dict[str, Any]:
    """Merge the records of a mapped bulk stop task; raise if anything is missing or needs attention.

    Each record is a bulk operator's XCom record (see docs/inputs.md), plus ``source`` (the chunk's
    source URI, or ``None``) and ``error`` (``None``, or why the chunk aborted before it finished).

    :param reports: the mapped task's output (``stop.output``): the records that exist, in any
        order; ``None`` where a chunk did not push (Airflow 2.11).
    :param expected: what was mapped: the list of chunk inputs (source URIs or
        ``ObjectStoragePath``\\ s, or mappings with a ``source`` key), or the number of chunks.
        With the list, chunks whose records carry ``source`` are named when they did not report.
    :param push_to: where the merged report goes as ``return_value`` *before* raising, so it is in
        XCom even though the task fails: ``"current"`` (default) is the running task's ``ti``
        (none when not called inside a task), or pass ``context["ti"]``, or ``None`` to not push.
    :return: ``{"total", "stopped", "stopped_this_try", "not_subscribed",
        "not_subscribed_after_cut_short", "invalid", "failed", "duplicates",
        "by_sender_code", "already_done", "late", "not_opt_out", "ambiguous", "needs_review",
        "retries", "sender_code", "receipts",
        "chunks_expected", "chunks_reported", "chunks_missing", "missing_chunks", "errors"}``:
        counts summed, lists concatenated (dict items gain their chunk's ``source``),
        ``missing_chunks`` the names (source, or ``map_index N``) of the chunks that did not
        report when they can be told, ``errors`` ``[{"chunk", "error"}]`` of chunks that aborted.
        It holds full phones: return it from a task with ``show_return_value_in_logs=False``.
    :raises WhatCountsIncompleteRunError: fewer (or more) chunks reported than were mapped, a
        chunk aborted, or some phone failed, is invalid or awaits review; ``summary`` is the
        merged report.
    :raises WhatCountsInputError: ``expected`` is neither a count nor a list.
    """
    count, keys = _expected(expected)
    report = _empty(count)
    reported_sources: list[str | None] = []
    map_indexes: list[int] = []
    absent_positions: list[int] = []
    codes: set[Any] = set()
    records = _read_all(reports)
    for position, record in enumerate(records):
        if record is None:
            absent_positions.append(position)
            continue
        name = _name(record, position)
        unusable = _unusable(record)
        if unusable:
            report["errors"].append({"chunk": name, "error": unusable})
            continue
        report["chunks_reported"] += 1
        source = record.get("source")
        reported_sources.append(comparable(source) if source is not None else None)
        if isinstance(record.get("map_index"), int):
            map_indexes.append(record["map_index"])
        _add(report, record, source)
        codes.add(record.get("sender_code"))
        if record.get("error"):
            report["errors"].append({"chunk": name, "error": str(record["error"])})
    report["sender_code"] = codes.pop() if len(codes) == 1 else None
    report["chunks_missing"] = max(0, count - report["chunks_reported"])
    unexpected = _find_missing(report, keys, reported_sources, absent_positions, map_indexes, len(records))
    problems = _problems(report, unexpected)
    _log(report, problems)
    if problems:
        _push(push_to, report)
        raise WhatCountsIncompleteRunError(
            "; ".join(problems) + ". The merged report is the task's XCom return_value.", summary=report
        )
    return report


def _expected(expected: Any) -> tuple[int, list[str | None] | None]:
    if isinstance(expected, int) and not isinstance(expected, bool):
        if expected < 0:
            raise WhatCountsInputError(f"expected must be a number of chunks >= 0, got {expected}")
        return expected, None
    if isinstance(expected, (str, bytes, Mapping)) or not isinstance(expected, Iterable):
        raise WhatCountsInputError(
            "expected must be what was mapped (the list of chunk inputs) or the number of chunks, "
            f"got {type(expected).__name__}"
        )
    keys = [_chunkcomparable(item) for item in expected]
    return len(keys), keys


def _chunkcomparable(item: Any) -> str | None:
    """The comparable location of one mapped chunk input, or None when it has none."""
    if isinstance(item, Mapping):
        item = item.get("source")
    if item is None or isinstance(item, (bool, int, float, list, tuple, set, Mapping)):
        return None
    return comparable(item)


def _unusable(record: Any) -> str | None:
    """Why ``record`` is not a bulk record (the chunk then counts as not reported), or None."""
    if not isinstance(record, Mapping):
        return f"pushed a {type(record).__name__}, not a bulk record"
    lacking = [key for key in _REQUIRED if key not in record]
    return f"pushed a record without {', '.join(lacking)}" if lacking else None


def _name(record: Any, position: int) -> str:
    if isinstance(record, Mapping):
        if record.get("source") is not None:
            return safe_uri(str(record["source"]))
        if isinstance(record.get("map_index"), int):
            return f"map_index {record['map_index']}"
    return f"the record at position {position} of the mapped output"


def _empty(count: int) -> dict[str, Any]:
    return {
        "total": 0,
        "stopped": 0,
        "stopped_this_try": 0,
        "not_subscribed": [],
        "not_subscribed_after_cut_short": 0,
        "invalid": [],
        "failed": [],
        "duplicates": 0,
        "by_sender_code": {},
        "already_done": 0,
        "late": 0,
        "not_opt_out": 0,
        "ambiguous": 0,
        "needs_review": [],
        "retries": 0,
        "sender_code": None,
        "receipts": [],
        "chunks_expected": count,
        "chunks_reported": 0,
        "chunks_missing": 0,
        "missing_chunks": [],
        "errors": [],
    }


def _add(report: dict[str, Any], record: Mapping[str, Any], source: Any) -> None:
    for key in _COUNTS:
        value = record.get(key)
        if key == "stopped_this_try" and value is None:
            value = record.get("stopped")  # a record of an older version: its stopped was its try's
        if isinstance(value, int) and not isinstance(value, bool):
            report[key] += value
    for key in _LISTS:
        items = record.get(key) or []
        if source is not None:
            items = [
                {**item, "source": source} if isinstance(item, Mapping) and "source" not in item else item
                for item in items
            ]
        report[key].extend(items)
    for code, counts in (record.get("by_sender_code") or {}).items():
        merged = report["by_sender_code"].setdefault(code, {})
        for status, value in counts.items():
            merged[status] = merged.get(status, 0) + value
    if record.get("receipts"):
        report["receipts"].append(record["receipts"])


def _find_missing(
    report: dict[str, Any],
    keys: list[str | None] | None,
    sources: list[str | None],
    absent_positions: list[int],
    map_indexes: list[int],
    slots: int,
) -> list[str]:
    """Name the chunks that did not report; return reported sources that were never mapped."""
    missing: list[str] = report["missing_chunks"]
    named = [key for key in keys or [] if key is not None]
    reported = [source for source in sources if source is not None]
    if keys is not None and len(named) == len(keys) and len(reported) == len(sources):
        wanted, got = Counter(named), Counter(reported)
        left = wanted - got
        for key in named:  # in mapping order
            if left[key]:
                left[key] -= 1
                missing.append(key)
        return sorted((got - wanted).elements())
    if absent_positions and slots == report["chunks_expected"]:
        # Airflow 2.11: the output keeps one slot per map index, None where nothing was pushed.
        for position in absent_positions:
            slot = keys[position] if keys is not None else None
            missing.append(slot if slot is not None else f"map_index {position}")
    elif len(map_indexes) == len(sources) and report["chunks_missing"]:
        seen = set(map_indexes)
        missing.extend(
            f"map_index {index}" for index in range(report["chunks_expected"]) if index not in seen
        )
    return []


def _problems(report: dict[str, Any], unexpected: list[str]) -> list[str]:
    problems = []
    expected, reported = report["chunks_expected"], report["chunks_reported"]
    if reported < expected:
        named = report["missing_chunks"]
        which = f": {_listed(named)}" if named else " (unnamed: their records carry no source or map_index)"
        problems.append(f"{expected - reported} of {expected} chunks did not report{which}")
    elif reported > expected:
        problems.append(
            f"{reported} chunks reported but {expected} were expected: "
            "pass expected= the list (or the number of chunks) that was mapped"
        )
    if unexpected:
        problems.append(f"chunks reported sources that were not mapped: {_listed(unexpected)}")
    if report["errors"]:
        problems.append(
            f"{len(report['errors'])} chunk(s) aborted: "
            + _listed([f"{item['chunk']}: {item['error']}" for item in report["errors"]])
        )
    if report["failed"]:
        problems.append(f"{len(report['failed'])} phone(s) failed")
    if report["invalid"]:
        problems.append(f"{len(report['invalid'])} input(s) were invalid")
    if report["needs_review"]:
        problems.append(f"{len(report['needs_review'])} ambiguous reply(ies) await review")
    return problems


def _listed(items: list[str]) -> str:
    shown = ", ".join(items[:_SHOWN])
    return shown + (f" and {len(items) - _SHOWN} more" if len(items) > _SHOWN else "")


def _log(report: dict[str, Any], problems: list[str]) -> None:
    log.info(
        "%d of %d chunks reported: %d inputs, %d stopped, %d not subscribed, %d invalid, %d failed, "
        "%d duplicates, %d already done, %d late",
        report["chunks_reported"],
        report["chunks_expected"],
        report["total"],
        report["stopped"],
        len(report["not_subscribed"]),
        len(report["invalid"]),
        len(report["failed"]),
        report["duplicates"],
        report["already_done"],
        report["late"],
    )
    for item in report["failed"][:_SHOWN]:
        phone = item.get("phone") if isinstance(item, Mapping) else item
        log.warning(
            "failed %s: %s", mask_phone(phone), item.get("error") if isinstance(item, Mapping) else ""
        )
    for problem in problems:
        log.error("%s", problem)


def _push(push_to: XComPusher | Literal["current"] | None, report: dict[str, Any]) -> None:
    target: Any = push_to
    if push_to == "current":
        target = _current_ti()
    if target is not None:
        target.xcom_push(key="return_value", value=report)


def _current_ti() -> Any:
    """The running task's ``ti``, or None outside a task."""
    from whatcounts_provider._compat import AirflowException, get_current_context

    try:
        return get_current_context()["ti"]
    except (RuntimeError, AirflowException):  # 3.x / 2.11: not inside a running task
        return None


def _read_all(reports: Iterable[Any]) -> list[Any]:
    """Every record, read once.

    A mapped task's output is a lazy XCom sequence: iterating it fetches one record per request
    and probes one past the end, which Airflow 3 logs as an error ("XCom not found") in every
    green run. A full slice is one request on Airflow 2.11 and 3.x, and probes nothing.
    """
    if isinstance(reports, Sequence) and not isinstance(reports, (str, bytes)):
        return list(reports[:])
    return list(reports)
