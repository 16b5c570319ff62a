"""``python -m whatcounts_provider.receipts`` in process: find, index, verify and report, as a user
sees them (exit status, stdout, stderr, written files), on receipts the real writer wrote."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from io import StringIO
from pathlib import Path
from typing import Any

import pytest

from tests.receipts.support import SENDER, FakeUtcClock, stop_fields
from whatcounts_provider.receipts import (
    SUMMARY_NAME,
    ReceiptWriter,
    TaskIdentity,
    task_instance_folder,
)
from whatcounts_provider.receipts.chain import link_to, try_files
from whatcounts_provider.receipts.cli import main
from whatcounts_provider.receipts.index import INDEX_NAME
from whatcounts_provider.storage import Location

PHONE = "12065550100"
FORMATS = ("12065550100", "(206) 555-0100", "+1 206-555-0100", "206.555.0100")
OTHER_CODE = "55555"
NOISE = "12065550199"
DAG = "opt_out"
RUN_LATE = "manual__2026-11-25T16:00:00+00:00"  # its folder sorts after RUN_EARLY's ...
RUN_EARLY = "manual__2026-11-20T09:00:00+00:00"  # ... but its receipts were processed last
REQUESTED = "2026-11-24T12:00:00Z"


@dataclass
class Result:
    status: int
    out: str
    err: str

    @property
    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.out.splitlines()]


def run(*argv: str) -> Result:
    out, err = StringIO(), StringIO()
    status = main(list(argv), out=out, err=err)
    return Result(status, out.getvalue(), err.getvalue())


def identity(run_id: str, try_number: int, map_index: int = 0) -> TaskIdentity:
    return TaskIdentity(DAG, run_id, "stop", map_index, try_number)


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=timezone.utc)


def receipt(phone: str, row: int, **extra: Any) -> dict[str, Any]:
    return {**stop_fields(row), "input": phone, "phone": phone, **extra}


def write_try(
    root: str,
    who: TaskIdentity,
    fields: list[dict[str, Any]],
    start: datetime,
    *,
    finish: bool = True,
    chained: bool = True,
) -> ReceiptWriter:
    """One try of ``who``, two receipts a part, one second between receipts; linked to the task
    instance's latest earlier try (as resume does) when ``chained``. ``finish=False``: killed."""
    folder = task_instance_folder(root, who)
    files = try_files(folder)
    earlier = sorted(name for name in files if name < f"try={who.try_number:03d}")
    previous = link_to(folder, earlier[-1], files) if chained and earlier else None
    clock = FakeUtcClock(start)
    writer = ReceiptWriter(folder, who, clock=clock, background=False, max_receipts=2, previous=previous)
    writer.start()
    for item in fields:
        writer.add(item)
        clock.advance(1)
    if finish:
        writer.close({"total": len(fields)})
    else:
        writer.flush()  # its parts are on storage; the kill came before its summary
    return writer


@dataclass
class Receipts:
    """The receipts of three tries in two DAG runs (see :func:`build`)."""

    root: str
    tries: dict[str, ReceiptWriter] = field(default_factory=dict)

    @property
    def location(self) -> Location:
        return Location.of(self.root)

    def folder(self, key: str) -> Location:
        return self.tries[key].attempt_folder

    def part_with(self, key: str, phone: str | None) -> str:
        """A part of try ``key`` holding ``phone`` (None: a part without PHONE)."""
        folder = self.folder(key)
        for name in self.tries[key].parts:
            lines = folder.read_bytes((), name).decode().splitlines()
            phones = {json.loads(line)["phone"] for line in lines}
            if (phone in phones) if phone else (PHONE not in phones):
                return name
        raise AssertionError(f"no such part in {key}")


