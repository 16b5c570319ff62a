"""A reply as the classifier reads it: clauses of plain lower-case words.

"STOP 🛑", full-width "STOP", " stop.\\n", "St\\u200bop" and "stop stop stop" all read as the
one clause ``["stop"]``; "No más" and "no mas" read alike; "don't", with a straight or curly
apostrophe, reads "dont". Sentence punctuation and line breaks end a clause ("Thanks, STOP" is
two), and a clause remembers whether it held a "?". The same reading applies to the phrases
users add, so a phrase matches whatever way it is typed.
"""

from __future__ import annotations

import re
import unicodedata

from whatcounts_provider.replies.cues import MISSPELLINGS

# Only the first MAX_CHARS characters (after surrounding whitespace is stripped) are read: the
# longest concatenated SMS is ~1,600 characters, and the cap bounds the work on any input.
MAX_CHARS = 2_000

_CLAUSE_END = "\n"
_DELETE = "'\u2019\u2018\u201b\u02bc`\u00b4\u2032\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00ad\u180e"
_TABLE = str.maketrans(
    {
        **dict.fromkeys(_DELETE),  # apostrophes, straight or curly: "don't" == "dont"; zero-width characters
        "_": " ",  # a word character to the regex below, a separator to people
        "&": " and ",
        **dict.fromkeys(".!;,:\u2026\r\u2028\u2029\u00a1\u3002\u3001", _CLAUSE_END),
        "?": "?" + _CLAUSE_END,
        "\u061f": "?" + _CLAUSE_END,  # Arabic question mark
        "\u00bf": _CLAUSE_END + "?",  # Spanish "¿" opens the question that follows
    }
)
_TOKEN = re.compile(r"\w+|[?\n]")
# Three or more of one letter are one letter ("STOPPPP", "stooop", "pleeease"); no English or
# Spanish word of the lists has a tripled letter. Digits are left alone.
_LETTER_RUN = re.compile(r"([^\W\d_])\1{2,}")
_ASCII_RUN = re.compile(r"([a-z])\1\1+")  # the same, ~2x faster on the common all-ASCII reply
# Combining diacritics, once NFKD has split them from their letters: "más" -> "mas".
_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")

Clause = tuple[list[str], bool]


def fold(text: str) -> str:
    """Lower case, no accents, full-width and other compatibility forms as their plain letters."""
    if text.isascii():
        return text.lower()
    return _MARKS.sub("", unicodedata.normalize("NFKD", text).casefold())


def clauses(text: str) -> tuple[list[Clause], bool]:
    """The clauses of ``text`` as (words, held a question mark), and whether it was cut at MAX_CHARS.

    Within a clause a word repeated straight after itself counts once, and misspellings and
    shorthand read as the word they stand for (``cues.MISSPELLINGS``). Clauses with no words
    (only emoji, symbols or punctuation) are dropped.
    """
    text = text.strip()
    truncated = len(text) > MAX_CHARS
    if truncated:
        text = text[:MAX_CHARS]
    if text.isascii():
        text = _ASCII_RUN.sub(r"\1", text.lower().translate(_TABLE))
    else:
        text = _LETTER_RUN.sub(r"\1", fold(text).translate(_TABLE))
    found: list[Clause] = []
    words: list[str] = []
    previous, question = "", False
    # One regex pass; the loop sees only words, "?" and clause ends.
    for piece in _TOKEN.findall(text):
        if piece == _CLAUSE_END:
            if words:
                found.append((words, question))
                words, previous = [], ""
            question = False
        elif piece == "?":
            question = True
        else:
            word = MISSPELLINGS.get(piece, piece)
            if word != previous:
                words.append(word)
                previous = word
    if words:
        found.append((words, question))
    return found, truncated


def phrase_key(text: str) -> str:
    """All the words of ``text``, read as a message is, joined by single spaces ("" if none)."""
    return " ".join(word for words, _ in clauses(text)[0] for word in words)
