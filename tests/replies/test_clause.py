"""What one clause holds (whatcounts_provider.replies.clause): cover, scan, is_question."""

from __future__ import annotations

import pytest

from whatcounts_provider.replies import ReplyClassifier
from whatcounts_provider.replies.clause import cover, is_question, scan
from whatcounts_provider.replies.vocabulary import REVERSAL, STRONG, WEAK

VOCABULARY = ReplyClassifier()._vocabulary


def test_cover_reads_keywords_and_fillers_only():
    assert (
        cover(VOCABULARY, ["please", "opt", "out", "now"])
        == "'opt out' (FCC per-se revocation word, common opt-out phrasing)"
    )
    assert cover(VOCABULARY, ["thanks"]) == ""
    assert cover(VOCABULARY, ["stop", "by"]) is None


def test_scan_finds_the_longest_phrase_and_its_negator():
    hits = scan(VOCABULARY, ["please", "dont", "stop", "texting", "me"])
    assert [(label.split()[0], negator) for _, label, negator in hits] == [("'stop", "dont")]


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("stop texting me", [(STRONG, "'stop texting'", "")]),
        ("stop these texts now", [(STRONG, "'stop these texts'", "")]),
        ("no mas mensajes de texto", [(STRONG, "'no mas mensajes de texto'", "")]),
        ("no mas mensajes de hoy", [(STRONG, "'no mas mensajes'", "")]),
        ("cancel my order", [(WEAK, "'cancel'", "")]),
        ("dont ever cancel", [(WEAK, "'cancel'", "dont")]),
        ("never a b cancel", [(WEAK, "'cancel'", "never")]),  # up to three words before
        ("not a b c cancel", [(WEAK, "'cancel'", "")]),  # four words before: too far
        ("no a b end", [(WEAK, "'end'", "no")]),
        (
            "stop actually never mind",
            [(WEAK, "'stop'", ""), (REVERSAL, "actually", ""), (REVERSAL, "never mind", "")],
        ),
        ("remove me remove me", [(STRONG, "'remove me'", ""), (STRONG, "'remove me'", "")]),
        ("see you at 5", []),
    ],
)
def test_scan_reads_each_phrase_once_the_longest_first(words, expected):
    hits = scan(VOCABULARY, words.split())
    assert [(kind, label.split(" (")[0], negator) for kind, label, negator in hits] == expected


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("when does it end", True),
        ("ok so how do i stop", True),
        ("do you close at 5", True),
        ("can i opt out", True),
        ("can you stop", False),
        ("could you remove me", False),
        ("stop", False),
        ("do", False),
        ("ok", False),
    ],
)
def test_is_question(clause, expected):
    assert is_question(clause.split()) is expected