def build(root: str) -> Receipts:
    """PHONE has three receipts: run late, try 1 (failed on OTHER_CODE) and try 2 (stopped on
    OTHER_CODE, chained to try 1), and run early, map index 1 (stopped on SENDER, processed last)."""
    built = Receipts(root)
    noise = [receipt(f"1206555{1000 + n}", 10 + n) for n in range(3)]
    built.tries["late1"] = write_try(
        root,
        identity(RUN_LATE, 1),
        [
            noise[0],
            receipt(PHONE, 1, sender_code=OTHER_CODE, status="failed", error="HTTP 503", attempts=5),
            noise[1],
            noise[2],
        ],
        at(25, 16),
    )
    built.tries["late2"] = write_try(
        root,
        identity(RUN_LATE, 2),
        [
            noise[0],
            noise[1],
            receipt(
                PHONE,
                1,
                sender_code=OTHER_CODE,
                requested_at=REQUESTED,
                whatcounts={"id": 70101, "smsSubscriberId": 90101, "phone": PHONE},
            ),
        ],
        at(25, 17),
    )
    built.tries["early"] = write_try(
        root,
        identity(RUN_EARLY, 1, map_index=1),
        [
            receipt(NOISE, 1),
            receipt(
                PHONE,
                2,
                requested_at=REQUESTED,
                whatcounts={"id": 70202, "smsSubscriberId": 90202, "phone": PHONE},
            ),
            receipt(NOISE, 3, sender_code=OTHER_CODE),
        ],
        at(27, 10),
    )
    return built


@pytest.fixture
def receipts(location: str) -> Receipts:
    return build(location)


@pytest.fixture
def local(tmp_path: Path) -> Receipts:
    return build(str(tmp_path / "receipts"))


# -- storage helpers: the same on disk and on S3 ---------------------------------------------
def remove(folder: Location, name: str) -> None:
    target = folder.child(name)
    if target.is_local:
        Path(target.dataset_name).unlink()
    else:
        target.object_storage_path().unlink()


def rewrite(folder: Location, name: str, change: Any) -> None:
    folder.put(name, change(folder.read_bytes((), name)))


def every(root: str, name: str) -> list[tuple[tuple[str, ...], str]]:
    return [(rel, file) for rel, file in Location.of(root).files() if file == name]


def strip_layout_2(data: bytes) -> bytes:
    """A summary as layout 1 wrote it: no layout, digests, index or link."""
    summary = json.loads(data)
    for key in ("layout", "part_sha256", "index", "previous"):
        summary.pop(key, None)
    return json.dumps(summary).encode()


# -- find --------------------------------------------------------------------------------------
def test_find_prints_every_receipt_of_the_phone_in_processed_order(receipts: Receipts) -> None:
    found = run("find", receipts.root, "--phone", PHONE)
    assert found.status == 0, found.err
    lines = found.lines
    assert [(r["run_id"], r["map_index"], r["try_number"], r["status"]) for r in lines] == [
        (RUN_LATE, 0, 1, "failed"),
        (RUN_LATE, 0, 2, "stopped"),
        (RUN_EARLY, 1, 1, "stopped"),
    ]
    assert [r["processed_at"] for r in lines] == sorted(r["processed_at"] for r in lines)
    assert {r["phone"] for r in lines} == {PHONE}
    assert [r["sender_code"] for r in lines] == [OTHER_CODE, OTHER_CODE, SENDER]
    assert [(r["whatcounts"] or {}).get("id") for r in lines] == [None, 70101, 70202]
    assert found.out.endswith("\n")
    assert found.err == ""


@pytest.mark.parametrize("written", FORMATS)
def test_find_reads_the_phone_in_any_format(local: Receipts, written: str) -> None:
    expected = run("find", local.root, "--phone", PHONE)
    found = run("find", local.root, "--phone", written)
    assert (found.status, found.out) == (0, expected.out)
    assert len(found.lines) == 3


def test_find_takes_a_file_uri_and_a_folder_below_the_root(local: Receipts) -> None:
    expected = run("find", local.root, "--phone", PHONE).out
    assert run("find", Location.of(local.root).uri, "--phone", PHONE).out == expected
    run_folder = f"{local.root}/dag_id={DAG}/run_id={RUN_LATE}"
    assert [r["try_number"] for r in run("find", run_folder, "--phone", PHONE).lines] == [1, 2]


def test_find_filters_by_sender_code(receipts: Receipts) -> None:
    mine = run("find", receipts.root, "--phone", PHONE, "--sender-code", SENDER)
    assert mine.status == 0
    assert [(r["sender_code"], r["run_id"]) for r in mine.lines] == [(SENDER, RUN_EARLY)]
    other = run("find", receipts.root, "--phone", "(206) 555-0100", "--sender-code", OTHER_CODE)
    assert [(r["sender_code"], r["try_number"]) for r in other.lines] == [(OTHER_CODE, 1), (OTHER_CODE, 2)]


