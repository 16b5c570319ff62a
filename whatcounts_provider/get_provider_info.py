"""Provider metadata read by Airflow's ProvidersManager (entry point ``apache_airflow_provider``)."""

from __future__ import annotations

from typing import Any

from whatcounts_provider import __version__
from whatcounts_provider.types import (
    DEFAULT_API_VERSION,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_RETRIES,
    DEFAULT_READ_TIMEOUT,
    DEFAULT_REGION,
    DEFAULT_VERIFY,
)

HOOK_CLASS_NAME = "whatcounts_provider.hooks.whatcounts.WhatCountsHook"
DEFAULT_CONN_ID = "whatcounts_default"

# Airflow >= 3.2 builds the connection form from these declarations without importing the
# hook: "label" becomes the field title, "description" its help text and schema["default"] the
# value the field starts with (3.3 shows no placeholders for extras, so a prefilled default is
# the only way to show it). What Airflow 3.3.2's form enforces, as driven in Chromium
# (tests/browser): minimum/maximum on number fields (clamped when leaving the field), maxLength
# (typing stops), and a value for a field whose type has no "null" ("This field is required",
# Save disabled). Its number inputs drop letters, so the number fields are declared without
# "null": a non-number leaves the field empty, and the form refuses it instead of saving null.
# It does not pass "pattern" to its inputs: a text that breaks a pattern is saved. No maxLength
# is declared: a cut value is a different value saved without a word ("version2" became "vers",
# "AUT" (Austria) "AU" (Australia)). The patterns are still declared: Airflow 2.11's form
# refuses a Save against them (whatcounts_provider.hooks._form), API clients may check them,
# and they document the accepted text. The hook validates everything and reports every invalid
# field at once, by these labels.
_SENDER_CODE = r"""["']?[A-Za-z0-9]{1,20}["']?"""
#: Sender codes separated by commas or whitespace, optionally as a JSON list's text.
SENDER_CODES_PATTERN = rf"^\s*\[?[\s,]*({_SENDER_CODE}([\s,]+{_SENDER_CODE})*)?[\s,]*\]?\s*$"
#: true/false (and 1/0, yes/no, on/off), any case, or a path: the text has a / or \\, or ends in
#: .pem, .crt or .cer. Whether the file exists is for the hook to check, on the workers.
VERIFY_PATTERN = (
    r"^\s*([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|[Yy][Ee][Ss]|[Nn][Oo]|[Oo][Nn]|[Oo][Ff][Ff]|1|0"
    r"|.*[/\\].*|.*\.([Pp][Ee][Mm]|[Cc][Rr][Tt]|[Cc][Ee][Rr]))\s*$"
)

CONN_FIELDS: dict[str, dict[str, Any]] = {
    "api_version": {
        "label": "API version",
        "schema": {
            "type": ["string", "null"],
            "pattern": "^\\s*[Vv][0-9]+\\s*$",
            "minLength": 2,
            "default": DEFAULT_API_VERSION,
        },
        "description": (
            f"WhatCounts REST API version, v and a number, sent in the Accept header: "
            f"{DEFAULT_API_VERSION} (the default)."
        ),
    },
    "timeout": {
        "label": "Read timeout (seconds)",
        "schema": {"type": ["number"], "exclusiveMinimum": 0, "default": DEFAULT_READ_TIMEOUT},
        "description": (
            f"Seconds to wait for each answer, more than 0. Default: {DEFAULT_READ_TIMEOUT:g} "
            f"(connecting: {DEFAULT_CONNECT_TIMEOUT:g})."
        ),
    },
    "max_retries": {
        "label": "Max retries",
        "schema": {"type": ["integer"], "minimum": 0, "maximum": 20, "default": DEFAULT_MAX_RETRIES},
        "description": (
            f"Retries of transient failures (timeouts, 429, 5xx), 0 to 20. Default: {DEFAULT_MAX_RETRIES}."
        ),
    },
    "default_region": {
        "label": "Default phone region",
        "schema": {
            "type": ["string", "null"],
            "pattern": "^\\s*[A-Za-z]{2}\\s*$",
            "minLength": 2,
            "default": DEFAULT_REGION,
        },
        "description": (
            "Two-letter region (ISO 3166) for phones given without a country code. "
            f"Default: {DEFAULT_REGION}."
        ),
    },
    "verify": {
        "label": "TLS verification",
        "schema": {
            "type": ["string", "null"],
            "pattern": VERIFY_PATTERN,
            "default": str(DEFAULT_VERIFY).lower(),
        },
        "description": "true (the default), false, or the path of a CA bundle file on the workers.",
    },
    "api_key": {
        "label": "API client key (optional)",
        "schema": {"type": ["string", "null"], "format": "password"},
        "description": (
            "Only for a WhatCounts API Client other than the default one: "
            "apiClientName:apiClientAuth (or its Base64 form), sent as the x-api-key header "
            "in addition to the realm and API password."
        ),
    },
    "sender_codes": {
        "label": "Sender codes (revoke-all)",
        "schema": {"type": ["string", "null"], "pattern": SENDER_CODES_PATTERN},
        "description": (
            'Every SMS sender code of this account, comma-separated. Operators with scope="all" '
            "stop a phone on all of them: under the FCC's revoke-all rule (from 2027-01-31) a STOP "
            "to one program stops them all."
        ),
    },
}

#: Extras whose values are secrets: masked in the UI (3.x schema format, 2.11 password widget)
#: and in logs.
SENSITIVE_EXTRAS = frozenset(
    name for name, spec in CONN_FIELDS.items() if spec["schema"].get("format") == "password"
)


def default_of(name: str) -> Any:
    """The default of an extra as the form shows it (``None`` when it has none)."""
    return CONN_FIELDS[name]["schema"].get("default")


UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["schema", "port", "extra"],
    "relabeling": {"host": "Site URL", "login": "Realm", "password": "API password"},
    # Airflow 2.11 shows these in empty fields; 3.3 shows only the standard fields' placeholders.
    "placeholders": {
        "host": "https://mail.example.com",
        "login": "your WhatCounts realm",
        "password": "the realm's API password",
        **{name: str(default_of(name)) for name in CONN_FIELDS if default_of(name) is not None},
        "api_key": "apiClientName:apiClientAuth",
        "sender_codes": "12345, 67890",
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
            {
                "integration-name": "WhatCounts",
                "python-modules": [
                    "whatcounts_provider.operators.sms",
                    "whatcounts_provider.operators.queue",
                    "whatcounts_provider.operators.deadlines",
                ],
            }
        ],
        # Airflow 3 only (it subclasses BaseEventTrigger): the queue path's AssetWatcher trigger.
        "triggers": [
            {"integration-name": "WhatCounts", "python-modules": ["whatcounts_provider.triggers.queue"]}
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
