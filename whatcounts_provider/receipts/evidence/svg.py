"""The histogram of business days to honour, drawn as inline SVG by hand.

The provider's runtime needs only Airflow, requests and phonenumbers; a plotting library would add
a dependency for one bar chart. The SVG has no ``xmlns`` (inline SVG in HTML needs none), so the
page names no URL at all, and its colours are attributes, so it prints as it shows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from whatcounts_provider.receipts.evidence.page import esc

if TYPE_CHECKING:
    from collections.abc import Mapping

WIDTH, HEIGHT = 720, 260
_LEFT, _RIGHT, _TOP, _BOTTOM = 56, 12, 22, 44
#: Days past the limit shown one bar each; later ones share the last bar.
OVERFLOW_AFTER = 20
ON_TIME, LATE = "#2f6fb0", "#b42318"


def bins(histogram: Mapping[int, int], limit: int) -> list[tuple[str, int, bool]]:
    """The bars: ``(label, count, late)`` for each day from 0 to the last one seen (at least the
    limit, so the limit always shows), with every day beyond ``limit + OVERFLOW_AFTER`` in one bar."""
    cap = limit + OVERFLOW_AFTER
    last = min(max([limit, *histogram]), cap)
    shown = [(str(day), histogram.get(day, 0), day > limit) for day in range(last + 1)]
    beyond = sum(count for day, count in histogram.items() if day > cap)
    if beyond:
        shown.append((f">{cap}", beyond, True))
    return shown


def histogram_svg(histogram: Mapping[int, int], limit: int) -> str:
    """A bar chart of how many opt-outs took how many business days; bars past ``limit`` in red."""
    bars = bins(histogram, limit)
    top = max((count for _, count, _ in bars), default=0) or 1
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM
    step = plot_w / len(bars)
    base = _TOP + plot_h
    every = max(1, round(len(bars) / 24))  # x labels that do not overlap
    parts = [
        f'<line x1="{_LEFT}" y1="{base}" x2="{WIDTH - _RIGHT}" y2="{base}" stroke="#57606a"/>',
        f'<line x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{base}" stroke="#57606a"/>',
    ]
    for value in sorted({0, top // 2, top}):
        y = base - plot_h * value / top
        parts.append(
            f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#57606a">{value:,}</text>'
        )
    for index, (label, count, late) in enumerate(bars):
        x = _LEFT + index * step
        if count:
            height = max(1.0, plot_h * count / top)
            parts.append(
                f'<rect class="bar{" late" if late else ""}" x="{x + step * 0.12:.1f}" '
                f'y="{base - height:.1f}" '
                f'width="{step * 0.76:.1f}" height="{height:.1f}" fill="{LATE if late else ON_TIME}">'
                f"<title>{esc(label)} business days: {count:,}</title></rect>"
            )
            if step >= 18:
                parts.append(
                    f'<text x="{x + step / 2:.1f}" y="{base - height - 4:.1f}" text-anchor="middle" '
                    f'font-size="10" fill="#1f2328">{count:,}</text>'
                )
        if index % every == 0 or label.startswith(">"):
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{base + 15}" text-anchor="middle" font-size="11" '
                f'fill="#57606a">{esc(label)}</text>'
            )
    limit_x = _LEFT + (limit + 1) * step
    parts.append(
        f'<line x1="{limit_x:.1f}" y1="{_TOP - 6}" x2="{limit_x:.1f}" y2="{base}" stroke="{LATE}" '
        f'stroke-dasharray="4 3"/><text x="{limit_x + 4:.1f}" y="{_TOP + 4}" font-size="11" '
        f'fill="{LATE}">limit: {limit} business days</text>'
    )
    parts.append(
        f'<text x="{_LEFT + plot_w / 2:.1f}" y="{HEIGHT - 6}" text-anchor="middle" font-size="12" '
        'fill="#1f2328">business days from request to opt-out</text>'
    )
    return (
        f'<svg class="histogram" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-label="Histogram of business days to honour"><title>Business days to honour</title>'
        f"{''.join(parts)}</svg>"
    )
