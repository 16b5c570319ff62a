"""The connection form's helpers: the 2.11 field behaviour, the Test button's typed id, plain HTTP."""

from __future__ import annotations

from types import SimpleNamespace

import flask
import pytest

from tests.helpers import FAB_INSTALLED
from whatcounts_provider.exceptions import WhatCountsConfigError
from whatcounts_provider.get_provider_info import CONN_FIELDS
from whatcounts_provider.hooks import _form
from whatcounts_provider.hooks.whatcounts import WhatCountsHook


def test_the_2_11_form_keeps_extra_visible_with_a_placeholder():
    behaviour = _form.ui_field_behaviour()
    assert "extra" not in behaviour["hidden_fields"]
    assert behaviour["relabeling"]["extra"] == _form.EXTRA_LABEL
    assert behaviour["placeholders"]["extra"] == '{"timeout": 30}'


def test_a_saved_connection_is_not_a_form_under_test(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_WHATCOUNTS_DEFAULT", "whatcounts://r:p@mail.example.com")
    assert _form.form_connection_id("whatcounts_default") is None


def test_the_typed_id_is_found_in_the_3x_route_arguments(monkeypatch):
    """Airflow 3.x tests the form under a random id; its route function holds the typed one."""
    monkeypatch.setenv("AIRFLOW_CONN_ABCD1234", "whatcounts://r:p@mail.example.com")

    def route(test_body: object) -> str | None:  # stands in for Airflow's test_connection route
        return _form.form_connection_id("AbCd1234")

    assert route(SimpleNamespace(connection_id="my_whatcounts")) == "my_whatcounts"


def test_the_typed_id_is_found_in_the_2_11_request_body(monkeypatch):
    """Airflow 2.11 tests the form inside the Flask request whose JSON body holds the typed id."""
    monkeypatch.setenv("AIRFLOW_CONN_ABCD1234", "whatcounts://r:p@mail.example.com")
    with flask.Flask(__name__).test_request_context(json={"connection_id": "my_whatcounts"}):
        assert _form.form_connection_id("AbCd1234") == "my_whatcounts"


@pytest.mark.parametrize(
    "body",
    [{"connection_id": "AbCd1234"}, {"connection_id": 7}, ["my_whatcounts"]],
    ids=["the-random-id-itself", "not-text", "not-an-object"],
)
def test_a_request_body_without_another_typed_id_names_no_form(monkeypatch, body):
    monkeypatch.setenv("AIRFLOW_CONN_ABCD1234", "whatcounts://r:p@mail.example.com")
    with flask.Flask(__name__).test_request_context(json=body):
        assert _form.form_connection_id("AbCd1234") is None


def test_a_random_looking_id_without_its_variable_is_not_a_form(monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_ABCD1234", raising=False)
    assert _form.form_connection_id("AbCd1234") is None


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1000)", True),
        ("[SSL] record layer failure (_ssl.c:1000)".replace(" ", "_").upper(), True),
        ("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed", False),
    ],
)
def test_a_plain_http_answer_to_tls_is_recognised(text, plain):
    assert _form.answered_in_plain_http(Exception(text)) is plain


def test_the_plain_http_hint_suggests_http_only_for_loopback():
    assert "write http://127.0.0.1:8080" in _form.plain_http_hint("https://127.0.0.1:8080/rest")
    remote = _form.plain_http_hint("https://mail.example.com:8080/rest")
    assert "WhatCounts needs https://" in remote
    assert "write http://" not in remote


