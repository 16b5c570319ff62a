# Constraints: upstream constraint files are not reachable from every machine, so we pin our own
# with uv, one file per environment. `make constraints` re-pins them all.

# Older Airflow releases resolved against today's index break Airflow itself (fastapi/cadwyn/
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
# The OpenLineage provider (the `openlineage` group) is pinned into these lanes only: the lineage
# tests run with it there, and every other lane shows that the provider works without it.
LINEAGE_LANES := $(LATEST) 2.11.2

# $(call pin,AIRFLOW,PYTHON,EXTRA_ARGS,OUTPUT): Airflow AIRFLOW with the project and its groups.
pin = printf '%s\n' apache-airflow==$(1) $(EXTRA_REQUIREMENTS_$(1)) \
	| $(UV) pip compile -q pyproject.toml - $(CONSTRAINT_GROUPS:%=--group %) --python-version $(2) \
		$(if $(EXCLUDE_NEWER_$(1)),--exclude-newer $(EXCLUDE_NEWER_$(1)) \
			$(EXCLUDE_NEWER_EXEMPT:%=--exclude-newer-package %=2100-01-01)) \
		$(3) --annotation-style line -o $(4)

.PHONY: constraints constraints-bench constraints-deployment constraints-browser constraints-lint

constraints: $(LANES:%=constraints-%) constraints-bench constraints-deployment constraints-browser constraints-lint ## re-pin every file in constraints/

constraints-%: | $(UV) ## re-pin one lane, e.g. make constraints-3.1.8
	$(call pin,$(call lane_airflow,$*),$(call lane_python,$*),$(if $(filter $*,$(LINEAGE_LANES)),--group openlineage),constraints/airflow-$*.txt)

constraints-bench: | $(UV) ## re-pin the benchmark environment
	$(call pin,$(LATEST),$(DEFAULT_PYTHON),--group bench,constraints/bench-airflow-$(LATEST).txt)

constraints-deployment: | $(UV) ## re-pin the deployment stage's environment
	$(call pin,$(LATEST),$(DEFAULT_PYTHON),--group deployment,constraints/deploy-airflow-$(LATEST).txt)

# A make loop, not a shell one: pin needs each release as a make value to find its cutoff and extras.
constraints-browser: | $(UV) ## re-pin the browser stage's additions to its lanes
	$(foreach v,$(BROWSER_LANES),$(call pin,$(v),$(DEFAULT_PYTHON),--group browser -c constraints/airflow-$(v).txt,constraints/browser-airflow-$(v).txt);)

constraints-lint: | $(UV) ## re-pin the import-contract checker (no Airflow)
	$(UV) pip compile -q --group pyproject.toml:lint --python-version $(DEFAULT_PYTHON) \
		--annotation-style line -o constraints/lint.txt
