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
from whatcounts_provider.replies.decision import AMBIGUOUS, NOT_OPT_OUT, OPT_OUT, ReplyDecision
from whatcounts_provider.replies.normalize import MAX_CHARS, clauses
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
    from whatcounts_provider.replies.vocabulary import Vocabulary

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
_QUESTION_WORDS = frozenset(cues.QUESTION_WORDS)
_AUXILIARIES = frozenset(cues.QUESTION_AUXILIARIES)
_PRONOUNS = frozenset(cues.QUESTION_PRONOUNS)
_LEAD_INS = frozenset(cues.LEAD_INS)
_SPELLED_OUT = 3  # "S T O P": at least this many one-letter words are read as one word


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
        if not text or text.isspace():
            return EMPTY[" " if text else ""]
        found, truncated = clauses(text)
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
        every = [word for words, _ in found for word in words]
        if len(every) >= _SPELLED_OUT and all(len(word) == 1 for word in every):
            every = ["".join(every)]
            found = [(every, False)]
        known = vocabulary.whole.get(" ".join(every))
        if known is not None:
            return known
        strong: list[str] = []  # plain requests: an opt-out unless something below is found
        unclear: list[str] = []  # negated, or asked about
        weak: list[str] = []  # opt-out words that may mean something else; moot beside a request
        against: list[str] = []  # a question, a reversal, an opt-in or help keyword
        refusal = ""
        for words, marked in found:
            unit = cover(vocabulary, words)
            if unit is not None:
                if unit:
                    strong.append(f"{unit} standing alone")
                continue
            text = " ".join(words)
            kind = vocabulary.clause_kinds.get(text)
            if kind is not None:
                if kind[0] == CONTRARY:
                    against.append(f"the message also says {kind[1]}")
                elif kind[0] == REFUSAL:
                    refusal = refusal or kind[1]
                continue
            question = is_question(words)
            asked = not (question or marked)  # already said, or no question to say
            for hit, what, negator in scan(vocabulary, words):
                if negator:
                    unclear.append(f"{what} is negated by '{negator}'")
                elif hit == REVERSAL:
                    against.append(f"the message also says '{what}'")
                elif hit == WEAK:
                    weak.append(f"{what} is in a longer message, where it may mean something else")
                elif question:
                    unclear.append(f"{what} is in a question ('{text}')")
                    asked = True
                else:
                    strong.append(f"asks to stop the texts: {what}")
                    asked = True  # "Stop texting me?" asks nothing
            if not asked:
                against.append(f"the message also asks a question ('{text}')")
        if strong:
            if not unclear and not against:
                return ReplyDecision(OPT_OUT, strong[0])
            return ReplyDecision(AMBIGUOUS, f"{strong[0]}; but {(unclear or against)[0]}")
        if unclear or weak:
            return ReplyDecision(AMBIGUOUS, "; ".join((unclear or weak)[:1] + against[:1]))
        if refusal:
            return ReplyDecision(AMBIGUOUS, refusal)
        return ReplyDecision(NOT_OPT_OUT, NO_SIGNAL)


def cover(vocabulary: Vocabulary, words: list[str]) -> str | None:
    """The label of the first opt-out keyword if ``words`` are only keywords and fillers ("" if
    only fillers); None if any word is something else."""
    if not vocabulary.cover_words.issuperset(words):
        return None
    first, start, count = "", 0, len(words)
    while start < count:
        for size in range(min(vocabulary.max_unit, count - start), 0, -1):
            phrase = " ".join(words[start : start + size])
            if phrase in vocabulary.units:
                first = first or vocabulary.units[phrase]
                break
            if phrase in vocabulary.fillers:
                break
        else:
            return None
        start += size
    return first


def scan(vocabulary: Vocabulary, words: list[str]) -> list[tuple[int, str, str]]:
    """Each phrase of ``vocabulary.scan`` in ``words`` (the longest at each place; none inside
    another) as (kind, label, the negator before it or "")."""
    hits: list[tuple[int, str, str]] = []
    count, after = len(words), 0
    for start in range(count):
        if start < after or words[start] not in vocabulary.scan_first:
            continue
        phrase, best, size = words[start], vocabulary.scan.get(words[start]), 1
        for end in range(start + 1, min(count, start + vocabulary.max_scan)):
            phrase = f"{phrase} {words[end]}"
            found = vocabulary.scan.get(phrase)
            if found is not None:
                best, size = found, end - start + 1
        if best is None:
            continue
        after = start + size
        negator = ""
        if best[0] != REVERSAL:
            before = words[max(0, start - cues.NEGATION_WINDOW) : start]
            negator = next((word for word in reversed(before) if word in vocabulary.negators), "")
        hits.append((best[0], best[1], negator))
    return hits


def is_question(words: list[str]) -> bool:
    """Whether the clause opens as a question ("when does it end", "do you", "can i"); "can you"
    and the like open requests."""
    start = 0
    while start < len(words) - 1 and words[start] in _LEAD_INS:
        start += 1
    first = words[start]
    if first in _QUESTION_WORDS:
        return True
    following = words[start + 1] if start + 1 < len(words) else ""
    if first in ("can", "could", "would", "will") and following == "you":
        return False
    return first in _AUXILIARIES and following in _PRONOUNS


def _rebuild(opt_out: tuple[str, ...], not_opt_out: tuple[str, ...]) -> ReplyClassifier:
    return ReplyClassifier(opt_out=opt_out, not_opt_out=not_opt_out)


DEFAULT = ReplyClassifier()


def classify_reply(text: object) -> ReplyDecision:
    """The decision for one reply with the built-in lists (``ReplyClassifier().classify``)."""
    return DEFAULT.classify(text)
