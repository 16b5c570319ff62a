"""scripts/render_events.py: the measured section of docs/events.md, generated from the stage's JSON."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest

from tests.helpers import ROOT

spec = importlib.util.spec_from_file_location("render_events", ROOT / "scripts" / "render_events.py")
assert spec is not None
assert spec.loader is not None
render_events = importlib.util.module_from_spec(spec)
spec.loader.exec_module(render_events)


def part(p50: float, p95: float) -> dict[str, float]:
    return {"p50_s": p50, "p95_s": p95, "max_s": p95 + 1, "mean_s": p50}


def figures(p50: float = 2.9, p95: float = 4.6, drain: float = 95.0, runs: int = 6) -> dict[str, Any]:
    return {
        "machine": {"cores": 2, "load_average": [3.2, 2.9, 1.7]},
        "latency": {
            "samples": 20,
            "dominant_part": "task_start_to_receipt",
            "parts": {
                "publish_to_event": part(0.7, 1.9),
                "task_start_to_receipt": part(1.5, 1.6),
                "total": part(p50, p95),
            },
        },
        "scenarios": {
            "single": {"published": 20, "lost": 0, "more_than_one_final_receipt": 0},
            "burst_10000": {"published": 10_000, "drain_s": drain, "dag_runs": runs, "lost": 0},
        },
    }


def test_the_section_states_each_figure_and_whether_its_target_was_met():
    text = render_events.render(figures())
    assert "p50 2.9 s (target ≤ 8 s: met), p95 4.6 s (target ≤ 20 s: met)" in text
    assert "**A burst of 10,000 messages** drained in 95 s (target ≤ 180 s: met) by 6 DAG runs" in text
    assert "| burst_10000 | 10,000 | 95 s | 6 | 0 | — |" in text
    assert "The largest part: task started → receipt written." in text
    assert "2 cores, load average 3.20 2.90 1.70" in text


def test_a_missed_target_says_so():
    text = render_events.render(figures(p95=25.0, drain=200.0, runs=30))
    assert text.count("**missed**") == 3


def test_only_the_marked_section_of_the_page_changes():
    page = "# Title\n\nBefore.\n\n<!-- events:begin -->\nold\n<!-- events:end -->\n\nAfter.\n"
    assert render_events.replace_section(page, "new") == (
        "# Title\n\nBefore.\n\n<!-- events:begin -->\nnew\n<!-- events:end -->\n\nAfter.\n"
    )
    with pytest.raises(ValueError, match="events:begin"):
        render_events.replace_section("no markers", "new")


def test_the_page_has_its_section():
    page = (ROOT / "docs" / "events.md").read_text()
    assert render_events.replace_section(page, "x").count("events:begin") == 1
