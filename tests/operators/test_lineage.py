"""Lineage of the bulk operator (docs/lineage.md): the source file in, the receipts folder out.

With the OpenLineage provider (the ``openlineage`` dependency group, pinned into the lanes of
LINEAGE_LANES in make/constraints.mk) the datasets are checked as Airflow's extractor hands them
on. Without it (every other lane, and here with the provider hidden) the operator runs as before
and reports nothing.
"""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pytest

from tests.helpers import SENDER, make_context
from whatcounts_provider import _compat
from whatcounts_provider.exceptions import WhatCountsBulkError, WhatCountsInvalidInputsError
from whatcounts_provider.operators.sms import BulkStopSmsSubscriberOperator
from whatcounts_provider.receipts import iter_receipts

try:
    from airflow.sdk import ObjectStoragePath
except ImportError:  # Airflow 2.11
    from airflow.io.path import ObjectStoragePath  # type: ignore[no-redef]

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.usefixtures("fast_retries")

HAS_OPENLINEAGE = importlib.util.find_spec("airflow.providers.openlineage") is not None
needs_openlineage = pytest.mark.skipif(
    not HAS_OPENLINEAGE, reason="the OpenLineage provider is pinned into LINEAGE_LANES only"
)

CODE_B = "22222"
# 6 rows: 2 stopped (one phone on two codes), 1 duplicate, 1 not subscribed, 1 invalid, and
# 1 more stopped: 6 receipts.
CSV_TEXT = (
    "phone,sender_code\n"
    f"2065959696,{SENDER}\n"
    f"2065959696,{CODE_B}\n"
    f"206-595-9696,{SENDER}\n"
    f"2065959699,{SENDER}\n"
    f"not a phone,{SENDER}\n"
    f"2065959697,{SENDER}\n"
)


@pytest.fixture
def subscribed(whatcounts_conn_env: Any) -> Any:
    whatcounts_conn_env.subscribe(SENDER, ["12065959696", "12065959697"])
    whatcounts_conn_env.subscribe(CODE_B, ["12065959696"])
    return whatcounts_conn_env


def run(op: BulkStopSmsSubscriberOperator, **ti_fields: Any) -> tuple[dict[str, Any], Any, Exception | None]:
    """Run ``op``; return its record (returned, or pushed before the raise), the TI and the error."""
    context = make_context(**ti_fields)
    try:
        return op.execute(context), context["ti"], None
    except Exception as exc:  # the caller asserts the type
        return context["ti"].pushed["return_value"], context["ti"], exc


def as_json(dataset: Any) -> dict[str, Any]:
    """The dataset as OpenLineage sends it (the wire format a lineage backend receives)."""
    from openlineage.client.serde import Serde

    return Serde.to_dict(dataset)  # type: ignore[no-any-return]


def names(lineage: Any) -> list[str]:
    return [f"{d.namespace} {d.name}" for d in (*lineage.inputs, *lineage.outputs)]


# --- without the provider ------------------------------------------------------------------------


@pytest.fixture
def without_openlineage(monkeypatch: pytest.MonkeyPatch) -> None:
    """No OpenLineage: absent on this lane, or hidden as if it were not installed."""
    if not HAS_OPENLINEAGE:
        assert importlib.util.find_spec("openlineage") is None, "the client comes only with the provider"
        return
    for module in list(sys.modules):
        if module == "openlineage" or module.startswith(("openlineage.", "airflow.providers.openlineage")):
            monkeypatch.delitem(sys.modules, module)
    for module in (
        "openlineage",
        "airflow.providers.openlineage",
        "airflow.providers.openlineage.extractors",
    ):
        monkeypatch.setitem(sys.modules, module, None)  # importing it raises ImportError
    if "OperatorLineage" in vars(_compat):  # bound by an earlier lookup
        monkeypatch.delattr(_compat, "OperatorLineage")


