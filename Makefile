# Two commands do everything on a fresh machine with Python 3 and git:
#   make demo   the example DAGs against the embedded WhatCounts emulator, with receipts
#   make test   lint once, then type checks and the whole test suite on every lane
#               (a lane = one Airflow release on one Python; see LANES)
# Iterating on one lane:  make lane-3.1.8   (or: make lane-3.3.2-py3.13 PYTEST_ARGS=tests/test_phone.py)
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.9
BUILD := $(CURDIR)/.build
UV := $(BUILD)/tools/bin/uv

# A lane is "<airflow>" (on DEFAULT_PYTHON) or "<airflow>-py<python>".
LATEST := 3.3.2
DEFAULT_PYTHON := 3.11
LANES := $(LATEST) 2.11.2 3.0.6 3.1.8 3.2.2 $(LATEST)-py3.10 $(LATEST)-py3.12 $(LATEST)-py3.13
# The fault soak (pytest -m soak) runs on the two main lanes only; the rest deselect it.
SOAK_LANES := $(LATEST) 2.11.2
lane_airflow = $(firstword $(subst -py, ,$(1)))
lane_python = $(or $(word 2,$(subst -py, ,$(1))),$(DEFAULT_PYTHON))

# Older Airflow releases resolved against today's PyPI break Airflow itself (fastapi/cadwyn/
# starlette for 3.0.6, SQLAlchemy 2.1 for 3.2.2): pin them as of their release date.
EXCLUDE_NEWER_3.0.6 := 2025-08-30
EXCLUDE_NEWER_3.1.8 := 2026-03-12
EXCLUDE_NEWER_3.2.2 := 2026-05-30
# Extra requirements pinned into one Airflow release's lanes. On 3.0 the UI's custom
# connection form needs the FAB provider (the hook's form widgets import flask_appbuilder).
EXTRA_REQUIREMENTS_3.0.6 := apache-airflow-providers-fab
# Tools that check our code, not Airflow's: exempt from the cutoff (a far-future date), so every
# lane type-checks and lints with the same releases where Airflow's pins allow it.
EXCLUDE_NEWER_EXEMPT := ruff mypy librt ast-serialize types-requests
# Dependency groups of pyproject.toml pinned into every lane; add a group here to extend all lanes.
CONSTRAINT_GROUPS := dev objectstore

# On every 3.x lane each DeprecationWarning/FutureWarning is an error (old import paths
# included); the few raised inside Airflow's own dependencies are filtered by module in
# pyproject.toml. 2.11 warns about its own Airflow 3 changes (RemovedInAirflow3Warning): not there.
STRICT_WARNINGS := -W error::DeprecationWarning -W error::PendingDeprecationWarning -W error::FutureWarning
lane_warnings = $(if $(filter 2.%,$(call lane_airflow,$(1))),,$(STRICT_WARNINGS))
# The deployment and browser stages have their own targets (a later -m replaces addopts' -m).
lane_marks = $(if $(filter $(1),$(SOAK_LANES)),-m "not deployment and not browser",-m "not soak and not deployment and not browser")
PYTEST_ARGS ?=

venv = $(BUILD)/venv-$(1)
# A throwaway Airflow home per lane, inside the project.
airflow_env = AIRFLOW_HOME=$(BUILD)/airflow-home-$(1) AIRFLOW__CORE__LOAD_EXAMPLES=False \
	AIRFLOW__CORE__DAGS_FOLDER=$(CURDIR)/example_dags

# Prints the interpreter for Python $(1): pyenv first (uv's discovery stops at pyenv's shims),
# then uv's own discovery, then a uv-managed download. None of them: fail, naming the version.
find_python = { v=$$(command -v pyenv >/dev/null && pyenv versions --bare | grep -E '^$(1)\.[0-9]+$$' | sort -V | tail -1 || true); \
	if [ -n "$$v" ]; then PYENV_VERSION=$$v pyenv which python; \
	elif $(UV) python find -q $(1) 2>/dev/null; then :; \
	elif timeout 300 $(UV) python install -q $(1) && $(UV) python find -q $(1); then :; \
	else echo "make: no Python $(1) for lane $(2): install it (pyenv install $(1), or uv python install $(1))" >&2; exit 1; fi; }

