"""Provider metadata read by Airflow's ProvidersManager (entry point ``apache_airflow_provider``)."""

from __future__ import annotations

from typing import Any

from whatcounts_provider import __version__

HOOK_CLASS_NAME = "whatcounts_provider.hooks.whatcounts.WhatCountsHook"
DEFAULT_CONN_ID = "whatcounts_default"

# Airflow >= 3.2 builds the connection form from these declarations without importing
# the hook; the hook's classmethods derive the 2.11 form from the same data.
CONN_FIELDS: dict[str, dict[str, Any]] = {
    "api_version": {
        "label": "API version",
        "schema": {"type": ["string", "null"], "pattern": "^v[0-9]+$"},
        "description": "WhatCounts REST API version sent in the Accept header. Default: v1.",
    },
    "timeout": {
        "label": "Read timeout (seconds)",
        "schema": {"type": ["number", "null"], "exclusiveMinimum": 0},
        "description": "Seconds to wait for an answer. Default: 30 (connect timeout is 10).",
    },
    "max_retries": {
        "label": "Max retries",
        "schema": {"type": ["integer", "null"], "minimum": 0, "maximum": 20},
        "description": "Retries of transient failures (timeouts, 429, 5xx), 0 to 20. Default: 5.",
    },
    "default_region": {
        "label": "Default phone region",
        "schema": {"type": ["string", "null"], "pattern": "^[A-Za-z]{2}$"},
        "description": "ISO region for phones given without a country code. Default: US.",
    },
    "verify": {
        "label": "TLS verification",
        "schema": {"type": ["string", "null"]},
        "description": "true (default), false, or the path of a CA bundle file.",
    },
}

UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["schema", "port", "extra"],
    "relabeling": {"host": "Site URL", "login": "Realm", "password": "API password"},
    "placeholders": {
        "host": "https://mail.example.com",
        "login": "your WhatCounts realm",
        "api_version": "v1",
        "timeout": "30",
        "max_retries": "5",
        "default_region": "US",
        "verify": "true",
    },
}


def get_provider_info() -> dict[str, Any]:
    """Describe this provider to Airflow: package, versions and the ``whatcounts`` connection type."""
    return {
        "package-name": "airflow-provider-whatcounts",
        "name": "WhatCounts",
        "description": "Opt phones out of WhatCounts SMS sender codes (STOP) from Airflow pipelines.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "WhatCounts",
                "external-doc-url": "https://support.whatcounts.com/",
                "tags": ["service"],
            }
        ],
        "hooks": [
            {"integration-name": "WhatCounts", "python-modules": ["whatcounts_provider.hooks.whatcounts"]}
        ],
        "operators": [
            {"integration-name": "WhatCounts", "python-modules": ["whatcounts_provider.operators.sms"]}
        ],
        "connection-types": [
            {
                "hook-class-name": HOOK_CLASS_NAME,
                "hook-name": "WhatCounts",
                "connection-type": "whatcounts",
                "conn-fields": CONN_FIELDS,
                "ui-field-behaviour": UI_FIELD_BEHAVIOUR,
            }
        ],
    }
