"""The connection form's helpers: the 2.11 field behaviour, the Test button's typed id, plain HTTP."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from whatcounts_provider.hooks import _form


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
