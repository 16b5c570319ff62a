"""How a reply is read (whatcounts_provider.replies.normalize)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from whatcounts_provider.replies.normalize import MAX_CHARS, clauses, fold, phrase_key

SAME_AS_STOP = [
    "STOP",
    " stop.\n",
    "STOP \U0001f6d1",
    "\uff33\uff34\uff2f\uff30",
    "St\u200bop",
    "s\u00adtop",
    "stop stop stop",
    "STOPPPP",
    "stopp",
    "'stop'",
    "\u201cstop\u201d",
]


@pytest.mark.parametrize("text", SAME_AS_STOP)
def test_case_width_emoji_zero_width_repeats_and_quotes_read_as_one_word(text):
    assert clauses(text) == ([(["stop"], False)], False)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("No más", "no mas"),
        ("NO MÁS", "no mas"),
        ("don\u2019t text me", "dont text me"),
        ("don`t", "dont"),
        ("Opt-Out", "opt out"),
        ("opt_out", "opt out"),
        ("cease & desist", "cease and desist"),
        ("pls stop txting me", "please stop texting me"),
        ("Straße", "strasse"),
        ("\u0130stanbul", "istanbul"),
        ("\U0001f6d1\u2764\ufe0f", ""),
    ],
)
def test_phrase_key(text, key):
    assert phrase_key(text) == key


def test_sentence_punctuation_and_line_breaks_end_clauses_and_questions_are_remembered():
    assert clauses("Thanks, STOP! who is this?\nok") == (
        [(["thanks"], False), (["stop"], False), (["who", "is", "this"], True), (["ok"], False)],
        False,
    )
    assert clauses("¿Cómo cancelo? gracias") == ([(["como", "cancelo"], True), (["gracias"], False)], False)


def test_fold_leaves_ascii_to_lower_and_strips_accents_otherwise():
    assert fold("Stop") == "stop"
    assert fold("ÁLTO \uff30\uff41\uff52\uff41\uff52") == "alto parar"  # full-width "Parar"


def test_only_the_first_max_chars_are_read_after_stripping():
    text = "stop " + "a" * (MAX_CHARS * 5)
    found, truncated = clauses(text)
    assert truncated
    assert found == [(["stop", "a"], False)]
    assert clauses("   stop   " + " " * MAX_CHARS) == ([(["stop"], False)], False)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_reading_what_was_read_changes_nothing_but_repeats_across_clauses(text):
    words = phrase_key(text).split()
    once = [word for i, word in enumerate(words) if i == 0 or words[i - 1] != word]  # "0.0" is "0 0"
    assert phrase_key(" ".join(words)) == " ".join(once)
