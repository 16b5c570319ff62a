"""Security: the hook registers the Basic token and realm:password with Airflow's secrets masker."""

from __future__ import annotations

import inspect
import io
import json
import logging
from typing import Any

import pytest

from tests.helpers import AIRFLOW_3
from tests.security.helpers import (
    S_PASSWORD,
    S_REALM,
    SECRETS,
    assert_absent,
    secret_forms,
)
from whatcounts_provider.hooks.whatcounts import WhatCountsHook


def masker_redact(value: str) -> str:
    try:
        from airflow.sdk._shared.secrets_masker import redact
    except ImportError:  # Airflow 3.0 and 2.11
        try:
            from airflow.sdk.execution_time.secrets_masker import redact  # type: ignore[no-redef,unused-ignore]
        except ImportError:  # Airflow 2.11
            from airflow.utils.log.secrets_masker import redact  # type: ignore[no-redef,unused-ignore]
    return str(redact(value))


@pytest.fixture
def clean_masker(monkeypatch: pytest.MonkeyPatch) -> None:
    """The process-wide secrets masker without the masks other tests registered (restored after).

    Another test's short password (2.11 masks even "p") would otherwise redact parts of our lines.
    """
    try:
        from airflow.sdk._shared.secrets_masker import _secrets_masker
    except ImportError:  # Airflow 3.0 and 2.11
        try:
            from airflow.sdk.execution_time.secrets_masker import _secrets_masker  # type: ignore[no-redef,unused-ignore]
        except ImportError:  # Airflow 2.11
            from airflow.utils.log.secrets_masker import _secrets_masker  # type: ignore[no-redef,unused-ignore]
    masker = _secrets_masker()
    monkeypatch.setattr(masker, "patterns", set())
    monkeypatch.setattr(masker, "replacer", None)


def test_hook_registers_the_token_and_realm_password_with_the_secrets_masker(use_connection, clean_masker):
    use_connection(login=S_REALM, password=S_PASSWORD)
    password, creds, token = secret_forms(S_PASSWORD)

    assert WhatCountsHook().settings.password == S_PASSWORD

    assert masker_redact(f"Authorization: Basic {token}") == "Authorization: Basic ***"
    assert masker_redact(f"creds={creds}") == "creds=***"
    assert masker_redact(f"password={password}") == "password=***"  # Airflow masks this one itself


def airflow_log_processors(*, json_output: bool) -> list[Any]:
    """Airflow 3's structlog processors: the console's, or the task log file's (JSON)."""
    from airflow.sdk.log import logging_processors

    if "json_output" in inspect.signature(logging_processors).parameters:  # Airflow 3.1+
        return list(logging_processors(json_output=json_output, colors=False))
    # Airflow 3.0: (processors, named processors); "pretty" is the console, the rest JSON
    processors, _ = logging_processors(enable_pretty_log=not json_output, colored_console_log=False)
    return list(processors)


def test_a_task_log_line_with_the_secrets_is_redacted_by_airflow(
    monkeypatch, use_connection, caplog, clean_masker
):
    """The real logging path of a task: the hook's own logger, and Airflow's task log writer."""
    use_connection(login=S_REALM, password=S_PASSWORD)
    hook = WhatCountsHook()
    hook.settings  # noqa: B018  resolving the settings registers the derived secrets
    password, creds, token = SECRETS
    line = "echoed: Authorization: Basic %s creds=%s password=%s"

    if AIRFLOW_3:
        import structlog

        # Task logs are rendered by structlog with Airflow's processors, mask_logs among them.
        console = io.StringIO()
        saved = structlog.get_config()
        try:
            structlog.configure(
                processors=airflow_log_processors(json_output=False),
                logger_factory=structlog.PrintLoggerFactory(console),
                cache_logger_on_first_use=False,
            )
            if isinstance(hook.log, logging.Logger):
                # Airflow 3.0's hooks log through stdlib logging, which a task bridges into structlog.
                bridge = logging.StreamHandler(console)
                bridge.setFormatter(
                    structlog.stdlib.ProcessorFormatter(
                        processors=[
                            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                            *airflow_log_processors(json_output=False),
                        ]
                    )
                )
                hook.log.addHandler(bridge)
                try:
                    hook.log.warning(line, token, creds, password)
                finally:
                    hook.log.removeHandler(bridge)
            else:
                hook.log.warning(line, token, creds, password)
        finally:
            structlog.configure(**saved)
        # The supervisor writes the task log file through the same processors, as JSON.
        log_file = io.BytesIO()
        task_log = structlog.wrap_logger(
            structlog.BytesLogger(log_file),
            processors=airflow_log_processors(json_output=True),
            logger_name="task",
        )
        task_log.warning(line, token, creds, password)
        written = [console.getvalue(), log_file.getvalue().decode()]
        assert json.loads(written[1])["logger"] == "task"
    else:
        import airflow.settings

        # `airflow tasks run` turns masking on; the masker is a filter of the airflow.task logger.
        monkeypatch.setattr(airflow.settings, "MASK_SECRETS_IN_LOGS", True)
        caplog.set_level(logging.INFO, logger="airflow.task")
        hook.log.warning(line, token, creds, password)
        logging.getLogger("airflow.task").warning(line, token, creds, password)
        records = [r for r in caplog.records if r.name.startswith("airflow.task")]
        assert {r.name for r in records} == {hook.log.name, "airflow.task"}
        written = [r.getMessage() for r in records]

    assert len(written) == 2
    for text in written:
        assert "echoed: Authorization: Basic *** creds=*** password=***" in text, text
        assert_absent(text, SECRETS, "the task log line")
