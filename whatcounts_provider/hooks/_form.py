"""The connection form on Airflow 2.11 (3.2+ builds it from provider info, without the hook).

Both forms come from ``get_provider_info.CONN_FIELDS`` and ``UI_FIELD_BEHAVIOUR``. Two things
differ on 2.11 because of how its UI works:

- every extra gets its description as the field's help text (wtforms ``description``), and the
  API client key a password widget, which 2.11 treats as sensitive;
- ``extra`` stays visible. Airflow 2.11's ``connection_form.js`` saves the Extra editor before a
  Test and throws when there is none (it only builds the editor for a visible ``extra``), so
  hiding it leaves the Edit page's Test button doing nothing.
"""

from __future__ import annotations

from typing import Any

from whatcounts_provider.get_provider_info import CONN_FIELDS, SENSITIVE_EXTRAS, UI_FIELD_BEHAVIOUR

#: The Extra box of the 2.11 form: kept visible (see the module docstring), labelled for what it is.
EXTRA_LABEL = "Extra (JSON; the fields below fill it)"


def connection_form_widgets() -> dict[str, Any]:
    """wtforms fields for each extra, labelled, with help text, secrets in a password widget."""
    from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget, BS3TextFieldWidget
    from flask_babel import lazy_gettext
    from wtforms import PasswordField, StringField

    widgets: dict[str, Any] = {}
    for name, spec in CONN_FIELDS.items():
        label, description = lazy_gettext(spec["label"]), lazy_gettext(spec["description"])
        if name in SENSITIVE_EXTRAS:
            widgets[name] = PasswordField(label, description=description, widget=BS3PasswordFieldWidget())
        else:
            widgets[name] = StringField(label, description=description, widget=BS3TextFieldWidget())
    return widgets


def ui_field_behaviour() -> dict[str, Any]:
    """Hidden, relabelled and placeholder fields of the 2.11 form (``extra`` stays visible)."""
    return {
        "hidden_fields": [name for name in UI_FIELD_BEHAVIOUR["hidden-fields"] if name != "extra"],
        "relabeling": {**UI_FIELD_BEHAVIOUR["relabeling"], "extra": EXTRA_LABEL},
        "placeholders": {**UI_FIELD_BEHAVIOUR["placeholders"], "extra": '{"timeout": 30}'},
    }