@pytest.mark.parametrize(
    ("phone", "code"),
    [("+1 206-555-0177", None), ("12065550177", None), (PHONE, "77777"), ("(206) 555-0199", "99999")],
)
def test_find_exits_1_and_says_so_with_a_masked_phone(local: Receipts, phone: str, code: str | None) -> None:
    argv = ["find", local.root, "--phone", phone] + (["--sender-code", code] if code else [])
    found = run(*argv)
    assert found.status == 1
    assert found.out == ""
    assert "no receipt of" in found.err
    assert phone[-4:] in found.err
    assert phone not in found.err
    digits = "".join(ch for ch in phone if ch.isdigit())
    assert digits not in found.err.replace(" ", "")
    assert "1206555" not in found.err


@pytest.mark.parametrize("command", ["find", "report", "verify"])
def test_a_root_that_holds_no_files_is_a_usage_error_not_an_answer(tmp_path: Path, command: str) -> None:
    """A mistyped root must not read as "no receipt of this phone" or "intact"."""
    (tmp_path / "empty").mkdir()
    for root in (tmp_path / "never-written", tmp_path / "empty"):
        argv = [command, str(root)] + (["--phone", PHONE] if command != "verify" else [])
        done = run(*argv)
        assert (done.status, done.out) == (2, "")
        assert f"{root} holds no" in done.err
        assert PHONE not in done.err


@pytest.mark.parametrize("phone", ["not a phone", "206555010", "+1 206 555 01000000", "12065550"])
def test_find_exits_2_on_an_unreadable_phone_naming_it(local: Receipts, phone: str) -> None:
    found = run("find", local.root, "--phone", phone)
    assert found.status == 2
    assert found.out == ""
    assert found.err.startswith("error: phone ")
    assert "invalid" in found.err
    assert phone[-4:] in found.err  # named, masked
    assert phone not in found.err


@pytest.mark.parametrize("code", ["not-a-code!", "x" * 21, " "])
def test_find_exits_2_on_a_bad_sender_code(local: Receipts, code: str) -> None:
    found = run("find", local.root, "--phone", PHONE, "--sender-code", code)
    assert found.status == 2
    assert found.out == ""
    assert "error: sender_code" in found.err
    assert PHONE not in found.err


def test_find_never_prints_a_full_phone_on_stderr(local: Receipts) -> None:
    for argv in (
        ["find", local.root, "--phone", PHONE],
        ["find", local.root, "--phone", PHONE, "--sender-code", "77777"],
        ["find", local.root, "--phone", "+1 206-555-0100", "--sender-code", "bad code"],
        ["find", local.root, "--phone", "+1 206-555-010"],
    ):
        found = run(*argv)
        for phone in (PHONE, NOISE, "2065550100", "206-555-0100", "206-555-010"):
            assert phone not in found.err, (argv, found.err)


# -- index ---------------------------------------------------------------------------------------
def test_folders_without_an_index_are_scanned_then_indexed(receipts: Receipts) -> None:
    expected = run("find", receipts.root, "--phone", PHONE).out
    # One try killed before its end (no index), one finished try as layout 1 wrote it.
    killed_fields = [receipt(PHONE, 7, status="failed")]
    killed = write_try(receipts.root, identity(RUN_EARLY, 1, 2), killed_fields, at(28, 9), finish=False)
    old = receipts.folder("early")
    remove(old, INDEX_NAME)
    rewrite(old, SUMMARY_NAME, strip_layout_2)
    assert len(every(receipts.root, INDEX_NAME)) == 2

    scanned = run("find", receipts.root, "--phone", PHONE)
    assert scanned.status == 0
    statuses = [(r["map_index"], r["status"]) for r in scanned.lines]
    assert statuses == [(0, "failed"), (0, "stopped"), (1, "stopped"), (2, "failed")]
    assert scanned.lines[:3] == [json.loads(line) for line in expected.splitlines()]

    indexed = run("index", receipts.root)
    assert indexed.status == 0
    assert indexed.out.splitlines()[-1] == "2 folder(s) indexed"
    reported = indexed.out.splitlines()[:-1]
    assert len(reported) == 2
    assert any(line.startswith("indexed 2 part(s) in ") and old.name in line for line in reported)
    assert any(line.startswith("indexed 1 part(s) in ") and killed.attempt_name in line for line in reported)
    assert len(every(receipts.root, INDEX_NAME)) == 4

    assert run("find", receipts.root, "--phone", PHONE).out == scanned.out
    by_uri = run("find", Location.of(receipts.root).uri, "--phone", NOISE).lines
    assert run("find", receipts.root, "--phone", NOISE).lines == by_uri
    assert {r["phone"] for r in by_uri} == {NOISE}
    assert len(by_uri) == 2
    again = run("index", receipts.root)
    assert (again.status, again.out) == (0, "0 folder(s) indexed\n")
    # The indexes it wrote are ones verify accepts beside the writer's own.
    checked = run("verify", receipts.root)
    assert checked.status == 0, checked.out


