"""The opt-out and not-opt-out vocabularies, each list with its source.

Entries are written as they read after normalisation (``replies.normalize``): lower case, no
accents, no apostrophes (``dont``), words separated by one space. A list is a plain tuple so
docs and users can read it; ``replies.vocabulary`` compiles them into lookup tables.
Nothing here is legal advice: the lists record who names which word, not what a court will hold.
"""

from __future__ import annotations

# FCC Report and Order 24-24 (47 CFR 64.1200(a)(10)), in force since 2025-04-11: a reply using
# any of these words is a per-se reasonable revocation of consent.
FCC_PER_SE_WORDS = ("stop", "quit", "end", "revoke", "opt out", "cancel", "unsubscribe")

# CTIA Messaging Principles and Best Practices: the opt-out keywords every program must honour.
CTIA_OPT_OUT_KEYWORDS = ("stop", "stopall", "stop all", "unsubscribe", "cancel", "end", "quit")
# CTIA: HELP and INFO ask for the program's help message; START and UNSTOP re-subscribe.
CTIA_HELP_KEYWORDS = ("help", "info")
CTIA_OPT_IN_KEYWORDS = ("start", "unstop")

# Twilio's default opt-out keywords (Messaging Services "Advanced Opt-Out"); REVOKE and OPTOUT
# were added in 2025 for the FCC rule. Its default opt-in and help keywords follow.
TWILIO_OPT_OUT_KEYWORDS = (
    "stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout",
)  # fmt: skip
TWILIO_OPT_IN_KEYWORDS = ("start", "yes", "unstop")
TWILIO_HELP_KEYWORDS = ("help", "info")

# Our own list: English one-word (or fixed) replies that ask for the texts to stop when they
# stand alone. Suits over "remove me", "exit" and the like are why they are here.
COMMON_OPT_OUT_WORDS = (
    "remove", "exit", "unsub", "unsubscribe me", "opt me out", "cease", "no more", "stop it",
    "quit it", "delete", "delete me", "stop this", "stop these", "dont text", "dont contact", "halt",
    "desist",
)  # fmt: skip

# Our own list: Spanish one-word replies that ask for the texts to stop when they stand alone.
# ALTO, PARAR, CANCELAR and BAJA are the ones bilingual US programs most often advertise.
SPANISH_OPT_OUT_WORDS = (
    "alto", "parar", "para", "pare", "paren", "parale", "detener", "detente", "cancelar", "cancela",
    "cancelen", "baja", "basta", "fin", "terminar", "salir", "no mas", "desuscribir", "desuscribirme",
    "anular",
)  # fmt: skip

# Our own list: English phrasings that plainly ask to stop the texts, wherever they stand in
# a message ("please remove me from your list, I moved"). Matched as whole words.
COMMON_OPT_OUT_PHRASES = (
    "stop texting",
    "stop text",
    "stop sending",
    "stop messaging",
    "stop message",
    "stop contacting",
    "stop calling",
    "stop spamming",
    "stop bothering",
    "stop harassing",
    "stop these texts",
    "stop these messages",
    "stop this spam",
    "stop the texts",
    "stop the messages",
    "stop all texts",
    "stop everything",
    "quit texting",
    "quit sending",
    "quit messaging",
    "cancel texts",
    "cancel messages",
    "cancel my subscription",
    "cancel subscription",
    "cancel the texts",
    "end texts",
    "end messages",
    "end my subscription",
    "remove me",
    "remove my number",
    "remove this number",
    "remove from list",
    "remove from your list",
    "take me off",
    "take my number off",
    "take this number off",
    "delete my number",
    "delete this number",
    "lose my number",
    "dont text me",
    "dont text this number",
    "dont text my",
    "dont message me",
    "dont contact me",
    "dont send me",
    "dont send any more",
    "dont send anymore",
    "dont call me",
    "never text me",
    "never contact me",
    "never message me",
    "no more texts",
    "no more text",
    "no more messages",
    "no more message",
    "no more texting",
    "no more spam",
    "no more sms",
    "no longer want",
    "no longer wish",
    "dont want these",
    "dont want this",
    "dont want them",
    "dont want your",
    "dont want any",
    "dont want texts",
    "dont want messages",
    "dont want to receive",
    "dont want to get",
    "dont wish to receive",
    "leave me alone",
    "go away",
    "get lost",
    "fuck off",
    "f off",
    "piss off",
    "cease and desist",
    "cease desist",
    "wrong number",
    "wrong person",
    "unsubscribe",
    "unsub",
    "opt out",
    "optout",
    "opt me out",
    "revoke",
    "stopall",
    "stop all",
    "i said stop",
    "said stop",
)

# Our own list: Spanish phrasings that plainly ask to stop the texts, wherever they stand.
SPANISH_OPT_OUT_PHRASES = (
    "no mas mensajes",
    "no mas textos",
    "no mas mensajes de texto",
    "no me envien",
    "no me envies",
    "no me manden",
    "no me mandes",
    "no me escriban",
    "no me escribas",
    "no me contacten",
    "no me molesten",
    "no molestar",
    "dejen de enviar",
    "dejen de mandar",
    "dejen de escribir",
    "deja de enviar",
    "deja de mandar",
    "deja de escribir",
    "dejen de enviarme",
    "dejen de mandarme",
    "dejen de escribirme",
    "deja de enviarme",
    "deja de mandarme",
    "deja de escribirme",
    "no quiero recibir",
    "no quiero mas mensajes",
    "no quiero mensajes",
    "ya no quiero recibir",
    "ya no me manden",
    "ya no me envien",
    "darme de baja",
    "dar de baja",
    "dame de baja",
    "denme de baja",
    "de baja",
    "sacarme de la lista",
    "sacame de la lista",
    "saquenme de la lista",
    "quitarme de la lista",
    "quitame de la lista",
    "quitenme de la lista",
    "borrar mi numero",
    "borren mi numero",
    "borrame",
    "borrenme",
    "eliminar mi numero",
    "eliminen mi numero",
    "eliminame",
    "eliminenme",
    "cancelar suscripcion",
    "cancelar mi suscripcion",
    "anular suscripcion",
    "desuscribir",
    "desuscribirme",
    "desuscribanme",
    "dejenme en paz",
    "dejame en paz",
    "numero equivocado",
)

# Not opt-outs: courtesy and affirmative replies (our own list), on top of the CTIA and Twilio
# help and opt-in keywords above.
COURTESY_REPLIES = (
    "thanks", "thank you", "ok", "okay", "k", "cool", "great", "got it", "sounds good", "gracias",
    "muchas gracias", "vale", "de nada",
)  # fmt: skip
AFFIRMATIVE_REPLIES = ("yes", "y", "yeah", "yep", "sure", "si", "subscribe", "resubscribe", "opt in", "optin")