@pytest.mark.usefixtures("without_openlineage")
def test_without_openlineage_the_operator_runs_as_before_and_reports_nothing(
    subscribed, tmp_path: Path
) -> None:
    source = tmp_path / "replies.csv"
    source.write_text(CSV_TEXT)
    op = BulkStopSmsSubscriberOperator(task_id="bulk", source=str(source), receipts_path=str(tmp_path / "r"))

    record, _, error = run(op)

    assert isinstance(error, WhatCountsInvalidInputsError)  # the invalid row, as without lineage
    assert (record["total"], record["stopped"], record["duplicates"]) == (6, 3, 1)
    assert len(list(iter_receipts(str(tmp_path / "r")))) == 6
    assert op.get_openlineage_facets_on_complete(SimpleNamespace()) is None
    with pytest.raises(ImportError, match="OperatorLineage is in none of"):
        _compat.find("OperatorLineage")


def test_importing_or_building_the_operator_loads_no_openlineage() -> None:
    """The scheduler parses DAG files with the operator: OpenLineage is imported only for lineage.

    (Airflow's provider discovery reads every provider's ``get_provider_info``: not ours to change.)
    """
    code = (
        "import sys\n"
        "from whatcounts_provider.operators.sms import BulkStopSmsSubscriberOperator\n"
        "BulkStopSmsSubscriberOperator(task_id='t', source='/tmp/x.csv', receipts_path='/tmp/r')\n"
        "print(sorted(m for m in sys.modules if 'openlineage' in m))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
    )
    loaded = set(ast.literal_eval(done.stdout.strip().splitlines()[-1]))
    by_airflow = {"airflow.providers.openlineage", "airflow.providers.openlineage.get_provider_info"}
    assert loaded <= (by_airflow if HAS_OPENLINEAGE else set()), loaded


# --- with the provider ---------------------------------------------------------------------------


def datasets(lineage: Any) -> dict[str, list[tuple[str, str, int | None]]]:
    """``inputs`` and ``outputs`` as (namespace, name, rowCount of their statistics)."""
    return {
        "inputs": [(d.namespace, d.name, d.inputFacets["inputStatistics"].rowCount) for d in lineage.inputs],
        "outputs": [
            (d.namespace, d.name, d.outputFacets["outputStatistics"].rowCount) for d in lineage.outputs
        ],
    }


def receipt_lines(folder: Path) -> int:
    return sum(len(part.read_text().splitlines()) for part in folder.rglob("part-*.jsonl"))


@needs_openlineage
def test_a_source_run_reports_the_file_in_and_the_receipts_folder_out(subscribed, tmp_path: Path) -> None:
    source = tmp_path / "in" / "replies.csv"
    source.parent.mkdir()
    source.write_text(CSV_TEXT)
    receipts = tmp_path / "receipts"
    op = BulkStopSmsSubscriberOperator(task_id="bulk", source=str(source), receipts_path=str(receipts))

    record, ti, error = run(op)
    lineage = op.get_openlineage_facets_on_complete(ti)

    assert isinstance(error, WhatCountsInvalidInputsError), "lineage is reported for a failed task too"
    assert receipt_lines(receipts) == 6
    assert datasets(lineage) == {
        "inputs": [("file", str(source), 6)],  # rows read
        "outputs": [("file", str(receipts), 6)],  # receipts written: one folder, never a part
    }
    assert record["receipts"].startswith(f"file://{receipts}/dag_id="), "the record names the TI folder"
    assert not [n for n in names(lineage) if "part-" in n or "try=" in n or "dag_id=" in n]
    wire = as_json(lineage.outputs[0])
    assert wire["outputFacets"]["outputStatistics"]["rowCount"] == 6
    assert wire["outputFacets"]["outputStatistics"]["_schemaURL"].endswith(
        "OutputStatisticsOutputDatasetFacet"
    )


