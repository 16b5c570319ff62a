"""The words that change an opt-out word's sense (whatcounts_provider.replies.cues)."""

from __future__ import annotations

import pytest

from whatcounts_provider.replies import classify_reply, cues
from whatcounts_provider.replies.normalize import phrase_key

LISTS = {name: value for name, value in vars(cues).items() if name.isupper() and isinstance(value, tuple)}


@pytest.mark.parametrize("name", sorted(set(LISTS) - {"STOP_SYMBOLS"}))
def test_every_cue_list_is_normalised_and_unique(name):
    entries = LISTS[name]
    assert all(phrase_key(entry) == entry for entry in entries), name
    assert len(set(entries)) == len(entries)


@pytest.mark.parametrize("filler", cues.FILLERS)
def test_a_filler_beside_a_keyword_keeps_it_an_opt_out(filler):
    assert classify_reply(f"{filler} stop").decision == "opt_out"
    assert classify_reply(f"unsubscribe {filler}").decision == "opt_out"


@pytest.mark.parametrize("negator", cues.NEGATORS)
def test_a_negator_before_a_keyword_makes_it_ambiguous(negator):
    assert classify_reply(f"{negator} cancel").decision == "ambiguous"
    assert classify_reply(f"i {negator} want to unsubscribe").decision == "ambiguous"


def test_a_negator_further_back_than_the_window_does_not_count():
    assert cues.NEGATION_WINDOW == 3
    assert classify_reply("never mind the weather please remove me").decision == "ambiguous"  # a reversal
    assert classify_reply("i never signed up for any of this so remove me").decision == "opt_out"


@pytest.mark.parametrize("reversal", cues.REVERSALS)
def test_a_reversal_beside_an_opt_out_makes_it_ambiguous(reversal):
    assert classify_reply(f"STOP. {reversal}").decision == "ambiguous"


@pytest.mark.parametrize("refusal", cues.REFUSALS)
def test_a_refusal_standing_alone_is_ambiguous(refusal):
    ruling = classify_reply(refusal)
    assert ruling.decision == "ambiguous"
    assert "names no opt-out word" in ruling.reason


@pytest.mark.parametrize("word", cues.QUIET_WHEN_CONTAINED)
def test_quiet_words_count_alone_but_not_inside_a_message(word):
    assert classify_reply(word).decision == "opt_out"
    assert classify_reply(f"see you {word} later").decision == "not_opt_out"


@pytest.mark.parametrize("form", cues.OPT_OUT_FORMS)
def test_other_forms_of_opt_out_words_make_a_message_ambiguous(form):
    assert classify_reply(f"I {form} last week").decision == "ambiguous"


@pytest.mark.parametrize(("typed", "meant"), sorted(cues.MISSPELLINGS.items()))
def test_misspellings_stand_for_single_words(typed, meant):
    assert " " not in meant
    assert phrase_key(typed) == meant


@pytest.mark.parametrize("symbol", cues.STOP_SYMBOLS)
def test_a_stop_symbol_alone_is_ambiguous_and_beside_words_is_ignored(symbol):
    assert classify_reply(symbol * 2).decision == "ambiguous"
    assert classify_reply(f"see you at 5 {symbol}").decision == "not_opt_out"


@pytest.mark.parametrize("word", [*cues.QUESTION_WORDS, "do you", "is this", "can i"])
def test_a_clause_opening_as_a_question_makes_an_opt_out_beside_it_ambiguous(word):
    assert classify_reply(f"Stop. {word} know").decision == "ambiguous"