def test_a_deleted_index_is_rewritten_as_the_writer_wrote_it(local: Receipts) -> None:
    folder = local.folder("late2")
    written = folder.read_bytes((), INDEX_NAME)
    remove(folder, INDEX_NAME)
    assert run("verify", local.root).status == 1
    assert run("index", local.root).out.splitlines()[-1] == "1 folder(s) indexed"
    assert folder.read_bytes((), INDEX_NAME) == written
    assert run("verify", local.root).status == 0


def test_a_damaged_index_falls_back_to_reading_the_parts(local: Receipts) -> None:
    expected = run("find", local.root, "--phone", PHONE).out
    for key in local.tries:
        rewrite(local.folder(key), INDEX_NAME, lambda data: data[:-5])
    assert run("find", local.root, "--phone", PHONE).out == expected


def test_index_of_an_empty_root_writes_nothing(tmp_path: Path) -> None:
    assert run("index", str(tmp_path)).out == "0 folder(s) indexed\n"
    assert list(tmp_path.iterdir()) == []


# -- verify ------------------------------------------------------------------------------------
def test_verify_says_intact_on_untouched_receipts(receipts: Receipts) -> None:
    checked = run("verify", receipts.root)
    assert checked.status == 0
    assert checked.out == "3 tries, 6 parts checked: intact\n"
    document = json.loads(run("verify", receipts.root, "--format", "json").out)
    assert document == {"ok": True, "tries": 3, "parts": 6, "findings": []}


def _modified_part(built: Receipts) -> tuple[str, str]:
    name = built.part_with("late2", None)
    rewrite(built.folder("late2"), name, lambda data: data.replace(b'"stopped"', b'"failed"', 1))
    return "modified", name


def _missing_part(built: Receipts) -> tuple[str, str]:
    name = built.part_with("early", PHONE)
    remove(built.folder("early"), name)
    return "missing", name


def _added_part(built: Receipts) -> tuple[str, str]:
    folder = built.folder("late1")
    name = "part-001-20261126T000000000000Z-0badf00d-00009.jsonl"
    folder.put(name, folder.read_bytes((), built.tries["late1"].parts[0]))
    return "added", name


def _modified_index(built: Receipts) -> tuple[str, str]:
    rewrite(built.folder("early"), INDEX_NAME, lambda data: data[:-1] + bytes([data[-1] ^ 1]))
    return "modified", INDEX_NAME


def _deleted_summary(built: Receipts) -> tuple[str, str]:
    remove(built.folder("late1"), SUMMARY_NAME)
    return "broken_chain", f"{built.tries['late2'].attempt_name}/{SUMMARY_NAME}"


def _edited_summary(built: Receipts) -> tuple[str, str]:
    rewrite(built.folder("late1"), SUMMARY_NAME, lambda data: data.replace(b'"total": 4', b'"total": 3'))
    return "broken_chain", f"{built.tries['late2'].attempt_name}/{SUMMARY_NAME}"


def _deleted_try(built: Receipts) -> tuple[str, str]:
    folder, writer = built.folder("late1"), built.tries["late1"]
    for name in [*writer.parts, INDEX_NAME, SUMMARY_NAME, "try.json"]:
        remove(folder, name)
    return "broken_chain", f"{built.tries['late2'].attempt_name}/{SUMMARY_NAME}"


TAMPERING = {
    "modified part": _modified_part,
    "missing part": _missing_part,
    "added part": _added_part,
    "modified index": _modified_index,
    "deleted earlier summary": _deleted_summary,
    "edited earlier summary": _edited_summary,
    "deleted earlier try": _deleted_try,
}


