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
    assert form.errors == {"timeout": [f"Not a valid value. {CONN_FIELDS['timeout']['description']}"]}
