"""Imports that moved between Airflow 2.11 and 3.x; one ``try`` per symbol.

On Airflow 3.x the old locations emit ``DeprecatedImportWarning`` (or are gone), so the
``airflow.sdk`` spelling is always tried first.
"""

from __future__ import annotations

try:
    from airflow.sdk import BaseHook
except ImportError:  # Airflow 2.11 and 3.0 (3.0 has no BaseHook in airflow.sdk)
    from airflow.hooks.base import BaseHook  # type: ignore[no-redef,assignment,attr-defined,unused-ignore]

try:
    from airflow.sdk import BaseOperator
except ImportError:  # Airflow 2.11
    from airflow.models.baseoperator import BaseOperator  # type: ignore[no-redef,assignment,attr-defined,unused-ignore]

try:
    from airflow.sdk import Context
except ImportError:  # Airflow 2.11
    from airflow.utils.context import Context  # type: ignore[no-redef,assignment,attr-defined,unused-ignore]

try:
    from airflow.sdk.exceptions import AirflowException
except ImportError:  # Airflow 2.11
    from airflow.exceptions import AirflowException  # type: ignore[no-redef,assignment,attr-defined,unused-ignore]

try:
    from airflow.sdk.exceptions import AirflowFailException
except ImportError:  # Airflow 2.11
    from airflow.exceptions import AirflowFailException  # type: ignore[no-redef,assignment,attr-defined,unused-ignore]

try:
    from airflow.sdk.log import mask_secret
except ImportError:  # Airflow 2.11
    from airflow.utils.log.secrets_masker import mask_secret  # type: ignore[no-redef,assignment,attr-defined,unused-ignore]

__all__ = ["AirflowException", "AirflowFailException", "BaseHook", "BaseOperator", "Context", "mask_secret"]