@pytest.mark.parametrize("tamper", list(TAMPERING))
def test_verify_fails_on_tampering_naming_the_kind_and_the_file(receipts: Receipts, tamper: str) -> None:
    kind, name = TAMPERING[tamper](receipts)
    checked = run("verify", receipts.root)
    assert checked.status == 1, checked.out
    flagged = [line for line in checked.out.splitlines() if line.startswith(f"{kind.upper()} ")]
    assert flagged, checked.out
    assert any(f"/{name}: " in line for line in flagged), checked.out
    assert checked.out.splitlines()[-1].endswith("problem(s)")
    assert "intact" not in checked.out

    document = json.loads(run("verify", receipts.root, "--format", "json").out)
    assert document["ok"] is False
    assert any(f["kind"] == kind and f["where"].endswith(f"/{name}") for f in document["findings"])
    assert all(set(f) == {"kind", "where", "detail"} and f["detail"] for f in document["findings"])


def test_verify_of_one_task_instance_checks_only_it(local: Receipts) -> None:
    _missing_part(local)
    assert run("verify", task_instance_folder(local.root, identity(RUN_LATE, 1)).uri).status == 0
    assert run("verify", task_instance_folder(local.root, identity(RUN_EARLY, 1, 1)).uri).status == 1


def test_a_try_without_summary_is_a_note_not_a_failure(receipts: Receipts) -> None:
    killed = write_try(receipts.root, identity(RUN_LATE, 3), [receipt(PHONE, 1)], at(25, 18), finish=False)
    checked = run("verify", receipts.root)
    assert checked.status == 0, checked.out
    (note,) = [line for line in checked.out.splitlines() if line.startswith("UNFINISHED ")]
    assert killed.attempt_name in note
    assert checked.out.splitlines()[-1] == "4 tries, 7 parts checked: intact"
    document = json.loads(run("verify", receipts.root, "--format", "json").out)
    assert document["ok"] is True
    assert [f["kind"] for f in document["findings"]] == ["unfinished"]


def test_a_killed_try_is_covered_by_the_next_tries_link(receipts: Receipts) -> None:
    who = identity(RUN_LATE, 3)
    killed = write_try(receipts.root, who, [receipt(NOISE, n) for n in range(1, 4)], at(25, 18), finish=False)
    assert len(killed.parts) == 2
    after = write_try(receipts.root, identity(RUN_LATE, 4), [receipt(PHONE, 1)], at(25, 19))
    assert after.attempt_name > killed.attempt_name
    checked = run("verify", receipts.root)
    assert (checked.status, checked.out) == (0, "5 tries, 9 parts checked: intact\n")

    rewrite(killed.attempt_folder, killed.parts[1], lambda data: data.replace(b'"row":3', b'"row":4'))
    checked = run("verify", receipts.root)
    assert checked.status == 1
    (line,) = [line for line in checked.out.splitlines() if line.startswith("MODIFIED ")]
    assert f"{killed.attempt_name}/{killed.parts[1]}: " in line
    assert "the next try's link" in line


def test_a_part_added_to_a_killed_try_after_its_next_try_is_found(local: Receipts) -> None:
    killed = write_try(local.root, identity(RUN_LATE, 3), [receipt(NOISE, 1)], at(25, 18), finish=False)
    write_try(local.root, identity(RUN_LATE, 4), [receipt(PHONE, 1)], at(25, 19))
    name = killed.parts[0].replace("-00001.", "-00002.")
    killed.attempt_folder.put(name, killed.attempt_folder.read_bytes((), killed.parts[0]))
    checked = run("verify", local.root)
    assert checked.status == 1
    assert any(line.startswith("ADDED ") and name in line for line in checked.out.splitlines())


def test_verify_notes_layout_1_summaries_without_failing(local: Receipts) -> None:
    rewrite(local.folder("early"), SUMMARY_NAME, strip_layout_2)
    checked = run("verify", local.root)
    assert checked.status == 0
    assert any(line.startswith("LEGACY ") for line in checked.out.splitlines())


# -- report --phone ------------------------------------------------------------------------------
NOW = "2026-12-01T12:00:00Z"


def test_report_phone_writes_a_self_contained_evidence_page(receipts: Receipts, tmp_path: Path) -> None:
    page = tmp_path / "evidence.html"
    made = run("report", "--phone", "(206) 555-0100", receipts.root, "-o", str(page), "--now", NOW)
    assert made.status == 0, made.err
    assert made.out == ""
    assert made.err == f"wrote {page}\n"
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert PHONE in html
    for shown in (SENDER, OTHER_CODE, "70101", "90101", "70202", "90202", RUN_LATE, RUN_EARLY):
        assert shown in html, shown
    assert NOISE not in html
    assert "Intact" in html
    assert "PROBLEMS FOUND" not in html
    lowered = html.lower()
    for outside in ("<script", "<link", "src=", "<iframe", "@import", "url("):
        assert outside not in lowered, outside


