# Benchmarks: figures and ratios measured in one run, written as JSON and rendered into
# docs/performance.md. BENCH_ARGS="--quick" is a smoke run of every section.
BENCH_ARGS ?=
BENCH_JSON := $(BUILD)/bench/results.json

.PHONY: bench

bench: $(BUILD)/venv-bench/.installed ## benchmarks: .build/bench/results.json, rendered into docs/performance.md
	env $(call airflow_env,bench) $(call venv,bench)/bin/python benchmarks/bench.py --json $(BENCH_JSON) $(BENCH_ARGS)
	$(call venv,bench)/bin/python scripts/render_performance.py $(BENCH_JSON) docs/performance.md

