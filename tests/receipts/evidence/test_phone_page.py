"""The evidence page of one phone: what a lawyer reading it in a dispute sees."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest

from tests.receipts.evidence.stories import INTACT, dispute, dispute_before_reply_keys
from tests.receipts.evidence.support import CODE_A, CODE_B, CODE_C, CODE_D, NOW, PHONE
from whatcounts_provider.receipts.evidence import phone_evidence, render_phone_html

if TYPE_CHECKING:
    from pathlib import Path


def page(tmp_path: Path, **kwargs: Any) -> str:
    return render_phone_html(phone_evidence(dispute(tmp_path), phone=PHONE, now=NOW, **kwargs))


def section(html: str, code: str) -> str:
    match = re.search(rf'<section class="code" id="code-{code}">(.*?)</section>', html, re.S)
    assert match, f"no section for sender code {code}"
    return match.group(1)


def test_the_heading_shows_the_full_phone_and_the_query_time(tmp_path: Path) -> None:
    html = page(tmp_path)
    assert f'<span class="phone">{PHONE}</span>' in html, "the page shows the full phone: it is evidence"
    assert "Query time: <time>2026-12-01 10:00:00 UTC</time>" in html
    assert "5 receipts, processed from 2026-11-25 16:00:00 UTC to 2026-11-30 09:00:00 UTC" in html


def test_the_summary_lists_each_line_and_marks_late_and_open_ones(tmp_path: Path) -> None:
    summary = re.search(r'<section class="summary" id="summary">(.*?)</section>', page(tmp_path), re.S)
    assert summary
    items = re.findall(r'<li class="([a-z]*)">(.*?)</li>', summary.group(1))
    assert items[0] == (
        "",
        f"Opted out of sender code {CODE_A} on 2026-11-25 (UTC), 2 business days after the request of "
        "2026-11-23 (limit 10).",
    )
    assert [css for css, text in items if CODE_C in text] == ["late"]
    assert [css for css, text in items if CODE_D in text] == ["open"]


def test_one_table_per_sender_code_in_processed_order(tmp_path: Path) -> None:
    html = page(tmp_path)
    assert re.findall(r'<section class="code" id="code-([0-9]+)">', html) == [CODE_A, CODE_C, CODE_D, CODE_B]
    rows = re.findall(r'<tr class="entry[^"]*">(.*?)</tr>', section(html, CODE_A), re.S)
    assert len(rows) == 2
    assert "requested: <time>2026-11-23 08:14:09 UTC</time>" in rows[0]
    assert "processed: <time>2026-11-25 16:00:00 UTC</time>" in rows[0]
    assert "<dt>id</dt><dd>17</dd><dt>smsSubscriberId</dt><dd>5</dd><dt>smsSenderId</dt><dd>2</dd>" in rows[0]
    assert "2 of 10 business days" in rows[0]
    assert "DAG whatcounts_bulk_opt_out" in rows[0]
    assert "try 1" in rows[0]
    assert "provider " in rows[0]
    assert "message id: msg-1" in rows[0]
    assert "classifier: <b>opt_out</b>" in rows[0]
    assert "manual__2026-11-30T09:00:00+00:00" in rows[1]


def test_the_message_text_is_shown_as_text_never_as_markup(tmp_path: Path) -> None:
    html = page(tmp_path)
    assert "<script" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; stop texting me" in section(html, CODE_C)


def test_late_opt_outs_are_marked(tmp_path: Path) -> None:
    part = section(page(tmp_path), CODE_C)
    assert '<tr class="entry status-stopped late">' in part
    assert '<span class="late-mark">LATE</span> 17 of 10 business days' in part


def test_a_failed_attempt_shows_the_day_to_honour_by(tmp_path: Path) -> None:
    part = section(page(tmp_path), CODE_D)
    assert '<span class="badge open">NOT honoured yet</span>' in part
    assert "not honoured by this attempt</span><div>honour by 2026-12-06</div>" in part
    assert "no final answer from WhatCounts (HTTP 503)" in part


def test_a_resend_after_a_try_was_cut_short_is_honoured_by_that_try(tmp_path: Path) -> None:
    part = section(page(tmp_path), CODE_B)
    assert '<span class="badge honoured">honoured</span>' in part
    assert "most likely honoured by try 1" in part
    assert "<b>not subscribed</b>" not in part, "never plain 'not subscribed' without the context"
    assert "the answer of the try that was cut short was lost" in part


def test_a_plain_not_subscribed_says_the_code_no_longer_texts_the_phone(tmp_path: Path) -> None:
    part = section(page(tmp_path), CODE_A)
    assert "<b>not subscribed</b>" in part
    assert "so that code no longer texts it. The opt-out is honoured either way." in part


@pytest.mark.parametrize(
    ("integrity", "css", "shown"),
    [
        (INTACT, "intact", "Intact.</span> The receipts of 3 tries were checked"),
        (None, "not_checked", "Not checked.</span> These receipts were not verified"),
        (
            {
                "status": "problems",
                "checked_tries": 2,
                "problems": [
                    {"kind": "modified", "where": "dag_id=d/part-001.jsonl", "detail": "<sha> differs"}
                ],
            },
            "problems",
            "PROBLEMS FOUND.</span> 1 problem in the receipts of 2 tries checked:",
        ),
        (
            {
                "status": "not_checked",
                "checked_tries": 1,
                "problems": [{"kind": "unfinished", "where": "dag_id=d/try=1", "detail": "no summary"}],
            },
            "not_checked",
            "Not checked.</span> No try of these receipts has a summary with digests to check them "
            "against. 1 try could not be checked (see the notes).",
        ),
    ],
)
def test_the_integrity_check_is_its_own_section(
    tmp_path: Path, integrity: dict[str, Any] | None, css: str, shown: str
) -> None:
    html = page(tmp_path, integrity=integrity)
    block = re.search(r'<section class="integrity ([a-z_]+)" id="integrity">(.*?)</section>', html, re.S)
    assert block
    assert block.group(1) == css
    assert shown in block.group(2)
    if css == "problems":
        row = "<td>modified</td><td>dag_id=d/part-001.jsonl</td><td>&lt;sha&gt; differs</td>"
        assert row in block.group(2)
    if integrity and integrity["problems"] and css != "problems":
        assert '<tr class=""><td>unfinished</td><td>dag_id=d/try=1</td>' in block.group(2), "a note, listed"


def test_the_page_loads_nothing_from_anywhere(tmp_path: Path) -> None:
    html = page(tmp_path, integrity=INTACT)
    for forbidden in ("http://", "https://", "src=", "<script", "<link", "@import", "url("):
        assert forbidden not in html
    assert "Content-Security-Policy\" content=\"default-src 'none'" in html
    assert "@media print" in html


def test_receipts_from_before_the_reply_keys_still_make_a_page(tmp_path: Path) -> None:
    old = dispute_before_reply_keys(tmp_path)
    html = render_phone_html(phone_evidence(old, phone=PHONE, now=NOW))
    assert "no reply text" in html


def test_no_receipt_is_said_plainly() -> None:
    html = render_phone_html(phone_evidence([], phone=PHONE, now=NOW))
    assert "No receipt holds this phone." in html
    assert "0 receipts ·" in html
