# Two commands do everything on a fresh machine with Python 3 and git:
#   make demo   the example DAGs against the embedded WhatCounts emulator, with receipts
#   make test   lint once, then type checks and the whole test suite on every lane (a lane = one
#               Airflow release on one Python), then the browser and deployment stages
# Iterating on one lane:  make lane-3.3.2 PYTEST_ARGS=tests/test_phone.py
# The stages live in make/*.mk; `make help` lists every target.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
BUILD := $(CURDIR)/.build
LATEST := 3.3.2
DEFAULT_PYTHON := 3.11
# The browser and deployment stages run after the lanes; 0 leaves one out while iterating.
BROWSER ?= 1
DEPLOYMENT ?= 1
PYTEST_ARGS ?=

include make/venvs.mk make/lanes.mk make/constraints.mk make/browser.mk make/deployment.mk make/bench.mk

.PHONY: help demo test lint clean

help: ## this list
	@grep -hE '^[a-zA-Z%_.-]+:.*## ' $(MAKEFILE_LIST) | sort | awk -F':.*## ' '{printf "make %-24s %s\n", $$1, $$2}'

demo: $(BUILD)/venv-$(LATEST)/.installed ## the example DAGs (pipeline, SQS queue, 50,000-phone scale-out) against the emulator
	rm -rf $(BUILD)/demo
	env $(call airflow_env,demo) AIRFLOW_HOME=$(BUILD)/demo/airflow-home \
		$(call venv,$(LATEST))/bin/python scripts/demo.py

test: lint $(LANES:%=lane-%) ## lint, every lane, then the browser and deployment stages
	@if [ "$(BROWSER)" != 0 ]; then $(MAKE) --no-print-directory test-browser; fi
	@if [ "$(DEPLOYMENT)" != 0 ]; then $(MAKE) --no-print-directory test-deployment; fi

# The last step fails on a target without a "## " description, the line `make help` lists.
lint: $(BUILD)/venv-$(LATEST)/.installed $(BUILD)/venv-lint/.installed ## ruff, the import contracts, and help naming every target
	$(call venv,$(LATEST))/bin/ruff check .
	$(call venv,$(LATEST))/bin/ruff format --check .
	$(call venv,lint)/bin/lint-imports
	@missing=$$(grep -hoE '^[a-zA-Z%_.-]+:' $(MAKEFILE_LIST) | tr -d : | grep -vE '^(\.|\$$)' | sort -u \
		| while read -r target; do grep -qE "^$${target//%/\\%}:.*## " $(MAKEFILE_LIST) || echo "$$target"; done); \
	if [ -n "$$missing" ]; then echo "targets without a ## line for make help: $$missing"; exit 1; fi

clean: ## remove .build (every venv, cache and Airflow home)
	rm -rf $(BUILD)
