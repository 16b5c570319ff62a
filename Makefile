# Two commands do everything on a fresh machine with Python 3 and git:
#   make demo   the pipeline example DAG against the embedded WhatCounts emulator
#   make test   lint, type checks and the whole test suite on every supported Airflow
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.9
AIRFLOW_VERSIONS := 3.3.2 2.11.2
LATEST := 3.3.2
BUILD := $(CURDIR)/.build
UV := $(BUILD)/tools/bin/uv
# Both Airflow lines fail on their own deprecations only where we can act on them:
# on 3.x every DeprecationWarning/FutureWarning is an error (old import paths included).
STRICT_WARNINGS := -W error::DeprecationWarning -W error::PendingDeprecationWarning -W error::FutureWarning
PYTEST_FLAGS_3.3.2 := $(STRICT_WARNINGS)
PYTEST_FLAGS_2.11.2 :=
PYTEST_ARGS ?=

venv = $(BUILD)/venv-$(1)
# A throwaway Airflow home per version, inside the project.
airflow_env = AIRFLOW_HOME=$(BUILD)/airflow-home-$(1) AIRFLOW__CORE__LOAD_EXAMPLES=False \
	AIRFLOW__CORE__DAGS_FOLDER=$(CURDIR)/example_dags

.PHONY: help demo test lint bench constraints clean
help:
	@echo "make demo   run the pipeline example DAG against the WhatCounts emulator"
	@echo "make test   ruff, mypy and pytest on Airflow $(AIRFLOW_VERSIONS)"
	@echo "make bench  benchmarks (prints a table of times and ratios)"
	@echo "make constraints  re-pin constraints/ from PyPI"

$(UV):
	$(PYTHON) -m venv $(BUILD)/tools
	$(BUILD)/tools/bin/python -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)

# One pinned environment per Airflow version; rebuilt when its pins or pyproject change.
$(BUILD)/venv-%/.installed: constraints/airflow-%.txt pyproject.toml | $(UV)
	$(UV) venv -q --allow-existing --python $(PYTHON) $(call venv,$*)
	VIRTUAL_ENV=$(call venv,$*) $(UV) pip install -q --compile-bytecode -r constraints/airflow-$*.txt
	VIRTUAL_ENV=$(call venv,$*) $(UV) pip install -q --compile-bytecode --no-deps -e .
	touch $@

$(BUILD)/venv-bench/.installed: constraints/bench-airflow-$(LATEST).txt pyproject.toml | $(UV)
	$(UV) venv -q --allow-existing --python $(PYTHON) $(BUILD)/venv-bench
	VIRTUAL_ENV=$(BUILD)/venv-bench $(UV) pip install -q --compile-bytecode -r $<
	VIRTUAL_ENV=$(BUILD)/venv-bench $(UV) pip install -q --compile-bytecode --no-deps -e .
	touch $@

lint: $(BUILD)/venv-$(LATEST)/.installed
	$(call venv,$(LATEST))/bin/ruff check .
	$(call venv,$(LATEST))/bin/ruff format --check .

# pytest's exit code 5 (nothing collected) is a failure here: the suite is never empty.
test: lint $(foreach v,$(AIRFLOW_VERSIONS),$(BUILD)/venv-$(v)/.installed)
	@for v in $(AIRFLOW_VERSIONS); do \
		echo "=== Airflow $$v: mypy"; \
		$(BUILD)/venv-$$v/bin/mypy; \
	done
	@for v in $(AIRFLOW_VERSIONS); do \
		echo "=== Airflow $$v: pytest"; \
		rm -rf $(BUILD)/airflow-home-$$v; \
		flags=$$(case $$v in 3.3.2) echo "$(PYTEST_FLAGS_3.3.2)";; *) echo "$(PYTEST_FLAGS_2.11.2)";; esac); \
		rc=0; env $(call airflow_env,$$v) $(BUILD)/venv-$$v/bin/python $$flags -m pytest $(PYTEST_ARGS) || rc=$$?; \
		if [ $$rc -eq 5 ]; then echo "pytest collected no tests on Airflow $$v"; exit 1; fi; \
		if [ $$rc -ne 0 ]; then exit $$rc; fi; \
	done

