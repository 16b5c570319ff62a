"""Fixtures of the browser stage: Chromium driven by Playwright against a real Airflow UI.

Nothing is downloaded: Playwright (the Python package, dependency group ``browser``) drives
Debian's Chromium at ``/usr/bin/chromium`` (``WHATCOUNTS_CHROMIUM`` overrides the path). The
Airflow web server of the installed Airflow version is started per session on 127.0.0.1 with
its own home and SQLite database, and the WhatCounts emulator serves on 127.0.0.1 as well.

Without Chromium the stage fails, loudly, unless ``WHATCOUNTS_SKIP_BROWSER=1`` is set (and
never under ``CI=true``): a machine that cannot run it must say so, not pass quietly.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ._servers import ADMIN_PASSWORD, ADMIN_USER, AirflowServer, airflow_major, airflow_server

if TYPE_CHECKING:
    from collections.abc import Iterator

    from whatcounts_provider.testing.emulator import WhatCountsEmulator

CHROMIUM = os.environ.get("WHATCOUNTS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
#: Every wait in the browser is bounded by this (ms): generous for two loaded cores.
UI_TIMEOUT_MS = 60_000
_STAGE_START = time.monotonic()
#: Stage timings printed at the end of the run.
TIMINGS: dict[str, float] = {}


def _chromium_missing_message() -> str:
    return (
        f"\n{'!' * 78}\nBROWSER TESTS CANNOT RUN: no Chromium at {CHROMIUM}.\n"
        "Install it with `apt-get install -y chromium` (`make test-browser` does this when run as "
        "root), point WHATCOUNTS_CHROMIUM at one, or skip this stage explicitly with "
        f"WHATCOUNTS_SKIP_BROWSER=1 (ignored when CI=true).\n{'!' * 78}"
    )


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if shutil.which(CHROMIUM) is None:
        opted_out = os.environ.get("WHATCOUNTS_SKIP_BROWSER") == "1"
        if opted_out and os.environ.get("CI", "").lower() != "true":
            pytest.skip(_chromium_missing_message())
        pytest.fail(_chromium_missing_message(), pytrace=False)
    return CHROMIUM


@pytest.fixture(scope="session")
def stage_emulator() -> Iterator[WhatCountsEmulator]:
    from whatcounts_provider.testing.emulator import WhatCountsEmulator

    with WhatCountsEmulator() as stage_emulator:
        stage_emulator.subscribe("2065551212", ["2065550100"])
        yield stage_emulator


#: The API Client the ``api_client_emulator`` requires (``apiClientName:apiClientAuth``).
API_CLIENT = "reporting-client:browser-auth-part"


@pytest.fixture(scope="session")
def api_client_emulator() -> Iterator[WhatCountsEmulator]:
    """An emulator that requires the API client ``API_CLIENT``'s key beside Basic auth."""
    from whatcounts_provider.testing.emulator import WhatCountsEmulator

    with WhatCountsEmulator(api_key=API_CLIENT) as emulator:
        yield emulator


@pytest.fixture(scope="session")
def airflow(
    tmp_path_factory: pytest.TempPathFactory, chromium_path: str, stage_emulator: WhatCountsEmulator
) -> Iterator[AirflowServer]:
    """This lane's Airflow (3.x api-server or 2.11 webserver, and a scheduler to run DAGs).

    ``whatcounts_default`` (an environment connection, so not in the UI's list) points at the
    emulator, for the example DAGs the trigger-form tests run.
    """
    started = time.monotonic()
    conn = {"AIRFLOW_CONN_WHATCOUNTS_DEFAULT": stage_emulator.conn_json()}
    with airflow_server(tmp_path_factory.mktemp("airflow-home"), conn, run_dags=True) as server:
        TIMINGS[f"Airflow {server.major}.x UI start"] = time.monotonic() - started
        yield server


@pytest.fixture(scope="session")
def browser_context(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),  # a fresh user-data-dir
            executable_path=chromium_path,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(UI_TIMEOUT_MS)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="session")
def logged_in(browser_context: Any, airflow: AirflowServer) -> Any:
    """Sign in once as the admin user; the session cookie then serves every page."""
    page = browser_context.new_page()
    if airflow.major >= 3:
        page.goto(f"{airflow.url}/auth/login?next=%2F")
        page.get_by_label("Username").fill(ADMIN_USER)
        page.get_by_label("Password").fill(ADMIN_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{airflow.url}/")
    else:
        page.goto(f"{airflow.url}/login/")
        page.get_by_label("Username").fill(ADMIN_USER)
        page.get_by_label("Password").fill(ADMIN_PASSWORD)
        page.get_by_role("button", name="Sign In").click()
        page.wait_for_url(f"{airflow.url}/home")
    page.close()
    return browser_context


@pytest.fixture
def page(logged_in: Any) -> Iterator[Any]:
    page = logged_in.new_page()
    try:
        yield page
    finally:
        page.close()


def screenshot(target: Any, name: str, **kwargs: Any) -> None:
    """Save a page or element as docs/<name> for the docs, when WHATCOUNTS_SCREENSHOTS=1.

    Off by default: the PNGs are committed, and an ordinary run must not rewrite them.
    """
    if os.environ.get("WHATCOUNTS_SCREENSHOTS") == "1":
        DOCS.mkdir(exist_ok=True)
        target.screenshot(path=str(DOCS / name), **kwargs)


def requires_airflow(major: int) -> pytest.MarkDecorator:
    """These tests drive one Airflow UI; the lane of the other version runs the other module."""
    return pytest.mark.skipif(
        airflow_major() != major, reason=f"drives the Airflow {major}.x UI; that lane runs it"
    )


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if TIMINGS:
        TIMINGS["browser stage (this lane, all tests)"] = time.monotonic() - _STAGE_START
        for name, seconds in TIMINGS.items():
            terminalreporter.write_line(f"{name}: {seconds:.1f} s")
