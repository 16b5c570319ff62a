"""What one clause of a reply holds, read against the ``vocabulary`` tables: only opt-out keywords
and fillers (``cover``), which phrases and the negator before each (``scan``), and whether it
opens as a question (``is_question``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from whatcounts_provider.replies import cues
from whatcounts_provider.replies.vocabulary import REVERSAL

if TYPE_CHECKING:
    from whatcounts_provider.replies.vocabulary import Vocabulary

_QUESTION_WORDS = frozenset(cues.QUESTION_WORDS)
_AUXILIARIES = frozenset(cues.QUESTION_AUXILIARIES)
_PRONOUNS = frozenset(cues.QUESTION_PRONOUNS)
_LEAD_INS = frozenset(cues.LEAD_INS)
# A clause can open as a question only with one of these: most clauses are settled by one lookup.
OPENERS = _QUESTION_WORDS | _AUXILIARIES | _LEAD_INS


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
    table, first, prefixes = vocabulary.scan, vocabulary.scan_first, vocabulary.scan_prefixes
    negators = vocabulary.negators
    after = 0
    for start, word in enumerate(words):
        if start < after or word not in first:
            continue
        phrase, best, after = word, table.get(word), start + 1
        for end in range(after, len(words)):
            phrase = f"{phrase} {words[end]}"
            if phrase not in prefixes:  # then no longer phrase starts this way either
                break
            found = table.get(phrase)
            if found is not None:
                best, after = found, end + 1
        if best is None:
            continue
        kind, label = best
        if start and kind != REVERSAL:
            window = words[max(0, start - cues.NEGATION_WINDOW) : start]
            if not negators.isdisjoint(window):
                hits.append((kind, label, next(word for word in reversed(window) if word in negators)))
                continue
        hits.append((kind, label, ""))
    return hits


def is_question(words: list[str]) -> bool:
    """Whether the clause opens as a question ("when does it end", "do you", "can i"); "can you"
    and the like open requests."""
    if words[0] not in OPENERS:
        return False
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
