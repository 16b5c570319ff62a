"""classify_reply and ReplyClassifier (whatcounts_provider.replies.classify): the decisions, with
a table of real-world-shaped replies, properties, edge inputs and users' own phrases."""

from __future__ import annotations

import copy
import pickle
import string
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from whatcounts_provider.replies import (
    CTIA_OPT_OUT_KEYWORDS,
    DECISIONS,
    FCC_PER_SE_WORDS,
    MAX_CHARS,
    TWILIO_OPT_OUT_KEYWORDS,
    ReplyClassifier,
    ReplyDecision,
    classify_reply,
)
from whatcounts_provider.replies.classify import CACHE_MAX_CHARS

OPT_OUT, AMBIGUOUS, NOT_OPT_OUT = DECISIONS

# (reply, expected decision). Shapes seen in real inbound traffic; the hard ones are commented.
TABLE = [
    # Keywords standing alone, in every spelling.
    ("STOP", OPT_OUT),
    ("Stop", OPT_OUT),
    ("stop.", OPT_OUT),
    ("STOP!!!", OPT_OUT),
    ("STOP 🛑", OPT_OUT),
    ("🛑 stop 🛑", OPT_OUT),
    ("\uff33\uff34\uff2f\uff30", OPT_OUT),  # full-width
    ("St\u200bop", OPT_OUT),  # zero-width space inside
    ("STOP STOP STOP", OPT_OUT),
    ("stop, stop, stop", OPT_OUT),
    ("S T O P", OPT_OUT),
    ("STOPPPP", OPT_OUT),
    ("stopp", OPT_OUT),  # a misspelling read as the word
    ("Quit", OPT_OUT),
    ("END", OPT_OUT),
    ("Revoke", OPT_OUT),
    ("opt out", OPT_OUT),
    ("Opt-Out", OPT_OUT),
    ("OPTOUT", OPT_OUT),
    ("Cancel", OPT_OUT),
    ("Unsubscribe", OPT_OUT),
    ("unsubcribe", OPT_OUT),
    ("STOPALL", OPT_OUT),
    ("stop all", OPT_OUT),
    ("Stop please", OPT_OUT),
    ("please stop", OPT_OUT),
    ("Stop now!", OPT_OUT),
    ("Can you stop?", OPT_OUT),
    ("I want to unsubscribe", OPT_OUT),
    ("Unsubscribe me please", OPT_OUT),
    ("Thanks, STOP", OPT_OUT),
    ("No. Stop.", OPT_OUT),
    # Plain requests, alone or inside a longer message.
    ("stop texting me", OPT_OUT),
    ("Stop sending me these messages", OPT_OUT),
    ("Please remove me from this list", OPT_OUT),
    ("remove me from your list, I moved", OPT_OUT),
    ("Take me off your list", OPT_OUT),
    ("Don't text me again", OPT_OUT),
    ("don\u2019t text me again", OPT_OUT),  # curly apostrophe
    ("Do not contact me", OPT_OUT),
    ("Leave me alone", OPT_OUT),
    ("No more texts", OPT_OUT),
    ("no more please", OPT_OUT),
    ("Remove", OPT_OUT),
    ("EXIT", OPT_OUT),
    ("Cease and desist", OPT_OUT),
    ("cease & desist", OPT_OUT),
    ("Wrong number", OPT_OUT),  # hard: not a keyword, but asks that this phone get no more texts
    ("No thanks. Stop texting me.", OPT_OUT),
    ("Stop! I never signed up for this", OPT_OUT),
    ("I said stop", OPT_OUT),
    ("lose my number", OPT_OUT),
    ("stop texting me!!! \U0001f621", OPT_OUT),
    ("Can you please stop texting me?", OPT_OUT),  # a request phrased as a question
    ("Stop texting me?", OPT_OUT),
    ("I do not want to receive these texts anymore", OPT_OUT),
    ("I no longer want these messages", OPT_OUT),
    ("go away", OPT_OUT),
    ("stop it", OPT_OUT),
    ("stop sending me texts stop", OPT_OUT),
    # Spanish.
    ("Alto", OPT_OUT),
    ("ALTO por favor", OPT_OUT),
    ("Parar", OPT_OUT),
    ("cancelar", OPT_OUT),
    ("Baja", OPT_OUT),
    ("basta ya", OPT_OUT),
    ("Fin", OPT_OUT),
    ("No más mensajes", OPT_OUT),
    ("no mas mensajes por favor", OPT_OUT),
    ("Dejen de enviarme mensajes", OPT_OUT),
    ("Quiero darme de baja", OPT_OUT),
    ("Por favor no me manden más mensajes", OPT_OUT),
    ("sáquenme de la lista", OPT_OUT),
    ("Número equivocado", OPT_OUT),
    # Opt-out words in another sense, or negated.
    ("when does the sale end?", AMBIGUOUS),
    ("Don't cancel my order", AMBIGUOUS),
    ("Cancel my order", AMBIGUOUS),
    ("cancel my appointment for tomorrow", AMBIGUOUS),
    ("I'll stop by the store later", AMBIGUOUS),
    ("bus stop", AMBIGUOUS),
    ("The end.", AMBIGUOUS),
    ("I quit my job today", AMBIGUOUS),
    ("Can't stop laughing \U0001f602", AMBIGUOUS),
    ("Please don't stop", AMBIGUOUS),
    ("never stop sending deals!", AMBIGUOUS),
    ("stop at 5 pm?", AMBIGUOUS),
    ("remove the item from my cart", AMBIGUOUS),
    ("Exit 12 on the highway", AMBIGUOUS),
    ("I don't want to unsubscribe", AMBIGUOUS),
    ("don't remove me", AMBIGUOUS),
    ("no quiero cancelar", AMBIGUOUS),
    ("no cancelen mi cita", AMBIGUOUS),
    ("es muy alto", AMBIGUOUS),
    ("I already unsubscribed", AMBIGUOUS),  # a report, not a request: ambiguous, not ignored
    ("I opted out last week", AMBIGUOUS),
    # Mixed: an opt-out beside a question, a reversal, an opt-in or help keyword.
    ("STOP who is this?", AMBIGUOUS),
    ("Stop. Who is this?", AMBIGUOUS),
    ("stop texting me. who gave you my number?", AMBIGUOUS),
    ("stop... actually keep them coming", AMBIGUOUS),
    ("STOP jk", AMBIGUOUS),
    ("Unsubscribe. Never mind", AMBIGUOUS),
    ("sent stop by mistake", AMBIGUOUS),
    ("STOP START", AMBIGUOUS),
    ("yes stop", AMBIGUOUS),
    ("Stop, yes", AMBIGUOUS),
    ("STOP. HELP", AMBIGUOUS),
    ("remove me? why", AMBIGUOUS),
    ("How do I unsubscribe?", AMBIGUOUS),
    ("can i opt out?", AMBIGUOUS),
    ("Why won't you stop texting me", AMBIGUOUS),
    ("¿Cómo cancelo?", AMBIGUOUS),
    # Refusals and symbols: no opt-out word, but it may be one.
    ("No", AMBIGUOUS),
    ("no", AMBIGUOUS),
    ("Nope", AMBIGUOUS),
    ("No thanks", AMBIGUOUS),
    ("not interested", AMBIGUOUS),
    ("No gracias", AMBIGUOUS),
    ("\U0001f6d1", AMBIGUOUS),
    ("\u26d4", AMBIGUOUS),
    # CTIA/Twilio help and opt-in keywords, courtesy, and ordinary chat.
    ("HELP", NOT_OPT_OUT),
    ("help!", NOT_OPT_OUT),
    ("Info", NOT_OPT_OUT),
    ("START", NOT_OPT_OUT),
    ("Unstop", NOT_OPT_OUT),
    ("YES", NOT_OPT_OUT),
    ("Y", NOT_OPT_OUT),
    ("yes please", NOT_OPT_OUT),
    ("Sí", NOT_OPT_OUT),
    ("subscribe", NOT_OPT_OUT),
    ("Thanks", NOT_OPT_OUT),
    ("Thank you!", NOT_OPT_OUT),
    ("thx", NOT_OPT_OUT),
    ("ok", NOT_OPT_OUT),
    ("Okay \U0001f44d", NOT_OPT_OUT),
    ("\U0001f44d", NOT_OPT_OUT),
    ("\U0001f602\U0001f602\U0001f602", NOT_OPT_OUT),
    ("sounds good", NOT_OPT_OUT),
    ("see you at 5", NOT_OPT_OUT),
    ("gracias", NOT_OPT_OUT),
    ("Muchas gracias!", NOT_OPT_OUT),
    ("What time do you open?", NOT_OPT_OUT),
    ("Who is this?", NOT_OPT_OUT),
    ("Is the store open Sunday?", NOT_OPT_OUT),
    ("I'll be there", NOT_OPT_OUT),
    ("Love these deals!", NOT_OPT_OUT),
    ("Great, thanks", NOT_OPT_OUT),
    ("send me the coupon", NOT_OPT_OUT),
    ("I stopped by yesterday", NOT_OPT_OUT),  # "stopped" is not a revocation word
    ("Nos vemos el fin de semana", NOT_OPT_OUT),  # "fin" counts standing alone only
    ("Gracias para todo", NOT_OPT_OUT),
    ("Hola, ¿a qué hora abren?", NOT_OPT_OUT),
    ("Got it", NOT_OPT_OUT),
    ("Can you send me the menu?", NOT_OPT_OUT),
    ("What's the address?", NOT_OPT_OUT),
    ("my order number is 55512", NOT_OPT_OUT),
    ("Love it \u2764\ufe0f", NOT_OPT_OUT),
    ("perfect, see you then", NOT_OPT_OUT),
    ("where is my package", NOT_OPT_OUT),
    ("Confirmed", NOT_OPT_OUT),
    ("I want the discount", NOT_OPT_OUT),
    ("no more questions, thanks", NOT_OPT_OUT),
    ("Start time?", NOT_OPT_OUT),
    ("12345", NOT_OPT_OUT),
]