@needs_openlineage
def test_s3_source_and_receipts_are_named_by_bucket_and_key(subscribed, s3_location: str) -> None:
    source = f"{s3_location}/in/replies.csv"
    ObjectStoragePath(source).write_text(CSV_TEXT)
    op = BulkStopSmsSubscriberOperator(task_id="bulk", source=source, receipts_path=f"{s3_location}/receipts")

    _, ti, error = run(op)
    lineage = op.get_openlineage_facets_on_complete(ti)

    assert isinstance(error, WhatCountsInvalidInputsError)
    prefix = s3_location.split("@", 1)[1].split("/", 1)[1]  # s3://conn@bucket/<prefix>
    assert datasets(lineage) == {
        "inputs": [("s3://receipts", f"{prefix}/in/replies.csv", 6)],  # no connection id in a name
        "outputs": [("s3://receipts", f"{prefix}/receipts", 6)],
    }


@needs_openlineage
def test_a_retry_counts_only_the_receipts_it_wrote_and_rows_are_no_dataset(
    whatcounts_conn_env, tmp_path
) -> None:
    """Rows come from XCom, not a dataset: only the receipts folder is reported."""
    whatcounts_conn_env.subscribe(SENDER, ["12065959696", "12065959697"])
    whatcounts_conn_env.faults.update(failing_phones={"12065959697"})
    receipts = tmp_path / "receipts"
    rows = [{"phone": "2065959696"}, {"phone": "2065959697"}, {"phone": "2065959696"}]

    def attempt(try_number: int) -> tuple[Any, Exception | None]:
        op = BulkStopSmsSubscriberOperator(
            task_id="bulk",
            rows=rows,
            sender_code=SENDER,
            receipts_path=str(receipts),
            hook_params={"max_retries": 0},
        )
        _, ti, error = run(op, try_number=try_number)
        return op.get_openlineage_facets_on_complete(ti), error

    first, first_error = attempt(1)
    whatcounts_conn_env.faults.update(failing_phones=set())
    second, second_error = attempt(2)

    by_try: dict[int, int] = {}
    for receipt in iter_receipts(str(receipts)):
        by_try[receipt["try_number"]] = by_try.get(receipt["try_number"], 0) + 1
    assert isinstance(first_error, WhatCountsBulkError)
    assert second_error is None
    assert by_try == {1: 3, 2: 2}, "try 2: the retried pair and the duplicate; the stopped pair is done"
    assert datasets(first) == {"inputs": [], "outputs": [("file", str(receipts), 3)]}
    assert datasets(second) == {"inputs": [], "outputs": [("file", str(receipts), 2)]}


@needs_openlineage
def test_nothing_is_reported_for_a_list_without_receipts_or_before_a_record(whatcounts_conn_env) -> None:
    whatcounts_conn_env.subscribe(SENDER, ["12065959696"])
    op = BulkStopSmsSubscriberOperator(task_id="bulk", phones=["2065959696"], sender_code=SENDER)
    assert op.get_openlineage_facets_on_complete(SimpleNamespace()) is None, "not run yet: no record"

    record, ti, error = run(op)

    assert (record["stopped"], error) == (1, None)
    assert op.get_openlineage_facets_on_complete(ti) is None


@needs_openlineage
@pytest.mark.parametrize("state", ["success", "failed"])
def test_airflows_openlineage_extractor_picks_the_datasets_up(subscribed, tmp_path: Path, state: str) -> None:
    """The provider's own ExtractorManager (what its listener calls after the task) finds the
    method, on success and on failure, and hands the datasets on."""
    from airflow.providers.openlineage.extractors.manager import ExtractorManager
    from airflow.utils.state import TaskInstanceState

    source = tmp_path / "replies.csv"
    source.write_text(CSV_TEXT)
    op = BulkStopSmsSubscriberOperator(task_id="bulk", source=str(source), receipts_path=str(tmp_path / "r"))
    _, ti, _ = run(op)

    lineage = ExtractorManager().extract_metadata(
        dagrun=SimpleNamespace(run_id=ti.run_id),
        task=op,
        task_instance_state=TaskInstanceState(state),
        task_instance=ti,
    )

    assert datasets(lineage) == {
        "inputs": [("file", str(source), 6)],
        "outputs": [("file", str(tmp_path / "r"), 6)],
    }