demo: $(BUILD)/venv-$(LATEST)/.installed
	rm -rf $(BUILD)/demo
	env $(call airflow_env,demo) AIRFLOW_HOME=$(BUILD)/demo/airflow-home \
		$(call venv,$(LATEST))/bin/python scripts/demo.py

bench: $(BUILD)/venv-bench/.installed
	env $(call airflow_env,bench) $(BUILD)/venv-bench/bin/python benchmarks/bench.py $(BENCH_ARGS)

# Upstream constraint files are not reachable from every machine: we pin our own.
constraints: | $(UV)
	@for v in $(AIRFLOW_VERSIONS); do \
		echo "apache-airflow==$$v" | $(UV) pip compile -q pyproject.toml - --group dev \
			--python-version 3.11 --annotation-style line -o constraints/airflow-$$v.txt; \
	done
	echo "apache-airflow==$(LATEST)" | $(UV) pip compile -q pyproject.toml - --group dev --group bench \
		--python-version 3.11 --annotation-style line -o constraints/bench-airflow-$(LATEST).txt

clean:
	rm -rf $(BUILD)

# --- Browser stage: the connection and trigger forms in Chromium (tests/browser) ---------------
# Playwright (pinned per lane: constraints/browser-airflow-*.txt, the lane's pins plus the
# `browser` group) drives Debian's Chromium; nothing is downloaded. Without Chromium: installed
# with apt-get when root; otherwise the stage fails loudly, unless WHATCOUNTS_SKIP_BROWSER=1
# (ignored when CI=true). One lane only: make test-browser BROWSER_LANES=3.3.2
BROWSER_LANES ?= $(AIRFLOW_VERSIONS)
CHROMIUM ?= /usr/bin/chromium
export WHATCOUNTS_CHROMIUM := $(CHROMIUM)

.PHONY: test-browser chromium constraints-browser
$(BUILD)/venv-%/.browser-installed: constraints/browser-airflow-%.txt $(BUILD)/venv-%/.installed
	VIRTUAL_ENV=$(call venv,$*) $(UV) pip install -q --compile-bytecode -r $<
	touch $@

chromium:
	@if [ ! -x "$(CHROMIUM)" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "=== installing Chromium (apt-get install -y chromium)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi; \
	if [ -x "$(CHROMIUM)" ]; then exit 0; fi; \
	if [ "$${WHATCOUNTS_SKIP_BROWSER:-}" = 1 ] && [ "$${CI:-}" != true ]; then \
		echo "!!! SKIPPING the browser stage: no Chromium at $(CHROMIUM) (WHATCOUNTS_SKIP_BROWSER=1)" >&2; \
	else \
		echo "!!! BROWSER TESTS CANNOT RUN: no Chromium at $(CHROMIUM) (install Debian's chromium as root," >&2; \
		echo "!!! or set CHROMIUM=/path/to/chromium), or skip this stage with WHATCOUNTS_SKIP_BROWSER=1." >&2; \
		exit 1; \
	fi

test-browser: chromium $(foreach v,$(BROWSER_LANES),$(BUILD)/venv-$(v)/.browser-installed)
	@if [ ! -x "$(CHROMIUM)" ]; then exit 0; fi; \
	for v in $(BROWSER_LANES); do \
		echo "=== Airflow $$v: browser stage"; \
		flags=$$(case $$v in 3.*) echo "$(STRICT_WARNINGS)";; esac); \
		start=$$(date +%s); rc=0; \
		env $(call airflow_env,$$v) $(BUILD)/venv-$$v/bin/python $$flags -m pytest -m browser tests/browser \
			$(PYTEST_ARGS) || rc=$$?; \
		echo "=== Airflow $$v: browser stage took $$(( $$(date +%s) - start )) s"; \
		if [ $$rc -eq 5 ]; then echo "the browser stage collected no tests on Airflow $$v"; exit 1; fi; \
		if [ $$rc -ne 0 ]; then exit $$rc; fi; \
	done

constraints-browser: | $(UV)
	@for v in $(AIRFLOW_VERSIONS); do \
		echo "apache-airflow==$$v" | $(UV) pip compile -q pyproject.toml - --group dev --group browser \
			-c constraints/airflow-$$v.txt --python-version 3.11 --annotation-style line \
			-o constraints/browser-airflow-$$v.txt; \
	done
