"""scripts/render_performance.py: the performance page, generated from a bench run's JSON."""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from typing import Any

import pytest

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
    targets, figures = text.split("## Every figure")
    assert "Met: 1 of 2; missed: bulk." in targets
    assert "| per call | 1.2 ms | 1.08x | <= 1.15x | met |" in targets
    assert "| bulk | 900/s | 91 % | >= 95 % | **missed** |" in targets
    assert "memory" not in targets  # no target, so only among the figures
    assert "| per call | 1.2 ms |  | 1.08x | <= 1.15x | met |" in figures
    assert "| bulk | 900/s |  | 91 % | >= 95 % | **missed** |" in figures
    assert "| memory | 12 MB |  |  |  |  |" in figures
    assert "2 cores" in text
    assert "bulk_n=2000" in text
    assert "smoke run" not in text


def test_a_failed_section_is_a_missed_target():
    document = run(quick=False)
    document["rows"].append(
        {
            "measurement": "resume: FAILED",
            "figure": "MeasurementError: a | b",
            "reference": "",
            "ratio": "",
            "target": "",
            "met": False,
        }
    )
    text = render_performance.render(document)
    assert "missed: bulk; resume: FAILED." in text
    assert "| resume: FAILED | MeasurementError: a \\| b |" in text


def test_a_quick_run_says_so():
    assert "**A quick smoke run**" in render_performance.render(run(quick=True))


@pytest.fixture
def bench_module(monkeypatch):
    """benchmarks/bench.py, imported as the bench runs it (its folder first on sys.path); its
    sibling modules leave sys.modules afterwards, as their names (memory, ...) are generic."""
    before = set(sys.modules)
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    yield importlib.import_module("bench")
    for name in set(sys.modules) - before:
        del sys.modules[name]


def test_the_page_renders_what_the_bench_writes(bench_module, tmp_path):
    from _harness import QUICK, Row

    rows = [Row("per call: ours", "1.0 ms", "floor 0.9 ms", "1.11x", "<= 1.15x", True), Row("x", "1")]
    source = tmp_path / "results.json"
    bench_module.write_json(source, rows, sizes=QUICK, quick=True, load=(0.5, 0.25, 0.1), runtime=42.0)
    text = render_performance.render(json.loads(source.read_text()))
    assert "**A quick smoke run**" in text
    assert "| per call: ours | 1.0 ms | 1.11x | <= 1.15x | met |" in text
    assert f"bulk_n={QUICK.bulk_n}" in text
    assert "in 42 s" in text
