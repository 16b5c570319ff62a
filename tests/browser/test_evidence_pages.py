"""Both evidence pages, opened from disk in Chromium as a lawyer or a compliance officer would.

The pages are written from real receipts (``ReceiptWriter``, ``iter_receipts``) to files and
opened with ``file://``: no server. Every request the page makes is recorded, and any that is not
the page itself is refused and fails the test: the page must read the same offline, years on.
No Airflow UI is needed, so both lanes run these.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.receipts.evidence.stories import INTACT, PERIOD_NOW, SINCE, UNTIL, dispute, month
from tests.receipts.evidence.support import CODE_A, CODE_B, CODE_C, NOW, PHONE
from whatcounts_provider.receipts.evidence import (
    period_report,
    phone_evidence,
    render_period_html,
    render_phone_html,
)

from .conftest import screenshot

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = [pytest.mark.browser]


@pytest.fixture
def offline_page(browser_context: Any) -> Iterator[tuple[Any, list[str]]]:
    """A page whose every request is recorded; any but the opened file is aborted."""
    page = browser_context.new_page()
    requests: list[str] = []

    def route(request_route: Any) -> None:
        url = request_route.request.url
        requests.append(url)
        if url.startswith("file://"):
            request_route.continue_()
        else:
            request_route.abort()

    page.route("**/*", route)
    try:
        yield page, requests
    finally:
        page.close()


def open_file(page: Any, requests: list[str], html: str, path: Path) -> None:
    path.write_text(html, encoding="utf-8")
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    assert requests == [path.as_uri()], "the page loaded something besides itself"


def test_the_phone_page_reads_as_evidence_offline_and_in_print(offline_page: Any, tmp_path: Path) -> None:
    page, requests = offline_page
    doc = phone_evidence(dispute(tmp_path / "receipts"), phone=PHONE, now=NOW, integrity=INTACT)
    open_file(page, requests, render_phone_html(doc), tmp_path / "evidence.html")

    assert page.locator("h1").inner_text() == f"Opt-out evidence for phone {PHONE}"
    summary = page.locator("#summary").inner_text()
    assert (
        f"Opted out of sender code {CODE_A} on 2026-11-25 (UTC), 2 business days after the request" in summary
    )
    assert "most likely honoured by try 1" in summary
    assert "Intact." in page.locator("#integrity").inner_text()
    rows = page.locator(f"#code-{CODE_A} tbody tr")
    assert rows.count() == 2
    assert "2 of 10 business days" in rows.nth(0).inner_text()
    late = page.locator(f"#code-{CODE_C} tbody tr").nth(0)
    assert "LATE 17 of 10 business days" in late.inner_text()
    # The reply is shown as text: a <script> in it is words on the page, not a script.
    assert "<script>alert('x')</script> stop texting me" in late.inner_text()
    assert page.locator("script").count() == 0
    assert (
        "honoured (most likely by try 1; answer record lost)" in page.locator(f"#code-{CODE_B}").inner_text()
    )
    screenshot(page, "evidence-phone.png", full_page=True)

    page.emulate_media(media="print")
    assert page.locator("#summary").is_visible()
    assert page.locator(f"#code-{CODE_A} tbody tr").nth(0).is_visible()
    for paper in ("A4", "Letter"):
        pdf = page.pdf(format=paper, print_background=True)
        assert pdf.startswith(b"%PDF")
        assert len(pdf) > 10_000
    assert requests == [(tmp_path / "evidence.html").as_uri()]


def test_the_period_report_draws_its_histogram_offline_and_in_print(
    offline_page: Any, tmp_path: Path
) -> None:
    page, requests = offline_page
    receipts = iter(month(tmp_path / "receipts"))
    doc = period_report(receipts, since=SINCE, until=UNTIL, now=PERIOD_NOW)
    open_file(page, requests, render_period_html(doc), tmp_path / "report.html")

    summary = page.locator("#summary").inner_text()
    assert "36 receipts processed in the period." in summary
    assert "2 opt-outs honoured late (more than 10 business days)." in summary
    assert (
        "5 pairs failed or await review with no later final receipt; 2 of them past the deadline." in summary
    )
    chart = page.locator("svg.histogram")
    box = chart.bounding_box()
    assert box is not None
    assert box["width"] > 300
    assert box["height"] > 100
    bars = page.locator("svg.histogram rect.bar")
    assert bars.count() == 8
    assert all((bars.nth(i).bounding_box() or {}).get("height", 0) > 0 for i in range(bars.count()))
    assert page.locator("svg.histogram rect.bar.late").count() == 2
    stats = page.locator("#histogram .stats").inner_text()
    assert "median\n2" in stats
    assert "p95\n12" in stats
    assert "maximum\n14" in stats
    open_rows = page.locator("#open tbody tr")
    assert open_rows.count() == 5
    assert "passed 8 business days ago" in open_rows.nth(0).inner_text()
    assert "cancel <b>my</b> order" in page.locator("#ambiguous").inner_text()
    screenshot(page, "evidence-period.png", full_page=True)

    page.emulate_media(media="print")
    assert (chart.bounding_box() or {}).get("height", 0) > 100
    assert page.locator("#late tbody tr").count() == 2
    for paper in ("A4", "Letter"):
        assert page.pdf(format=paper, print_background=True).startswith(b"%PDF")
    assert requests == [(tmp_path / "report.html").as_uri()]
