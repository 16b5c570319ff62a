"""Connection resolution: Site URL rules, extras coercion and validation, precedence, secrecy."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.helpers import PASSWORD
from whatcounts_provider.exceptions import WhatCountsConfigError
from whatcounts_provider.hooks._settings import WhatCountsSettings, resolve_settings
from whatcounts_provider.hooks.whatcounts import WhatCountsHook


@dataclass
class StandInConnection:
    """The attributes of an Airflow Connection that resolve_settings reads."""

    conn_id: str = "wc_test"
    host: str | None = "https://mail.example.com"
    login: str | None = "test-realm"
    password: str | None = PASSWORD
    port: int | None = None
    extra_dejson: dict[str, Any] = field(default_factory=dict)


def resolve(**kwargs: Any) -> WhatCountsSettings:
    hook_args = {key: kwargs.pop(key) for key in ("timeout", "max_retries") if key in kwargs}
    return resolve_settings(StandInConnection(**kwargs), **hook_args)


def settings_from_env(
    use_connection: Any, *, hook_args: dict[str, Any] | None = None, **conn: Any
) -> WhatCountsSettings:
    """The settings a hook resolves for connection ``wc_env``, set up with ``use_connection(**conn)``."""
    use_connection(conn_id="wc_env", **conn)
    return WhatCountsHook("wc_env", **(hook_args or {})).settings


# --- Site URL --------------------------------------------------------------------------------

# (host, port, expected REST base URL)
BASE_URLS = {
    "no-scheme-means-https": ("mail.example.com", None, "https://mail.example.com/rest"),
    "https": ("https://mail.example.com", None, "https://mail.example.com/rest"),
    "trailing-slash": ("https://mail.example.com/", None, "https://mail.example.com/rest"),
    "rest-already-present": ("https://mail.example.com/rest", None, "https://mail.example.com/rest"),
    "rest-and-trailing-slash": ("https://mail.example.com/rest/", None, "https://mail.example.com/rest"),
    "path-prefix-kept": ("https://mail.example.com/wc", None, "https://mail.example.com/wc/rest"),
    "path-prefix-and-rest": ("mail.example.com/wc/rest/", None, "https://mail.example.com/wc/rest"),
    "surrounding-whitespace": ("  https://mail.example.com  ", None, "https://mail.example.com/rest"),
    "upper-case-scheme-and-host": ("HTTPS://Mail.Example.COM", None, "https://mail.example.com/rest"),
    "port-from-connection": ("mail.example.com", 8443, "https://mail.example.com:8443/rest"),
    "port-in-url": ("https://mail.example.com:9443", None, "https://mail.example.com:9443/rest"),
    "url-port-wins-over-connection-port": (
        "https://mail.example.com:9443",
        8443,
        "https://mail.example.com:9443/rest",
    ),
    "http-loopback-ipv4": ("http://127.0.0.1:8080", None, "http://127.0.0.1:8080/rest"),
    "http-loopback-ipv4-range": ("http://127.0.0.2", None, "http://127.0.0.2/rest"),
    "http-localhost": ("http://localhost", None, "http://localhost/rest"),
    "http-localhost-port-from-connection": ("http://localhost", 8080, "http://localhost:8080/rest"),
    "http-loopback-ipv6": ("http://[::1]", None, "http://[::1]/rest"),
    "http-loopback-ipv6-port": ("http://[::1]:8080", None, "http://[::1]:8080/rest"),
}


@pytest.mark.parametrize(("host", "port", "expected"), BASE_URLS.values(), ids=BASE_URLS.keys())
def test_site_url_becomes_rest_base_url(host, port, expected):
    assert resolve(host=host, port=port).base_url == expected


# (host, text the error must contain)
BAD_HOSTS = {
    "empty": ("", "Site URL (Host) is empty"),
    "none": (None, "Site URL (Host) is empty"),
    "blank": ("   ", "Site URL (Host) is empty"),
    "http-public-host": ("http://mail.example.com", "clear text"),
    "http-private-ip": ("http://10.0.0.5", "clear text"),
    "ftp": ("ftp://mail.example.com", "ftp://"),
    "query-string": ("https://mail.example.com/?realm=x", "query"),
    "fragment": ("https://mail.example.com/#top", "fragment"),
    "credentials-in-host": ("https://someone:hunter2-pw@mail.example.com", "must not contain credentials"),
    "scheme-only": ("https://", "no host name"),
    "invalid-port": ("https://mail.example.com:99999", "invalid port"),
}


@pytest.mark.parametrize(("host", "needle"), BAD_HOSTS.values(), ids=BAD_HOSTS.keys())
def test_unusable_site_url_is_refused_naming_the_field(host, needle):
    with pytest.raises(WhatCountsConfigError) as excinfo:
        resolve(host=host)
    message = str(excinfo.value)
    assert needle in message
    assert "Site URL (Host)" in message
    assert "'wc_test'" in message
    assert "hunter2-pw" not in message


def test_plain_http_refusal_explains_why_and_what_to_use():
    with pytest.raises(WhatCountsConfigError) as excinfo:
        resolve(host="http://mail.example.com")
    message = str(excinfo.value)
    assert "clear text" in message
    assert "https://" in message
    assert PASSWORD not in message


def test_credentials_in_a_non_http_site_url_are_not_echoed():
    with pytest.raises(WhatCountsConfigError) as excinfo:
        resolve(host="ftp://someone:hunter2-pw@mail.example.com")
    assert "hunter2-pw" not in str(excinfo.value)


# --- login and password ----------------------------------------------------------------------

MISSING_CREDENTIALS = {
    "empty-login": ({"login": ""}, r"Realm \(Login\) is empty"),
    "blank-login": ({"login": "   "}, r"Realm \(Login\) is empty"),
    "no-login": ({"login": None}, r"Realm \(Login\) is empty"),
    "empty-password": ({"password": ""}, r"API password \(Password\) is empty"),
    "no-password": ({"password": None}, r"API password \(Password\) is empty"),
}


@pytest.mark.parametrize(("fields", "needle"), MISSING_CREDENTIALS.values(), ids=MISSING_CREDENTIALS.keys())
def test_missing_realm_or_password_is_refused(fields, needle):
    with pytest.raises(WhatCountsConfigError, match=needle) as excinfo:
        resolve(**fields)
    assert "'wc_test'" in str(excinfo.value)


def test_realm_is_stripped():
    assert resolve(login="  test-realm \n").realm == "test-realm"


# --- extras ----------------------------------------------------------------------------------


def test_defaults_without_extras():
    settings = resolve()
    assert (settings.api_version, settings.connect_timeout, settings.read_timeout) == ("v1", 10.0, 30.0)
    assert (settings.max_retries, settings.default_region, settings.verify) == (5, "US", True)


def test_string_extras_from_a_uri_are_coerced(use_connection):
    settings = settings_from_env(
        use_connection,
        uri="whatcounts://test-realm:secret@mail.example.com"
        "?timeout=12&max_retries=2&verify=false&default_region=gb&api_version=v2",
    )
    assert settings.read_timeout == 12.0
    assert settings.max_retries == 2
    assert isinstance(settings.max_retries, int)
    assert settings.verify is False
    assert settings.default_region == "GB"
    assert settings.api_version == "v2"
    assert settings.connect_timeout == 10.0, "the extra sets the read timeout only"


def test_uri_fields_reach_the_settings(use_connection):
    settings = settings_from_env(
        use_connection, uri="whatcounts://test-realm:p%40ss%2Fw0rd@mail.example.com:8443"
    )
    assert settings.base_url == "https://mail.example.com:8443/rest"
    assert settings.realm == "test-realm"
    assert settings.password == "p@ss/w0rd"
    assert settings.conn_id == "wc_env"


def test_json_connection_with_typed_extras(use_connection):
    settings = settings_from_env(
        use_connection,
        host="https://mail.example.com/wc/",
        timeout=4.5,
        max_retries=0,
        verify=True,
        api_version="V3",
    )
    assert settings.base_url == "https://mail.example.com/wc/rest"
    assert (settings.read_timeout, settings.max_retries, settings.verify) == (4.5, 0, True)
    assert settings.api_version == "v3"


def test_empty_form_values_fall_back_to_defaults():
    """Airflow 2.x forms store untouched custom fields as empty strings."""
    settings = resolve(extra_dejson={"timeout": "", "max_retries": None, "default_region": "", "verify": ""})
    assert (settings.read_timeout, settings.max_retries, settings.default_region, settings.verify) == (
        30.0,
        5,
        "US",
        True,
    )


def test_legacy_prefixed_extras_are_read():
    settings = resolve(
        extra_dejson={
            "extra__whatcounts__timeout": "15",
            "extra__whatcounts__max_retries": "3",
            "extra__whatcounts__default_region": "de",
        }
    )
    assert (settings.read_timeout, settings.max_retries, settings.default_region) == (15.0, 3, "DE")


def test_legacy_prefixed_extra_is_validated_too():
    with pytest.raises(WhatCountsConfigError, match="timeout"):
        resolve(extra_dejson={"extra__whatcounts__timeout": "soon"})


PRECEDENCE = {
    "default": ({}, {}, 30.0, 5),
    "extra": ({"timeout": "12", "max_retries": "2"}, {}, 12.0, 2),
    "argument-over-extra": ({"timeout": "12", "max_retries": "2"}, {"timeout": 7, "max_retries": 4}, 7.0, 4),
    "argument-over-default": ({}, {"timeout": 7.5, "max_retries": 1}, 7.5, 1),
    "zero-retries-argument-over-extra": ({"max_retries": "3"}, {"max_retries": 0}, 30.0, 0),
}


@pytest.mark.parametrize(("extra", "args", "timeout", "retries"), PRECEDENCE.values(), ids=PRECEDENCE.keys())
def test_hook_argument_beats_extra_beats_default(extra, args, timeout, retries):
    settings = resolve(extra_dejson=extra, **args)
    assert settings.read_timeout == timeout
    assert settings.max_retries == retries


def test_precedence_through_the_hook(use_connection):
    conn = "whatcounts://test-realm:secret@mail.example.com?timeout=12&max_retries=2"
    assert settings_from_env(use_connection, uri=conn).read_timeout == 12.0
    settings = settings_from_env(use_connection, uri=conn, hook_args={"timeout": 3, "max_retries": 0})
    assert (settings.read_timeout, settings.max_retries) == (3.0, 0)


# (extras, field named in the error)
BAD_EXTRAS = {
    "timeout-word": ({"timeout": "abc"}, "timeout"),
    "timeout-zero": ({"timeout": "0"}, "timeout"),
    "timeout-negative": ({"timeout": "-1"}, "timeout"),
    "timeout-nan": ({"timeout": "nan"}, "timeout"),
    "timeout-infinite": ({"timeout": "inf"}, "timeout"),
    "timeout-bool": ({"timeout": True}, "timeout"),
    "max-retries-word": ({"max_retries": "five"}, "max_retries"),
    "max-retries-fraction": ({"max_retries": "2.5"}, "max_retries"),
    "max-retries-too-many": ({"max_retries": "99"}, "max_retries"),
    "max-retries-negative": ({"max_retries": "-1"}, "max_retries"),
    "api-version-bare-number": ({"api_version": "1"}, "api_version"),
    "api-version-word": ({"api_version": "version1"}, "api_version"),
    "api-version-header-injection": ({"api_version": "v1+json\r\nX-Evil: 1"}, "api_version"),
    "default-region-unknown": ({"default_region": "ZZ"}, "default_region"),
    "default-region-three-letters": ({"default_region": "USA"}, "default_region"),
    "verify-missing-file": ({"verify": "/no/such/file"}, "verify"),
    "verify-word": ({"verify": "maybe"}, "verify"),
}


@pytest.mark.parametrize(("extras", "name"), BAD_EXTRAS.values(), ids=BAD_EXTRAS.keys())
def test_unusable_extra_is_refused_naming_the_field(extras, name):
    with pytest.raises(WhatCountsConfigError) as excinfo:
        resolve(extra_dejson=extras)
    message = str(excinfo.value)
    assert f"extra '{name}'" in message
    assert "'wc_test'" in message


BAD_URI_EXTRAS = {
    "timeout": "timeout=abc",
    "max_retries": "max_retries=99",
    "api_version": "api_version=version1",
    "default_region": "default_region=ZZ",
    "verify": "verify=/no/such/file",
}


@pytest.mark.parametrize(("name", "query"), BAD_URI_EXTRAS.items(), ids=BAD_URI_EXTRAS.keys())
def test_unusable_extra_in_a_uri_is_refused(use_connection, name, query):
    with pytest.raises(WhatCountsConfigError, match=f"extra '{name}'"):
        settings_from_env(use_connection, uri=f"whatcounts://r:p@mail.example.com?{query}")


BAD_ARGUMENTS = {
    "timeout-zero": ({"timeout": 0}, "timeout argument"),
    "timeout-negative": ({"timeout": -3}, "timeout argument"),
    "max-retries-negative": ({"max_retries": -1}, "max_retries argument"),
    "max-retries-over-limit": ({"max_retries": 21}, "max_retries argument"),
}


@pytest.mark.parametrize(("args", "name"), BAD_ARGUMENTS.values(), ids=BAD_ARGUMENTS.keys())
def test_unusable_hook_argument_is_refused_naming_it(args, name):
    with pytest.raises(WhatCountsConfigError, match=name):
        resolve(**args)


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_non_finite_max_retries_is_refused_naming_the_field(value):
    with pytest.raises(WhatCountsConfigError, match="max_retries"):
        resolve(extra_dejson={"max_retries": value})


VERIFY = {
    "false": ("false", False),
    "no": ("no", False),
    "zero": ("0", False),
    "true-upper-case": ("TRUE", True),
    "on": ("on", True),
    "bool-false": (False, False),
    "bool-true": (True, True),
}


@pytest.mark.parametrize(("raw", "expected"), VERIFY.values(), ids=VERIFY.keys())
def test_verify_flag_is_coerced(raw, expected):
    assert resolve(extra_dejson={"verify": raw}).verify is expected


def test_verify_pointing_at_an_existing_file_is_kept_as_a_path(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    assert resolve(extra_dejson={"verify": str(bundle)}).verify == str(bundle)


def test_verify_pointing_at_a_directory_is_refused(tmp_path):
    with pytest.raises(WhatCountsConfigError, match="verify"):
        resolve(extra_dejson={"verify": str(tmp_path)})


def test_unknown_extra_is_reported_by_name_and_ignored(log_text):
    settings = resolve(extra_dejson={"timout": "5", "timeout": "8"})
    assert settings.read_timeout == 8.0
    warnings = [r for r in log_text.records() if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert "timout" in message
    assert "'wc_test'" in message


def test_known_extras_log_no_warning(log_text):
    resolve(extra_dejson={"timeout": "8", "extra__whatcounts__verify": "true"})
    assert not [r for r in log_text.records() if r.levelno >= logging.WARNING]


def test_repr_does_not_contain_the_password(use_connection):
    settings = resolve()
    assert PASSWORD not in repr(settings)
    assert PASSWORD not in str(settings)
    assert "test-realm" in repr(settings), "the rest of the settings stay visible for debugging"
    hook_settings = settings_from_env(use_connection, host="mail.example.com")
    assert PASSWORD not in repr(hook_settings)


# --- sender_codes (revoke-all) ----------------------------------------------------------------


def test_no_sender_codes_is_an_empty_tuple():
    assert resolve().sender_codes == ()
    assert resolve(extra_dejson={"sender_codes": ""}).sender_codes == ()


SENDER_CODES = {
    "comma-separated": ("12345, 67890,ABC1", ("12345", "67890", "ABC1")),
    "whitespace-and-newlines": ("12345\n67890  ABC1", ("12345", "67890", "ABC1")),
    "a-real-list": (["12345", 67890], ("12345", "67890")),
    "json-list-text": ('["12345", "67890"]', ("12345", "67890")),
    "python-list-text": ("['12345', '67890']", ("12345", "67890")),
    "one-code-as-a-number": (12345, ("12345",)),
    "repeats-removed-order-kept": ("67890, 12345, 67890, 12345", ("67890", "12345")),
    "empty-list": ([], ()),
}


@pytest.mark.parametrize(("value", "expected"), SENDER_CODES.values(), ids=SENDER_CODES.keys())
def test_sender_codes_are_read_in_order_without_repeats(value, expected):
    assert resolve(extra_dejson={"sender_codes": value}).sender_codes == expected


def test_sender_codes_from_a_uri_as_text_or_as_a_json_list(use_connection):
    uri = "whatcounts://r:p@mail.example.com?sender_codes=12345%2C67890"
    assert settings_from_env(use_connection, uri=uri).sender_codes == ("12345", "67890")
    uri = "whatcounts://r:p@mail.example.com?sender_codes=%5B%2212345%22%2C%2267890%22%5D"
    assert settings_from_env(use_connection, uri=uri).sender_codes == ("12345", "67890")


def test_sender_codes_from_a_json_connection_as_a_real_list(use_connection):
    settings = settings_from_env(use_connection, host="mail.example.com", sender_codes=["12345", "67890"])
    assert settings.sender_codes == ("12345", "67890")


def test_the_prefixed_form_spelling_of_sender_codes_is_read():
    assert resolve(extra_dejson={"extra__whatcounts__sender_codes": "1234"}).sender_codes == ("1234",)


def test_bad_sender_codes_are_named_all_at_once_with_the_extras_label():
    with pytest.raises(WhatCountsConfigError) as excinfo:
        resolve(extra_dejson={"sender_codes": "12345, 678-90, 12345, ABCDEFGHIJKLMNOPQRSTUVWXYZ"})
    message = str(excinfo.value)
    assert message.startswith(
        "connection 'wc_test': Sender codes (revoke-all) (extra 'sender_codes') has 2 invalid"
    )
    assert "'678-90'" in message
    assert "'ABCDEFGHIJKLMNOPQRSTUV…" in message
    assert "'12345'" not in message, "only the bad codes are named"


def test_a_bad_sender_code_joins_the_other_problems():
    with pytest.raises(WhatCountsConfigError) as excinfo:
        resolve(login="", extra_dejson={"sender_codes": "12$34", "timeout": "soon"})
    message = str(excinfo.value)
    assert message.startswith("connection 'wc_test' has 3 invalid settings")
    assert "Realm (Login) is empty" in message
    assert "Sender codes (revoke-all) (extra 'sender_codes') has 1 invalid sender code: '12$34'" in message


def test_sender_codes_separated_by_a_space_are_two_codes_not_one_bad_one():
    assert resolve(extra_dejson={"sender_codes": "12 34"}).sender_codes == ("12", "34")


@pytest.mark.parametrize("value", [{"a": "12345"}, True, 1.5], ids=["object", "bool", "float"])
def test_sender_codes_of_another_shape_are_refused(value):
    with pytest.raises(WhatCountsConfigError, match="extra 'sender_codes'"):
        resolve(extra_dejson={"sender_codes": value})


def test_settings_are_immutable():
    settings = resolve()
    with pytest.raises(AttributeError):
        settings.base_url = "https://evil.example.com/rest"  # type: ignore[misc]
