"""Imports that moved between Airflow 2.11 and 3.x; one ``try`` per symbol.

On Airflow 3.x the old locations emit ``DeprecatedImportWarning`` (or are gone), so the
``airflow.sdk`` spelling is always tried first.
"""

from __future__ import annotations

import sys
from typing import Any

try:
    from airflow.sdk import BaseHook  # type: ignore[attr-defined,unused-ignore]
except ImportError:  # Airflow 2.11 and 3.0 (3.0 has no BaseHook in airflow.sdk)
    from airflow.hooks.base import BaseHook  # type: ignore[no-redef,assignment,attr-defined,unused-ignore]

    try:
        from airflow.sdk import Connection as _SdkConnection
    except ImportError:  # Airflow 2.11: the models path is the only one
        pass
    else:  # Airflow 3.0

        class BaseHook(BaseHook):  # type: ignore[no-redef,misc,valid-type,unused-ignore]
            """3.0's ``airflow.hooks.base.BaseHook`` with the task SDK's connection lookup inside tasks.

            3.0's base class resolves connections through ``airflow.models.connection``, which
            warns (``DeprecationWarning``) in every task; the task SDK's ``Connection.get`` is the
            supported path there. Outside a task (API server, CLI, tests) the models path still is.
            """

            @classmethod
            def get_connection(cls, conn_id: str) -> Any:
                task_runner = sys.modules.get("airflow.sdk.execution_time.task_runner")
                if hasattr(task_runner, "SUPERVISOR_COMMS"):  # the test Airflow 3.0 itself makes
                    return _SdkConnection.get(conn_id)
                return super().get_connection(conn_id)


try:
    from airflow.sdk import BaseOperator
except ImportError:  # Airflow 2.11
    from airflow.models.baseoperator import BaseOperator  # type: ignore[no-redef,assignment,attr-defined,unused-ignore]

try:
    from airflow.sdk import Context
except ImportError:  # Airflow 2.11
    from airflow.utils.context import Context  # type: ignore[no-redef,assignment,attr-defined,unused-ignore]

try:
    # 3.0 and 3.1 define it in airflow.exceptions and import it here without re-exporting it.
    from airflow.sdk.exceptions import AirflowException  # type: ignore[attr-defined,unused-ignore]
except ImportError:  # Airflow 2.11
    from airflow.exceptions import AirflowException  # type: ignore[no-redef,assignment,attr-defined,unused-ignore]

try:
    from airflow.sdk.exceptions import AirflowFailException  # type: ignore[attr-defined,unused-ignore]
except ImportError:  # Airflow 3.0, 3.1 and 2.11
    from airflow.exceptions import AirflowFailException  # type: ignore[no-redef,assignment,attr-defined,unused-ignore]

try:
    from airflow.sdk.log import mask_secret
except ImportError:  # Airflow 2.11
    from airflow.utils.log.secrets_masker import mask_secret  # type: ignore[no-redef,assignment,attr-defined,unused-ignore]

__all__ = ["AirflowException", "AirflowFailException", "BaseHook", "BaseOperator", "Context", "mask_secret"]
