"""The opt-out and not-opt-out lists (whatcounts_provider.replies.words)."""

from __future__ import annotations

import pytest

from whatcounts_provider.replies import classify_reply, words
from whatcounts_provider.replies.normalize import phrase_key

LISTS = {name: value for name, value in vars(words).items() if name.isupper()}
NOT_OPT_OUT_LISTS = [
    name for name in LISTS if name.endswith(("_HELP_KEYWORDS", "_OPT_IN_KEYWORDS", "_REPLIES"))
]
OPT_OUT_LISTS = [name for name in LISTS if name not in NOT_OPT_OUT_LISTS]


def test_the_fcc_ctia_and_twilio_lists_are_the_published_ones():
    assert set(words.FCC_PER_SE_WORDS) == {
        "stop",
        "quit",
        "end",
        "revoke",
        "opt out",
        "cancel",
        "unsubscribe",
    }
    assert {"stop", "stopall", "unsubscribe", "cancel", "end", "quit"} <= set(words.CTIA_OPT_OUT_KEYWORDS)
    assert set(words.CTIA_HELP_KEYWORDS) == {"help", "info"}
    assert set(words.CTIA_OPT_IN_KEYWORDS) == {"start", "unstop"}
    assert set(words.TWILIO_OPT_OUT_KEYWORDS) == {
        "stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout",
    }  # fmt: skip
    assert set(words.TWILIO_OPT_IN_KEYWORDS) == {"start", "yes", "unstop"}


@pytest.mark.parametrize("name", LISTS)
def test_every_list_is_a_tuple_of_normalised_unique_entries(name):
    entries = LISTS[name]
    assert isinstance(entries, tuple)
    assert entries
    assert all(phrase_key(entry) == entry for entry in entries)
    assert len(set(entries)) == len(entries)


def test_the_lists_split_as_named():
    assert set(OPT_OUT_LISTS) == {
        "FCC_PER_SE_WORDS", "CTIA_OPT_OUT_KEYWORDS", "TWILIO_OPT_OUT_KEYWORDS", "COMMON_OPT_OUT_WORDS",
        "SPANISH_OPT_OUT_WORDS", "COMMON_OPT_OUT_PHRASES", "SPANISH_OPT_OUT_PHRASES",
    }  # fmt: skip


def test_no_entry_is_both_an_opt_out_and_not_an_opt_out():
    opt_out = {entry for name in OPT_OUT_LISTS for entry in LISTS[name]}
    not_opt_out = {entry for name in NOT_OPT_OUT_LISTS for entry in LISTS[name]}
    assert opt_out & not_opt_out == set()


@pytest.mark.parametrize("entry", sorted({entry for name in OPT_OUT_LISTS for entry in LISTS[name]}))
def test_every_opt_out_entry_standing_alone_is_an_opt_out(entry):
    assert classify_reply(entry.upper() + "!").decision == "opt_out"


@pytest.mark.parametrize("entry", sorted({entry for name in NOT_OPT_OUT_LISTS for entry in LISTS[name]}))
def test_every_not_opt_out_entry_standing_alone_is_not_an_opt_out(entry):
    assert classify_reply(entry.capitalize() + ".").decision == "not_opt_out"
