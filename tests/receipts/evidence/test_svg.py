"""The histogram of business days to honour: one bar per day, heights true to the counts."""

from __future__ import annotations

import html
import math
import re
import xml.etree.ElementTree as ET
from collections import Counter

from tests.receipts.evidence.stories import DAYS
from whatcounts_provider.receipts.evidence.svg import LATE, ON_TIME, OVERFLOW_AFTER, bins, histogram_svg

LIMIT = 10


def parse(svg: str) -> ET.Element:
    """The chart as XML: inline SVG must be well-formed. The text is the module's own output."""
    return ET.fromstring(svg)  # noqa: S314 - our own chart, not untrusted input


def bars(svg: str) -> list[dict[str, object]]:
    """Each drawn bar: its day label, count, late mark, fill, x, width and height, left to right."""
    found = []
    for attrs, title in re.findall(r"<rect ([^>]*)><title>(.*?)</title></rect>", svg):
        values = dict(re.findall(r'([a-z-]+)="([^"]*)"', attrs))
        label, _, count = html.unescape(title).partition(" business days: ")
        found.append(
            {
                "day": label,
                "count": int(count.replace(",", "")),
                "late": values["class"] == "bar late",
                "fill": values["fill"],
                "x": float(values["x"]),
                "width": float(values["width"]),
                "height": float(values["height"]),
            }
        )
    return found


def test_one_bar_per_day_that_occurred() -> None:
    drawn = bars(histogram_svg(Counter(DAYS), LIMIT))
    assert [(b["day"], b["count"]) for b in drawn] == [
        ("0", 2),
        ("1", 5),
        ("2", 6),
        ("3", 3),
        ("5", 1),
        ("9", 1),
        ("12", 1),
        ("14", 1),
    ]


def test_heights_are_proportional_to_counts() -> None:
    drawn = bars(histogram_svg({0: 10, 1: 40, 2: 20, 3: 30}, LIMIT))
    tallest = max(drawn, key=lambda b: b["height"])
    assert tallest["count"] == 40
    for bar in drawn:
        assert math.isclose(bar["height"] / bar["count"], tallest["height"] / 40, rel_tol=0.01), bar


def test_bars_past_the_limit_are_marked_late_and_red() -> None:
    drawn = bars(histogram_svg({9: 1, 10: 2, 11: 3, 14: 1}, LIMIT))
    assert [(b["day"], b["late"], b["fill"]) for b in drawn] == [
        ("9", False, ON_TIME),
        ("10", False, ON_TIME),  # 10 of 10 business days is on time
        ("11", True, LATE),
        ("14", True, LATE),
    ]


def test_the_limit_line_separates_on_time_bars_from_late_ones() -> None:
    svg = histogram_svg({10: 2, 11: 3}, LIMIT)
    on_time, late = bars(svg)
    line = re.search(rf'<line x1="([0-9.]+)" [^>]*stroke="{LATE}" stroke-dasharray', svg)
    assert line
    assert on_time["x"] + on_time["width"] < float(line.group(1)) < late["x"]
    assert "limit: 10 business days" in svg


def test_days_far_past_the_limit_share_one_last_late_bar() -> None:
    cap = LIMIT + OVERFLOW_AFTER
    drawn = bars(histogram_svg({2: 4, cap: 1, cap + 1: 2, cap + 90: 3}, LIMIT))
    assert [(b["day"], b["count"], b["late"]) for b in drawn] == [
        ("2", 4, False),
        (str(cap), 1, True),
        (f">{cap}", 5, True),
    ]
    assert drawn[-1]["x"] == max(b["x"] for b in drawn)


def test_the_axis_always_reaches_the_limit() -> None:
    assert [label for label, _, _ in bins({1: 3}, LIMIT)] == [str(day) for day in range(LIMIT + 1)]


def test_counts_above_a_thousand_read_with_separators() -> None:
    svg = histogram_svg({1: 1234}, LIMIT)
    assert ">1,234</text>" in svg


def test_the_chart_names_no_url_and_is_well_formed() -> None:
    svg = histogram_svg(Counter(DAYS), LIMIT)
    for forbidden in ("xmlns", "://", "href", "url(", "<script", "<image", "<foreignObject"):
        assert forbidden not in svg
    root = parse(svg)
    assert root.tag == "svg"
    assert root.get("role") == "img"
    assert root.get("aria-label")


def test_an_empty_histogram_draws_empty_axes() -> None:
    svg = histogram_svg({}, LIMIT)
    parse(svg)
    assert bars(svg) == []
    assert "<rect" not in svg
    assert "limit: 10 business days" in svg
    assert "business days from request to opt-out" in svg
    numbers = re.findall(r'="(-?[0-9.]+|nan|inf|-inf)"', svg)
    assert numbers
    assert all(math.isfinite(float(n)) for n in numbers)
