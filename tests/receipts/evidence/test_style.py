"""The one stylesheet: what the pages need to print on A4 or Letter and to read offline."""

from __future__ import annotations

import re

from whatcounts_provider.receipts.evidence.style import CSS


def block(css: str, at_rule: str) -> str:
    """The inside of the first ``at_rule { ... }`` of ``css``."""
    start = css.index(at_rule)
    opening = css.index("{", start)
    depth = 0
    for index in range(opening, len(css)):
        depth += {"{": 1, "}": -1}.get(css[index], 0)
        if depth == 0:
            return css[opening + 1 : index]
    raise AssertionError(f"{at_rule} is not closed")


def rules(css: str) -> dict[str, dict[str, str]]:
    """Each selector's declarations (``{"thead": {"display": "table-header-group"}}``); one level."""
    found: dict[str, dict[str, str]] = {}
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        declarations = dict(
            (name.strip(), value.strip())
            for name, _, value in (part.partition(":") for part in body.split(";"))
            if name.strip()
        )
        for selector in selectors.split(","):
            found.setdefault(selector.strip(), {}).update(declarations)
    return found


PRINT = rules(block(CSS, "@media print"))


def avoids_break_inside(selector: str) -> bool:
    props = PRINT.get(selector, {})
    return "avoid" in (props.get("break-inside"), props.get("page-break-inside"))


def test_there_are_print_rules() -> None:
    assert "@media print" in CSS
    assert PRINT, "the print block holds rules"


def test_the_page_fits_a4_and_letter_alike() -> None:
    page = PRINT["@page"]
    assert "margin" in page
    assert "size" not in page, "no fixed paper size: the printer's A4 or Letter is used"
    assert PRINT["main"]["max-width"] == "none", "the text uses the paper's whole width"


def test_table_headers_repeat_on_each_printed_page() -> None:
    assert PRINT["thead"]["display"] == "table-header-group"


def test_rows_and_boxes_are_never_split_across_pages() -> None:
    for selector in ("tr", ".summary", ".integrity", "figure"):
        assert avoids_break_inside(selector), selector


def test_a_heading_stays_with_what_it_heads() -> None:
    h2 = PRINT["h2"]
    assert "avoid" in (h2.get("break-after"), h2.get("page-break-after"))


def test_colours_are_kept_on_paper() -> None:
    everything = PRINT["*"]
    assert everything.get("print-color-adjust") == "exact"
    assert everything.get("-webkit-print-color-adjust") == "exact"


def test_late_is_red_and_red_is_defined() -> None:
    screen = rules(CSS.replace(block(CSS, "@media print"), ""))
    assert screen[".late-mark"]["color"] == "var(--bad)"
    assert re.fullmatch(r"#[0-9a-f]{6}", screen[":root"]["--bad"])


def test_nothing_to_fetch_system_fonts_only() -> None:
    for forbidden in ("url(", "@import", "@font-face", "://"):
        assert forbidden not in CSS
