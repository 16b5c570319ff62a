"""The connection form: its 2.11 fields, and the messages of its Test button on every version.

Airflow 3.2+ builds the form itself from provider info, without the hook.

Both forms come from ``get_provider_info.CONN_FIELDS`` and ``UI_FIELD_BEHAVIOUR``. Two things
differ on 2.11 because of how its UI works:

- every extra gets its description as the field's help text (wtforms ``description``), and the
  API client key a password widget, which 2.11 treats as sensitive;
- ``extra`` stays visible. Airflow 2.11's ``connection_form.js`` saves the Extra editor before a
  Test and throws when there is none (it only builds the editor for a visible ``extra``), so
  hiding it leaves the Edit page's Test button doing nothing.
"""

from __future__ import annotations

import math
import os
import re
import sys
from typing import Any
from urllib.parse import urlsplit

from whatcounts_provider.get_provider_info import CONN_FIELDS, SENSITIVE_EXTRAS, UI_FIELD_BEHAVIOUR
from whatcounts_provider.hooks._settings import _is_loopback

#: The Extra box of the 2.11 form: kept visible (see the module docstring), labelled for what it is.
EXTRA_LABEL = "Extra (JSON; the fields below fill it)"


def connection_form_widgets() -> dict[str, Any]:
    """wtforms fields for each extra: labelled, with help text, checked against its schema on
    Save, secrets in a password widget."""
    from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget, BS3TextFieldWidget
    from flask_babel import lazy_gettext
    from wtforms import PasswordField, StringField

    widgets: dict[str, Any] = {}
    for name, spec in CONN_FIELDS.items():
        label, description = lazy_gettext(spec["label"]), lazy_gettext(spec["description"])
        if name in SENSITIVE_EXTRAS:
            widgets[name] = PasswordField(label, description=description, widget=BS3PasswordFieldWidget())
        else:
            validators = [_SchemaCheck(spec)]
            widgets[name] = StringField(
                label, description=description, widget=BS3TextFieldWidget(), validators=validators
            )
    return widgets


class _SchemaCheck:
    """A wtforms validator: a filled-in extra must satisfy its declared JSON schema.

    The error repeats the field's help text, not the schema (a regex helps nobody).
    """

    def __init__(self, spec: dict[str, Any]) -> None:
        self.schema = spec["schema"]
        self.message = f"Not a valid value. {spec['description']}"

    def __call__(self, form: Any, field: Any) -> None:
        from wtforms.validators import ValidationError

        text = (field.data or "").strip()
        if text and not self.accepts(text):
            raise ValidationError(self.message)

    def accepts(self, text: str) -> bool:
        """The subset of JSON schema that CONN_FIELDS uses, applied to the text of a form field."""
        schema = self.schema
        if {"number", "integer"} & set(schema["type"]):
            try:
                number = float(text)
            except ValueError:
                return False
            if not math.isfinite(number):  # float() reads "inf", "nan" and "1e400": the hook does not
                return False
            return (
                ("integer" not in schema["type"] or number.is_integer())
                and number >= schema.get("minimum", number)
                and number <= schema.get("maximum", number)
                and ("exclusiveMinimum" not in schema or number > schema["exclusiveMinimum"])
            )
        return (
            schema.get("minLength", 0) <= len(text) <= schema.get("maxLength", len(text))
            and re.search(schema.get("pattern", ""), text) is not None
        )


def ui_field_behaviour() -> dict[str, Any]:
    """Hidden, relabelled and placeholder fields of the 2.11 form (``extra`` stays visible)."""
    return {
        "hidden_fields": [name for name in UI_FIELD_BEHAVIOUR["hidden-fields"] if name != "extra"],
        "relabeling": {**UI_FIELD_BEHAVIOUR["relabeling"], "extra": EXTRA_LABEL},
        "placeholders": {**UI_FIELD_BEHAVIOUR["placeholders"], "extra": '{"timeout": 30}'},
    }


# --- the Test button ------------------------------------------------------------------------

#: Airflow's random id for the copy of the form it tests (airflow.utils.strings.get_random_string).
_TRANSIENT_ID = re.compile(r"[A-Za-z0-9]{8}")
EMPTY_CREDENTIAL_TEXT = "Password (the realm's API password) is empty"
NOT_SENT_HINT = "the form does not send a saved password: type it again to test"


def form_connection_id(conn_id: str) -> str | None:
    """The connection id typed in the form whose Test button is testing ``conn_id``, if any.

    Airflow tests a form under a random id exported as ``AIRFLOW_CONN_<ID>`` for the duration
    of the test, and does not pass the typed id on. It is still in reach: Airflow 2.11 tests
    inside the Flask request whose JSON body holds it; Airflow 3.x's route function holds it as
    ``test_body.connection_id`` further up this thread's stack. None when not testing a form.
    """
    if not _TRANSIENT_ID.fullmatch(conn_id) or f"AIRFLOW_CONN_{conn_id.upper()}" not in os.environ:
        return None
    typed = _typed_in_flask_request() or _typed_in_route_arguments()
    return typed if typed and typed != conn_id else None


def _typed_in_flask_request() -> str | None:
    try:
        from flask import has_request_context, request  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    if not has_request_context():
        return None
    body = request.get_json(silent=True)
    typed = body.get("connection_id") if isinstance(body, dict) else None
    return typed if isinstance(typed, str) else None


def _typed_in_route_arguments() -> str | None:
    frame = sys._getframe(1)
    while frame is not None:
        typed = getattr(frame.f_locals.get("test_body"), "connection_id", None)
        if isinstance(typed, str):
            return typed
        frame = frame.f_back  # type: ignore[assignment]
    return None


def answered_in_plain_http(exc: BaseException) -> bool:
    """A TLS handshake that got a plain-HTTP answer (OpenSSL names it in several ways)."""
    text = str(exc).lower()
    return any(
        sign in text
        for sign in ("wrong_version_number", "wrong version number", "record_layer_failure", "http_request")
    )


def plain_http_hint(base_url: str) -> str:
    """Why a TLS handshake failed when the server speaks plain HTTP, and what to write instead."""
    parts = urlsplit(base_url)
    said = f"{parts.scheme}://{parts.netloc} answered in plain HTTP, not TLS"
    if _is_loopback(parts.hostname or ""):
        return (
            f"{said}: a Site URL without a scheme means https://; for a loopback server such as "
            f"the emulator write http://{parts.netloc} (plain http:// is allowed only for loopback)"
        )
    return (
        f"{said}: WhatCounts needs https://; check the Site URL's host and port "
        "(plain http:// is allowed only for loopback hosts such as the emulator)"
    )
