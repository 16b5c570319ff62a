"""Replies: how many inbound SMS replies per second the opt-out classifier decides, on one core.

classify_reply runs once per row of a bulk run that carries the reply. Three loads, each on a
fresh classifier (an empty cache), in this process pinned to one CPU:
(a) a realistic mix: mostly short keyword replies that repeat heavily ("STOP", "Stop", "stop."),
    so the LRU cache on the raw text answers most of them, plus 5% one-off texts; the target
    is for this load;
(b) all-distinct texts (the same replies with varied case, punctuation, spacing, emoji and
    numbers), every call a cache miss: the cost of the rules themselves, reported honestly;
(c) both loads again with a classifier holding 50 user phrases (the operators' opt_out_phrases).
Plus the worst single input: a 10,000-character message (only the first 2,000 characters are
read). The median of ROUNDS rounds counts. No emulator: nothing is sent.
"""

from __future__ import annotations

import contextlib
import os
import random
import time
from collections import Counter
from statistics import median
from typing import TYPE_CHECKING

from _harness import MeasurementError, Row, Section

from whatcounts_provider.replies import ReplyClassifier, classify_reply

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from _harness import Bench, Sizes

TARGET = 200_000  # replies/s, realistic mix
ROUNDS = 3
TAIL = 0.05  # share of the realistic mix that is one-off text (varied spelling, chat with numbers)
SEED = 20250411  # the day the FCC rule took effect
# (reply, weight): what a texting program's inbox holds, keyword replies first.
MIX = [
    ("STOP", 300), ("Stop", 200), ("stop", 150), ("stop.", 40), ("STOP 🛑", 15), ("Stop!", 30),
    ("STOP STOP", 10), ("Unsubscribe", 20), ("unsubscribe", 10), ("Cancel", 15), ("END", 10),
    ("Quit", 5), ("STOPALL", 5), ("opt out", 5), ("Remove me", 10), ("remove me from this list", 8),
    ("Stop texting me", 12), ("Please stop", 10), ("No more texts", 5), ("Leave me alone", 4),
    ("Don't text me again", 4), ("Wrong number", 6), ("Alto", 8), ("PARAR", 3), ("Baja", 3),
    ("No más mensajes", 4), ("cancelar", 3), ("No", 40), ("no", 20), ("No thanks", 10),
    ("Thanks", 30), ("Thank you!", 15), ("ok", 20), ("Ok", 15), ("Yes", 25), ("Y", 10),
    ("HELP", 10), ("Info", 3), ("START", 5), ("gracias", 8), ("Sí", 5), ("👍", 10),
    ("Who is this?", 8), ("when does the sale end?", 3), ("Cancel my order", 3),
    ("see you at 5", 4), ("Sounds good", 5), ("STOP who is this?", 4),
    ("Stop! I never signed up for this", 3), ("Can you please stop texting me?", 3),
]  # fmt: skip
CHAT = [
    "see you at {n}", "order #{n} never arrived", "is store {n} open sunday?", "call me at {n}",
    "my code is {n} thanks", "room {n} please", "I'll be there by {n}", "what about item {n}?",
]  # fmt: skip
TOPICS = [
    "promos", "coupons", "alerts", "reminders", "deals", "offers", "updates", "news", "surveys",
    "polls", "tips", "recipes", "events", "specials", "rewards", "points", "sales", "flyers",
    "catalogs", "newsletters", "giveaways", "contests", "quizzes", "digests", "bulletins",
]  # fmt: skip
USER_PHRASES = [f"unenroll me from {topic}" for topic in TOPICS] + [f"{topic} off" for topic in TOPICS]


def realistic_mix(count: int, rng: random.Random) -> list[str]:
    """Weighted draws from MIX, with a tail of TAIL one-off texts (a real inbox has them)."""
    replies, weights = zip(*MIX, strict=True)
    mix = rng.choices(replies, weights=weights, k=count)
    for i, text in zip(
        rng.sample(range(count), int(count * TAIL)), distinct_texts(int(count * TAIL), rng), strict=True
    ):
        mix[i] = text
    return mix


def distinct_texts(count: int, rng: random.Random) -> list[str]:
    """``count`` different strings shaped like real replies (no two equal, so no cache hits)."""
    decorations = ["", "!", "!!", ".", "...", "?", " 🛑", " 🙏", " 😡", "\n", "  ", " :)"]
    seen: set[str] = set()
    texts: list[str] = []
    while len(texts) < count:
        if rng.random() < 0.2:
            text = rng.choice(CHAT).format(n=rng.randrange(1_000_000))
        else:
            base = rng.choice(MIX)[0]
            text = "".join(c.upper() if rng.random() < 0.3 else c.lower() for c in base)
            text = " " * rng.randrange(3) + text + rng.choice(decorations) + rng.choice(decorations)
        if text not in seen:
            seen.add(text)
            texts.append(text)
    return texts