def test_the_table_covers_each_decision_well():
    counts = Counter(decision for _, decision in TABLE)
    assert len(TABLE) >= 150
    assert min(counts[decision] for decision in DECISIONS) >= 35
    assert len({reply for reply, _ in TABLE}) == len(TABLE)


@pytest.mark.parametrize(("reply", "expected"), TABLE, ids=[repr(reply) for reply, _ in TABLE])
def test_the_table(reply, expected):
    ruling = classify_reply(reply)
    assert (ruling.decision, reply) == (expected, reply), ruling.reason
    assert ruling.reason


OPT_OUT_KEYWORDS = sorted({*FCC_PER_SE_WORDS, *CTIA_OPT_OUT_KEYWORDS, *TWILIO_OPT_OUT_KEYWORDS})
EMOJI = [
    "\U0001f6d1",
    "\U0001f621",
    "\U0001f44d",
    "\u2764\ufe0f",
    "\U0001f64f\U0001f3fd",
    "\U0001f602",
    "\u270b",
]
WRAPPING = st.lists(
    st.sampled_from([*string.punctuation, " ", "\t", "\n", "\r\n", "\u00a0", "\u3000", "\u200b", *EMOJI]),
    max_size=8,
).map("".join)


@st.composite
def spelled(draw: st.DrawFn) -> tuple[str, str]:
    """A keyword in random letter case, maybe full-width, its words joined as people type them."""
    keyword = draw(st.sampled_from(OPT_OUT_KEYWORDS))
    joined = keyword.replace(" ", draw(st.sampled_from([" ", "-", "_", "", "  "])))
    upper = draw(st.lists(st.booleans(), min_size=len(joined), max_size=len(joined)))
    text = "".join(c.upper() if up else c for c, up in zip(joined, upper, strict=True))
    if draw(st.booleans()):
        text = "".join(chr(ord(c) + 0xFEE0) if c.isalpha() else c for c in text)
    return keyword, text


