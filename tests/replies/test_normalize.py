"""How a reply is read (whatcounts_provider.replies.normalize)."""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from whatcounts_provider.replies.normalize import (
    _EMOJI,
    _TABLE,
    MAX_CHARS,
    _clauses,
    ascii_line,
    clauses,
    fold,
    phrase_key,
)

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


def test_the_characters_read_as_spaces_before_folding_fold_to_themselves_and_are_no_word():
    ranges = re.findall(r"(.)-(.)", _EMOJI.pattern.strip("[]"))
    characters = [chr(code) for low, high in ranges for code in range(ord(low), ord(high) + 1)]
    assert len(characters) > 2_900
    for character in characters:
        assert fold(character) == character, hex(ord(character))
        assert not re.match(r"\w", character), hex(ord(character))
        assert ord(character) not in _TABLE, hex(ord(character))


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("  Stop!! \U0001f6d1 ", "stop"),
        ("STOP who is this?", "stop who is this?"),
        ("Thanks, STOP", "thanks\n stop"),
        ("No m\u00e1s \U0001f64f\U0001f3fd", "no mas"),
        ("don\u2019t & won't", "dont  and  wont"),
        ("\U0001f44d", ""),
        ("\u00bfqu\u00e9?", None),  # "¿" opens the question after it: read the long way
        ("\u041d\u0435\u0442", None),  # another script
        ("x" * (MAX_CHARS + 1), None),
    ],
)
def test_ascii_line(text, line):
    assert ascii_line(text) == line


# Text as replies hold it: ASCII letters and punctuation, emoji, accents, other scripts, marks.
REPLY_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from([*string.ascii_letters, *string.digits, *string.punctuation, *" \t\n\r"] * 3),
        st.sampled_from(
            list("\u00e1\u00c9\u00f1\u00bf\u00a1\u2019\u201c\u2026\u00a0\u3000\u200b\u00ad\u0301\ufe0f")
        ),
        st.sampled_from(
            ["\U0001f6d1", "\U0001f44d", "\u2764", "\u26d4", "\U0001f3fd", "\uff33", "\u2460", "\u2116"]
        ),
        st.characters(),
    ),
    max_size=60,
)


@settings(max_examples=1_000, deadline=None)
@given(REPLY_TEXT)
def test_every_path_reads_as_folding_and_translating_the_whole_reply_would(text):
    assert clauses(text)[0] == _clauses(fold(text.strip()).translate(_TABLE))
