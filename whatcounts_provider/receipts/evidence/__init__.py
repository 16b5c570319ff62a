"""Receipts turned into evidence a person can read: one phone's page, and a period's report.

Pure functions: receipts in (``find_receipts`` for a phone, ``iter_receipts`` for a period), a
JSON-safe document out (what ``report --format json`` prints), and a self-contained HTML page of
that document (inline style and SVG, no script, no URL: readable offline and printable years on).
``docs/evidence.md`` describes both documents' keys and both pages.

Modules: ``phone`` and ``period`` (the documents), ``phone_page`` and ``period_page`` (the pages),
``common`` (what a receipt's status means to a reader), ``stats``, ``svg``, ``page`` and ``style``.
"""

from __future__ import annotations

from whatcounts_provider.receipts.evidence.period import period_report
from whatcounts_provider.receipts.evidence.period_page import render_period_html
from whatcounts_provider.receipts.evidence.phone import phone_evidence
from whatcounts_provider.receipts.evidence.phone_page import render_phone_html

__all__ = ["period_report", "phone_evidence", "render_period_html", "render_phone_html"]
