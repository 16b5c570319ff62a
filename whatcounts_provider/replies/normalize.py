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
# "S T O P": a reply of only one-letter words, at least this many, reads as one word.
SPELLED_OUT = 3

_CLAUSE_END = "\n"
_DELETE = "'\u2019\u2018\u201b\u02bc`\u00b4\u2032\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00ad\u180e"
_ENDS = ".!;,:\u2026\r\u2028\u2029\u00a1\u3002\u3001"
_TABLE = str.maketrans(
    {
        **dict.fromkeys(_DELETE),  # apostrophes, straight or curly: "don't" == "dont"; zero-width characters
        "_": " ",  # a word character to the regex below, a separator to people
        "&": " and ",
        **dict.fromkeys(_ENDS, _CLAUSE_END),
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


def _ascii_byte(char: str) -> str:
    if char in _ENDS:
        return _CLAUSE_END
    return char.lower() if char.isalnum() or char in "?\n" else " "


# _TABLE for an ASCII reply, one byte for one byte, as bytes.translate (~5x faster than
# str.translate) needs: lower case, sentence punctuation a clause end, and every other byte that
# is no word character a space, since only runs of word characters are words. "'" and "`" are
# deleted; "&" is replaced before, and "?" read after (line_clauses).
_ASCII_TABLE = "".join(_ascii_byte(chr(byte)) for byte in range(128)).encode().ljust(256, b" ")
_ASCII_DELETE = "".join(char for char in _DELETE if char.isascii()).encode()
# Emoji and symbols that read as a space wherever they stand: no word character, not in _TABLE,
# unchanged by fold() (tests/replies check each one). A reply of ASCII and these, the most common
# other kind, so takes the ASCII path without fold().
_EMOJI = re.compile("[\u2500-\u2775\u2794-\u27bf\u2b00-\u2bff\ufe00-\ufe0f\U0001f300-\U0001faff]")
# After fold(), every character that is no word character and that _TABLE leaves as it is: as a
# space it reads the same, and a reply in accented Latin letters then takes the ASCII path too.
_SYMBOLS = re.compile(
    "[^\\x00-\\x7f\\w" + re.escape("".join(char for char in map(chr, _TABLE) if not char.isascii())) + "]"
)
_MISSPELLED = frozenset(MISSPELLINGS)

Clause = tuple[list[str], bool]


def fold(text: str) -> str:
    """Lower case, no accents, full-width and other compatibility forms as their plain letters."""
    if text.isascii():
        return text.lower()
    return _MARKS.sub("", unicodedata.normalize("NFKD", text).casefold())


def ascii_line(text: str) -> str | None:
    """``text`` read as one line of lower-case ASCII words, each clause end a line break and each
    "?" kept, with no space or clause end at either end; None if it is longer than MAX_CHARS once
    stripped, or holds other scripts or a "¿" (then ``folded_clauses`` reads it)."""
    text = text.strip()
    if len(text) > MAX_CHARS:
        return None
    if not text.isascii():
        text = _folded(text)
        if not text.isascii():
            return None
    if "&" in text:
        text = text.replace("&", " and ")
    return text.encode().translate(_ASCII_TABLE, _ASCII_DELETE).decode().strip()


def _folded(text: str) -> str:
    """A reply that is not ASCII, folded, with the emoji and symbols that only separate words as
    spaces, and the punctuation _TABLE reads as an ASCII character's as that character."""
    text = _EMOJI.sub(" ", text)
    if text.isascii():
        return text
    return _SYMBOLS.sub(" ", fold(text).replace("\u2019", "'").replace("\u00a1", "!"))


def _ascii_line(text: str) -> str:
    # As at the end of ascii_line, which has it inline: one call less for nearly every reply.
    if "&" in text:
        text = text.replace("&", " and ")
    return text.encode().translate(_ASCII_TABLE, _ASCII_DELETE).decode().strip()


def line_clauses(line: str) -> list[Clause]:
    """The clauses of an ``ascii_line``."""
    if _ASCII_RUN.search(line) is not None:
        line = _ASCII_RUN.sub(r"\1", line)
    if _CLAUSE_END not in line:
        said = line.rstrip("? ")  # "?" after the words marks their clause, on any of them ends it
        if "?" not in said:
            words = said.split()
            if not words:
                return []
            if not _MISSPELLED.isdisjoint(words) or len(set(words)) < len(words):  # as _tidy, one call less
                words = _tidy(words)
            return [(words, len(said) < len(line))]
    found: list[Clause] = []
    for part in line.split(_CLAUSE_END):
        if "?" in part:
            # "?" closes the clause before it and marks it a question ("who is this? stop" is two).
            *asked, part = part.split("?")
            for question in asked:
                words = question.split()
                if words:
                    found.append((_tidy(words), True))
        words = part.split()
        if words:
            found.append((_tidy(words), False))
    return found


def clauses(text: str) -> tuple[list[Clause], bool]:
    """The clauses of ``text`` as (words, held a question mark), and whether it was cut at MAX_CHARS.

    Within a clause a word repeated straight after itself counts once, and misspellings and
    shorthand read as the word they stand for (``cues.MISSPELLINGS``). Clauses with no words
    (only emoji, symbols or punctuation) are dropped.
    """
    line = ascii_line(text)
    if line is not None:
        return line_clauses(line), False
    return folded_clauses(text)


def folded_clauses(text: str) -> tuple[list[Clause], bool]:
    """``clauses`` of a reply that ``ascii_line`` does not read (too long, other scripts, "¿")."""
    text = text.strip()
    truncated = len(text) > MAX_CHARS
    if truncated:
        text = text[:MAX_CHARS]
    if not text.isascii():
        text = _folded(text)
        if not text.isascii():
            return _clauses(text.translate(_TABLE)), truncated
    return line_clauses(_ascii_line(text)), truncated


def _tidy(words: list[str]) -> list[str]:
    """``words`` with misspellings read as the word meant and a word repeated straight after itself once."""
    if not _MISSPELLED.isdisjoint(words):
        words = [MISSPELLINGS.get(word, word) for word in words]
    if len(words) > 1 and len(set(words)) < len(words):
        words = [word for index, word in enumerate(words) if not index or word != words[index - 1]]
    return words


def _clauses(text: str) -> list[Clause]:
    """The clauses of a folded, translated reply that still holds other scripts (or a "¿")."""
    if _LETTER_RUN.search(text) is not None:
        text = _LETTER_RUN.sub(r"\1", text)
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
    return found


def phrase_key(text: str) -> str:
    """All the words of ``text``, read as a message is, joined by single spaces ("" if none)."""
    return " ".join(word for words, _ in clauses(text)[0] for word in words)
