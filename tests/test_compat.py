"""_compat: the one home of Airflow 2.11/3.x differences."""

from __future__ import annotations

import ast
import importlib
import importlib.util
from typing import TYPE_CHECKING

import pytest

from tests.helpers import AIRFLOW_3, AIRFLOW_VERSION, ROOT
from whatcounts_provider import _compat

if TYPE_CHECKING:
    from pathlib import Path

PACKAGE = ROOT / "whatcounts_provider"


def test_the_version_flags_match_the_installed_airflow():
    release = AIRFLOW_VERSION.release
    assert _compat.AIRFLOW_V_3_0_PLUS is AIRFLOW_3
    assert _compat.AIRFLOW_V_3_1_PLUS is (release >= (3, 1))
    assert _compat.AIRFLOW_V_3_2_PLUS is (release >= (3, 2))
    assert _compat.AIRFLOW_V_3_3_PLUS is (release >= (3, 3))


@pytest.mark.parametrize("name", sorted(_compat.MOVED_NAMES))
def test_every_moved_name_resolves_to_the_newest_module_that_has_it(name):
    provider = _compat.OPTIONAL_PROVIDER_NAMES.get(name)
    if (name in _compat.AIRFLOW_3_ONLY_NAMES and not AIRFLOW_3) or (
        provider is not None and importlib.util.find_spec(provider) is None
    ):
        with pytest.raises(ImportError, match=f"{name} is in none of"):
            _compat.find(name)
        return
    found = _compat.find(name)
    assert getattr(_compat, name) is found or name == "BaseHook"  # 3.0 wraps BaseHook (see _compat)
    for module_name in _compat.MOVED_NAMES[name]:
        try:
            owner = importlib.import_module(module_name)
            expected = getattr(owner, name)
        except (ImportError, AttributeError):
            continue
        assert found is expected
        break


def test_an_unknown_name_names_the_modules_it_looked_in(monkeypatch):
    monkeypatch.setitem(_compat.MOVED_NAMES, "Nowhere", ("airflow.sdk", "airflow.models"))
    with pytest.raises(ImportError, match=r"Nowhere is in none of airflow.sdk, airflow.models \(Airflow "):
        _compat.find("Nowhere")


def airflow_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "airflow":
            found.append(node.module or "")
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.split(".")[0] == "airflow"]
    return found


def test_no_other_module_imports_airflow_directly():
    """Shims live in _compat only. The emulator and pytest plugin import no Airflow at all."""
    offenders = {
        str(path.relative_to(ROOT)): imports
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "_compat.py" and (imports := airflow_imports(path))
    }
    assert offenders == {}
