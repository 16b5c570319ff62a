"""The period report page: what a compliance officer reviewing a month sees."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from tests.receipts.evidence.stories import PERIOD_NOW as NOW
from tests.receipts.evidence.stories import SINCE, UNTIL, month, phone
from whatcounts_provider.receipts.evidence import period_report, render_period_html

if TYPE_CHECKING:
    from pathlib import Path


def page(tmp_path: Path, **kwargs: Any) -> str:
    return render_period_html(
        period_report(iter(month(tmp_path)), since=SINCE, until=UNTIL, now=NOW, **kwargs)
    )


def part(html: str, anchor: str) -> str:
    match = re.search(rf'<section id="{anchor}">(.*?)</section>', html, re.S)
    assert match, f"no section {anchor}"
    return match.group(1)


def test_the_heading_states_the_window_rule(tmp_path: Path) -> None:
    html = page(tmp_path)
    assert "<h1>Opt-out report: 2026-11-01 to 2026-12-01</h1>" in html
    assert (
        "Receipts processed from 2026-11-01 00:00:00 UTC (included) up to 2026-12-01 00:00:00 UTC "
        "(not included)"
    ) in html


def test_the_summary_gives_the_counts_and_the_statistics(tmp_path: Path) -> None:
    html = page(tmp_path)
    assert "36 receipts processed in the period." in html
    assert (
        "25 opt-outs honoured (stopped or no longer subscribed), 1 of them most likely by an earlier try "
        "that was cut short (its answer record lost); median 2, p95 12, maximum 14 business days."
    ) in html
    assert '<li class="late">2 opt-outs honoured late (more than 10 business days).</li>' in html
    assert "5 pairs failed or await review with no later final receipt; 2 of them past the deadline." in html


def test_counts_per_status_and_per_sender_code_are_tables(tmp_path: Path) -> None:
    html = page(tmp_path)
    statuses = part(html, "by-status")
    assert re.search(r'<span class="nowrap">stopped</span></td><td>[^<]*</td><td class=num>24</td>', statuses)
    assert "1 of them were most likely stopped by an earlier try that was cut short" in statuses
    codes = part(html, "by-code")
    assert "<td>(no valid code)</td><td class=num>1</td>" in codes


def test_the_histogram_has_one_bar_per_day_and_red_late_bars(tmp_path: Path) -> None:
    histogram = part(page(tmp_path), "histogram")
    bars = re.findall(r'<rect class="bar( late)?"', histogram)
    assert len(bars) == 8  # one per day that occurred: 0, 1, 2, 3, 5, 9, 12 and 14
    assert bars.count(" late") == 2
    assert "<div>median<b>2</b></div><div>p95<b>12</b></div><div>maximum<b>14</b></div>" in histogram
    assert "<div>without a request time<b>5</b></div>" in histogram
    assert "limit: 10 business days" in histogram


def test_late_and_open_lists_show_the_deadline(tmp_path: Path) -> None:
    html = page(tmp_path)
    late = re.findall(r'<tr class="late">(.*?)</tr>', part(html, "late"), re.S)
    assert [phone(19) in late[0], phone(18) in late[1]] == [True, True]
    assert '<span class="late-mark">14 of 10</span>' in late[0]
    open_ = part(html, "open")
    assert '<span class="late-mark">passed 8 business days ago</span>' in open_
    assert '<span class="open-mark">1 left</span>' in open_


def test_replies_are_shown_as_text(tmp_path: Path) -> None:
    html = page(tmp_path)
    assert "cancel &lt;b&gt;my&lt;/b&gt; order" in part(html, "ambiguous")
    assert "<b>my</b>" not in html
    for forbidden in ("http://", "https://", "src=", "<script", "<link", "url("):
        assert forbidden not in html


def test_capped_lists_say_their_exact_total(tmp_path: Path) -> None:
    html = page(tmp_path, listed=1)
    assert "2 ambiguous replies; the first 1 are listed." in html
    assert "5 open pairs; the first 1 are listed." in html
    assert "2 late opt-outs; the first 1 are listed." in html


def test_an_empty_period_says_so() -> None:
    html = render_period_html(period_report([], since=SINCE, until=UNTIL, now=NOW))
    assert "No honoured opt-out with a request time in this period." in html
    assert "<svg" not in html
    assert "None in this period: 0 late opt-outs." in html
    assert "None in this period: 0 open pairs." in html
