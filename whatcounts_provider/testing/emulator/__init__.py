"""A local WhatCounts REST emulator for tests, demos and benchmarks (standard library only).

It answers ``POST /rest/sms/stopSubscriberSend/<phone>/<senderCode>`` and ``GET /rest/lists``
as WhatCounts does (Basic auth, versioned ``Accept``, a 500 for a phone without a subscription),
keeps its state in memory, injects faults on demand and listens on 127.0.0.1 only::

    with WhatCountsEmulator(faults=Faults(seed=1, p_503=0.1)) as emulator:
        emulator.subscribe("2065551212", ["2065959696"])
        os.environ["AIRFLOW_CONN_WHATCOUNTS_DEFAULT"] = emulator.conn_uri()

Or ``python -m whatcounts_provider.testing.emulator --port 8080 --subscribe 2065551212:2065959696``.
An admin API without auth serves tests and demos: ``GET /_admin/state``, ``POST /_admin/subscribe``
``{"sender_code": ..., "phones": [...]}``, ``POST /_admin/faults`` (:class:`Faults` fields, partial)
and ``POST /_admin/reset`` (state and faults).

The modules: ``api`` (what it copies of WhatCounts' API), ``state``, ``faults``, ``handler``
(one request), ``server`` (:class:`WhatCountsEmulator`) and ``__main__`` (the command line).
"""

from __future__ import annotations

from whatcounts_provider.testing.emulator.api import API_MEDIA_TYPE, DEMO_CREDENTIALS, HOST, REALM_ID
from whatcounts_provider.testing.emulator.faults import Faults
from whatcounts_provider.testing.emulator.server import WhatCountsEmulator
from whatcounts_provider.testing.emulator.state import EmulatorState, NoAnswer, RequestRecord

__all__ = [
    "API_MEDIA_TYPE",
    "DEMO_CREDENTIALS",
    "HOST",
    "REALM_ID",
    "EmulatorState",
    "Faults",
    "NoAnswer",
    "RequestRecord",
    "WhatCountsEmulator",
]
