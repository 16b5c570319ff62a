"""The manual example DAG's trigger form in Airflow 2.11, and what a user sees of each run."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import pytest

from tests.helpers import SENDER

from .conftest import requires_airflow, screenshot

if TYPE_CHECKING:
    from ._servers import AirflowServer

pytestmark = [pytest.mark.browser, requires_airflow(2)]

DAG_ID = "whatcounts_stop_sms_manual"
#: Bounds for the scheduler (it parses the DAGs and runs one task at a time here).
PARSE_TIMEOUT = 240.0
RUN_TIMEOUT = 400.0


@pytest.fixture(scope="module")
def manual_dag(airflow: AirflowServer) -> str:
    """The manual DAG, parsed by the scheduler and unpaused."""
    deadline = time.monotonic() + PARSE_TIMEOUT
    while True:
        airflow.cli("dags", "unpause", DAG_ID, check=False)
        printed = airflow.cli("dags", "list", "-o", "json", check=False).splitlines()
        listed = next((json.loads(line) for line in printed if line.startswith("[{")), [])
        if any(dag["dag_id"] == DAG_ID and str(dag["is_paused"]) == "False" for dag in listed):
            return DAG_ID
        assert time.monotonic() < deadline, f"{DAG_ID} not parsed in {PARSE_TIMEOUT:g} s\n{airflow.logs()}"
        time.sleep(3)


def open_trigger_form(page: Any, airflow: AirflowServer) -> Any:
    page.goto(f"{airflow.url}/dags/{DAG_ID}/trigger")
    form = page.locator("form#trigger_form")
    form.locator("#element_phone").wait_for()
    return form


def trigger(page: Any, airflow: AirflowServer, phone: str, used_dates: set[str]) -> None:
    """Trigger one run from the form. The form's logical date is the second it was opened: two
    forms opened within one second would name the same date, and Airflow 2.11 rejects the second
    run ("The logical date ... already exists"). So a form is re-opened until its date is new."""
    form = open_trigger_form(page, airflow)
    while (logical_date := form.locator("#execution_date").input_value()) in used_dates:
        time.sleep(0.2)
        form = open_trigger_form(page, airflow)
    used_dates.add(logical_date)
    form.locator("#element_phone").fill(phone)
    form.locator("#element_sender_code").fill(SENDER)
    form.get_by_role("button", name="Trigger").click()
    page.wait_for_url(lambda url: "/trigger" not in url)
    assert "already exists" not in page.content(), f"the run for {phone!r} was not created"


def runs_by_phone(page: Any, airflow: AirflowServer) -> dict[str, dict[str, Any]]:
    answer = page.request.get(f"{airflow.url}/api/v1/dags/{DAG_ID}/dagRuns")
    assert answer.status == 200, answer.text()
    return {run["conf"]["phone"]: run for run in answer.json()["dag_runs"]}


def task_log(airflow: AirflowServer, run_id: str) -> str:
    folder = airflow.home / "logs" / f"dag_id={DAG_ID}" / f"run_id={run_id}" / "task_id=stop_sms"
    return "\n".join(path.read_text() for path in sorted(folder.glob("attempt=*.log")))


def test_the_form_asks_for_a_phone_in_plain_words(page, airflow, manual_dag):
    form = open_trigger_form(page, airflow)
    assert "e.g. +1 (206) 555-0100" in form.inner_text()
    phone = form.locator("#element_phone")
    assert phone.input_value() == "+1 (206) 555-0100"
    phone.fill("")
    form.get_by_role("button", name="Trigger").click()
    assert phone.evaluate("element => element.validationMessage"), "the browser names the empty field"
    assert "/trigger" in page.url, "an empty phone is not submitted"
    phone.fill("call me")
    screenshot(page, "trigger-form-airflow-2.png", full_page=True)


def test_runs_from_the_form_end_as_the_phone_deserves(page, airflow, stage_emulator, manual_dag):
    phones = ("call me", "+1 (123) 456-7890", "+1 (206) 555-0100")
    used_dates: set[str] = set()
    for phone in phones:
        trigger(page, airflow, phone, used_dates)
    deadline = time.monotonic() + RUN_TIMEOUT
    while True:
        runs = runs_by_phone(page, airflow)
        states = {phone: runs[phone]["state"] for phone in phones}
        if all(state in ("success", "failed") for state in states.values()):
            break
        assert time.monotonic() < deadline, f"runs not finished: {states}\n{airflow.logs()}"
        time.sleep(3)
    assert states == {"call me": "failed", "+1 (123) 456-7890": "failed", "+1 (206) 555-0100": "success"}
    assert stage_emulator.state.is_stopped(SENDER, "2065550100")

    log = task_log(airflow, runs["call me"]["dag_run_id"])
    assert "InvalidPhoneNumberError" in log
    assert "it may contain only digits, spaces, '+', '-', '.', '(' and ')'" in log
    assert "Failed validating" not in log
    log = task_log(airflow, runs["+1 (123) 456-7890"]["dag_run_id"])
    assert "it is not an assigned number range in region +1" in log
    assert "4567890" not in log, "the full phone never reaches the log"