@settings(max_examples=500, deadline=None)
@given(spelled(), WRAPPING, WRAPPING, st.integers(min_value=1, max_value=3))
def test_a_keyword_wrapped_in_punctuation_case_whitespace_or_emoji_stays_an_opt_out(
    word, before, after, times
):
    keyword, text = word
    ruling = classify_reply(before + " ".join([text] * times) + after)
    assert ruling.decision == OPT_OUT, (keyword, ruling.reason)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(OPT_OUT_KEYWORDS), st.sampled_from(["don't", "do not", "never", "no", "can't"]))
def test_a_negated_keyword_is_never_a_certain_opt_out(keyword, negator):
    assert classify_reply(f"{negator} {keyword}").decision == AMBIGUOUS
    assert classify_reply(f"please {negator} {keyword} my order").decision == AMBIGUOUS


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(),
        st.none(),
        st.integers(),
        st.floats(allow_nan=True),
        st.booleans(),
        st.binary(),
        st.lists(st.text(max_size=5), max_size=3),
    )
)
def test_any_value_gets_a_decision_and_a_reason(value):
    ruling = classify_reply(value)
    assert ruling.decision in DECISIONS
    assert ruling.reason


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "empty message: no text (None)"),
        ("", "empty message"),
        (" \t\n ", "empty message: only whitespace"),
    ],
)
def test_empty_replies_are_not_opt_outs(value, reason):
    assert classify_reply(value) == ReplyDecision(NOT_OPT_OUT, reason)


