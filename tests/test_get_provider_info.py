"""Provider registration: Airflow's schemas, ProvidersManager, the CLI, the connection form, packaging."""

from __future__ import annotations

import copy
import importlib
import importlib.metadata
import importlib.resources
import importlib.util
import json
import os
import re
import subprocess
import sys

import airflow
import jsonschema
import pytest
from airflow.providers_manager import ProvidersManager
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.helpers import AIRFLOW_3, AIRFLOW_VERSION, FAB_INSTALLED
from whatcounts_provider import __version__
from whatcounts_provider.get_provider_info import get_provider_info
from whatcounts_provider.hooks.whatcounts import WhatCountsHook

DIST = "airflow-provider-whatcounts"
HOOK_CLASS = "whatcounts_provider.hooks.whatcounts.WhatCountsHook"
EXTRAS = ("api_version", "timeout", "max_retries", "default_region", "verify", "api_key", "sender_codes")
#: Extras without a default: the form starts them empty.
NO_DEFAULT = ("api_key", "sender_codes")
RELABELING = {"host": "Site URL", "login": "Realm", "password": "API password"}
HIDDEN = ["schema", "port", "extra"]
# 2.11 keeps Extra visible: its connection_form.js needs the Extra editor for the Test button.
HIDDEN_2 = ["schema", "port"]


def airflow_schema(name: str) -> dict:
    """A JSON schema shipped inside the installed apache-airflow package."""
    return json.loads(importlib.resources.files("airflow").joinpath(name).read_text())


def connection_type() -> dict:
    (entry,) = get_provider_info()["connection-types"]
    return entry


def providers_manager() -> ProvidersManager:
    return ProvidersManager()


def whatcounts_hook_info():
    """The HookInfo Airflow registers for ``whatcounts``, through the API each version does not deprecate."""
    try:
        # 3.2+: ProvidersManager().hooks emits DeprecatedImportWarning; the task SDK owns hooks now.
        from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime
    except ImportError:  # Airflow 2.11 to 3.1
        return providers_manager().hooks["whatcounts"]
    return ProvidersManagerTaskRuntime().hooks["whatcounts"]


# --- provider info against Airflow's own schemas ---------------------------------------------


def test_provider_info_validates_against_airflows_schema():
    jsonschema.validate(get_provider_info(), airflow_schema("provider_info.schema.json"))


def test_airflows_schema_rejects_a_broken_provider_info():
    """The validation above can fail: without a required key it does."""
    broken = copy.deepcopy(get_provider_info())
    del broken["name"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, airflow_schema("provider_info.schema.json"))


def test_connection_type_validates_against_the_provider_yaml_schema():
    """provider.yaml's schema describes conn-fields and ui-field-behaviour strictly (3.2+)."""
    schema = airflow_schema("provider.yaml.schema.json")["properties"]["connection-types"]
    if "conn-fields" not in schema["items"]["properties"]:
        pytest.skip(f"Airflow {airflow.__version__} has no declarative connection fields")
    jsonschema.validate(get_provider_info()["connection-types"], schema)


def test_ui_field_behaviour_validates_against_airflows_form_schema():
    jsonschema.validate(
        WhatCountsHook.get_ui_field_behaviour(),
        airflow_schema("customized_form_field_behaviours.schema.json"),
    )


def test_versions_agree():
    assert get_provider_info()["versions"][0] == __version__
    assert importlib.metadata.version(DIST) == __version__


def test_entry_point_returns_this_provider_info():
    (entry_point,) = [
        ep for ep in importlib.metadata.entry_points(group="apache_airflow_provider") if ep.dist.name == DIST
    ]
    assert entry_point.load()() == get_provider_info()


def test_declared_modules_and_hook_class_import():
    info = get_provider_info()
    for section in ("hooks", "operators"):
        for item in info[section]:
            for module in item["python-modules"]:
                importlib.import_module(module)
    module_name, _, class_name = connection_type()["hook-class-name"].rpartition(".")
    assert getattr(importlib.import_module(module_name), class_name) is WhatCountsHook


