# Lanes: mypy and pytest on one Airflow release and Python. A lane is "<airflow>" (on
# DEFAULT_PYTHON) or "<airflow>-py<python>".
LANES := $(LATEST) 2.11.2 3.0.6 3.1.8 3.2.2 $(LATEST)-py3.10 $(LATEST)-py3.12 $(LATEST)-py3.13
# The fault soak (pytest -m soak) runs on the two main lanes only; this is the lanes' one mark
# filter (the browser and deployment stages stay out unless -m names them: tests/conftest.py).
SOAK_LANES := $(LATEST) 2.11.2
lane_marks = $(if $(filter $(1),$(SOAK_LANES)),,-m "not soak")
lane_airflow = $(firstword $(subst -py, ,$(1)))
lane_python = $(or $(word 2,$(subst -py, ,$(1))),$(DEFAULT_PYTHON))

# On every 3.x lane each DeprecationWarning/FutureWarning is an error (old import paths
# included); the few raised inside Airflow's own dependencies are filtered by module in
# pyproject.toml. 2.11 warns about its own Airflow 3 changes (RemovedInAirflow3Warning): not there.
STRICT_WARNINGS := -W error::DeprecationWarning -W error::PendingDeprecationWarning -W error::FutureWarning
lane_warnings = $(if $(filter 2.%,$(call lane_airflow,$(1))),,$(STRICT_WARNINGS))

# A throwaway Airflow home per lane, inside the project.
airflow_env = AIRFLOW_HOME=$(BUILD)/airflow-home-$(1) AIRFLOW__CORE__LOAD_EXAMPLES=False \
	AIRFLOW__CORE__DAGS_FOLDER=$(CURDIR)/example_dags

.PHONY: lanes stress-test

lanes: ## list the lanes
	@for lane in $(LANES); do echo $$lane; done

# The lane rules are patterns, so each runs every time it is asked for (no file is made).
lane-%: mypy-% pytest-% ## mypy and pytest on one lane, e.g. make lane-3.1.8 PYTEST_ARGS=tests/test_phone.py
	@echo "=== lane $*: passed"

# Each lane keeps its own caches: lanes run in parallel against different Airflow stubs.
mypy-%: $(BUILD)/venv-%/.installed ## mypy on one lane
	@echo "=== lane $*: mypy"
	@start=$$SECONDS; $(call venv,$*)/bin/mypy --cache-dir $(BUILD)/mypy-cache-$*; \
	echo "=== lane $*: mypy passed in $$((SECONDS - start)) s"

# pytest's exit code 5 (nothing collected) is a failure here: the suite is never empty.
pytest-%: $(BUILD)/venv-%/.installed ## pytest on one lane
	@echo "=== lane $*: pytest (Airflow $(call lane_airflow,$*), Python $(call lane_python,$*))"
	rm -rf $(BUILD)/airflow-home-$*
	rc=0; start=$$SECONDS; \
	env $(call airflow_env,$*) $(call venv,$*)/bin/python $(call lane_warnings,$*) \
		-m pytest -o cache_dir=$(BUILD)/pytest-cache-$* $(call lane_marks,$*) $(PYTEST_ARGS) || rc=$$?; \
	echo "=== lane $*: pytest exit $$rc in $$((SECONDS - start)) s"; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests on lane $*"; exit 1; fi; \
	exit $$rc

# The non-soak suite 5 times in a row with both cores busy (two CPU burners); prints "N of 5 passed".
stress-test: $(BUILD)/venv-$(LATEST)/.installed ## the suite 5 times with both cores busy
	env $(call airflow_env,stress) PYTEST_FLAGS="$(call lane_warnings,$(LATEST))" \
		scripts/stress_test.sh $(call venv,$(LATEST))/bin/python $(PYTEST_ARGS)
