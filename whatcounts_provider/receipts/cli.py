"""``python -m whatcounts_provider.receipts``: find, index, verify and report on receipts.

    find ROOT --phone P [--sender-code C]        one phone's receipts, as JSON lines
    index ROOT                                   write the phone index of folders without one
    verify ROOT                                  check parts, indexes and the chain of tries
    report ROOT --phone P -o evidence.html       one phone's evidence page (--format json)
    report ROOT --since D --until D -o report.html   a period's report (--format json)

Exit status:

    0  done; find: receipts found
    1  find: nothing found; verify: a problem found; report --phone: its receipts fail
       verification; find and report: some receipt lines could not be read (each is named on
       stderr, and in the report), what could be read is still printed
    2  a usage error: an option, phone, sender code or date that cannot be read, or a ROOT that
       holds no files at all (a mistyped path or bucket)
    3  the receipts could not be read (storage, network or permission error)

Results go to stdout; log lines (Airflow's included) and messages to stderr. Output holds full
phone numbers, as receipts do: it is evidence.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from whatcounts_provider.deadline import (
    DEFAULT_HONOUR_WITHIN_BUSINESS_DAYS,
    parse_requested_at,
    utc_now,
)
from whatcounts_provider.phone import mask_phone, normalize_phone
from whatcounts_provider.receipts.evidence import (
    period_report,
    phone_evidence,
    render_period_html,
    render_phone_html,
)
from whatcounts_provider.receipts.find import Located, index_missing, locate
from whatcounts_provider.receipts.integrity import is_note, verify_receipts
from whatcounts_provider.receipts.reader import iter_receipts
from whatcounts_provider.storage import Location

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime


#: Most lines of unreadable receipts a report lists (all are counted).
_LISTED_UNREADABLE = 200


class UsageError(Exception):
    """A command line that cannot be carried out as written (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so that its errors go where ``main``'s go, and
    prints help where the results go."""

    stream: TextIO = sys.stdout

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}\n{self.format_usage().strip()}")

    def _print_message(self, message: str, file: Any = None) -> None:
        if message:
            self.stream.write(message)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run one command; return its exit status."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        args = _parser(out).parse_args(argv)
        status: int = args.run(args, out, err)
        return status
    except (UsageError, ValueError) as problem:  # a phone, code or date that cannot be read
        print(f"error: {problem}", file=err)
        return 2
    except Exception as problem:  # storage, network, permissions: nothing the command line fixes
        print(f"error: could not read the receipts: {type(problem).__name__}: {problem}", file=err)
        return 3


def _parser(out: TextIO) -> argparse.ArgumentParser:
    class Parser(_Parser):  # subcommands' parsers are made of the same class
        stream = out

    parser = Parser(prog="python -m whatcounts_provider.receipts", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    find = commands.add_parser("find", help="one phone's receipts, as JSON lines")
    _root(find)
    _phone(find, required=True)
    find.set_defaults(run=_find)

    index = commands.add_parser("index", help="write the phone index of folders written without one")
    _root(index)
    index.set_defaults(run=_index)

    verify = commands.add_parser("verify", help="check parts, indexes and the chain of tries")
    _root(verify)
    verify.add_argument("--format", choices=("text", "json"), default="text")
    verify.set_defaults(run=_verify)

    report = commands.add_parser("report", help="one phone's evidence page, or a period's report")
    _root(report)
    _phone(report, required=False)
    report.add_argument("--since", help="a period's start (ISO-8601; included), with --until")
    report.add_argument("--until", help="a period's end (ISO-8601; excluded)")
    report.add_argument("-o", "--output", default="-", help="the file to write (default: stdout)")
    report.add_argument("--format", choices=("html", "json"), default="html")
    report.add_argument("--now", help="the time the report is made as of (ISO-8601; default: now)")
    report.add_argument(
        "--honour-within-business-days", type=int, default=DEFAULT_HONOUR_WITHIN_BUSINESS_DAYS
    )
    report.add_argument("--no-verify", action="store_true", help="phone page: skip the integrity check")
    report.set_defaults(run=_report)
    return parser


def _root(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("root", metavar="ROOT", help="receipts_path, or any folder below it (path or URI)")


def _phone(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument("--phone", required=required, help="in any format an input may use")
    parser.add_argument("--sender-code", help="only this sender code's receipts")
    parser.add_argument("--region", default="US", help="region of a phone without a country code")


def _find(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    found = _locate(args)
    for receipt, _ in found.receipts:
        out.write(json.dumps(receipt, ensure_ascii=False) + "\n")
    _warn_unreadable(found.skipped, err)
    if not found.receipts:
        print(f"no receipt of {mask_phone(args.phone)} under {args.root}", file=err)
    return 0 if found.receipts and not found.skipped else 1


def _locate(args: argparse.Namespace) -> Located:
    found = locate(args.root, args.phone, args.sender_code, default_region=args.region)
    if not found.files:
        raise UsageError(f"{args.root} holds no files: is it the receipts_path (or a folder below it)?")
    return found


def _warn_unreadable(skipped: list[str], err: TextIO) -> None:
    for problem in skipped:
        print(f"warning: skipped {problem}", file=err)
    if skipped:
        print(f"warning: {len(skipped)} receipt line(s) could not be read; run verify", file=err)


def _index(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    count = 0
    for folder, parts in index_missing(args.root):
        print(f"indexed {parts} part(s) in {folder.where('')}", file=out)
        count += 1
    print(f"{count} folder(s) indexed", file=out)
    return 0


def _verify(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    result = verify_receipts(args.root)
    if result.tries == 0 and result.parts == 0:
        # Nothing to check is not "intact": a mistyped root would otherwise pass.
        raise UsageError(f"{args.root} holds no receipts to verify")
    if args.format == "json":
        document = {
            "ok": result.ok,
            "tries": result.tries,
            "parts": result.parts,
            "findings": [finding.as_dict() for finding in result.problems + result.notes],
        }
        out.write(json.dumps(document, indent=1) + "\n")
    else:
        for finding in result.problems + result.notes:
            print(f"{finding.kind.upper()} {finding.where}: {finding.detail}", file=out)
        verdict = "intact" if result.ok else f"{len(result.problems)} problem(s)"
        print(f"{result.tries} tries, {result.parts} parts checked: {verdict}", file=out)
    return 0 if result.ok else 1


def _report(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    now = utc_now() if args.now is None else _time("--now", args.now)
    within = args.honour_within_business_days
    if within < 0:
        raise UsageError(f"--honour-within-business-days must be >= 0, got {within}")
    if args.phone is not None:
        if args.since or args.until:
            raise UsageError("give either --phone or --since/--until, not both")
        document, ok = _phone_document(args, now, within, err)
        page = render_phone_html(document) if args.format == "html" else None
    else:
        if not (args.since and args.until):
            raise UsageError("give --phone P, or a period with both --since and --until")
        since, until = _time("--since", args.since), _time("--until", args.until)
        if since >= until:
            raise UsageError(f"--since {args.since} is not before --until {args.until}")
        if next(Location.of(args.root, what="receipts root").files(), None) is None:
            raise UsageError(f"{args.root} holds no files: is it the receipts_path (or a folder below it)?")
        skipped: list[str] = []
        receipts = iter_receipts(args.root, skipped=skipped)
        document = period_report(
            receipts, since=since, until=until, now=now, honour_within_business_days=within
        )
        document["unreadable"] = {"total": len(skipped), "listed": skipped[:_LISTED_UNREADABLE]}
        _warn_unreadable(skipped, err)
        ok = not skipped
        page = render_period_html(document) if args.format == "html" else None
    text = page if page is not None else json.dumps(document, ensure_ascii=False, indent=1) + "\n"
    if args.output == "-":
        out.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}", file=err)
    return 0 if ok else 1


def _phone_document(
    args: argparse.Namespace, now: datetime, within: int, err: TextIO
) -> tuple[dict[str, Any], bool]:
    phone = normalize_phone(args.phone, args.region)
    found = _locate(args)
    _warn_unreadable(found.skipped, err)
    problems = [{"kind": "unreadable", "where": where, "detail": "skipped"} for where in found.skipped]
    integrity: dict[str, Any] | None = None
    tries = 0
    if not args.no_verify and found.folders:
        # Every task instance that holds the phone or whose index names it: a part deleted since
        # is still named by its folder's index and its try's summary.
        checked = {folder.task_instance for folder in found.folders}
        for task_instance in sorted(checked, key=lambda location: location.uri):
            result = verify_receipts(task_instance)
            tries += result.tries
            problems += result.as_integrity()["problems"]
    failing = [problem for problem in problems if not is_note(problem["kind"])]
    if tries or problems:
        # A try that could not be checked (a note) is never called intact: with nothing else
        # checked, the page says not checked and shows the notes.
        verified = tries - (len(problems) - len(failing))
        integrity = {
            "status": "problems" if failing else "intact" if verified > 0 else "not_checked",
            "checked_tries": tries,
            "problems": problems,
        }
    document = phone_evidence(
        (receipt for receipt, _ in found.receipts),
        phone=phone,
        now=now,
        integrity=integrity,
        honour_within_business_days=within,
    )
    return document, not failing


def _time(option: str, value: str) -> datetime:
    try:
        return parse_requested_at(value, field=option)
    except ValueError as problem:
        raise UsageError(str(problem)) from None
