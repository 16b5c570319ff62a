"""A replies file: the 1,000,000-row source with a message column against the same file without one.

Both go through ``BulkStopSmsSubscriberOperator(source=...)`` in a fresh process each, the way the
``source`` section runs (every pair reported ``already_done``, so nothing is sent and the figure is
the cost of reading, classifying, validating and counting). The messages are a realistic mix of
replies, repeated as real replies are (most are a handful of keywords). The two files are run
alternately, twice each, and each keeps its best time and smallest RSS growth: drift on a loaded
machine then hits both alike. Targets: at most 1.2x the time and 1.2x the RSS growth.
"""

from __future__ import annotations

from itertools import cycle, islice
from typing import TYPE_CHECKING, Any

from _harness import WORK_DIR, Row, Section
from bulk_inputs import SOURCE_SENDER, in_child
from memory import MB

from whatcounts_provider.replies import classify_reply
from whatcounts_provider.testing.series import phone_series

if TYPE_CHECKING:
    from pathlib import Path

    from _harness import Bench

TIME_TARGET, RSS_TARGET = 1.2, 1.2
# What inbound replies look like: mostly keywords in some case, some phrases, some chatter.
MIX = (
    ["STOP"] * 30 + ["Stop"] * 10 + ["stop"] * 10 + ["STOP 🛑", "Stop.", "UNSUBSCRIBE", "cancel", "End"] * 2
    + ["remove me from this list", "Stop texting me", "no más mensajes", "BAJA", "opt out", "Revoke"]
    + ["thanks", "HELP", "Yes", "ok", "when does the sale end?", "See you at 5", "gracias", "INFO"]
)  # fmt: skip


def write(path: Path, phones: list[str], messages: bool) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as file:
        if not messages:
            file.write("phone,sender_code\n")
            file.writelines(f"{phone},{SOURCE_SENDER}\n" for phone in phones)
        else:
            file.write("phone,sender_code,message\n")
            replies = islice(cycle(MIX), len(phones))
            lines = zip(phones, replies, strict=True)
            file.writelines(f'{phone},{SOURCE_SENDER},"{reply}"\n' for phone, reply in lines)
    return path


def run(bench: Bench) -> list[Row]:
    n, workers = bench.sizes.source_n, bench.sizes.workers
    phones = phone_series(n, 0)
    folder = WORK_DIR / "messages"
    plain, replies = write(folder / "plain.csv", phones, False), write(folder / "replies.csv", phones, True)
    held = sum(classify_reply(reply).decision == "not_opt_out" for reply in islice(cycle(MIX), n))
    expect = {
        plain: {"total": n, "already_done": n},
        replies: {"total": n, "already_done": n - held, "not_opt_out": held},
    }
    best: dict[Path, dict[str, float]] = {}
    for path in (plain, replies, replies, plain):
        result: dict[str, Any] = in_child(path, "validate", workers, expect[path], 120 + n * 0.003)
        growth = (result["peak"] - result["baseline"]) * 1024 / MB
        previous = best.get(path, {"elapsed": float("inf"), "growth": float("inf")})
        best[path] = {
            "elapsed": min(previous["elapsed"], result["elapsed"]),
            "growth": min(previous["growth"], growth),
        }
    plain.unlink()
    replies.unlink()
    time_ratio = best[replies]["elapsed"] / best[plain]["elapsed"]
    # A floor of 1 MB: growths of a few MB are within the allocator's noise.
    rss_ratio = max(best[replies]["growth"], 1.0) / max(best[plain]["growth"], 1.0)
    return [
        Row(
            f"messages: {n}-row CSV with a message column ({held} not opt-outs) vs without, time",
            f"{best[replies]['elapsed']:.1f} s ({n / best[replies]['elapsed']:.0f} rows/s)",
            f"without {best[plain]['elapsed']:.1f} s",
            f"{time_ratio:.2f}x",
            f"<= {TIME_TARGET:.1f}x",
            time_ratio <= TIME_TARGET,
        ),
        Row(
            f"messages: {n}-row CSV with a message column vs without, peak RSS growth",
            f"{best[replies]['growth']:.1f} MB",
            f"without {best[plain]['growth']:.1f} MB",
            f"{rss_ratio:.2f}x",
            f"<= {RSS_TARGET:.1f}x",
            rss_ratio <= RSS_TARGET,
        ),
    ]


SECTION = Section("messages", run, lambda sizes: 600 + sizes.source_n * 0.012)
