"""The receipts command when things are not as they should be: a damaged line, storage that
cannot be read, a command line argparse refuses, a date it cannot read."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from tests.receipts.test_cli import NOW, PHONE, Receipts, build, run
from whatcounts_provider.storage import Location

if TYPE_CHECKING:
    from pathlib import Path

PERIOD = ("--since", "2026-11-01", "--until", "2026-12-01", "--now", NOW)


@pytest.fixture
def local(tmp_path: Path) -> Receipts:
    return build(str(tmp_path / "receipts"))


@pytest.fixture
def damaged(local: Receipts) -> tuple[Receipts, str]:
    """A part holding PHONE with a line that is not JSON put before its last line."""
    name = local.part_with("early", PHONE)
    folder = local.folder("early")
    lines = folder.read_bytes((), name).decode().splitlines(keepends=True)
    path = folder.uri.removeprefix("file://") + "/" + name
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("".join([lines[0], "{this is not a receipt\n", *lines[1:]]))
    return local, name


def test_find_reads_on_past_a_damaged_line_says_which_and_exits_1(damaged: tuple[Receipts, str]) -> None:
    built, name = damaged
    found = run("find", built.root, "--phone", PHONE)
    assert found.status == 1
    assert len(found.lines) == 3  # every receipt of the phone is still printed
    assert f"{name}: line 2 is not JSON" in found.err
    assert PHONE not in found.err


def test_the_evidence_page_lists_the_damaged_line_as_a_problem(damaged: tuple[Receipts, str]) -> None:
    built, name = damaged
    made = run("report", "--phone", PHONE, built.root, "--format", "json", "--now", NOW)
    document = json.loads(made.out)
    assert made.status == 1
    assert document["integrity"]["status"] == "problems"
    kinds = {
        (problem["kind"], problem["where"].rsplit("/", 1)[-1])
        for problem in document["integrity"]["problems"]
    }
    assert ("modified", name) in kinds  # verify: its digest no longer matches
    assert any(kind == "unreadable" and name in where for kind, where in kinds)
    assert document["receipts"] == 3


def test_the_period_report_counts_what_it_can_read_and_says_what_it_could_not(
    damaged: tuple[Receipts, str], tmp_path: Path
) -> None:
    built, name = damaged
    made = run("report", built.root, *PERIOD, "--format", "json")
    document = json.loads(made.out)
    assert made.status == 1
    assert document["unreadable"]["total"] == 1
    assert name in document["unreadable"]["listed"][0]
    assert document["receipts"] > 0
    page = tmp_path / "report.html"
    assert run("report", built.root, *PERIOD, "-o", str(page)).status == 1
    html = page.read_text(encoding="utf-8")
    assert "could not be read" in html
    assert name in html


def test_storage_that_cannot_be_read_exits_3_not_1(local: Receipts, monkeypatch: pytest.MonkeyPatch) -> None:
    """Exit 1 means "no receipt of this phone": an outage must never read as that."""

    def unreachable(self: Location, *args: Any, **kwargs: Any) -> bytes:
        raise ConnectionResetError("the storage endpoint closed the connection")

    monkeypatch.setattr(Location, "read_bytes", unreachable)
    for argv in (
        ["find", local.root, "--phone", PHONE],
        ["verify", local.root],
        ["report", local.root, *PERIOD],
    ):
        done = run(*argv)
        assert (done.status, done.out) == (3, ""), argv
        assert "could not read the receipts: ConnectionResetError" in done.err


def test_argparse_errors_go_where_the_commands_errors_go(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in ([], ["find"], ["find", "root"], ["verify", "root", "--format", "xml"], ["nonsense"]):
        done = run(*argv)
        assert (done.status, done.out) == (2, ""), argv
        assert done.err.startswith("error: ")
        assert "usage:" in done.err
    assert capsys.readouterr() == ("", "")  # nothing written around main's streams


def test_help_goes_to_the_results_stream() -> None:
    with pytest.raises(SystemExit) as stopped:
        run("find", "--help")
    assert stopped.value.code == 0


@pytest.mark.parametrize("option", ["--since", "--until", "--now"])
def test_a_date_option_that_cannot_be_read_is_named_as_the_option(local: Receipts, option: str) -> None:
    values = dict(zip(PERIOD[::2], PERIOD[1::2], strict=True))
    values[option] = "last tuesday"
    done = run("report", local.root, *(item for pair in values.items() for item in pair))
    assert done.status == 2
    assert f"{option} 'last tuesday' is not an ISO-8601 date-time" in done.err
    assert "requested_at" not in done.err