def hook_accepts(use_connection, name: str, text: str) -> bool:
    """Whether the hook takes ``text`` as the extra ``name`` of the default connection."""
    use_connection(**{name: text})
    try:
        WhatCountsHook().settings  # noqa: B018 - resolving the settings checks every extra
    except WhatCountsConfigError:
        return False
    return True


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("timeout", "30"),
        ("timeout", "0.5"),
        ("timeout", "0"),
        ("timeout", "-1"),
        ("timeout", "thirty"),
        ("timeout", "nan"),
        ("timeout", "inf"),
        ("timeout", "1e400"),
        ("max_retries", "5"),
        ("max_retries", "5.0"),
        ("max_retries", "5.5"),
        ("max_retries", "21"),
        ("max_retries", "-1"),
        ("api_version", "v2"),
        ("api_version", "x1"),
        ("default_region", "GB"),
        ("default_region", "GBR"),
        ("api_version", "version2"),
        ("verify", "maybe"),
        ("verify", "FALSE"),
        ("sender_codes", "12345, 67890"),
        ("sender_codes", "12345\n67890"),
        ("sender_codes", "123-45"),
        ("sender_codes", "a" * 21),
    ],
)
def test_the_2_11_save_check_accepts_what_the_hook_accepts(use_connection, name, text):
    assert _form._SchemaCheck(CONN_FIELDS[name]).accepts(text) is hook_accepts(use_connection, name, text)


@pytest.mark.skipif(not FAB_INSTALLED, reason="the 2.11 form's widgets are Flask-AppBuilder's")
def test_the_2_11_widgets_hide_the_api_key_and_refuse_a_bad_extra_with_its_help_text():
    from wtforms import Form

    widgets = _form.connection_form_widgets()
    assert {name: widget.field_class.__name__ for name, widget in widgets.items()} == {
        name: "PasswordField" if name == "api_key" else "StringField" for name in CONN_FIELDS
    }
    form = type("ConnectionForm", (Form,), widgets)(data={"timeout": "thirty", "max_retries": "3"})
    assert form.validate() is False
    message = f"Not saved: not a valid value. {CONN_FIELDS['timeout']['description']}"
    assert form.errors == {"timeout": [message]}
    assert form.timeout.description == message, (
        "Airflow's script overwrites the red box: the help text says it"
    )


# --- the 2.11 form on Save: saved secrets, the Extra box, a refused Save ---------------------

needs_fab = pytest.mark.skipif(not FAB_INSTALLED, reason="the 2.11 form's widgets are Flask-AppBuilder's")


class PostedForm:
    """Airflow 2.11's connection form as a Save posts it: standard fields, the Extra box, ours."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, saved: dict | None = None, **posted: str) -> None:
        from werkzeug.datastructures import MultiDict
        from wtforms import Form, PasswordField, StringField, TextAreaField

        monkeypatch.setattr(_form, "_saved_extras", lambda form: dict(saved or {}))
        fields = {
            f"extra__whatcounts__{name}": field for name, field in _form.connection_form_widgets().items()
        }
        form_class = type(
            "ConnectionForm",
            (Form,),
            {
                "password": PasswordField("Password"),
                "extra": TextAreaField("Extra"),
                "login": StringField(),
                **fields,
            },
        )
        data = {key if key in ("password", "extra", "login") else f"extra__whatcounts__{key}": value
                for key, value in posted.items()}  # fmt: skip
        self.form = form_class(MultiDict(data))

    def field(self, name: str):
        return getattr(self.form, f"extra__whatcounts__{name}")


@needs_fab
def test_a_saved_api_key_is_shown_as_airflows_placeholder_never_as_itself():
    """The Edit page fills the field with the saved key: rendered, it is the placeholder, which
    Airflow's process_form swaps back for the saved key on Save (an empty field deleted it)."""
    from wtforms import Form

    widgets = _form.connection_form_widgets()
    form = type("ConnectionForm", (Form,), {"api_key": widgets["api_key"]})()
    assert 'value=""' in str(form.api_key()), "no key saved: empty"
    form.api_key.data = "reporting:s3cret"  # what Airflow's prefill_form does
    html = str(form.api_key())
    assert 'value="RATHER_LONG_SENSITIVE_FIELD_PLACEHOLDER"' in html
    assert "s3cret" not in html
    assert 'type="password"' in html


