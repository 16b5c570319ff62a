"""``python -m whatcounts_provider.receipts`` as a real process: exit status, stdout and stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.receipts.test_cli import FORMATS, PHONE, RUN_EARLY, RUN_LATE, build

REPO = Path(__file__).resolve().parents[2]


def command(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    return subprocess.run(
        [sys.executable, "-m", "whatcounts_provider.receipts", *argv],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        check=False,
    )


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> str:
    return build(str(tmp_path_factory.mktemp("main") / "receipts")).root


def test_find_prints_json_lines_and_exits_0(root: str) -> None:
    done = command("find", root, "--phone", FORMATS[1])
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(r["run_id"], r["try_number"]) for r in lines] == [(RUN_LATE, 1), (RUN_LATE, 2), (RUN_EARLY, 1)]
    assert {r["phone"] for r in lines} == {PHONE}
    assert PHONE not in done.stderr
    same = command("find", Path(root).as_uri(), "--phone", "+1 206-555-0100")
    assert (same.returncode, same.stdout) == (0, done.stdout)


def test_find_exits_1_when_nothing_is_found(root: str) -> None:
    done = command("find", root, "--phone", "+1 206-555-0177")
    assert (done.returncode, done.stdout) == (1, "")
    assert "no receipt of" in done.stderr
    assert "0177" in done.stderr
    assert "2065550177" not in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--phone", "not a phone"], "phone"),
        (["--phone", "206555010"], "phone"),
        (["--phone", PHONE, "--sender-code", "bad code"], "sender_code"),
        ([], "--phone"),  # the phone is required
        (["--phone"], "--phone"),
    ],
)
def test_find_exits_2_on_a_usage_error(root: str, argv: list[str], named: str) -> None:
    done = command("find", root, *argv)
    assert done.returncode == 2
    assert done.stdout == ""
    assert named in done.stderr
    assert "Traceback" not in done.stderr
    assert PHONE not in done.stderr
    assert "206555010" not in done.stderr


def test_a_command_is_required_and_help_lists_the_four() -> None:
    done = command("--help")
    assert done.returncode == 0
    for name in ("find", "index", "verify", "report"):
        assert name in done.stdout
    assert command().returncode == 2
    assert command("nonsense").returncode == 2
    assert "--sender-code" in command("find", "--help").stdout


def test_verify_exits_1_on_a_modified_part(tmp_path: Path) -> None:
    built = build(str(tmp_path / "receipts"))
    assert command("verify", built.root).returncode == 0
    name = built.part_with("early", None)
    folder = built.folder("early")
    folder.put(name, folder.read_bytes((), name).replace(b'"stopped"', b'"failed"', 1))
    done = command("verify", built.root)
    assert done.returncode == 1
    assert any(line.startswith("MODIFIED ") and name in line for line in done.stdout.splitlines())


def test_on_s3_stdout_holds_the_results_only(s3_location: str) -> None:
    """Airflow's logging (the connection lookup, the object store) must not reach stdout: find's
    JSON lines and report's JSON document are read by programs."""
    build(s3_location)
    found = command("find", s3_location, "--phone", FORMATS[2])
    assert found.returncode == 0, found.stderr
    assert [json.loads(line)["phone"] for line in found.stdout.splitlines()] == [PHONE] * 3
    report = command("report", s3_location, "--phone", PHONE, "--format", "json")
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout)["phone"] == PHONE
