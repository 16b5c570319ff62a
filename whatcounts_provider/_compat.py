"""Every difference between Airflow 2.11 and 3.x that the provider meets, in one place.

- **Version flags** (``AIRFLOW_V_3_0_PLUS`` ...), read once from the installed Airflow, for code
  that must behave differently rather than import differently.
- **Moved names** (:data:`MOVED_NAMES`): for each name the provider uses, the modules that define
  it, newest first. The first module that has the name wins, so Airflow 3.3 never reaches the old
  paths that raise ``DeprecatedImportWarning`` there. Names from providers the package does not
  depend on (:data:`OPTIONAL_PROVIDER_NAMES`) raise ``ImportError`` when the provider is absent.

Most names are bound when this module is imported; :data:`LAZY_NAMES` are looked up on first use
(a module ``__getattr__``): importing an operator must not load the object-storage stack.
No other module of the package imports from ``airflow`` directly.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

import airflow
from packaging.version import Version

_RELEASE = Version(airflow.__version__).release
AIRFLOW_V_3_0_PLUS: bool = _RELEASE >= (3, 0)
AIRFLOW_V_3_1_PLUS: bool = _RELEASE >= (3, 1)
AIRFLOW_V_3_2_PLUS: bool = _RELEASE >= (3, 2)
AIRFLOW_V_3_3_PLUS: bool = _RELEASE >= (3, 3)

#: name -> the modules that define it, newest first (3.x, then 2.11).
MOVED_NAMES: dict[str, tuple[str, ...]] = {
    # 3.0 and 3.1 define the exceptions in airflow.exceptions and import them into
    # airflow.sdk.exceptions without re-exporting them; AirflowFailException reaches it in 3.2.
    "AirflowException": ("airflow.sdk.exceptions", "airflow.exceptions"),
    "AirflowFailException": ("airflow.sdk.exceptions", "airflow.exceptions"),
    # 3.0 has no BaseHook in airflow.sdk (see _task_sdk_base_hook below).
    "BaseHook": ("airflow.sdk", "airflow.hooks.base"),
    "BaseOperator": ("airflow.sdk", "airflow.models.baseoperator"),
    "Connection": ("airflow.sdk", "airflow.models.connection"),
    "Context": ("airflow.sdk", "airflow.utils.context"),
    "ObjectStoragePath": ("airflow.sdk", "airflow.io.path"),
    "get_current_context": ("airflow.sdk", "airflow.operators.python"),
    "mask_secret": ("airflow.sdk.log", "airflow.utils.log.secrets_masker"),
    # Airflow 3 only (event-driven scheduling): on 2.11 importing the queue trigger fails.
    "BaseEventTrigger": ("airflow.triggers.base",),
    "TriggerEvent": ("airflow.triggers.base",),
    # The amazon provider, present only with the [sqs] extra (the queue path).
    "SqsHook": ("airflow.providers.amazon.aws.hooks.sqs",),
    # The OpenLineage provider, when the user installs it (the bulk operator's lineage).
    "OperatorLineage": ("airflow.providers.openlineage.extractors",),
}
#: Names Airflow 2.11 does not have at all (looking one up there raises ImportError).
AIRFLOW_3_ONLY_NAMES = frozenset({"BaseEventTrigger"})
#: Names of providers the package does not depend on -> the provider's package: looking one up
#: without that provider raises ImportError.
OPTIONAL_PROVIDER_NAMES: dict[str, str] = {
    "OperatorLineage": "airflow.providers.openlineage",
    "SqsHook": "airflow.providers.amazon",
}
#: Looked up on first use, not at import.
LAZY_NAMES = frozenset(
    {
        "BaseEventTrigger",
        "Connection",
        "ObjectStoragePath",
        "OperatorLineage",
        "SqsHook",
        "TriggerEvent",
        "get_current_context",
    }
)


def find(name: str) -> Any:
    """The object ``name`` from the first module in :data:`MOVED_NAMES` that defines it.

    :raises ImportError: no module defines it (the running Airflow is not one we support).
    """
    for module_name in MOVED_NAMES[name]:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        try:
            return getattr(module, name)
        except (AttributeError, ImportError):  # airflow.sdk resolves its names lazily
            continue
    raise ImportError(f"{name} is in none of {', '.join(MOVED_NAMES[name])} (Airflow {airflow.__version__})")


def __getattr__(name: str) -> Any:
    if name in LAZY_NAMES:
        value = find(name)
        setattr(sys.modules[__name__], name, value)
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if TYPE_CHECKING:
    from airflow.providers.amazon.aws.hooks.sqs import SqsHook
    from airflow.providers.openlineage.extractors import OperatorLineage
    from airflow.sdk import (  # type: ignore[attr-defined,unused-ignore]
        BaseHook,
        BaseOperator,
        Connection,
        Context,
        ObjectStoragePath,
        get_current_context,
    )
    from airflow.sdk.exceptions import (  # type: ignore[attr-defined,unused-ignore]
        AirflowException,
        AirflowFailException,
    )
    from airflow.sdk.log import mask_secret
    from airflow.triggers.base import (  # type: ignore[attr-defined,unused-ignore]  # 3.x only
        BaseEventTrigger,
        TriggerEvent,
    )
else:
    AirflowException = find("AirflowException")
    AirflowFailException = find("AirflowFailException")
    BaseOperator = find("BaseOperator")
    Context = find("Context")
    mask_secret = find("mask_secret")

    def _task_sdk_base_hook() -> Any:
        """3.0's ``airflow.hooks.base.BaseHook`` with the task SDK's connection lookup inside tasks.

        3.0's base class resolves connections through ``airflow.models.connection``, which warns
        (``DeprecationWarning``) in every task; the task SDK's ``Connection.get`` is the supported
        path there. Outside a task (API server, CLI, tests) the models path still is.
        """
        base = find("BaseHook")
        sdk_connection = importlib.import_module("airflow.sdk").Connection

        class BaseHook(base):
            @classmethod
            def get_connection(cls, conn_id: str) -> Any:
                task_runner = sys.modules.get("airflow.sdk.execution_time.task_runner")
                if hasattr(task_runner, "SUPERVISOR_COMMS"):  # set only inside a running task
                    return sdk_connection.get(conn_id)
                return super().get_connection(conn_id)

        return BaseHook

    BaseHook = _task_sdk_base_hook() if AIRFLOW_V_3_0_PLUS and not AIRFLOW_V_3_1_PLUS else find("BaseHook")


def stored_connection_extras(pk: Any) -> dict[str, Any]:
    """The extras of connection ``pk`` as stored in the metadata database ({} when there is none).

    Only Airflow 2.11's webserver needs this (its Edit form), where ``airflow.models`` holds the
    database model; the import is deferred so that nothing else loads it.
    """
    from airflow.models import Connection as StoredConnection
    from airflow.utils.session import create_session

    with create_session() as session:
        conn = session.get(StoredConnection, int(pk))  # noqa: AIR311
        return dict(conn.extra_dejson) if conn is not None else {}


__all__ = [
    "AIRFLOW_3_ONLY_NAMES",
    "AIRFLOW_V_3_0_PLUS",
    "AIRFLOW_V_3_1_PLUS",
    "AIRFLOW_V_3_2_PLUS",
    "AIRFLOW_V_3_3_PLUS",
    "LAZY_NAMES",
    "MOVED_NAMES",
    "OPTIONAL_PROVIDER_NAMES",
    "AirflowException",
    "AirflowFailException",
    "BaseEventTrigger",
    "BaseHook",
    "BaseOperator",
    "Connection",
    "Context",
    "ObjectStoragePath",
    "OperatorLineage",
    "SqsHook",
    "TriggerEvent",
    "find",
    "get_current_context",
    "mask_secret",
    "stored_connection_extras",
]
