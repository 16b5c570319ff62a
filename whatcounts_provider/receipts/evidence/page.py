"""The frame both pages share: one self-contained HTML file, and the escaping every value goes through.

Every value a page shows comes from receipts, and receipts hold user input (the reply text, the
input row): each one goes through :func:`esc`. The page's content security policy forbids any
script and any fetch, so even a value that slipped through could not load or run anything.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from whatcounts_provider import __version__
from whatcounts_provider.receipts.evidence.common import parse_time
from whatcounts_provider.receipts.evidence.style import CSS

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


def esc(value: object, missing: str = "—") -> str:
    """``value`` as HTML text (quotes included); None as ``missing``."""
    return missing if value is None else html.escape(str(value), quote=True)


def show_time(text: object) -> str:
    """A receipt's time as a reader reads it, to the second, with its zone: ``2026-11-25 16:00:00 UTC``."""
    if text is None:
        return "not recorded"
    try:
        moment = parse_time(text, "time")
    except ValueError:
        return esc(text)  # shown as it stands: evidence is not corrected
    return "not recorded" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 business day``, ``2 business days`` (or ``many``), with thousands separators."""
    return f"{count:,} {word if count == 1 else many or word + 's'}"


def table(
    headers: Sequence[str],
    rows: Iterable[tuple[str, Sequence[str]]],
    *,
    numeric: Sequence[int] = (),
    widths: Sequence[int] = (),
) -> str:
    """An HTML table; each row is ``(css class, cells)``, cells already HTML; headers are text.

    ``widths`` (percent per column) fix the layout, so that every sender code's table lines up.
    """
    head = "".join(f"<th{' class=num' if i in numeric else ''}>{esc(h)}</th>" for i, h in enumerate(headers))
    body = "".join(
        f'<tr class="{esc(css)}">'
        + "".join(f"<td{' class=num' if i in numeric else ''}>{cell}</td>" for i, cell in enumerate(cells))
        + "</tr>"
        for css, cells in rows
    )
    rest = f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    if not widths:
        return f"<table>{rest}"
    cols = "".join(f'<col style="width:{w}%">' for w in widths)
    return f'<table class="fixed"><colgroup>{cols}</colgroup>{rest}'


def section(anchor: str, title: str, inner: str) -> str:
    """A titled section of a page; ``inner`` is already HTML."""
    return f'<section id="{esc(anchor)}"><h2>{esc(title)}</h2>{inner}</section>'


def capped(total: int, shown: int, word: str, many: str | None = None) -> str:
    """The line above a capped list: how many there are, and how many of them are listed."""
    if total == 0:
        return f'<p class="count muted">None in this period: 0 {esc(many or word + "s")}.</p>'
    more = f"; the first {shown:,} are listed" if shown < total else ""
    return f'<p class="count">{esc(plural(total, word, many))}{more}.</p>'


def document(title: str, body: str) -> str:
    """A whole page: inline style, no script, no external resource of any kind."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_POLICY}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="whatcounts_provider {esc(__version__)}">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head>\n"
        f"<body><main>{body}"
        f"<footer>Made by whatcounts_provider {esc(__version__)} from the opt-out receipts. Times are UTC. "
        "Business days are Monday to Friday after the day of the request, up to and including the day "
        "it was honoured (no holiday calendar). This page holds full phone numbers by design: it is "
        "evidence; keep it like the receipts.</footer></main></body></html>\n"
    )
