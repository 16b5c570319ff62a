"""The tests mirror the package: every product module has its test module.

``whatcounts_provider/<folders>/<name>.py`` is tested in ``tests/<folders>/test_<name>.py``, a
leading underscore dropped (``hooks/_retry.py``: ``tests/hooks/test_retry.py``; ``__main__.py``:
``test_main.py``). A concern that spans modules may have more test modules (``tests/security``).
"""

from __future__ import annotations

from tests.helpers import ROOT

PACKAGE = ROOT / "whatcounts_provider"


def expected_test_module(relative: str) -> str:
    folders, _, name = relative.rpartition("/")
    stem = name.removesuffix(".py").strip("_")
    return "/".join(part for part in ("tests", folders, f"test_{stem}.py") if part)


def test_every_product_module_has_its_test_module():
    modules = sorted(
        str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py") if path.name != "__init__.py"
    )
    assert len(modules) > 30
    missing = [expected_test_module(m) for m in modules if not (ROOT / expected_test_module(m)).is_file()]
    assert missing == []


def test_the_rule_maps_names_as_documented():
    assert expected_test_module("hooks/_retry.py") == "tests/hooks/test_retry.py"
    assert expected_test_module("testing/emulator/__main__.py") == "tests/testing/emulator/test_main.py"
    assert expected_test_module("storage.py") == "tests/test_storage.py"