# (field, valid values, invalid values) for the form's declared JSON schema of each extra
FORM_VALUES = {
    "api_version": (["v1", "v2", "V12", None], ["1", "version1", "version2", 1]),
    # Required in Airflow 3.3's form: what its number input drops (letters) leaves the field
    # empty, and an empty required field refuses the Save ("This field is required").
    "timeout": ([30, 0.5], [0, -1, "30", None]),
    "max_retries": ([0, 5], [-1, 2.5, "5", None]),
    "default_region": (["US", "gb", None], ["USA", "AUT", "1", ""]),
    "verify": (["true", "FALSE", "no", "/etc/ssl/ca.pem", "ca.pem", None], [True, 1, "maybe", "yes please"]),
    "sender_codes": (
        ["12345", "12345, 67890", "12345\n67890", '["12345", "67890"]', None],
        ["123-45", "12345; 67890", "a" * 21, ["12345"]],
    ),
}


@pytest.mark.parametrize(
    ("name", "valid", "invalid"), [(k, *v) for k, v in FORM_VALUES.items()], ids=FORM_VALUES
)
def test_conn_field_schemas_accept_and_reject_like_the_hook(name, valid, invalid):
    field = connection_type()["conn-fields"][name]
    validator_class = jsonschema.validators.validator_for(field["schema"])
    validator_class.check_schema(field["schema"])
    validator = validator_class(field["schema"])
    for value in valid:
        assert validator.is_valid(value), value
    for value in invalid:
        assert not validator.is_valid(value), value


def test_conn_field_schema_refuses_max_retries_the_hook_refuses():
    from whatcounts_provider.hooks._settings import MAX_RETRIES_LIMIT

    schema = connection_type()["conn-fields"]["max_retries"]["schema"]
    assert not jsonschema.validators.validator_for(schema)(schema).is_valid(MAX_RETRIES_LIMIT + 1)


# --- registration with Airflow ---------------------------------------------------------------


def test_providers_manager_lists_the_package():
    providers = providers_manager().providers
    assert DIST in providers
    assert providers[DIST].version == __version__


def test_connection_type_is_registered_with_the_hook():
    info = whatcounts_hook_info()
    assert info.hook_class_name == HOOK_CLASS
    assert info.connection_type == "whatcounts"
    assert info.connection_id_attribute_name == "whatcounts_conn_id"
    assert info.hook_name == "WhatCounts"
    assert info.package_name == DIST
    assert info.connection_testable is True, "the UI offers the Test button"


@pytest.mark.skipif(
    not hasattr(ProvidersManager, "iter_connection_type_hook_ui_metadata"),
    reason="connection UI metadata without hook import is Airflow 3.3+ (the test below covers 3.0+)",
)
def test_connection_ui_metadata_on_airflow_3_3():
    (meta,) = [
        m
        for m in providers_manager().iter_connection_type_hook_ui_metadata()
        if m.connection_type == "whatcounts"
    ]
    assert meta.hook_class_name == HOOK_CLASS
    assert meta.hook_name == "WhatCounts"
    assert meta.field_behaviour["hidden_fields"] == HIDDEN
    assert meta.field_behaviour["relabeling"] == RELABELING


UI_HOOK_META = """
import json
from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService
metas = HookMetaService.hook_meta_data()
print(json.dumps([m.model_dump(mode="json") for m in metas if m.connection_type == "whatcounts"]))
"""


