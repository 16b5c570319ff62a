"""The phone index a try writes beside its parts (``phones.idx``): which parts hold which phone.

A lookup then reads each try's index and only the parts that hold the phone, never every part.
The file is one JSON header line, then two little-endian arrays of the same length: 64-bit keys
(the first 8 bytes of BLAKE2b of the phone as receipts write it, E.164), sorted, and for each key
the position of a part in the header's ``parts``. About 12 bytes per (phone, part): 1.5 to 2 % of
the receipts' own bytes. Two phones may share a key; a lookup checks the phone of every receipt it
reads, so a shared key costs a part read, never a wrong answer. Phones are not in the file: the
keys cannot be read back into phones without guessing them (they are evidence all the same).
"""

from __future__ import annotations

import bisect
import hashlib
import json
import sys
from array import array
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

INDEX_NAME = "phones.idx"
_FORMAT = "whatcounts-phone-index"
_VERSION = 1
_KEY_BITS = 64
_PART_BITS = 32


def phone_key(phone: str) -> int:
    """The index key of a phone as receipts write it (E.164)."""
    return int.from_bytes(hashlib.blake2b(phone.encode("utf-8"), digest_size=8).digest(), "little")


def entry(phone: str, part: int) -> int:
    """One index entry: the phone's key and the part's position, as one sortable number."""
    return (phone_key(phone) << _PART_BITS) | part


def build_index(parts: list[str], entries: Iterable[int]) -> bytes:
    """The ``phones.idx`` content for ``parts`` (their names, in order) and ``entries``
    (:func:`entry` values; repeats are dropped)."""
    ordered = sorted(set(entries))
    mask = (1 << _PART_BITS) - 1
    keys = array("Q", (value >> _PART_BITS for value in ordered))
    positions = array("I", (value & mask for value in ordered))
    if positions.itemsize != 4 or keys.itemsize != 8:  # pragma: no cover - exotic platforms
        raise RuntimeError("the phone index needs 4-byte 'I' and 8-byte 'Q' arrays")
    if sys.byteorder != "little":  # pragma: no cover - the file is little-endian everywhere
        keys.byteswap()
        positions.byteswap()
    header = {"format": _FORMAT, "version": _VERSION, "entries": len(ordered), "parts": parts}
    return (
        json.dumps(header, separators=(",", ":")).encode("utf-8")
        + b"\n"
        + keys.tobytes()
        + positions.tobytes()
    )


@dataclass(frozen=True)
class PhoneIndex:
    """A read ``phones.idx``: the parts it covers and, per phone, which of them hold it."""

    parts: tuple[str, ...]
    keys: array[int]
    positions: array[int]

    @classmethod
    def parse(cls, data: bytes, where: str) -> PhoneIndex:
        """Read an index file's content.

        :raises ValueError: not an index of a format this version reads, naming ``where``.
        """
        head, _, body = data.partition(b"\n")
        try:
            header = json.loads(head)
            count = int(header["entries"])
            parts = tuple(str(name) for name in header["parts"])
            known = header["format"] == _FORMAT and header["version"] == _VERSION
        except (ValueError, KeyError, TypeError):
            raise ValueError(f"{where} is not a phone index") from None
        if not known:
            raise ValueError(f"{where} is a phone index of another format or version")
        if len(body) != count * 12:
            raise ValueError(f"{where} is cut short: {len(body)} bytes for {count} entries")
        keys, positions = array("Q"), array("I")
        keys.frombytes(body[: count * 8])
        positions.frombytes(body[count * 8 :])
        if sys.byteorder != "little":  # pragma: no cover
            keys.byteswap()
            positions.byteswap()
        if max(positions, default=-1) >= len(parts):
            raise ValueError(f"{where} names a part it does not list")
        return cls(parts, keys, positions)

    def parts_holding(self, phone: str) -> list[str]:
        """The names of the parts that may hold receipts of ``phone`` (E.164)."""
        key = phone_key(phone)
        start = bisect.bisect_left(self.keys, key)
        end = bisect.bisect_right(self.keys, key, lo=start)
        return [self.parts[self.positions[i]] for i in range(start, end)]
