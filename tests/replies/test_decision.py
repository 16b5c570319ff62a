"""ReplyDecision and DECISIONS (whatcounts_provider.replies.decision)."""

from __future__ import annotations

import dataclasses

import pytest

from whatcounts_provider.replies.decision import DECISIONS, ReplyDecision


def test_the_three_decisions():
    assert DECISIONS == ("opt_out", "ambiguous", "not_opt_out")


def test_a_decision_is_frozen_and_compares_by_value():
    ruling = ReplyDecision("opt_out", "'stop' standing alone")
    assert ruling == ReplyDecision("opt_out", "'stop' standing alone")
    with pytest.raises(dataclasses.FrozenInstanceError):
        ruling.decision = "ambiguous"  # type: ignore[misc]
    assert hash(ruling) == hash(ReplyDecision("opt_out", "'stop' standing alone"))


@pytest.mark.parametrize(("decision", "reason"), [("maybe", "x"), ("opt_out", ""), ("opt_out", None)])
def test_a_decision_needs_a_known_decision_and_a_reason(decision, reason):
    with pytest.raises(ValueError, match=r"decision must be one of|non-empty reason"):
        ReplyDecision(decision, reason)
