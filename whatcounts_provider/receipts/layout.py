"""Who writes receipts (the task instance and its try) and the folder each task instance's
receipts go to under ``receipts_path``."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from whatcounts_provider.receipts.runs import RunStamp
from whatcounts_provider.storage import Location

if TYPE_CHECKING:
    from collections.abc import Mapping

# Only these characters stay as they are in a folder name; everything else is percent-encoded
# (Hive's convention for partition values, which Athena and Spark decode the same way). ":" and
# "+" stay since layout 2: every run id Airflow makes (manual__2026-12-06T07:00:00+00:00) then
# names its folder as it is, and a URI of the folder needs no escape at all.
_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:+")
# Layout 1 (receipts written before layout 2; their summary.json has no "layout") escaped ":" and
# "+" too: a task instance whose first tries were written then keeps its folder
# (see ``legacy_task_instance_folder``).
_SAFE_LAYOUT_1 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
#: The receipts layout this version writes (``summary.json``'s ``layout``): 2 adds the phone index,
#: part digests and the chain of tries, and keeps ":" and "+" in folder names.
LAYOUT_VERSION = 2
# A local file name is at most 255 bytes; a run id may be 250 characters before encoding.
_MAX_COMPONENT = 200
_SHORTENED_KEEP = 180
_KEYS = ("dag_id", "run_id", "task_id", "map_index")


@dataclass(frozen=True)
class TaskIdentity:
    """Who writes a receipt: the task instance and its try (``context["ti"]``), and what the try
    knows of its DAG run (``context["dag_run"]``, see :class:`~whatcounts_provider.receipts.runs.RunStamp`).
    """

    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    try_number: int
    run: RunStamp = field(default_factory=RunStamp, compare=False)

    @classmethod
    def from_ti(cls, ti: Any) -> TaskIdentity:
        """Read the identity from a task instance (``context["ti"]``, Airflow 2.11 or 3.x)."""
        map_index = getattr(ti, "map_index", -1)
        return cls(
            dag_id=str(ti.dag_id),
            run_id=str(ti.run_id),
            task_id=str(ti.task_id),
            map_index=-1 if map_index is None else int(map_index),
            try_number=int(ti.try_number),
        )

    @classmethod
    def from_context(cls, context: Mapping[str, Any]) -> TaskIdentity:
        """Read the identity from a task's context (its ``ti`` and ``dag_run``)."""
        ti = context["ti"]
        return replace(cls.from_ti(ti), run=RunStamp.of(context.get("dag_run"), ti))


def encode_component(value: str, *, _safe: frozenset[str] = _SAFE) -> str:
    """Encode one identity value as a path-safe, readable folder-name part.

    Letters, digits, ``-``, ``_``, ``.``, ``:`` and ``+`` stay; anything else becomes ``%XX`` (UTF-8), and
    so does a leading ``.`` (no hidden folders). ``decode_component`` reverses it. A value
    whose encoding exceeds 200 characters is cut to 180 and suffixed with ``~`` and a hash
    of the whole value: still unique and deterministic, no longer reversible (every receipt
    carries the exact value).
    """
    if not value:
        raise ValueError("an empty dag_id, run_id or task_id cannot name a receipts folder")
    out: list[str] = []
    for index, char in enumerate(value):
        if char in _safe and not (index == 0 and char == "."):
            out.append(char)
        else:
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8"))
    encoded = "".join(out)
    if len(encoded) <= _MAX_COMPONENT:
        return encoded
    cut = encoded[:_SHORTENED_KEEP]
    cut = cut[: cut.rfind("%")] if "%" in cut[-2:] else cut  # never split an escape
    digest = hashlib.sha256(value.encode("utf-8")).hexdigest()[:16]
    return f"{cut}~{digest}"


def decode_component(encoded: str) -> str:
    """Reverse ``encode_component``.

    :raises ValueError: the name is not an encoding, or a shortened (``~``) one.
    """
    if "~" in encoded:
        raise ValueError(f"{encoded[:40]!r}... was shortened: read the exact value from its receipts")
    if not encoded or any(c not in _SAFE and c != "%" for c in encoded):
        raise ValueError(f"{encoded!r} is not an encoded receipts folder name")
    try:
        raw = re.sub(
            rb"%([0-9A-F]{2})",
            lambda m: bytes([int(m.group(1), 16)]),
            encoded.encode("ascii"),
        )
        return raw.decode("utf-8")
    except (UnicodeDecodeError, ValueError):
        raise ValueError(f"{encoded!r} is not an encoded receipts folder name") from None


def task_instance_parts(identity: TaskIdentity, *, layout: int = LAYOUT_VERSION) -> tuple[str, str, str, str]:
    """The four folder names under ``receipts_path``: ``dag_id=…/run_id=…/task_id=…/map_index=…``.

    :param layout: 1 gives the names written before layout 2 (``:`` and ``+`` escaped).
    """
    safe = _SAFE if layout >= 2 else _SAFE_LAYOUT_1
    return (
        f"dag_id={encode_component(identity.dag_id, _safe=safe)}",
        f"run_id={encode_component(identity.run_id, _safe=safe)}",
        f"task_id={encode_component(identity.task_id, _safe=safe)}",
        f"map_index={int(identity.map_index)}",
    )


def parse_task_instance_parts(names: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """Reverse ``task_instance_parts``: ``{"dag_id", "run_id", "task_id", "map_index"}``."""
    if len(names) != len(_KEYS):
        raise ValueError(f"expected {len(_KEYS)} folder names, got {len(names)}")
    result: dict[str, Any] = {}
    for key, name in zip(_KEYS, names, strict=True):
        prefix = f"{key}="
        if not name.startswith(prefix):
            raise ValueError(f"folder {name!r} should start with {prefix!r}")
        value = name[len(prefix) :]
        result[key] = int(value) if key == "map_index" else decode_component(value)
    return result


def task_instance_folder(receipts_path: Any, identity: TaskIdentity) -> Location:
    """The task instance's own folder under ``receipts_path``:
    ``<receipts_path>/dag_id=<d>/run_id=<r>/task_id=<t>/map_index=<m>`` (``try_number`` is not
    part of it: every try of a task instance shares the folder, which is how a retry resumes).

    :param receipts_path: a path, URI or ``ObjectStoragePath``
        (see :class:`~whatcounts_provider.storage.Location`).
    """
    return Location.of(receipts_path, what="receipts_path").child(*task_instance_parts(identity))


def legacy_task_instance_folder(receipts_path: Any, identity: TaskIdentity) -> Location | None:
    """The folder layout 1 gave this task instance, when it differs from today's name (its ids
    hold ``:`` or ``+``): a try that finds earlier tries there resumes from them and writes
    beside them, so that the tries of one task instance never split across two folders."""
    legacy = task_instance_parts(identity, layout=1)
    if legacy == task_instance_parts(identity):
        return None
    return Location.of(receipts_path, what="receipts_path").child(*legacy)
