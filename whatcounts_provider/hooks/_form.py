"""The connection form: its 2.11 fields, and the messages of its Test button on every version.

Airflow 3.2+ builds the form itself from provider info, without the hook.

Both forms come from ``get_provider_info.CONN_FIELDS`` and ``UI_FIELD_BEHAVIOUR``. Things that
differ on 2.11 because of how its UI works:

- every extra gets its description as the field's help text (wtforms ``description``), and the
  API client key a password widget, which 2.11 treats as sensitive;
- ``extra`` stays visible. Airflow 2.11's ``connection_form.js`` saves the Extra editor before a
  Test and throws when there is none (it only builds the editor for a visible ``extra``), so
  hiding it leaves the Edit page's Test button doing nothing;
- a saved API client key is shown as Airflow's placeholder (:class:`SavedSecretInput`), so that
  a Save that does not touch it keeps it (an empty field would delete it);
- a value typed in the Extra box for a key that has its own field is kept, or the Save refused
  (:class:`_ExtraBoxCheck`): Airflow would otherwise drop it without a word;
- a refused Save says why in the help text of the field (Airflow's script overwrites the text of
  every red box with its generic warning), and, when the user had typed the API password or key,
  that it must be typed again: password fields are never sent back to the page.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
from typing import Any
from urllib.parse import urlsplit

from whatcounts_provider._compat import stored_connection_extras
from whatcounts_provider.get_provider_info import CONN_FIELDS, SENSITIVE_EXTRAS, UI_FIELD_BEHAVIOUR
from whatcounts_provider.hooks._extras import PREFIX, SENSITIVE_PLACEHOLDER
from whatcounts_provider.hooks._settings import API_PASSWORD, _is_loopback

#: The Extra box of the 2.11 form: kept visible (see the module docstring), labelled for what it is.
EXTRA_LABEL = "Extra (JSON; the fields below fill it)"
#: The help text of a password field whose typed value a refused Save did not keep.
RETYPE_NOTE = (
    "Not kept: this Save was refused (see the fields marked in red), and a password field is "
    "never sent back to the page. Type it again."
)
RETYPE_PASSWORD = f"{RETYPE_NOTE} (On the Edit page, left empty it keeps the saved password.)"


def connection_form_widgets() -> dict[str, Any]:
    """wtforms fields for each extra: labelled, with help text, checked against its schema on
    Save, secrets in a password widget that keeps a saved value."""
    from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
    from flask_babel import lazy_gettext
    from wtforms import PasswordField, StringField

    widgets: dict[str, Any] = {}
    for name, spec in CONN_FIELDS.items():
        label, description = lazy_gettext(spec["label"]), lazy_gettext(spec["description"])
        if name in SENSITIVE_EXTRAS:
            widgets[name] = PasswordField(
                label, description=description, widget=SavedSecretInput(), validators=[_ExtraBoxCheck(name)]
            )
        else:
            widget = ListAsTextInput() if name == "sender_codes" else BS3TextFieldWidget()
            validators = [_ExtraBoxCheck(name), _SchemaCheck(spec)]
            widgets[name] = StringField(label, description=description, widget=widget, validators=validators)
    return widgets


class SavedSecretInput:
    """A password input that never shows a secret, but shows that one is saved.

    Airflow 2.11's Edit page fills a sensitive extra's field with the saved value and lets the
    password widget render it empty; on Save, an empty custom field deletes the extra, so the
    saved key was lost by any edit. This widget renders Airflow's placeholder instead: Airflow's
    ``process_form`` replaces the placeholder with the saved value. A value typed and then
    refused (a failed Save) is not shown again: it was never saved.
    """

    def __call__(self, field: Any, **kwargs: Any) -> Any:
        from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget

        kwargs["value"] = SENSITIVE_PLACEHOLDER if field.data and not _typed(field) else ""
        return BS3PasswordFieldWidget(hide_value=False)(field, **kwargs)


class ListAsTextInput:
    """A text input that shows a list (a ``sender_codes`` extra given as JSON) as ``a, b``."""

    def __call__(self, field: Any, **kwargs: Any) -> Any:
        from flask_appbuilder.fieldwidgets import BS3TextFieldWidget

        if isinstance(field.data, (list, tuple)):
            kwargs["value"] = _as_text(field.data)
        return BS3TextFieldWidget()(field, **kwargs)


def _typed(field: Any) -> bool:
    """Whether the user typed a value in this (password) field for the Save being handled."""
    posted = getattr(field, "raw_data", None) or []
    return bool(posted) and posted[0] not in ("", SENSITIVE_PLACEHOLDER)


def _refuse(form: Any, field: Any, message: str) -> Exception:
    """The error refusing a Save because of ``field``, said where the user can read it.

    The red box's text is overwritten by Airflow's script, so the message becomes the field's
    help text too; typed password fields, which the refused page shows empty, say so.
    """
    from wtforms.validators import ValidationError

    field.description = message
    password, api_key = getattr(form, "password", None), getattr(form, f"{PREFIX}api_key", None)
    if password is not None and _typed(password):
        password.description = RETYPE_PASSWORD
    if api_key is not None and _typed(api_key):
        api_key.description = RETYPE_NOTE
    error: Exception = ValidationError(message)
    return error


class _ExtraBoxCheck:
    """A wtforms validator: what the user typed in the Extra box for this field is not lost.

    Airflow 2.11 saves a field's value over the Extra box's value of the same key, and an empty
    field deletes that key: ``{"max_retries": 3}`` typed in the box vanished. Here a box value
    the user typed (it differs from the saved connection's, which the Edit page put there) fills
    the field when the field is empty, and refuses the Save when the field says otherwise.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.label = CONN_FIELDS[name]["label"]

    def __call__(self, form: Any, field: Any) -> None:
        box = _extra_box(form)
        keys = [key for key in (self.name, PREFIX + self.name) if key in box and box[key] not in (None, "")]
        if not keys:
            return
        saved = _saved_extras(form)
        for key in keys:
            value = box[key]
            if value == SENSITIVE_PLACEHOLDER or _same(value, saved.get(key, saved.get(self.name))):
                continue  # put there by the Edit page: the field decides, as Airflow does
            text = _as_text(value)
            typed = (field.data or "").strip() if isinstance(field.data, str) else field.data
            if not typed:
                field.data = text
            elif not _same(typed, value):
                raise _refuse(form, field, self._twice(typed, text, key))

    def _twice(self, typed: Any, boxed: str, key: str) -> str:
        if self.name in SENSITIVE_EXTRAS:  # a secret is never repeated back
            said = "differently, in this field and in the Extra box"
        else:
            said = f"{_as_text(typed)!r} in this field and {boxed!r} in the Extra box"
        return f"Not saved: {self.label} is given twice, {said} ({key!r}). Keep one of them."


def _extra_box(form: Any) -> dict[str, Any]:
    extra = getattr(form, "extra", None)
    try:
        box = json.loads(extra.data) if extra is not None and extra.data else {}
    except (TypeError, ValueError):
        return {}  # Airflow refuses it and says so itself
    return box if isinstance(box, dict) else {}


def _saved_extras(form: Any) -> dict[str, Any]:
    """The extras of the connection being edited, as the Edit page showed them; {} when adding."""
    pk = getattr(form, "_id", None)  # Flask-AppBuilder's edit view sets it before validating
    if pk is None:
        return {}
    try:
        return stored_connection_extras(pk)  # only Airflow 2.11's webserver runs this
    except Exception:  # no database at hand: every box value counts as typed
        return {}


def _same(a: Any, b: Any) -> bool:
    return a == b or (a is not None and b is not None and _as_text(a) == _as_text(b))


def _as_text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


class _SchemaCheck:
    """A wtforms validator: a filled-in extra must satisfy its declared JSON schema.

    The error repeats the field's help text, not the schema (a regex helps nobody).
    """

    def __init__(self, spec: dict[str, Any]) -> None:
        self.schema = spec["schema"]
        self.message = f"Not saved: not a valid value. {spec['description']}"

    def __call__(self, form: Any, field: Any) -> None:
        text = (field.data or "").strip()
        if text and not self.accepts(text):
            raise _refuse(form, field, self.message)

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
EMPTY_CREDENTIAL_TEXT = f"{API_PASSWORD} is empty"
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
