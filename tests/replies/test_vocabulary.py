"""The lists and user phrases as lookup tables (whatcounts_provider.replies.vocabulary)."""

from __future__ import annotations

import pytest

from whatcounts_provider.replies import ReplyClassifier, vocabulary
from whatcounts_provider.replies.normalize import clauses
from whatcounts_provider.replies.vocabulary import REVERSAL, STRONG, WEAK, build, user_entries, variants


def test_variants_spell_out_dont():
    assert variants("dont text me") == ("dont text me", "do not text me")
    assert variants("stop") == ("stop",)


def test_user_entries_are_read_as_messages_and_deduplicated():
    assert user_entries(["Take a HIKE!", "take a hike", "No más"], "opt_out") == ("take a hike", "no mas")
    assert user_entries(None, "opt_out") == ()


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ("stop", "opt_out must be a list of phrases, not the single string 'stop'"),
        (b"stop", "opt_out must be a list of phrases"),
        (7, "opt_out must be a list of phrases, not int"),
        ([7], r"opt_out: 7 is not text \(int\)"),
        (["  ", "ok"], "opt_out: '  ' has no words"),
    ],
)
def test_user_entries_name_the_bad_entry(entries, message):
    with pytest.raises(ValueError, match=message):
        user_entries(entries, "opt_out")


def test_built_in_tables():
    tables = build()
    assert tables.scan["stop texting"][0] == STRONG
    assert tables.scan["do not text me"][0] == STRONG
    assert tables.scan["stop"][0] == WEAK
    assert tables.scan["actually"] == (REVERSAL, "actually")
    assert "para" not in tables.scan  # quiet when contained
    assert tables.units["stop"].startswith("'stop' (FCC per-se revocation word, CTIA opt-out keyword")
    assert tables.whole["help"].decision == "not_opt_out"
    assert tables.whole["no"].decision == "ambiguous"
    assert tables.whole["stop"].decision == "opt_out"
    assert tables.clause_kinds["yes"][0] == vocabulary.CONTRARY
    assert tables.clause_kinds["thanks"][0] == vocabulary.COURTESY
    assert tables.max_scan <= 6
    assert "stop" in tables.scan_first


def test_user_phrases_join_the_tables():
    tables = build(["count me out", "help"], ["cancel my appointment"])
    assert tables.scan["count me out"] == (STRONG, "'count me out' (your opt_out phrase)")
    assert tables.whole["help"].decision == "opt_out"  # the user's opt_out wins over a built-in
    assert tables.whole["cancel my appointment"].decision == "not_opt_out"
    with pytest.raises(ValueError, match="'x' is in both opt_out and not_opt_out"):
        build(["x"], ["X!"])


def test_plain_holds_the_whole_phrases_a_reply_typed_as_them_reads_as():
    classifier = ReplyClassifier(opt_out=["a b c", "count me out"], not_opt_out=["no"])
    tables = classifier._vocabulary
    assert "a b c" in tables.whole
    assert "a b c" not in tables.plain  # typed, it reads "abc"
    assert tables.plain["count me out"] is tables.whole["count me out"]
    for phrase, ruling in tables.plain.items():
        assert classifier._decide(clauses(phrase)[0]) is ruling, phrase


def test_prebuilt_rulings_say_what_the_rules_say():
    tables = build()
    assert tables.alone[tables.units["stop"]].reason == f"{tables.units['stop']} standing alone"
    kind, label = tables.scan["remove me"]
    assert kind == STRONG
    assert tables.asks[label].reason == f"asks to stop the texts: {label}"
    kind, label = tables.scan["cancel"]
    assert kind == WEAK
    assert tables.elsewhere[label].decision == "ambiguous"
    assert {"stop texting", "no mas mensajes de", "stop"} <= tables.scan_prefixes
    assert {"stop", "texting", "remove", "me"} <= tables.signals
    assert "5" not in tables.signals