@needs_fab
def test_a_key_typed_into_a_refused_save_is_not_sent_back_and_the_field_says_so(monkeypatch):
    posted = PostedForm(monkeypatch, password="typed-pw", api_key="reporting:s3cret", max_retries="99")
    assert posted.form.validate() is False
    html = str(posted.field("api_key")())
    assert "s3cret" not in html
    assert "RATHER_LONG" not in html, "it was never saved: the placeholder would drop it silently"
    assert posted.field("api_key").description == _form.RETYPE_NOTE
    assert posted.form.password.description == _form.RETYPE_PASSWORD
    assert "Type it again" in _form.RETYPE_PASSWORD


@needs_fab
def test_an_untouched_saved_key_posted_as_the_placeholder_is_kept_on_a_refused_save(monkeypatch):
    posted = PostedForm(monkeypatch, api_key=_form.SENSITIVE_PLACEHOLDER, max_retries="99")
    assert posted.form.validate() is False
    assert 'value="RATHER_LONG_SENSITIVE_FIELD_PLACEHOLDER"' in str(posted.field("api_key")())
    assert posted.form.password.description != _form.RETYPE_PASSWORD, "nothing was typed there"


@needs_fab
def test_a_value_typed_in_the_extra_box_fills_its_empty_field(monkeypatch):
    """``{"timeout": 60, "max_retries": 3}`` with a timeout typed in its field kept max_retries? No:
    Airflow dropped it. Now the empty field takes the box's value and the Save keeps it."""
    posted = PostedForm(monkeypatch, extra='{"timeout": 60, "max_retries": 3}', timeout="60", max_retries="")
    assert posted.form.validate() is True, posted.form.errors
    assert posted.field("max_retries").data == "3"
    assert posted.field("timeout").data == "60"


@needs_fab
def test_a_field_and_the_extra_box_saying_different_things_refuse_the_save(monkeypatch):
    posted = PostedForm(monkeypatch, extra='{"timeout": 60}', timeout="12")
    assert posted.form.validate() is False
    (message,) = posted.form.errors["extra__whatcounts__timeout"]
    assert message == (
        "Not saved: Read timeout (seconds) is given twice, '12' in this field and '60' in the Extra box "
        "('timeout'). Keep one of them."
    )
    assert posted.field("timeout").description == message


@needs_fab
def test_the_edit_pages_copy_of_the_saved_extras_leaves_the_fields_in_charge(monkeypatch):
    """The Edit page puts the saved extras in the box: a changed or emptied field still wins."""
    saved = {"timeout": "12", "max_retries": "2", "sender_codes": ["12345", "67890"]}
    box = '{"timeout": "12", "max_retries": "2", "sender_codes": ["12345", "67890"]}'
    posted = PostedForm(
        monkeypatch, saved=saved, extra=box, timeout="20", max_retries="", sender_codes="12345"
    )
    assert posted.form.validate() is True, posted.form.errors
    assert (posted.field("timeout").data, posted.field("max_retries").data) == ("20", "")
    assert posted.field("sender_codes").data == "12345"


@needs_fab
def test_a_key_typed_in_the_extra_box_is_not_echoed_in_a_conflict(monkeypatch):
    posted = PostedForm(monkeypatch, extra='{"api_key": "other:s3cret"}', api_key="reporting:mykey")
    assert posted.form.validate() is False
    (message,) = posted.form.errors["extra__whatcounts__api_key"]
    assert message == (
        "Not saved: API client key (optional) is given twice, differently, in this field and in the "
        "Extra box ('api_key'). Keep one of them."
    )


@needs_fab
def test_sender_codes_saved_as_a_list_are_shown_as_text():
    from wtforms import Form

    form = type("ConnectionForm", (Form,), {"codes": _form.connection_form_widgets()["sender_codes"]})()
    form.codes.data = ["12345", "67890"]  # a JSON list, as Airflow's prefill_form sets it
    assert 'value="12345, 67890"' in str(form.codes())
