"""scripts/render_performance.py: the performance page, generated from a bench run's JSON."""

from __future__ import annotations

import importlib.util
import json
from typing import Any

from tests.helpers import ROOT

spec = importlib.util.spec_from_file_location(
    "render_performance", ROOT / "scripts" / "render_performance.py"
)
assert spec is not None
assert spec.loader is not None
render_performance = importlib.util.module_from_spec(spec)
spec.loader.exec_module(render_performance)


def run(quick: bool) -> dict[str, Any]:
    row = {"measurement": "", "figure": "", "reference": "", "ratio": "", "target": "", "met": None}
    return {
        "date": "2026-12-05T22:00:00+00:00",
        "quick": quick,
        "runtime_seconds": 61.5,
        "machine": {"cores": 2, "load_at_start": [1.5, 0.7], "python": "3.11.7", "platform": "Linux"},
        "versions": {"apache-airflow": "3.3.2"},
        "sizes": {"bulk_n": 2000},
        "rows": [
            {
                **row,
                "measurement": "per call",
                "figure": "1.2 ms",
                "ratio": "1.08x",
                "target": "<= 1.15x",
                "met": True,
            },
            {
                **row,
                "measurement": "bulk",
                "figure": "900/s",
                "ratio": "91 %",
                "target": ">= 95 %",
                "met": False,
            },
            {**row, "measurement": "memory", "figure": "12 MB"},
        ],
    }


def test_the_page_shows_every_figure_and_whether_each_target_was_met(tmp_path):
    source, page = tmp_path / "results.json", tmp_path / "performance.md"
    source.write_text(json.dumps(run(quick=False)))
    assert render_performance.main([str(source), str(page)]) == 0
    text = page.read_text()
    assert "| per call | 1.2 ms |  | 1.08x | <= 1.15x | yes |" in text
    assert "| bulk | 900/s |  | 91 % | >= 95 % | **NO** |" in text
    assert "| memory | 12 MB |  |  |  |  |" in text
    assert "Targets met: 1 of 2; missed: bulk." in text
    assert "2 cores" in text
    assert "quick smoke run" not in text


def test_a_quick_run_says_so():
    assert "**A quick smoke run**" in render_performance.render(run(quick=True))