@pytest.mark.parametrize("value", [12345, "12345", 1.5, True])
def test_numbers_are_read_as_their_text(value):
    assert classify_reply(value) == ReplyDecision(NOT_OPT_OUT, "no opt-out word or phrase")


def test_bytes_are_read_as_utf8_with_bad_bytes_replaced():
    assert classify_reply("No más".encode()).decision == OPT_OUT
    assert classify_reply("¿qué?".encode("latin-1")).decision == NOT_OPT_OUT
    assert classify_reply(b"STOP\xff").decision == OPT_OUT
    assert classify_reply(bytearray(b"remove me")).decision == OPT_OUT


def test_a_value_whose_str_raises_is_ambiguous():
    class Broken:
        def __str__(self) -> str:
            raise RuntimeError("no")

    ruling = classify_reply(Broken())
    assert ruling.decision == AMBIGUOUS
    assert "could not be read as text" in ruling.reason


def test_a_str_subclass_is_read_by_its_characters():
    class Loud(str):
        def __str__(self) -> str:
            return "thanks"

    assert classify_reply(Loud("STOP")).decision == OPT_OUT


def test_a_10000_character_message_without_an_opt_out_is_ambiguous_and_says_it_was_cut():
    ruling = classify_reply("la " * 3_334)
    assert len("la " * 3_334) > 10_000 > MAX_CHARS
    assert ruling == ReplyDecision(
        AMBIGUOUS,
        "no opt-out word or phrase in the first 2,000 characters; "
        "the message is longer and the rest was not read",
    )


def test_a_10000_character_message_that_opens_with_a_request_is_an_opt_out_and_says_it_was_cut():
    ruling = classify_reply("Stop texting me. " + "lorem ipsum " * 900)
    assert ruling.decision == OPT_OUT
    assert ruling.reason.endswith("; only the first 2,000 characters were read")
    assert classify_reply("x" * 10_000).decision == AMBIGUOUS


def test_whitespace_around_a_long_reply_does_not_count_towards_the_cap():
    assert classify_reply(" " * 10_000 + "STOP" + "\n" * 10_000).decision == OPT_OUT


def test_reasons_name_what_matched():
    assert "'stop'" in classify_reply("STOP").reason
    assert "FCC per-se revocation word" in classify_reply("STOP").reason
    assert "'remove me'" in classify_reply("please remove me from the list").reason
    assert "negated by 'dont'" in classify_reply("don't cancel").reason
    assert "CTIA help keyword" in classify_reply("HELP").reason


def test_short_replies_are_cached_and_long_ones_are_not():
    classifier = ReplyClassifier()
    for _ in range(3):
        classifier.classify("Stop")
    classifier.classify("a" * (CACHE_MAX_CHARS + 1))
    info = classifier._cached.cache_info()
    assert (info.hits, info.misses) == (2, 1)


# Users' own phrases.


def test_user_opt_out_phrases_count_alone_and_inside_a_message():
    classifier = ReplyClassifier(opt_out=["Take a hike!", "count me out"])
    assert classifier.classify("take a hike").decision == OPT_OUT
    assert (
        classifier.classify("TAKE A HIKE 🙄").reason == "'take a hike' (your opt_out phrase) standing alone"
    )
    assert classifier.classify("ok count me out of these").decision == OPT_OUT
    assert classifier.classify("don't count me out").decision == AMBIGUOUS
    assert classifier.classify("count me out? who is this").decision == AMBIGUOUS
    assert classifier.classify("taking a hike").decision == NOT_OPT_OUT  # whole words only
    assert classify_reply("take a hike").decision == NOT_OPT_OUT  # the default is untouched


