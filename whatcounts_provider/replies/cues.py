"""The words around an opt-out word that change what it means: our own lists, no outside source.

Written as they read after normalisation (lower case, no accents, no apostrophes). They decide
between ``opt_out`` and ``ambiguous`` (``replies.classify``), so each list leans the same way:
when in doubt a cue makes a message ambiguous, never a certain opt-out.
"""

from __future__ import annotations

# Words that may surround an opt-out keyword without changing it ("stop please", "can you
# stop", "i want to unsubscribe now"); a message of only these is a courtesy reply.
FILLERS = (
    "please",
    "now",
    "right now",
    "asap",
    "immediately",
    "already",
    "just",
    "again",
    "anymore",
    "forever",
    "permanently",
    "for good",
    "completely",
    "thanks",
    "thank you",
    "ok",
    "okay",
    "k",
    "hi",
    "hey",
    "hello",
    "sir",
    "maam",
    "guys",
    "seriously",
    "but",
    "and",
    "so",
    "also",
    "oh",
    "can you",
    "could you",
    "would you",
    "will you",
    "i want to",
    "i wish to",
    "i would like to",
    "id like to",
    "i wanna",
    "i need to",
    "i want",
    "want to",
    "i said",
    "i told you",
    "i told you to",
    "i asked you to",
    "por favor",
    "porfa",
    "porfavor",
    "favor de",
    "ya",
    "ahora",
    "gracias",
    "hola",
    "quiero",
    "deseo",
    "pueden",
    "puede",
)

# A negator up to NEGATION_WINDOW words before an opt-out word or phrase makes it ambiguous
# ("don't cancel my order", "never stop sending deals", "no quiero cancelar").
NEGATORS = (
    "not", "dont", "doesnt", "didnt", "never", "cant", "cannot", "wont", "wouldnt", "shouldnt",
    "couldnt", "isnt", "arent", "wasnt", "werent", "aint", "no", "nor", "without", "nunca", "jamas",
    "ni", "sin",
)  # fmt: skip
NEGATION_WINDOW = 3

# Contained anywhere, these take back or contradict an opt-out ("stop... actually keep them
# coming", "sent STOP by mistake", "stop, then start again"): the message becomes ambiguous.
# "don't stop" needs no entry: a negated opt-out word is ambiguous by itself (NEGATORS).
REVERSALS = (
    "actually",
    "jk",
    "just kidding",
    "just joking",
    "never mind",
    "nevermind",
    "nvm",
    "changed my mind",
    "change my mind",
    "keep them coming",
    "keep em coming",
    "keep sending",
    "keep texting",
    "keep messaging",
    "want to stay",
    "stay subscribed",
    "still want",
    "mistake",
    "by accident",
    "accidentally",
    "start",
    "unstop",
    "subscribe",
    "resubscribe",
    "opt in",
    "optin",
    "opt back in",
    "sign me up",
    "sign me back up",
    "es broma",
    "era broma",
    "mejor no",
    "olvidalo",
    "por error",
    "sin querer",
    "sigan enviando",
    "sigan mandando",
)

# A clause is a question when it has "?" (or Spanish "¿") or begins with one of these, or with
# an auxiliary followed by a pronoun ("do you", "is this", "can i"). "can/could/would/will you"
# begin requests, not questions ("could you stop texting me?"), and are fillers above.
QUESTION_WORDS = (
    "who", "whos", "whose", "what", "whats", "when", "whens", "where", "wheres", "why", "how", "hows",
    "which", "cuando", "donde", "como", "quien", "quienes", "cual", "cuanto", "cuantos",
)  # fmt: skip
QUESTION_AUXILIARIES = (
    "do", "does", "did", "is", "are", "was", "were", "am", "should", "shall", "may", "might", "have",
    "has", "can", "could", "will", "would",
)  # fmt: skip
QUESTION_PRONOUNS = ("i", "you", "it", "this", "that", "they", "we", "he", "she", "there", "these", "those")
# Skipped before looking for a question word ("hey, when does it end?" is split at the comma
# anyway; "ok so when does it end" is not).
LEAD_INS = ("hi", "hey", "hello", "hola", "ok", "okay", "so", "um", "uh", "well", "but", "and", "oh", "also")

# Standing alone, a refusal names no opt-out word: it may answer a question ("Will you come?
# No") or turn the texts down. It is ambiguous, not a certain opt-out and not plainly not one.
REFUSALS = (
    "no", "nope", "nah", "n", "no thanks", "no thank you", "not interested", "im not interested",
    "i am not interested", "not anymore", "no way", "enough", "never", "no gracias", "no me interesa",
    "no quiero", "ya no",
)  # fmt: skip

# Opt-out words that, inside a longer message, are too common in another sense to make it even
# ambiguous ("para" is also "for", "fin de semana" is "weekend"); they count standing alone.
QUIET_WHEN_CONTAINED = ("para", "fin", "salir", "terminar", "no more", "no mas")

# Other forms of opt-out words: inside a message they make it ambiguous ("I already
# unsubscribed", "I opted out last week" are reports, not requests; "¿cómo cancelo?" asks how).
OPT_OUT_FORMS = (
    "unsubscribed",
    "unsubscribing",
    "opted out",
    "opting out",
    "optedout",
    "revoked",
    "revoking",
    "revocation",
    "desuscrito",
    "desuscribi",
    "desuscribo",
    "cancelo",
    "cancelarlo",
    "cancelarla",
)

# Misspellings and shorthand, read as the word they stand for (one word for one word).
MISSPELLINGS = {
    "stopp": "stop",
    "stpo": "stop",
    "sotp": "stop",
    "stp": "stop",
    "st0p": "stop",
    "unsubcribe": "unsubscribe",
    "unsubscibe": "unsubscribe",
    "unsuscribe": "unsubscribe",
    "unsubsribe": "unsubscribe",
    "unsusbcribe": "unsubscribe",
    "unsubscrib": "unsubscribe",
    "usubscribe": "unsubscribe",
    "unsubscirbe": "unsubscribe",
    "cancle": "cancel",
    "cancell": "cancel",
    "qiut": "quit",
    "u": "you",
    "ur": "your",
    "txt": "text",
    "txts": "texts",
    "txting": "texting",
    "msg": "message",
    "msgs": "messages",
    "pls": "please",
    "plz": "please",
    "plse": "please",
    "thx": "thanks",
    "thanx": "thanks",
    "ty": "thanks",
    "dnt": "dont",
    "msj": "mensaje",
    "msjs": "mensajes",
}

# Symbols that say "stop" in a message with no words at all: ambiguous, never certain.
STOP_SYMBOLS = ("\U0001f6d1", "\u26d4", "\U0001f6ab")  # octagonal sign, no entry, prohibited