@pytest.mark.skipif(not AIRFLOW_3, reason="the 3.x UI's API; 2.11 renders the form server-side")
def test_the_ui_api_serves_the_whole_connection_form():
    """What ``GET /ui/connections/hook_meta`` gives the connection form, on every 3.x.

    Run in a fresh interpreter, as in the API server: before 3.3 the service imports the hooks
    with FAB's and WTForms' classes mocked (once per process), which is how 3.1 and 3.2 show the
    form without the FAB provider.
    """
    result = subprocess.run(
        [sys.executable, "-c", UI_HOOK_META],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (meta,) = json_array(result.stdout)
    assert meta["hook_class_name"] == HOOK_CLASS
    assert meta["hook_name"] == "WhatCounts"
    fields = meta["standard_fields"]
    assert {name: fields[name]["title"] for name in RELABELING} == RELABELING
    assert fields["port"]["hidden"]
    assert fields["url_schema"]["hidden"]
    assert fields["host"]["placeholder"] == "https://mail.example.com"
    assert sorted(meta["extra_fields"]) == sorted(EXTRAS)
    titles = {name: field["schema"]["title"] for name, field in meta["extra_fields"].items()}
    assert titles == {name: field["label"] for name, field in connection_type()["conn-fields"].items()}


# 3.1 without the FAB provider cannot import the hook's form widgets in ProvidersManager (the
# UI's API mocks FAB instead: the test above); 3.0 has the same limit, so its lane installs FAB.
NO_FORM_IN_PROVIDERS_MANAGER = pytest.mark.skipif(
    AIRFLOW_3 and AIRFLOW_VERSION.release < (3, 2) and not FAB_INSTALLED,
    reason=f"Airflow {airflow.__version__} without FAB: ProvidersManager has no form for any hook",
)


@NO_FORM_IN_PROVIDERS_MANAGER
def test_field_behaviour_hides_and_relabels_the_standard_fields():
    behaviour = providers_manager().field_behaviours["whatcounts"]
    # Before 3.2 (2.11, and 3.0/3.1 through the FAB provider) the form comes from the hook's
    # classmethods, which keep the Extra editor visible: Airflow 2's Test button needs it.
    classic = not AIRFLOW_3 or AIRFLOW_VERSION.release < (3, 2)
    assert sorted(behaviour["hidden_fields"]) == sorted(HIDDEN_2 if classic else HIDDEN)
    relabeling = behaviour["relabeling"]
    if classic:
        assert relabeling.pop("extra").startswith("Extra (JSON")
    assert relabeling == RELABELING
    assert behaviour["placeholders"]["host"] == "https://mail.example.com"
    assert behaviour["placeholders"]["extra__whatcounts__timeout"] == "30"


def test_no_text_field_declares_a_max_length():
    """Airflow 3.3's inputs stop typing at maxLength: a cut value is another value, saved silently."""
    for name, spec in connection_type()["conn-fields"].items():
        assert "maxLength" not in spec["schema"], name


def test_the_sender_codes_field_names_the_revoke_all_rule_and_its_date():
    spec = connection_type()["conn-fields"]["sender_codes"]
    assert spec["label"] == "Sender codes (revoke-all)"
    assert "revoke-all" in spec["description"]
    assert "2027-01-31" in spec["description"]
    assert 'scope="all"' in spec["description"]


@NO_FORM_IN_PROVIDERS_MANAGER
def test_connection_form_has_the_seven_extras():
    form_widgets = providers_manager().connection_form_widgets
    widgets = {name: widget for name, widget in form_widgets.items() if widget.package_name == DIST}
    assert sorted(widgets) == sorted(f"extra__whatcounts__{name}" for name in EXTRAS)
    assert {widget.field_name for widget in widgets.values()} == set(EXTRAS)
    sensitive = {widget.field_name for widget in widgets.values() if widget.is_sensitive}
    assert sensitive == {"api_key"}, "the API client key is masked like the password"


def test_every_extra_has_a_label_help_text_and_visible_default():
    for name, spec in connection_type()["conn-fields"].items():
        assert spec["label"], name
        assert spec["description"], name
        default = spec["schema"].get("default")
        if name not in NO_DEFAULT:
            assert default is not None, f"{name}: 3.3 shows no placeholders for extras, only values"
            assert str(default) in spec["description"], f"{name}: the help text names the default"
            jsonschema.validate(default, spec["schema"])


def test_hook_classmethods_describe_the_same_form():
    """The 2.11 form is the declared one, except that Extra stays visible (and says what it is)."""
    declared = connection_type()["ui-field-behaviour"]
    behaviour = WhatCountsHook.get_ui_field_behaviour()
    assert behaviour["hidden_fields"] == HIDDEN_2
    assert {k: v for k, v in behaviour["relabeling"].items() if k != "extra"} == declared["relabeling"]
    assert {k: v for k, v in behaviour["placeholders"].items() if k != "extra"} == declared["placeholders"]
    assert behaviour["relabeling"]["extra"].startswith("Extra (JSON")


@pytest.mark.skipif(AIRFLOW_3, reason="3.x builds the form from conn-fields; flask_appbuilder is 2.11's")
def test_connection_form_widgets_on_airflow_2():
    from wtforms import PasswordField, StringField

    widgets = WhatCountsHook.get_connection_form_widgets()
    assert list(widgets) == list(EXTRAS)
    declared = connection_type()["conn-fields"]
    labels = {name: str(field.args[0]) for name, field in widgets.items()}
    assert labels == {name: field["label"] for name, field in declared.items()}
    help_texts = {name: str(field.kwargs["description"]) for name, field in widgets.items()}
    assert help_texts == {name: field["description"] for name, field in declared.items()}
    assert widgets.pop("api_key").field_class is PasswordField
    assert all(field.field_class is StringField for field in widgets.values())
    assert widgets["sender_codes"].kwargs["widget"].__class__.__name__ == "ListAsTextInput"


def test_hook_class_attributes():
    assert WhatCountsHook.conn_name_attr == "whatcounts_conn_id"
    assert WhatCountsHook.default_conn_name == "whatcounts_default"
    assert WhatCountsHook.conn_type == "whatcounts"
    assert WhatCountsHook.hook_name == "WhatCounts"
    assert WhatCountsHook().whatcounts_conn_id == "whatcounts_default"


def json_array(text: str) -> list:
    """The JSON array a command printed, after any log lines (3.0.6 logs alembic INFO lines first)."""
    decoder = json.JSONDecoder()
    for line in re.finditer(r"^\[", text, re.MULTILINE):
        try:
            value, _ = decoder.raw_decode(text, line.start())
        except json.JSONDecodeError:  # a log line such as "[2026-11-25T10:00:00.000+0000] {...}"
            continue
        if isinstance(value, list):
            return value
    raise AssertionError(f"no JSON array in the output: {text[-2000:]}")


def test_json_array_skips_log_lines_before_the_document():
    printed = (
        "INFO  [alembic.runtime.migration] Context impl SQLiteImpl.\n"
        "[2026-11-25T10:00:00.000+0000] {providers_manager.py:1} INFO - loading\n"
        '[\n  {"package_name": "a", "version": "1"}\n]\n'
    )
    assert json_array(printed) == [{"package_name": "a", "version": "1"}]
    with pytest.raises(AssertionError, match="no JSON array"):
        json_array("INFO  [alembic.runtime.migration] Will assume non-transactional DDL.\n")


def test_airflow_cli_lists_the_provider():
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    result = subprocess.run(
        [sys.executable, "-m", "airflow", "providers", "list", "-o", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    listed = {entry["package_name"]: entry for entry in json_array(result.stdout)}
    assert DIST in listed
    assert listed[DIST]["version"] == __version__
    assert listed[DIST]["description"].startswith("Opt phones out of WhatCounts SMS sender codes")


# --- packaging -------------------------------------------------------------------------------


def test_runtime_requirements_are_exactly_airflow_requests_phonenumbers():
    requirements = [Requirement(line) for line in importlib.metadata.requires(DIST) or []]
    runtime = {
        canonicalize_name(req.name): req
        for req in requirements
        if req.marker is None or "extra" not in str(req.marker)
    }
    assert set(runtime) == {"apache-airflow", "requests", "phonenumbers"}
    assert runtime["apache-airflow"].specifier.contains("2.11.0")
    assert not runtime["apache-airflow"].specifier.contains("2.10.5")
    assert not runtime["requests"].specifier.contains("3.0.0")


@pytest.mark.skipif(AIRFLOW_3, reason="wtforms validators are 2.11's form; 3.x renders conn-fields itself")
def test_airflow_2_form_checks_each_extra_against_its_schema_on_save():
    from wtforms.validators import ValidationError

    widgets = WhatCountsHook.get_connection_form_widgets()
    declared = connection_type()["conn-fields"]

    def check(name: str, value: str) -> None:
        _, validator = widgets[name].kwargs["validators"]  # the Extra box check, then the schema's
        validator(None, type("Field", (), {"data": value})())

    accepted = [("api_version", "v1"), ("timeout", "0.5"), ("max_retries", "20"), ("default_region", "gb")]
    accepted += [("verify", "/etc/ssl/ca.pem"), ("max_retries", ""), ("sender_codes", "12345, 67890")]
    for name, value in accepted:
        check(name, value)
    refused = [("api_version", "1"), ("timeout", "0"), ("timeout", "soon"), ("max_retries", "21")]
    refused += [("max_retries", "2.5"), ("default_region", "USA"), ("verify", "maybe")]
    refused += [("api_version", "version2"), ("sender_codes", "123-45")]
    for name, value in refused:
        with pytest.raises(ValidationError, match=re.escape(declared[name]["description"])):
            check(name, value)


def test_a_connection_saved_with_the_forms_defaults_behaves_like_one_without_extras(use_connection):
    """The form starts each extra at its default: saving it untouched must change nothing."""
    from whatcounts_provider.get_provider_info import CONN_FIELDS

    prefilled = {
        name: field["schema"]["default"]
        for name, field in CONN_FIELDS.items()
        if "default" in field["schema"]
    }
    assert {"api_version", "timeout", "max_retries", "default_region", "verify"} <= set(prefilled)
    use_connection()
    bare = WhatCountsHook().settings
    use_connection(**prefilled)
    assert WhatCountsHook().settings == bare
