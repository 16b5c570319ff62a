"""What the classifier says about one reply: a decision and the reason for it."""

from __future__ import annotations

import dataclasses
from typing import Literal

OPT_OUT: Literal["opt_out"] = "opt_out"
AMBIGUOUS: Literal["ambiguous"] = "ambiguous"
NOT_OPT_OUT: Literal["not_opt_out"] = "not_opt_out"
DECISIONS = (OPT_OUT, AMBIGUOUS, NOT_OPT_OUT)

Decision = Literal["opt_out", "ambiguous", "not_opt_out"]


@dataclasses.dataclass(frozen=True)
class ReplyDecision:
    """``decision``: one of :data:`DECISIONS`; ``reason``: what matched, or why it is not an opt-out.

    The reason is written for the receipt a person may read years later, so it quotes the
    normalised words that decided (``'stop' ... standing alone``).
    """

    decision: Decision
    reason: str

    def __post_init__(self) -> None:
        if self.decision not in DECISIONS:
            raise ValueError(f"decision must be one of {DECISIONS}, not {self.decision!r}")
        if not isinstance(self.reason, str) or not self.reason:
            raise ValueError("a ReplyDecision needs a non-empty reason")
