# Environments: one recipe builds every venv under .build/ from its pinned constraints file.
UV_VERSION := 0.13.9
UV := $(BUILD)/tools/bin/uv
venv = $(BUILD)/venv-$(1)

# Prints the interpreter for Python $(1): pyenv first (uv's discovery stops at pyenv's shims),
# then uv's own discovery, then a uv-managed download. None of them: fail, naming the version.
find_python = { v=$$(command -v pyenv >/dev/null && pyenv versions --bare | grep -E '^$(1)\.[0-9]+$$' | sort -V | tail -1 || true); \
	if [ -n "$$v" ]; then PYENV_VERSION=$$v pyenv which python; \
	elif $(UV) python find -q $(1) 2>/dev/null; then :; \
	elif timeout 300 $(UV) python install -q $(1) && $(UV) python find -q $(1); then :; \
	else echo "make: no Python $(1) for $(2): install it (pyenv install $(1), or uv python install $(1))" >&2; exit 1; fi; }

# $(call make_venv,NAME,CONSTRAINTS,PYTHON_VERSION,EDITABLE): the venv .build/venv-NAME with the
# pins of CONSTRAINTS, and the project itself (editable, no deps) unless EDITABLE is "no".
define make_venv
	@python=$$($(call find_python,$(3),venv $(1))); \
	echo "venv $(1): Python $(3) at $$python, pins $(2)"; \
	$(UV) venv -q --allow-existing --python "$$python" $(call venv,$(1))
	VIRTUAL_ENV=$(call venv,$(1)) $(UV) pip install -q --compile-bytecode -r $(2)
	$(if $(filter no,$(4)),,VIRTUAL_ENV=$(call venv,$(1)) $(UV) pip install -q --compile-bytecode --no-deps -e .)
	touch $(call venv,$(1))/.installed
endef

$(UV):
	$(PYTHON) -m venv $(BUILD)/tools
	$(BUILD)/tools/bin/python -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)

# Targets reached only through pattern rules are "intermediate": make would delete a venv's
# stamp after each run. Nothing here is intermediate.
.SECONDARY:

# Rebuilt when its pins or pyproject change. bench, deploy and lint are not lanes: their own rules
# (below, more specific) win over this pattern.
$(BUILD)/venv-%/.installed: constraints/airflow-%.txt pyproject.toml | $(UV)
	$(call make_venv,$*,$<,$(call lane_python,$*))

$(BUILD)/venv-bench/.installed: constraints/bench-airflow-$(LATEST).txt pyproject.toml | $(UV)
	$(call make_venv,bench,$<,$(DEFAULT_PYTHON))

$(BUILD)/venv-deploy/.installed: constraints/deploy-airflow-$(LATEST).txt pyproject.toml | $(UV)
	$(call make_venv,deploy,$<,$(DEFAULT_PYTHON))

# The import contracts read the source only: no Airflow, no project install.
$(BUILD)/venv-lint/.installed: constraints/lint.txt | $(UV)
	$(call make_venv,lint,$<,$(DEFAULT_PYTHON),no)