.PHONY: help demo test lint bench constraints clean lanes
help:
	@echo "make demo          the example DAGs (pipeline, 50,000-phone scale-out) against the WhatCounts emulator"
	@echo "make test          ruff once, then mypy and pytest on every lane (make -j2 test: two lanes at a time)"
	@echo "make lane-LANE     mypy and pytest on one lane, e.g. make lane-3.1.8 PYTEST_ARGS=tests/test_phone.py"
	@echo "make lanes         list the lanes: $(LANES)"
	@echo "make bench         benchmarks (prints a table of times and ratios)"
	@echo "make constraints   re-pin constraints/ from PyPI"

lanes:
	@for lane in $(LANES); do echo $$lane; done

$(UV):
	$(PYTHON) -m venv $(BUILD)/tools
	$(BUILD)/tools/bin/python -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)

# One pinned environment per lane; rebuilt when its pins or pyproject change.
# Targets reached only through pattern rules (lane-% -> mypy-% -> venv) are "intermediate":
# make would delete the venv's stamp after each run. Nothing here is intermediate.
.SECONDARY:
$(BUILD)/venv-%/.installed: constraints/airflow-%.txt pyproject.toml | $(UV)
	@python=$$($(call find_python,$(call lane_python,$*),$*)); \
	echo "lane $*: Python $(call lane_python,$*) at $$python"; \
	$(UV) venv -q --allow-existing --python "$$python" $(call venv,$*)
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

# The browser and deployment stages run last, once every lane has passed
# (BROWSER=0 / DEPLOYMENT=0 leave them out while iterating).
BROWSER ?= 1
test: lint $(LANES:%=lane-%)
	@if [ "$(BROWSER)" != 0 ]; then $(MAKE) --no-print-directory test-browser; fi
	@if [ "$(DEPLOYMENT)" != 0 ]; then $(MAKE) --no-print-directory test-deployment; fi

# The lane rules below are patterns, so each runs every time it is asked for (no file is made).
lane-%: mypy-% pytest-%
	@echo "=== lane $*: passed"

# Each lane keeps its own caches: lanes run in parallel against different Airflow stubs.
mypy-%: $(BUILD)/venv-%/.installed
	@echo "=== lane $*: mypy"
	@start=$$SECONDS; $(call venv,$*)/bin/mypy --cache-dir $(BUILD)/mypy-cache-$*; \
	echo "=== lane $*: mypy passed in $$((SECONDS - start)) s"

# pytest's exit code 5 (nothing collected) is a failure here: the suite is never empty.
pytest-%: $(BUILD)/venv-%/.installed
	@echo "=== lane $*: pytest (Airflow $(call lane_airflow,$*), Python $(call lane_python,$*))"
	rm -rf $(BUILD)/airflow-home-$*
	rc=0; start=$$SECONDS; \
	env $(call airflow_env,$*) $(call venv,$*)/bin/python $(call lane_warnings,$*) \
		-m pytest -o cache_dir=$(BUILD)/pytest-cache-$* $(call lane_marks,$*) $(PYTEST_ARGS) || rc=$$?; \
	echo "=== lane $*: pytest exit $$rc in $$((SECONDS - start)) s"; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests on lane $*"; exit 1; fi; \
	exit $$rc

demo: $(BUILD)/venv-$(LATEST)/.installed
	rm -rf $(BUILD)/demo
	env $(call airflow_env,demo) AIRFLOW_HOME=$(BUILD)/demo/airflow-home \
		$(call venv,$(LATEST))/bin/python scripts/demo.py

bench: $(BUILD)/venv-bench/.installed
	env $(call airflow_env,bench) $(BUILD)/venv-bench/bin/python benchmarks/bench.py $(BENCH_ARGS)

# Upstream constraint files are not reachable from every machine: we pin our own, one per lane.
constraints: $(LANES:%=constraints-%) constraints-bench

constraints-bench: | $(UV)
	echo "apache-airflow==$(LATEST)" | $(UV) pip compile -q pyproject.toml - \
		$(CONSTRAINT_GROUPS:%=--group %) --group bench \
		--python-version $(DEFAULT_PYTHON) --annotation-style line -o constraints/bench-airflow-$(LATEST).txt

constraints-%: | $(UV)
	printf '%s\n' apache-airflow==$(call lane_airflow,$*) $(EXTRA_REQUIREMENTS_$(call lane_airflow,$*)) \
	| $(UV) pip compile -q pyproject.toml - $(CONSTRAINT_GROUPS:%=--group %) \
		--python-version $(call lane_python,$*) \
		$(if $(EXCLUDE_NEWER_$(call lane_airflow,$*)),--exclude-newer $(EXCLUDE_NEWER_$(call lane_airflow,$*)) \
			$(EXCLUDE_NEWER_EXEMPT:%=--exclude-newer-package %=2100-01-01)) \
		--annotation-style line -o constraints/airflow-$*.txt

