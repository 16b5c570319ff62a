"""OpenLineage for the bulk operator: its source file in, its receipts folder out (docs/lineage.md).

The OpenLineage provider is optional: everything it needs is imported when lineage is asked for,
and without it :func:`bulk_lineage` returns ``None``. Airflow only asks when the provider is
installed and enabled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from whatcounts_provider.storage import Location

if TYPE_CHECKING:
    from collections.abc import Mapping


def receipts_written(record: Mapping[str, Any]) -> int:
    """The receipts the run's try wrote, from its record: one per outcome, except the pairs an
    earlier try had already honoured (``already_done``: that try's receipt covers them; the
    record's ``stopped`` counts those too, ``stopped_this_try`` does not)."""
    return int(
        record.get("stopped_this_try", record["stopped"])
        + len(record["not_subscribed"])
        + len(record["failed"])
        + len(record["invalid"])
        + len(record["needs_review"])
        + record["duplicates"]
        + record["not_opt_out"]
    )


def bulk_lineage(*, source: Any, receipts_path: Any, record: Mapping[str, Any] | None) -> Any:
    """The bulk run's ``OperatorLineage``, or ``None`` when there is nothing to report.

    - The input is the ``source`` file, with the rows read (``total``) as its statistics; lists
      given as ``phones`` / ``rows`` are no dataset (they came from XCom or the DAG file).
    - The output is the receipts folder ``receipts_path`` (the root, the same for every run, so
      that runs link up), with the receipts this try wrote as ``rowCount``; never a part file.

    :param source: the operator's rendered ``source`` (``None`` for lists).
    :param receipts_path: the operator's rendered ``receipts_path`` (``None``: receipts off).
    :param record: the run's record (returned, or pushed before the task failed); ``None`` when
        the run never got that far: then nothing is reported.
    :return: ``None`` also when the OpenLineage provider is not installed.
    """
    if record is None or (source is None and record.get("receipts") is None):
        return None
    try:
        from openlineage.client.event_v2 import (  # type: ignore[import-not-found,unused-ignore]
            InputDataset,
            OutputDataset,
        )
        from openlineage.client.facet_v2 import (  # type: ignore[import-not-found,unused-ignore]
            input_statistics_input_dataset,
            output_statistics_output_dataset,
        )

        from whatcounts_provider._compat import OperatorLineage
    except ImportError:
        return None
    inputs, outputs = [], []
    if source is not None:
        where = Location.of(source, what="source", decode=True)  # as the run read it
        statistics = input_statistics_input_dataset.InputStatisticsInputDatasetFacet(rowCount=record["total"])
        inputs.append(
            InputDataset(
                namespace=where.namespace,
                name=where.dataset_name,
                inputFacets={"inputStatistics": statistics},
            )
        )
    if record.get("receipts") is not None:
        folder = Location.of(receipts_path, what="receipts_path")
        written = output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
            rowCount=receipts_written(record)
        )
        outputs.append(
            OutputDataset(
                namespace=folder.namespace,
                name=folder.dataset_name,
                outputFacets={"outputStatistics": written},
            )
        )
    return OperatorLineage(inputs=inputs, outputs=outputs)
