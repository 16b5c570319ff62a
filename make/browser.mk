# The browser stage: the connection and trigger forms in Chromium (tests/browser). Playwright
# (pinned per lane: constraints/browser-airflow-*.txt, the lane's pins plus the `browser` group)
# drives Debian's Chromium; nothing is downloaded. Without Chromium: installed with apt-get when
# root; otherwise the stage fails loudly, unless WHATCOUNTS_SKIP_BROWSER=1 (ignored when CI=true).
# One lane only: make test-browser BROWSER_LANES=3.3.2
BROWSER_LANES ?= $(LATEST) 2.11.2
CHROMIUM ?= /usr/bin/chromium
export WHATCOUNTS_CHROMIUM := $(CHROMIUM)

.PHONY: test-browser chromium

$(BUILD)/venv-%/.browser-installed: constraints/browser-airflow-%.txt $(BUILD)/venv-%/.installed
	VIRTUAL_ENV=$(call venv,$*) $(UV) pip install -q --compile-bytecode -r $<
	touch $@

chromium: ## install Debian's Chromium when root and missing
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

test-browser: chromium $(foreach v,$(BROWSER_LANES),$(BUILD)/venv-$(v)/.browser-installed) ## the forms in Chromium on BROWSER_LANES
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
