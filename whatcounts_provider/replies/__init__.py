"""Which inbound SMS replies are opt-outs: ``classify_reply(text) -> ReplyDecision`` (docs/replies.md).

    >>> from whatcounts_provider.replies import ReplyClassifier, classify_reply
    >>> classify_reply("Stop 🛑").decision
    'opt_out'
    >>> classify_reply("when does the sale end?").decision
    'ambiguous'
    >>> classify_reply("sounds good").decision
    'not_opt_out'
    >>> ReplyClassifier(opt_out=["bye bye"], not_opt_out=["no"]).classify("No").decision
    'not_opt_out'

Pure and deterministic: no I/O, no model. Not legal advice: the lists record who names which
word (FCC 24-24, CTIA, Twilio) and our own common phrasings, each with its source in ``words``.

Modules: ``words`` (the opt-out and not-opt-out lists), ``cues`` (negators, reversals, fillers,
questions, refusals, misspellings), ``normalize`` (how a reply is read), ``vocabulary`` (the
lists and a user's phrases as lookup tables), ``clause`` (what one clause holds), ``decision``
(``ReplyDecision``), ``classify``.
"""

from __future__ import annotations

from whatcounts_provider.replies.classify import ReplyClassifier, classify_reply
from whatcounts_provider.replies.cues import (
    FILLERS,
    MISSPELLINGS,
    NEGATORS,
    QUIET_WHEN_CONTAINED,
    REFUSALS,
    REVERSALS,
)
from whatcounts_provider.replies.decision import AMBIGUOUS, DECISIONS, NOT_OPT_OUT, OPT_OUT, ReplyDecision
from whatcounts_provider.replies.normalize import MAX_CHARS
from whatcounts_provider.replies.words import (
    AFFIRMATIVE_REPLIES,
    COMMON_OPT_OUT_PHRASES,
    COMMON_OPT_OUT_WORDS,
    COURTESY_REPLIES,
    CTIA_HELP_KEYWORDS,
    CTIA_OPT_IN_KEYWORDS,
    CTIA_OPT_OUT_KEYWORDS,
    FCC_PER_SE_WORDS,
    SPANISH_OPT_OUT_PHRASES,
    SPANISH_OPT_OUT_WORDS,
    TWILIO_HELP_KEYWORDS,
    TWILIO_OPT_IN_KEYWORDS,
    TWILIO_OPT_OUT_KEYWORDS,
)

__all__ = [
    "AFFIRMATIVE_REPLIES",
    "AMBIGUOUS",
    "COMMON_OPT_OUT_PHRASES",
    "COMMON_OPT_OUT_WORDS",
    "COURTESY_REPLIES",
    "CTIA_HELP_KEYWORDS",
    "CTIA_OPT_IN_KEYWORDS",
    "CTIA_OPT_OUT_KEYWORDS",
    "DECISIONS",
    "FCC_PER_SE_WORDS",
    "FILLERS",
    "MAX_CHARS",
    "MISSPELLINGS",
    "NEGATORS",
    "NOT_OPT_OUT",
    "OPT_OUT",
    "QUIET_WHEN_CONTAINED",
    "REFUSALS",
    "REVERSALS",
    "SPANISH_OPT_OUT_PHRASES",
    "SPANISH_OPT_OUT_WORDS",
    "TWILIO_HELP_KEYWORDS",
    "TWILIO_OPT_IN_KEYWORDS",
    "TWILIO_OPT_OUT_KEYWORDS",
    "ReplyClassifier",
    "ReplyDecision",
    "classify_reply",
]