def test_report_phone_shows_tampering_and_exits_1(local: Receipts, tmp_path: Path) -> None:
    _kind, name = _modified_part(local)
    page = tmp_path / "evidence.html"
    made = run("report", "--phone", PHONE, local.root, "-o", str(page), "--now", NOW)
    assert made.status == 1
    html = page.read_text(encoding="utf-8")
    assert "PROBLEMS FOUND" in html
    assert name in html
    assert "Intact." not in html

    document = json.loads(run("report", "--phone", PHONE, local.root, "--format", "json", "--now", NOW).out)
    assert document["integrity"]["status"] == "problems"
    problems = document["integrity"]["problems"]
    assert [(p["kind"], p["where"].rsplit("/", 1)[-1]) for p in problems] == [("modified", name)]
    skipped = run("report", "--phone", PHONE, local.root, "--format", "json", "--no-verify", "--now", NOW)
    assert skipped.status == 0
    assert json.loads(skipped.out)["integrity"]["status"] == "not_checked"


def test_report_phone_flags_a_deleted_part_that_held_the_phone(local: Receipts, tmp_path: Path) -> None:
    """The page of a phone must not call its receipts intact when one of them was deleted: the
    deleted part's task instance holds no other receipt of the phone, but its summary (and its
    phones.idx) still name the part."""
    _kind, name = _missing_part(local)  # the only part of run early holding PHONE
    assert len(run("find", local.root, "--phone", PHONE).lines) == 2
    page = tmp_path / "evidence.html"
    made = run("report", "--phone", PHONE, local.root, "-o", str(page), "--now", NOW)
    html = page.read_text(encoding="utf-8")
    assert "PROBLEMS FOUND" in html
    assert name in html
    assert made.status == 1


def test_report_phone_of_a_killed_try_is_intact_with_a_note(local: Receipts, tmp_path: Path) -> None:
    """A try killed before its summary has nothing to check its parts against: a note on the
    page, never "problems" and never exit 1."""
    killed = write_try(local.root, identity(RUN_LATE, 3), [receipt(PHONE, 1)], at(25, 18), finish=False)
    page = tmp_path / "evidence.html"
    made = run("report", "--phone", PHONE, local.root, "-o", str(page), "--now", NOW)
    assert made.status == 0, made.err
    html = page.read_text(encoding="utf-8")
    assert "PROBLEMS FOUND" not in html
    assert "Intact.</span> The receipts of 3 tries were checked" in html, "the killed try is not one"
    assert "1 try could not be checked (see the notes)." in html
    assert "<th>Problem or note</th>" in html
    assert re.search(rf'<tr class=""><td>unfinished</td><td>[^<]*{re.escape(killed.attempt_name)}', html)
    document = json.loads(run("report", "--phone", PHONE, local.root, "--format", "json", "--now", NOW).out)
    assert document["integrity"]["status"] == "intact"
    assert [p["kind"] for p in document["integrity"]["problems"]] == ["unfinished"]


def test_report_phone_whose_only_try_was_killed_is_not_called_intact(tmp_path: Path) -> None:
    root = str(tmp_path / "receipts")
    write_try(root, identity(RUN_LATE, 1), [receipt(PHONE, 1)], at(25, 18), finish=False)
    made = run("report", "--phone", PHONE, root, "--format", "json", "--now", NOW)
    assert made.status == 0, made.err
    integrity = json.loads(made.out)["integrity"]
    assert integrity["status"] == "not_checked"
    assert [p["kind"] for p in integrity["problems"]] == ["unfinished"]


def test_report_phone_json_is_the_evidence_document(receipts: Receipts) -> None:
    made = run("report", "--phone", "+1 206-555-0100", receipts.root, "--format", "json", "--now", NOW)
    assert made.status == 0, made.err
    document = json.loads(made.out)
    assert document["kind"] == "phone_evidence"
    assert document["phone"] == PHONE
    assert document["receipts"] == 3
    assert document["generated_at"].startswith("2026-12-01T12:00:00")
    assert document["integrity"] == {"status": "intact", "checked_tries": 3, "problems": []}
    codes = {pair["sender_code"]: pair for pair in document["sender_codes"]}
    assert set(codes) == {SENDER, OTHER_CODE}
    assert [e["status"] for e in codes[OTHER_CODE]["timeline"]] == ["failed", "stopped"]
    assert [e["whatcounts_ids"] for e in codes[SENDER]["timeline"]] == [
        {"id": 70202, "smsSubscriberId": 90202}
    ]
    assert {pair["state"] for pair in codes.values()} == {"honoured"}


