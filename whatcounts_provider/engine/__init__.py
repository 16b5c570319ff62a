"""The opt-out engine: runs opt-outs from explicit arguments, for the operators, ``@task``
functions and event-driven paths alike.

``run_opt_outs(hook, inputs, ...)`` runs many rows and returns the bulk record;
``opt_out_one(hook, phone, sender_code, ...)`` runs one and returns the single record. Neither
knows about operators: give them a hook, the input, and, for receipts, the task identity::

    from whatcounts_provider.engine import OptOutOptions, run_opt_outs
    from whatcounts_provider.hooks.whatcounts import WhatCountsHook
    from whatcounts_provider.inputs import Inputs
    from whatcounts_provider.receipts import TaskIdentity

    @task
    def opt_out(rows, **context):
        return run_opt_outs(
            WhatCountsHook("whatcounts_default"),
            Inputs(rows=rows, sender_code="2065551212"),
            receipts_path="s3://aws_default@bucket/receipts",
            task=TaskIdentity.from_context(context),
            options=OptOutOptions(max_workers=16),
        )

Modules: ``run`` (many rows), ``single`` (one phone), ``options``, ``resume`` (this try's
receipts and what earlier tries honoured), ``record`` (the bulk record), ``progress``.
"""

from __future__ import annotations

from whatcounts_provider.engine.options import DEFAULT_MAX_WORKERS, OptOutOptions
from whatcounts_provider.engine.run import run_opt_outs
from whatcounts_provider.engine.single import opt_out_one

__all__ = ["DEFAULT_MAX_WORKERS", "OptOutOptions", "opt_out_one", "run_opt_outs"]