clean:
	rm -rf $(BUILD)

# The non-soak suite 5 times in a row with both cores busy (two CPU burners); prints "N of 5 passed".
.PHONY: stress-test
stress-test: $(BUILD)/venv-$(LATEST)/.installed
	env $(call airflow_env,stress) PYTEST_FLAGS="$(call lane_warnings,$(LATEST))" \
		scripts/stress_test.sh $(call venv,$(LATEST))/bin/python $(PYTEST_ARGS)

# The deployment stage (tests/deployment): Airflow $(LATEST) with CeleryExecutor, PostgreSQL and
# Redis (pip wheels), api-server, scheduler, dag-processor, triggerer and Celery workers, all on
# 127.0.0.1 and all started and stopped by the tests. Its own pinned environment; `make test`
# runs it last, after the version lanes passed. DEPLOYMENT=0 leaves it out while iterating;
# DEPLOYMENT_ARGS passes pytest arguments (e.g. DEPLOYMENT_ARGS="-k scale_out").
DEPLOYMENT ?= 1
DEPLOYMENT_ARGS ?=
$(BUILD)/venv-deploy/.installed: constraints/deploy-airflow-$(LATEST).txt pyproject.toml | $(UV)
	$(UV) venv -q --allow-existing --python $(PYTHON) $(BUILD)/venv-deploy
	VIRTUAL_ENV=$(BUILD)/venv-deploy $(UV) pip install -q --compile-bytecode -r $<
	VIRTUAL_ENV=$(BUILD)/venv-deploy $(UV) pip install -q --compile-bytecode --no-deps -e .
	touch $@

.PHONY: test-deployment constraints-deployment
test-deployment: $(BUILD)/venv-deploy/.installed
	env AIRFLOW_HOME=$(BUILD)/deployment-pytest-home AIRFLOW__CORE__LOAD_EXAMPLES=False \
		$(BUILD)/venv-deploy/bin/python $(STRICT_WARNINGS) -m pytest -m deployment tests/deployment $(DEPLOYMENT_ARGS)

constraints-deployment: | $(UV)
	echo "apache-airflow==$(LATEST)" | $(UV) pip compile -q pyproject.toml - \
		$(CONSTRAINT_GROUPS:%=--group %) --group deployment \
		--python-version $(DEFAULT_PYTHON) --annotation-style line -o constraints/deploy-airflow-$(LATEST).txt

constraints: constraints-deployment

# --- Browser stage: the connection and trigger forms in Chromium (tests/browser) ---------------
# Playwright (pinned per lane: constraints/browser-airflow-*.txt, the lane's pins plus the
# `browser` group) drives Debian's Chromium; nothing is downloaded. Without Chromium: installed
# with apt-get when root; otherwise the stage fails loudly, unless WHATCOUNTS_SKIP_BROWSER=1
# (ignored when CI=true). One lane only: make test-browser BROWSER_LANES=3.3.2
BROWSER_LANES ?= $(LATEST) 2.11.2
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
		rm -rf $(BUILD)/airflow-home-browser-$$v; \
		start=$$(date +%s); rc=0; \
		env $(call airflow_env,browser-$$v) $(BUILD)/venv-$$v/bin/python $$flags -m pytest -m browser tests/browser \
			$(PYTEST_ARGS) || rc=$$?; \
		echo "=== Airflow $$v: browser stage took $$(( $$(date +%s) - start )) s"; \
		if [ $$rc -eq 5 ]; then echo "the browser stage collected no tests on Airflow $$v"; exit 1; fi; \
		if [ $$rc -ne 0 ]; then exit $$rc; fi; \
	done

constraints-browser: | $(UV)
	@for v in $(BROWSER_LANES); do \
		echo "apache-airflow==$$v" | $(UV) pip compile -q pyproject.toml - \
			$(CONSTRAINT_GROUPS:%=--group %) --group browser \
			-c constraints/airflow-$$v.txt --python-version $(DEFAULT_PYTHON) --annotation-style line \
			-o constraints/browser-airflow-$$v.txt; \
	done

constraints: constraints-browser