def test_user_not_opt_out_phrases_settle_a_whole_reply_only():
    classifier = ReplyClassifier(not_opt_out=["no", "Cancel my appointment", "thanks"])
    assert classifier.classify("No!").decision == NOT_OPT_OUT
    assert classifier.classify("cancel my appointment").reason == (
        "'cancel my appointment' is your not_opt_out phrase: not an opt-out"
    )
    assert classifier.classify("Thanks, STOP").decision == OPT_OUT
    assert classifier.classify("no. stop").decision == OPT_OUT
    assert classifier.classify("Cancel my appointment. STOP").decision == OPT_OUT
    assert classifier.classify("cancel my appointment, actually stop").decision == AMBIGUOUS


@pytest.mark.parametrize("entry", ["stop", "STOP!", "please stop", "remove me", "Unsubscribe me", "no más"])
def test_a_not_opt_out_phrase_cannot_override_an_opt_out(entry):
    with pytest.raises(ValueError, match=r"not_opt_out: '.*' is an opt-out on its own"):
        ReplyClassifier(not_opt_out=[entry])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"opt_out": ["ok", ""]}, "opt_out: '' has no words"),
        ({"opt_out": ["\U0001f6d1 !!"]}, "opt_out: '\U0001f6d1 !!' has no words"),
        ({"opt_out": [5]}, r"opt_out: 5 is not text \(int\)"),
        ({"not_opt_out": [None]}, r"not_opt_out: None is not text"),
        ({"opt_out": [b"stop"]}, r"opt_out: b'stop' is not text \(bytes\)"),
        ({"opt_out": "remove"}, "opt_out must be a list of phrases, not the single string 'remove'"),
        ({"not_opt_out": 3}, "not_opt_out must be a list of phrases, not int"),
        ({"opt_out": [" ".join(f"w{i}" for i in range(13))]}, "longer than 12 words"),
        ({"opt_out": ["bye now"], "not_opt_out": ["Bye now!"]}, "'bye now' is in both"),
    ],
)
def test_a_bad_entry_raises_value_error_naming_it(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ReplyClassifier(**kwargs)


def test_none_and_generators_are_accepted_as_lists():
    classifier = ReplyClassifier(opt_out=(p for p in ["count me out"]), not_opt_out=None)
    assert classifier.opt_out == ("count me out",)
    assert classifier.not_opt_out == ()


def test_a_classifier_pickles_and_copies_with_its_phrases():
    classifier = ReplyClassifier(opt_out=["count me out"], not_opt_out=["no"])
    unpickled = pickle.loads(pickle.dumps(classifier))  # noqa: S301 -- bytes we just made
    for clone in (unpickled, copy.deepcopy(classifier)):
        assert clone.classify("count me out").decision == OPT_OUT
        assert clone.classify("no").decision == NOT_OPT_OUT
    assert repr(classifier) == "ReplyClassifier(opt_out=('count me out',), not_opt_out=('no',))"


def test_a_known_reply_is_one_shared_ruling_however_it_is_typed():
    classifier = ReplyClassifier()
    rulings = {
        id(classifier.classify(text))
        for text in ("STOP", "stop.", "  Stop!! \U0001f6d1", "\uff33\uff34\uff2f\uff30")
    }
    assert len(rulings) == 1
    assert classifier.classify("stop 5") is classifier.classify(
        "STOP 6"
    )  # one opt-out word in a longer message


def test_a_phrase_that_reads_otherwise_than_typed_is_not_taken_as_typed():
    # "a b c" is kept as typed, but a reply typed so reads "abc" (one-letter words spelled out).
    classifier = ReplyClassifier(opt_out=["a b c"])
    assert classifier.classify("A B C!") == ReplyDecision(NOT_OPT_OUT, "no opt-out word or phrase")
    assert classifier.classify("a b c, stop").decision == OPT_OUT
