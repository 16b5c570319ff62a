"""The manual example DAG's trigger form in Airflow 3.x, and what a user sees of each run."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest

from tests.helpers import SENDER

from ._api import api
from .conftest import requires_airflow, screenshot

if TYPE_CHECKING:
    from ._servers import AirflowServer

pytestmark = [pytest.mark.browser, requires_airflow(3)]

DAG_ID = "whatcounts_stop_sms_manual"
#: Bounds for the scheduler and the dag-processor on a loaded machine; a run takes ~25 s here.
PARSE_TIMEOUT = 240.0
RUN_TIMEOUT = 300.0


@pytest.fixture(scope="module")
def manual_dag(airflow: AirflowServer) -> str:
    """The manual DAG, parsed by the dag-processor and unpaused."""
    deadline = time.monotonic() + PARSE_TIMEOUT
    while (status := api(airflow, "GET", f"/api/v2/dags/{DAG_ID}")[0]) != 200:
        assert time.monotonic() < deadline, f"{DAG_ID} not parsed in {PARSE_TIMEOUT:g} s\n{airflow.logs()}"
        time.sleep(2)
    status, body = api(airflow, "PATCH", f"/api/v2/dags/{DAG_ID}", {"is_paused": False})
    assert status == 200, body
    return DAG_ID


def open_trigger_form(page: Any, airflow: AirflowServer) -> Any:
    page.goto(f"{airflow.url}/dags/{DAG_ID}")
    page.get_by_role("button", name="Trigger").first.click()
    dialog = page.get_by_role("dialog")
    dialog.locator("#element_phone").wait_for()
    return dialog


def trigger(page: Any, airflow: AirflowServer, phone: str) -> str:
    """Trigger the DAG from its form with ``phone``; return the run id Airflow answered."""
    dialog = open_trigger_form(page, airflow)
    dialog.locator("#element_phone").fill(phone)
    dialog.locator("#element_sender_code").fill(SENDER)
    with page.expect_response(lambda r: r.url.endswith("/dagRuns") and r.request.method == "POST") as answer:
        dialog.get_by_role("button", name="Trigger").last.click()
    assert answer.value.status == 200, answer.value.text()
    return str(answer.value.json()["dag_run_id"])


def wait_for_run(airflow: AirflowServer, run_id: str) -> str:
    deadline = time.monotonic() + RUN_TIMEOUT
    while True:
        status, run = api(airflow, "GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}")
        assert status == 200, run
        if run["state"] in ("success", "failed"):
            return str(run["state"])
        assert time.monotonic() < deadline, f"run {run_id} still {run['state']}\n{airflow.logs()}"
        time.sleep(2)


def task_log(airflow: AirflowServer, run_id: str) -> str:
    status, log = api(airflow, "GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/stop_sms/logs/1")
    assert status == 200, log
    return str(log)


def test_the_form_asks_for_a_phone_in_plain_words(page, airflow, manual_dag):
    dialog = open_trigger_form(page, airflow)
    text = dialog.inner_text()
    assert "Phone number" in text
    assert "e.g. +1 (206) 555-0100" in text
    phone = dialog.locator("#element_phone")
    assert phone.input_value() == "+1 (206) 555-0100"
    phone.fill("")
    dialog.get_by_text("This field is required").wait_for()
    assert not dialog.get_by_role("button", name="Trigger").last.is_enabled()
    phone.fill("call me")
    screenshot(dialog, "trigger-form-airflow-3.png")


def test_runs_from_the_form_end_as_the_phone_deserves(page, airflow, stage_emulator, manual_dag):
    """A phone with letters and an unreal number fail the task in plain words; a real one is stopped."""
    runs = {
        phone: trigger(page, airflow, phone)
        for phone in ("call me", "+1 (123) 456-7890", "+1 (206) 555-0100")
    }
    states = {phone: wait_for_run(airflow, run_id) for phone, run_id in runs.items()}
    assert states == {"call me": "failed", "+1 (123) 456-7890": "failed", "+1 (206) 555-0100": "success"}
    assert stage_emulator.state.is_stopped(SENDER, "2065550100")

    log = task_log(airflow, runs["call me"])
    assert "InvalidPhoneNumberError" in log
    assert "it may contain only digits, spaces, '+', '-', '.', '(' and ')'" in log
    assert "Failed validating" not in log
    log = task_log(airflow, runs["+1 (123) 456-7890"])
    assert "it is not an assigned number range in region +1" in log
    assert "4567890" not in log, "the full phone never reaches the log"

    page.set_viewport_size({"width": 1800, "height": 640})  # the log line is long and does not wrap
    page.goto(f"{airflow.url}/dags/{DAG_ID}/runs/{runs['call me']}/tasks/stop_sms")
    page.get_by_text("it may contain only digits").first.wait_for()
    screenshot(page, "trigger-result-airflow-3.png")
