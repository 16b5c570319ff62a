"""The word lists, and a user's own phrases, compiled into the lookup tables the classifier reads.

Each table maps a normalised phrase (words joined by one space) to what it means, so matching is
dict lookups over a message's words: no regex over user text, no backtracking, and the work is
at most (words x longest phrase). A user's entries are read exactly as messages are.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TYPE_CHECKING

from whatcounts_provider.replies import cues, words
from whatcounts_provider.replies.decision import AMBIGUOUS, NOT_OPT_OUT, OPT_OUT, ReplyDecision
from whatcounts_provider.replies.normalize import SPELLED_OUT, phrase_key

if TYPE_CHECKING:
    from collections.abc import Mapping

# What a phrase found inside a clause means.
STRONG = 0  # plainly asks to stop the texts, wherever it stands
WEAK = 1  # an opt-out word that may have another sense here: ambiguous
REVERSAL = 2  # takes back or contradicts an opt-out: ambiguous next to one

MAX_PHRASE_WORDS = 12  # a user's phrase; bounds the scan of a message

# Where each opt-out list comes from, as a reason names it.
_OPT_OUT_SOURCES = (
    (words.FCC_PER_SE_WORDS, "FCC per-se revocation word"),
    (words.CTIA_OPT_OUT_KEYWORDS, "CTIA opt-out keyword"),
    (words.TWILIO_OPT_OUT_KEYWORDS, "Twilio default opt-out keyword"),
    (words.COMMON_OPT_OUT_WORDS, "common opt-out reply"),
    (words.SPANISH_OPT_OUT_WORDS, "common Spanish opt-out reply"),
    (words.COMMON_OPT_OUT_PHRASES, "common opt-out phrasing"),
    (words.SPANISH_OPT_OUT_PHRASES, "common Spanish opt-out phrasing"),
)
_PHRASE_LISTS = (words.COMMON_OPT_OUT_PHRASES, words.SPANISH_OPT_OUT_PHRASES)
# Not opt-outs, and whether, as a clause of their own, they contradict an opt-out beside them
# ("STOP. START", "Yes, stop" are ambiguous; "Thanks, STOP" is an opt-out).
_NOT_OPT_OUT_SOURCES = (
    (words.CTIA_HELP_KEYWORDS, "a CTIA help keyword", True),
    (words.CTIA_OPT_IN_KEYWORDS, "a CTIA opt-in (re-subscribe) keyword", True),
    (words.TWILIO_OPT_IN_KEYWORDS, "a Twilio default opt-in keyword", True),
    (words.AFFIRMATIVE_REPLIES, "an affirmative reply", True),
    (words.COURTESY_REPLIES, "a courtesy reply", False),
)
# Kinds of a whole clause (Vocabulary.clause_kinds).
CONTRARY, COURTESY, REFUSAL = "contrary", "courtesy", "refusal"
USER_SOURCE = "your opt_out phrase"


def variants(phrase: str) -> tuple[str, ...]:
    """The phrase and its spelled-out form: "dont text me" is also typed "do not text me"."""
    if " dont " not in f" {phrase} ":
        return (phrase,)
    return (phrase, f" {phrase} ".replace(" dont ", " do not ").strip())


def user_entries(entries: Iterable[object] | None, argument: str) -> tuple[str, ...]:
    """``entries`` read as phrases; ValueError naming the first one that is not a usable phrase."""
    if entries is None:
        return ()
    if isinstance(entries, (str, bytes)):
        raise ValueError(f"{argument} must be a list of phrases, not the single string {entries!r}")
    if not isinstance(entries, Iterable):
        raise ValueError(f"{argument} must be a list of phrases, not {type(entries).__name__}")
    keys: list[str] = []
    for entry in entries:
        if not isinstance(entry, str):
            raise ValueError(f"{argument}: {entry!r} is not text ({type(entry).__name__})")
        key = phrase_key(entry)
        if not key:
            raise ValueError(f"{argument}: {entry!r} has no words once normalised (case, accents, emoji)")
        if key.count(" ") >= MAX_PHRASE_WORDS:
            raise ValueError(f"{argument}: {entry!r} is longer than {MAX_PHRASE_WORDS} words")
        if key not in keys:
            keys.append(key)
    return tuple(keys)


def check_disjoint(opt_out: tuple[str, ...], not_opt_out: tuple[str, ...]) -> None:
    both = sorted(set(opt_out) & set(not_opt_out))
    if both:
        raise ValueError(f"{both[0]!r} is in both opt_out and not_opt_out")


@dataclasses.dataclass(frozen=True)
class Vocabulary:
    """Every table the classifier reads; built once per ``ReplyClassifier``."""

    whole: Mapping[str, ReplyDecision]  # the whole message, as one phrase
    plain: Mapping[str, ReplyDecision]  # whole, less the phrases a reply typed as them reads otherwise
    units: Mapping[str, str]  # opt-out keywords and phrases standing alone -> their label
    fillers: frozenset[str]
    cover_words: frozenset[str]  # every word of units and fillers: a fast "cannot be covered"
    max_unit: int
    scan: Mapping[str, tuple[int, str]]  # phrases found inside a clause -> (STRONG/WEAK/REVERSAL, label)
    scan_first: frozenset[str]
    signals: frozenset[str]  # scan_first and every word of units: without one, no opt-out word
    scan_prefixes: frozenset[str]  # each scan phrase's first one, two, ... words: where to stop
    max_scan: int
    clause_kinds: Mapping[str, tuple[str, str]]  # a whole clause -> (CONTRARY/COURTESY/REFUSAL, reason)
    negators: frozenset[str]
    # The rulings a clause most often settles on, by the label that decided, built here once so
    # that deciding a reply makes no new object: a unit standing alone, a request (STRONG), an
    # opt-out word in a longer message (WEAK).
    alone: Mapping[str, ReplyDecision]
    asks: Mapping[str, ReplyDecision]
    elsewhere: Mapping[str, ReplyDecision]


def label(phrase: str, sources: Iterable[str]) -> str:
    return f"'{phrase}' ({', '.join(sources)})"


def _opt_out_labels(user_opt_out: tuple[str, ...]) -> dict[str, str]:
    sources: dict[str, list[str]] = {}
    for entries, source in _OPT_OUT_SOURCES:
        for entry in entries:
            for variant in variants(entry):
                sources.setdefault(variant, []).append(source)
    for entry in user_opt_out:
        sources.setdefault(entry, []).append(USER_SOURCE)
    return {phrase: label(phrase, names) for phrase, names in sources.items()}


def _not_opt_out_kinds() -> dict[str, tuple[str, str]]:
    names: dict[str, list[str]] = {}
    contrary: set[str] = set()
    for entries, source, contradicts in _NOT_OPT_OUT_SOURCES:
        for entry in entries:
            names.setdefault(entry, []).append(source)
            if contradicts:
                contrary.add(entry)
    return {
        phrase: (CONTRARY if phrase in contrary else COURTESY, f"'{phrase}' is {' and '.join(sources)}")
        for phrase, sources in names.items()
    }


def build(opt_out: Iterable[object] | None = (), not_opt_out: Iterable[object] | None = ()) -> Vocabulary:
    """The tables for the built-in lists plus these user phrases (see ``ReplyClassifier``).

    A user's not_opt_out phrase wins only over the message standing alone; ``ReplyClassifier``
    refuses one that the rules would otherwise call a certain opt-out.
    """
    user_opt_out = user_entries(opt_out, "opt_out")
    user_not_opt_out = user_entries(not_opt_out, "not_opt_out")
    check_disjoint(user_opt_out, user_not_opt_out)
    units = _opt_out_labels(user_opt_out)
    strong = {variant for entries in _PHRASE_LISTS for entry in entries for variant in variants(entry)}
    strong.update(user_opt_out)
    quiet, forms = set(cues.QUIET_WHEN_CONTAINED), set(cues.OPT_OUT_FORMS)
    scan: dict[str, tuple[int, str]] = {phrase: (REVERSAL, phrase) for phrase in cues.REVERSALS}
    for form in forms:
        scan[form] = (WEAK, f"'{form}' (a form of an opt-out word)")
    for phrase, text in units.items():
        if phrase in strong:
            scan[phrase] = (STRONG, text)
        elif phrase not in quiet:
            scan[phrase] = (WEAK, text)
    clause_kinds = _not_opt_out_kinds()
    clause_kinds.update((phrase, (REFUSAL, refusal_reason(phrase))) for phrase in cues.REFUSALS)
    clause_kinds.update(
        (phrase, (COURTESY, f"'{phrase}' is your not_opt_out phrase")) for phrase in user_not_opt_out
    )
    whole = {
        phrase: ReplyDecision(AMBIGUOUS, reason)
        if kind == REFUSAL
        else ReplyDecision(NOT_OPT_OUT, f"{reason}: not an opt-out")
        for phrase, (kind, reason) in clause_kinds.items()
    }
    alone = {text: ReplyDecision(OPT_OUT, f"{text} standing alone") for text in units.values()}
    for phrase, text in units.items():
        if phrase not in user_not_opt_out:
            whole[phrase] = alone[text]
    fillers = frozenset(cues.FILLERS)
    scan_first = frozenset(phrase.split()[0] for phrase in scan)
    return Vocabulary(
        whole=whole,
        plain={phrase: ruling for phrase, ruling in whole.items() if _as_typed(phrase)},
        units=units,
        fillers=fillers,
        cover_words=frozenset(word for phrase in (*units, *fillers) for word in phrase.split()),
        max_unit=max(phrase.count(" ") + 1 for phrase in (*units, *fillers)),
        scan=scan,
        scan_first=scan_first,
        signals=scan_first | frozenset(word for phrase in units for word in phrase.split()),
        scan_prefixes=frozenset(
            " ".join(phrase.split()[:size]) for phrase in scan for size in range(1, phrase.count(" ") + 2)
        ),
        max_scan=max(phrase.count(" ") + 1 for phrase in scan),
        clause_kinds=clause_kinds,
        negators=frozenset(cues.NEGATORS),
        alone=alone,
        asks={
            text: ReplyDecision(OPT_OUT, f"asks to stop the texts: {text}")
            for hit, text in scan.values()
            if hit == STRONG
        },
        elsewhere={
            text: ReplyDecision(AMBIGUOUS, f"{text} is in a longer message, where it may mean something else")
            for hit, text in scan.values()
            if hit == WEAK
        },
    )


def _as_typed(phrase: str) -> bool:
    """Whether a reply typed as ``phrase`` reads as ``phrase``: no misspelling, repeat or tripled
    letter to read otherwise, and not one-letter words to be read as one word."""
    words = phrase.split()
    spelled_out = len(words) >= SPELLED_OUT and all(len(word) == 1 for word in words)
    return phrase_key(phrase) == phrase and not spelled_out


def refusal_reason(phrase: str) -> str:
    return (
        f"'{phrase}' refuses something but names no opt-out word: it may answer a question "
        "rather than revoke consent"
    )