@contextlib.contextmanager
def one_cpu() -> Iterator[None]:
    """Pin this process to one CPU while measuring (Linux); elsewhere, run as is."""
    try:
        allowed = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {min(allowed)})
    except (AttributeError, OSError):
        yield
        return
    try:
        yield
    finally:
        os.sched_setaffinity(0, allowed)


def rate(make: Callable[[], ReplyClassifier], texts: list[str]) -> float:
    """Replies/s of a fresh classifier over ``texts``, the median of ROUNDS rounds."""
    rates = []
    for _ in range(ROUNDS):
        classify = make().classify
        start = time.perf_counter()
        for text in texts:
            classify(text)
        rates.append(len(texts) / (time.perf_counter() - start))
    return median(rates)


def check(mix: list[str], with_phrases: ReplyClassifier) -> None:
    """A figure never comes from wrong answers: the keyword replies must be opt-outs."""
    decisions = Counter(classify_reply(text).decision for text in set(mix))
    wrong = [t for t in ("STOP", "Stop", "stop.", "STOP 🛑", "remove me from this list") if t in mix]
    wrong = [t for t in wrong if classify_reply(t).decision != "opt_out"]
    if wrong or set(decisions) != {"opt_out", "ambiguous", "not_opt_out"}:
        raise MeasurementError(f"unexpected decisions: {wrong or dict(decisions)}")
    if with_phrases.classify("please unenroll me from coupons").decision != "opt_out":
        raise MeasurementError("the 50 user phrases are not in effect")


def run(bench: Bench) -> list[Row]:
    n = replies_n(bench.sizes)
    rng = random.Random(SEED)
    mix, distinct = realistic_mix(n, rng), distinct_texts(max(n // 5, 1), rng)
    phrases = ReplyClassifier(opt_out=USER_PHRASES)
    check(mix, phrases)
    long_message = "Thanks for the update. " * 435  # 10,005 characters
    with one_cpu():
        mixed = rate(ReplyClassifier, mix)
        fresh = rate(ReplyClassifier, distinct)
        mixed_50 = rate(lambda: ReplyClassifier(opt_out=USER_PHRASES), mix)
        fresh_50 = rate(lambda: ReplyClassifier(opt_out=USER_PHRASES), distinct)
        longest = min(timed(lambda: classify_reply(long_message)) for _ in range(20))
    share = len(set(mix)) / len(mix)
    return [
        Row(
            f"replies: realistic mix, {n:,} replies ({share:.2%} distinct), fresh cache, 1 core",
            f"{mixed:,.0f}/s",
            "",
            "",
            f"≥ {TARGET:,}/s",
            mixed >= TARGET,
        ),
        Row(
            f"replies: {len(distinct):,} all-distinct texts (every call a cache miss), 1 core",
            f"{fresh:,.0f}/s",
            f"realistic mix {mixed:,.0f}/s",
            f"{fresh / mixed:.1%}",
        ),
        Row(
            f"replies: realistic mix, classifier with {len(USER_PHRASES)} user phrases",
            f"{mixed_50:,.0f}/s",
            f"default {mixed:,.0f}/s",
            f"{mixed_50 / mixed:.1%}",
            f"≥ {TARGET:,}/s",
            mixed_50 >= TARGET,
        ),
        Row(
            f"replies: all-distinct texts, classifier with {len(USER_PHRASES)} user phrases",
            f"{fresh_50:,.0f}/s",
            f"default {fresh:,.0f}/s",
            f"{fresh_50 / fresh:.1%}",
        ),
        Row(
            f"replies: one {len(long_message):,}-character message (first 2,000 read), best of 20",
            f"{longest * 1e6:,.0f} µs",
        ),
    ]


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def replies_n(sizes: Sizes) -> int:
    # No size of its own in _harness.Sizes: it scales with the source section's row count
    # (1,000,000 -> 500,000 replies; --quick's 20,000 -> 10,000), a row per reply as there.
    return max(sizes.source_n // 2, 1_000)


CLASSIFIER = Section("replies", run, lambda sizes: 60 + replies_n(sizes) * 1e-4 * ROUNDS * 4)
