"""Classify an inbound SMS reply as ``opt_out``, ``ambiguous`` or ``not_opt_out`` (docs/replies.md).

The rules, in order: an empty reply is not an opt-out; a reply that is, as a whole, a known phrase
takes that phrase's decision; otherwise each clause is read. A clause of only opt-out keywords
and fillers ("stop please") or holding a plain request ("remove me from this list") is an
opt-out signal; an opt-out word in another sense ("when does the sale end"), a negated one
("don't cancel"), a question about opting out, a reversal ("actually keep them coming") or an
opt-in or help keyword beside a signal make the reply ambiguous. Without any opt-out word the
reply is not an opt-out, except a bare refusal ("no"), which is ambiguous.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from whatcounts_provider.replies import cues
from whatcounts_provider.replies.clause import OPENERS, cover, is_question, scan
from whatcounts_provider.replies.decision import AMBIGUOUS, NOT_OPT_OUT, OPT_OUT, ReplyDecision
from whatcounts_provider.replies.normalize import (
    MAX_CHARS,
    SPELLED_OUT,
    ascii_line,
    folded_clauses,
    line_clauses,
)
from whatcounts_provider.replies.vocabulary import (
    CONTRARY,
    REFUSAL,
    REVERSAL,
    WEAK,
    build,
    check_disjoint,
    user_entries,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from whatcounts_provider.replies.normalize import Clause

# Replies repeat heavily ("STOP", "Stop", "stop."): the cache keeps short ones only, so memory
# stays bounded (at most CACHE_SIZE x CACHE_MAX_CHARS characters) whatever the input.
CACHE_SIZE = 65_536
CACHE_MAX_CHARS = 160

EMPTY = {
    None: ReplyDecision(NOT_OPT_OUT, "empty message: no text (None)"),
    "": ReplyDecision(NOT_OPT_OUT, "empty message"),
    " ": ReplyDecision(NOT_OPT_OUT, "empty message: only whitespace"),
}
NO_WORDS = ReplyDecision(
    NOT_OPT_OUT, "no words, only emoji, symbols or punctuation: no opt-out word or phrase"
)
STOP_SYMBOL = ReplyDecision(
    AMBIGUOUS, "no words, but a stop-sign emoji: it may mean stop, and no opt-out word was written"
)
NO_SIGNAL = "no opt-out word or phrase"
NOTHING = ReplyDecision(NOT_OPT_OUT, NO_SIGNAL)


class ReplyClassifier:
    """Classify replies with the built-in lists plus your own phrases.

    :param opt_out: words or phrases that are opt-outs for you, standing alone or contained (as
        whole words) in a reply; negated, or beside a question or a reversal, they are ambiguous.
    :param not_opt_out: words or phrases that, as the whole reply, are not opt-outs for you
        ("no", "cancel my appointment"). One the built-in rules call a certain opt-out ("stop",
        "remove me") raises ValueError: a per-se word cannot be made a non-opt-out.
    :raises ValueError: naming the entry that is not text, has no words once normalised, has
        more than 12 words, is in both lists, or (not_opt_out) is an opt-out on its own; also when
        a list is given as one string.
    """

    def __init__(self, *, opt_out: Iterable[object] | None = (), not_opt_out: Iterable[object] | None = ()):
        self.opt_out = user_entries(opt_out, "opt_out")
        self.not_opt_out = user_entries(not_opt_out, "not_opt_out")
        check_disjoint(self.opt_out, self.not_opt_out)
        self._vocabulary = build(self.opt_out, ())
        for phrase in self.not_opt_out:
            ruling = self._classify(phrase)
            if ruling.decision == OPT_OUT:
                raise ValueError(
                    f"not_opt_out: {phrase!r} is an opt-out on its own ({ruling.reason}); a not_opt_out "
                    "phrase may only settle replies the rules would call ambiguous or not an opt-out"
                )
        self._vocabulary = build(self.opt_out, self.not_opt_out)
        self._cached = functools.lru_cache(maxsize=CACHE_SIZE)(self._classify)

    def __repr__(self) -> str:
        return f"ReplyClassifier(opt_out={self.opt_out!r}, not_opt_out={self.not_opt_out!r})"

    def __reduce__(self) -> tuple[object, ...]:
        # The cache (a bound lru_cache) does not pickle; the phrases rebuild everything else.
        return (_rebuild, (self.opt_out, self.not_opt_out))

    def classify(self, text: object) -> ReplyDecision:
        """The decision for one reply: ``str``, None, bytes (UTF-8, bad bytes replaced) or any
        other value by its ``str()``. Never raises."""
        if type(text) is str:
            reply = text
        elif text is None:
            return EMPTY[None]
        elif isinstance(text, (bytes, bytearray, memoryview)):
            reply = bytes(text).decode("utf-8", "replace")
        elif isinstance(text, str):
            reply = str.__str__(text)  # a str subclass: its characters, not its own __str__
        else:
            try:
                reply = str(text)
            except Exception as error:
                return ReplyDecision(
                    AMBIGUOUS, f"the message could not be read as text (str() raised {type(error).__name__})"
                )
        if len(reply) <= CACHE_MAX_CHARS:
            return self._cached(reply)
        return self._classify(reply)

    def _classify(self, text: str) -> ReplyDecision:
        line = ascii_line(text)
        if line:  # most replies: ASCII once emoji are dropped, and often a known phrase as typed
            known = self._vocabulary.plain.get(line.strip("? \n"))
            if known is not None:
                return known
            found, truncated = line_clauses(line), False
        elif not text or text.isspace():
            return EMPTY[" " if text else ""]
        elif line is None:
            found, truncated = folded_clauses(text)
        else:  # ASCII and emoji, but no word
            found, truncated = [], False
        if not found:
            if any(symbol in text for symbol in cues.STOP_SYMBOLS):
                return STOP_SYMBOL
            ruling = NO_WORDS
        else:
            ruling = self._decide(found)
        if not truncated:
            return ruling
        if ruling.decision == NOT_OPT_OUT:  # unread text may hold a revocation: never a certain "no"
            return ReplyDecision(
                AMBIGUOUS,
                f"{ruling.reason} in the first {MAX_CHARS:,} characters; the message is longer and the "
                "rest was not read",
            )
        return ReplyDecision(
            ruling.decision, f"{ruling.reason}; only the first {MAX_CHARS:,} characters were read"
        )

    def _decide(self, found: list[Clause]) -> ReplyDecision:
        vocabulary = self._vocabulary
        every = found[0][0] if len(found) == 1 else [word for words, _ in found for word in words]
        if len(every) >= SPELLED_OUT and len(every[0]) == 1 and len("".join(every)) == len(every):
            every = ["".join(every)]
            found = [(every, False)]
        whole = " ".join(every)
        known = vocabulary.whole.get(whole)
        if known is not None:
            return known
        if vocabulary.signals.isdisjoint(every):  # no opt-out word: not an opt-out, unless it refuses
            for words, _ in found if len(found) > 1 else ():  # one clause would be a whole phrase
                kind = vocabulary.clause_kinds.get(" ".join(words))
                if kind is not None and kind[0] == REFUSAL and cover(vocabulary, words) is None:
                    return ReplyDecision(AMBIGUOUS, kind[1])
            return NOTHING
        # Only the first reason of each kind is ever quoted, so only that one is written.
        strong: ReplyDecision | None = None  # a plain request: an opt-out unless something below is found
        unclear = ""  # negated, or asked about
        weak: ReplyDecision | None = None  # an opt-out word in another sense; moot beside a request
        against = ""  # a question, a reversal, an opt-in or help keyword
        refusal = ""
        single = len(found) == 1
        for words, marked in found:
            if vocabulary.cover_words.issuperset(words):
                unit = cover(vocabulary, words)
                if unit is not None:
                    if unit and strong is None:
                        strong = vocabulary.alone[unit]
                    continue
            # Every clause kind is in vocabulary.whole: a clause that is the whole reply is none.
            text = whole if single else " ".join(words)
            kind = None if single else vocabulary.clause_kinds.get(text)
            if kind is not None:
                if kind[0] == CONTRARY:
                    against = against or f"the message also says {kind[1]}"
                elif kind[0] == REFUSAL:
                    refusal = refusal or kind[1]
                continue
            question = words[0] in OPENERS and is_question(words)
            asked = not (question or marked)  # already said, or no question to say
            if not vocabulary.scan_first.isdisjoint(words):
                for hit, what, negator in scan(vocabulary, words):
                    if negator:
                        unclear = unclear or f"{what} is negated by '{negator}'"
                    elif hit == REVERSAL:
                        against = against or f"the message also says '{what}'"
                    elif hit == WEAK:
                        weak = weak or vocabulary.elsewhere[what]
                    elif question:
                        unclear = unclear or f"{what} is in a question ('{text}')"
                        asked = True
                    else:
                        strong = strong or vocabulary.asks[what]
                        asked = True  # "Stop texting me?" asks nothing
            if not asked:
                against = against or f"the message also asks a question ('{text}')"
        if strong is not None:
            if not unclear and not against:
                return strong
            return ReplyDecision(AMBIGUOUS, f"{strong.reason}; but {unclear or against}")
        if unclear:
            return ReplyDecision(AMBIGUOUS, f"{unclear}; {against}" if against else unclear)
        if weak is not None:
            return ReplyDecision(AMBIGUOUS, f"{weak.reason}; {against}") if against else weak
        if refusal:
            return ReplyDecision(AMBIGUOUS, refusal)
        return NOTHING


def _rebuild(opt_out: tuple[str, ...], not_opt_out: tuple[str, ...]) -> ReplyClassifier:
    return ReplyClassifier(opt_out=opt_out, not_opt_out=not_opt_out)


DEFAULT = ReplyClassifier()


def classify_reply(text: object) -> ReplyDecision:
    """The decision for one reply with the built-in lists (``ReplyClassifier().classify``)."""
    return DEFAULT.classify(text)