def test_report_phone_with_a_sender_code_shows_that_code_only(local: Receipts) -> None:
    made = run(
        "report", "--phone", PHONE, "--sender-code", SENDER, local.root, "--format", "json", "--now", NOW
    )
    assert [pair["sender_code"] for pair in json.loads(made.out)["sender_codes"]] == [SENDER]


# -- report --since/--until ----------------------------------------------------------------------
def test_report_period_writes_the_period_page(receipts: Receipts, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    argv = ["report", "--since", "2026-11-01", "--until", "2026-12-01", receipts.root, "--now", NOW]
    made = run(*argv, "-o", str(page))
    assert made.status == 0, made.err
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "Opt-out report: 2026-11-01 to 2026-12-01" in html
    assert SENDER in html
    assert OTHER_CODE in html
    assert "<script" not in html.lower()

    document = json.loads(run(*argv, "--format", "json").out)
    assert document["kind"] == "period_report"
    assert document["since"].startswith("2026-11-01T00:00:00")
    assert document["until"].startswith("2026-12-01T00:00:00")
    assert document["honour_within_business_days"] == 10
    text = json.dumps(document)
    assert '"stopped"' in text
    assert '"failed"' in text


def test_report_period_counts_only_its_window(local: Receipts) -> None:
    whole = json.loads(
        run("report", "--since", "2026-11-01", "--until", "2026-12-01", local.root, "--format", "json").out
    )
    late_only = json.loads(
        run("report", "--since", "2026-11-27", "--until", "2026-11-28", local.root, "--format", "json").out
    )
    empty = json.loads(
        run("report", "--since", "2025-01-01", "--until", "2025-02-01", local.root, "--format", "json").out
    )
    assert whole != late_only != empty
    assert "70202" not in json.dumps(empty)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--phone", PHONE, "--since", "2026-11-01", "--until", "2026-12-01"], "not both"),
        (["--phone", PHONE, "--since", "2026-11-01"], "not both"),
        (["--since", "2026-11-01"], "both --since and --until"),
        (["--until", "2026-12-01"], "both --since and --until"),
        ([], "give --phone P"),
        (["--since", "2026-12-01", "--until", "2026-12-01"], "is not before --until"),
        (["--since", "2026-12-02", "--until", "2026-12-01"], "is not before --until"),
        (["--since", "last tuesday", "--until", "2026-12-01"], "--since"),
        (["--since", "2026-11-01", "--until", "2026-13-01"], "--until"),
        (["--since", "2026-11-01", "--until", "2026-12-01", "--now", "soon"], "--now"),
        (["--phone", PHONE, "--honour-within-business-days", "-1"], "--honour-within-business-days"),
        (["--since", "2026-11-01", "--until", "2026-12-01", "--honour-within-business-days", "-3"], ">= 0"),
        (["--phone", "not a phone"], "invalid"),
        (["--phone", PHONE, "--sender-code", "no such code"], "sender_code"),
    ],
)
def test_report_usage_errors_exit_2(local: Receipts, tmp_path: Path, argv: list[str], message: str) -> None:
    page = tmp_path / "out.html"
    made = run("report", local.root, *argv, "-o", str(page))
    assert made.status == 2
    assert made.out == ""
    assert made.err.startswith("error: ")
    assert message in made.err
    assert not page.exists()
    assert PHONE not in made.err


def test_report_phone_without_receipts_is_an_empty_page(local: Receipts) -> None:
    made = run("report", "--phone", "+1 206-555-0177", local.root, "--format", "json", "--now", NOW)
    assert made.status == 0
    document = json.loads(made.out)
    assert (document["receipts"], document["sender_codes"]) == (0, [])


def test_report_defaults_to_now_and_stdout(local: Receipts) -> None:
    made = run("report", "--phone", PHONE, local.root)
    assert made.status == 0
    assert made.out.startswith("<!DOCTYPE html>")
    assert made.err == ""
    generated = datetime.now(timezone.utc) - timedelta(days=1)
    document = json.loads(run("report", "--phone", PHONE, local.root, "--format", "json").out)
    assert datetime.fromisoformat(document["generated_at"]) > generated
