"""The shared vocabulary: JSON-safe inputs, rows, outcomes and statuses."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.helpers import SENDER
from whatcounts_provider.inputs import read_rows
from whatcounts_provider.types import json_safe


class _Opaque:
    def __repr__(self) -> str:
        return "<opaque>"


class _BrokenRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no")


def _cycle() -> list[Any]:
    items: list[Any] = [1]
    items.append(items)
    return items


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ({"phone": b"\x01", "codes": {"a"}}, {"phone": "b'\\x01'", "codes": "{'a'}"}),
        ({(1, 2): "x", 3: "y", None: "z"}, {"(1, 2)": "x", "3": "y", "None": "z"}),
        ((1, [2.5, (3,)]), [1, [2.5, [3]]]),
        (float("inf"), "inf"),
        (_Opaque(), "<opaque>"),
        (_BrokenRepr(), "<_BrokenRepr (repr failed: RuntimeError)>"),
        ("\ud800 lone surrogate", "\ud800 lone surrogate"),
    ],
)
def test_json_safe(value: Any, safe: Any) -> None:
    assert json_safe(value) == safe
    json.dumps(json_safe(value), allow_nan=False)


def test_json_safe_survives_cycles_and_deep_nesting() -> None:
    deep: Any = "x"
    for _ in range(5000):
        deep = [deep]
    for value in (_cycle(), deep, {"a": _cycle()}):
        json.dumps(json_safe(value), allow_nan=False)
    with read_rows(rows=[_cycle(), {"phone": deep, "sender_code": SENDER}]) as stream:
        json.dumps([row.input for row in stream])
