"""The frame both pages share: every value shown as text, nothing to load or run."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

import pytest

from whatcounts_provider import __version__
from whatcounts_provider.receipts.evidence import (
    period_report,
    phone_evidence,
    render_period_html,
    render_phone_html,
)
from whatcounts_provider.receipts.evidence.page import (
    capped,
    document,
    esc,
    plural,
    section,
    show_time,
    table,
)

UTC = timezone.utc


def mark(field: str) -> str:
    """Markup a reader must see as text: it would be an element if it were not escaped."""
    return f"<x-{field} title=\"'&'\">"


def shown(field: str) -> str:
    return esc(mark(field))


PHONE = mark("phone")


def hostile(row: int, status: str, **extra: Any) -> dict[str, Any]:
    """A receipt whose every text field holds markup (as a tampered or odd input might)."""
    return {
        "row": row,
        "phone": PHONE,
        "sender_code": mark("sender_code"),
        "status": status,
        "processed_at": "2026-11-25T16:00:00.000000+00:00",
        "requested_at": "2026-11-02T12:00:00.000000+00:00",
        "dag_id": mark("dag_id"),
        "run_id": mark("run_id"),
        "task_id": mark("task_id"),
        "map_index": mark("map_index"),
        "try_number": mark("try_number"),
        "provider_version": mark("provider_version"),
        "message": mark("message"),
        "message_id": mark("message_id"),
        "reply_reason": mark("reply_reason"),
        "error": mark("error"),
        "whatcounts": {"id": mark("id"), "smsSubscriberId": mark("smsSubscriberId"), "smsSenderId": 2},
        **extra,
    }


RECEIPTS = [
    hostile(1, "stopped", reply_decision="ambiguous"),  # late (17 business days), and ambiguous
    hostile(2, "failed", processed_at="2026-11-26T16:00:00.000000+00:00"),  # open
    hostile(3, mark("status"), reply_decision=mark("reply_decision")),
]
NOW = datetime(2026, 12, 1, 10, tzinfo=UTC)
INTEGRITY = {
    "status": "problems",
    "checked_tries": 1,
    "problems": [{"kind": mark("kind"), "where": mark("where"), "detail": mark("detail")}],
}
PHONE_FIELDS = [
    "phone", "sender_code", "status", "dag_id", "run_id", "task_id", "map_index", "try_number",
    "provider_version", "message", "message_id", "reply_reason", "reply_decision", "error", "id",
    "smsSubscriberId", "kind", "where", "detail",
]  # fmt: skip
PERIOD_FIELDS = [
    "phone", "sender_code", "status", "dag_id", "run_id", "task_id", "map_index", "try_number",
    "message", "reply_reason", "error",
]  # fmt: skip


def phone_page() -> str:
    return render_phone_html(phone_evidence(RECEIPTS, phone=PHONE, now=NOW, integrity=INTEGRITY))


def period_page() -> str:
    since, until = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
    return render_period_html(period_report(RECEIPTS, since=since, until=until, now=NOW))


@pytest.mark.parametrize(
    ("render", "fields"), [(phone_page, PHONE_FIELDS), (period_page, PERIOD_FIELDS)], ids=["phone", "period"]
)
def test_every_value_from_the_receipts_is_shown_as_text(render: Any, fields: list[str]) -> None:
    page = render()
    assert "<x-" not in page, "a value from a receipt became markup"
    missing = [field for field in fields if shown(field) not in page]
    assert missing == [], "each value is on the page, as the text it was"


def test_esc_escapes_markup_and_both_quotes() -> None:
    assert esc("<a href=\"x\" title='y'>&</a>") == (
        "&lt;a href=&quot;x&quot; title=&#x27;y&#x27;&gt;&amp;&lt;/a&gt;"
    )
    assert esc(None) == "—"
    assert esc(None, "(none)") == "(none)"
    assert esc(0) == "0"


def test_a_time_is_shown_in_utc_to_the_second() -> None:
    assert show_time("2026-11-25T17:00:00.250000+01:00") == "2026-11-25 16:00:00 UTC"
    assert show_time(None) == "not recorded"


def test_a_time_that_cannot_be_read_is_shown_as_it_stands_and_escaped() -> None:
    assert show_time("<b>tuesday</b>") == "&lt;b&gt;tuesday&lt;/b&gt;"


def test_plural_and_thousands() -> None:
    assert plural(1, "business day") == "1 business day"
    assert plural(2, "business day") == "2 business days"
    assert plural(0, "receipt") == "0 receipts"
    assert plural(1234, "try", "tries") == "1,234 tries"


def test_table_headers_and_row_classes_are_escaped() -> None:
    html = table(["<Phone>"], [('late" onclick="x', ["<b>cell</b>"])], numeric=(0,))
    assert "<th class=num>&lt;Phone&gt;</th>" in html
    assert '<tr class="late&quot; onclick=&quot;x">' in html
    assert "<td class=num><b>cell</b></td>" in html, "cells are HTML the pages built"


def test_fixed_tables_line_up_by_their_widths() -> None:
    html = table(["a", "b"], [], widths=(30, 70))
    assert html.startswith('<table class="fixed"><colgroup><col style="width:30%"><col style="width:70%">')


def test_section_escapes_its_anchor_and_title() -> None:
    assert section('a"b', "<T>", "<p>x</p>") == '<section id="a&quot;b"><h2>&lt;T&gt;</h2><p>x</p></section>'


def test_a_capped_list_says_its_exact_total_and_when_it_was_cut() -> None:
    assert capped(0, 0, "late opt-out") == '<p class="count muted">None in this period: 0 late opt-outs.</p>'
    assert capped(3, 3, "open pair") == '<p class="count">3 open pairs.</p>'
    assert capped(1500, 200, "reply", "replies") == (
        '<p class="count">1,500 replies; the first 200 are listed.</p>'
    )


def policy(html: str) -> dict[str, str]:
    match = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', html)
    assert match, "the page states its content security policy"
    directives = (part.strip().split(" ", 1) for part in match.group(1).split(";"))
    return {name: value for name, value in directives}


def test_the_policy_forbids_scripts_fetches_forms_and_base_urls() -> None:
    rules = policy(document("t", ""))
    assert rules["default-src"] == "'none'"  # so scripts, fonts, frames, connections: none
    assert rules["style-src"] == "'unsafe-inline'"
    assert rules["img-src"] == "data:"
    assert rules["base-uri"] == "'none'"
    assert rules["form-action"] == "'none'"
    assert "script-src" not in rules
    assert "connect-src" not in rules


def test_the_frame_has_no_script_and_no_url() -> None:
    html = document("Opt-out evidence", "<p>body</p>")
    for forbidden in ("<script", "<link", "<iframe", "<img", "src=", "href=", "@import", "url(", "xmlns"):
        assert forbidden not in html
    assert re.search(r"[a-z][a-z0-9+.-]*://", html) is None
    assert re.search(r"\bon[a-z]+=", html) is None, "no event handler attributes"


def test_the_frame_is_one_self_contained_page() -> None:
    html = document("<T>", "<p>body</p>")
    assert html.startswith("<!DOCTYPE html>\n")
    assert '<meta charset="utf-8">' in html
    assert "<title>&lt;T&gt;</title>" in html
    assert "<style>" in html
    assert "@media print" in html
    assert "<main><p>body</p>" in html
    assert f"whatcounts_provider {__version__}" in html


def test_the_footer_tells_the_reader_how_times_and_days_count_and_how_to_keep_the_page() -> None:
    footer = re.search(r"<footer>(.*?)</footer>", document("t", ""), re.S)
    assert footer
    assert "Times are UTC." in footer.group(1)
    assert "Monday to Friday" in footer.group(1)
    assert "full phone numbers" in footer.group(1)
