# The deployment stage (tests/deployment): Airflow $(LATEST) with CeleryExecutor, PostgreSQL and
# Redis (pip wheels), api-server, scheduler, dag-processor, triggerer and Celery workers, all on
# 127.0.0.1 and all started and stopped by the tests, in its own pinned environment.
# DEPLOYMENT_ARGS passes pytest arguments (e.g. DEPLOYMENT_ARGS="-k scale_out").
DEPLOYMENT_ARGS ?=

.PHONY: test-deployment

test-deployment: $(BUILD)/venv-deploy/.installed ## a real Celery deployment runs the example DAGs
	env AIRFLOW_HOME=$(BUILD)/deployment-pytest-home AIRFLOW__CORE__LOAD_EXAMPLES=False \
		$(call venv,deploy)/bin/python $(STRICT_WARNINGS) -m pytest -m deployment tests/deployment $(DEPLOYMENT_ARGS)
	# The event path's figures, into docs/events.md (a run that skipped those tests has none).
	if [ -f $(BUILD)/deployment/events.json ]; then \
		$(call venv,deploy)/bin/python scripts/render_events.py $(BUILD)/deployment/events.json docs/events.md; fi
