"""Find one phone's receipts under any root, through the index each try writes beside its parts.

Folders are listed one at a time (``Location.files`` streams); a folder with a ``phones.idx``
costs one small read and then only the parts that hold the phone. A folder without one (written
before the index, or by a try that was killed before it finished) is read whole, and so is a
part its index does not list: nothing is missed for want of an index.
``python -m whatcounts_provider.receipts index ROOT`` writes the missing ones.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from itertools import groupby
from typing import TYPE_CHECKING, Any

from whatcounts_provider.phone import normalize_phone, validate_sender_code
from whatcounts_provider.receipts.index import INDEX_NAME, PhoneIndex, build_index, entry
from whatcounts_provider.receipts.reader import is_part_name, parse_part
from whatcounts_provider.storage import Location

if TYPE_CHECKING:
    from collections.abc import Iterator

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReceiptsFolder:
    """A folder that holds receipt parts (a try's folder, or any older layout's).

    :param root: the root the walk started from.
    :param rel: the folder's names below ``root``.
    :param files: every file name in it, in name order.
    """

    root: Location
    rel: tuple[str, ...]
    files: tuple[str, ...]

    @property
    def parts(self) -> list[str]:
        return [name for name in self.files if is_part_name(name)]

    @property
    def location(self) -> Location:
        return self.root.child(*self.rel) if self.rel else self.root

    @property
    def task_instance(self) -> Location:
        """The task instance's folder: the try folder's parent (the folder itself otherwise)."""
        if self.rel and self.rel[-1].startswith("try="):
            return self.root.child(*self.rel[:-1]) if len(self.rel) > 1 else self.root
        return self.location

    def where(self, name: str) -> str:
        return "/".join((self.root.uri.rstrip("/"), *self.rel, name))

    def read_part(self, name: str) -> Iterator[dict[str, Any]]:
        data = self.root.read_bytes(self.rel, name)
        return parse_part(data, name.endswith(".gz"), self.where(name))

    def index(self) -> PhoneIndex | None:
        """The folder's phone index, or None (none written, or unreadable: then it is scanned)."""
        if INDEX_NAME not in self.files:
            return None
        try:
            return PhoneIndex.parse(self.root.read_bytes(self.rel, INDEX_NAME), self.where(INDEX_NAME))
        except ValueError as err:
            log.warning("%s; reading that folder's parts instead", err)
            return None


def receipt_folders(root: Any) -> Iterator[ReceiptsFolder]:
    """Every folder below ``root`` (a path, URI or ``ObjectStoragePath``) that holds receipt parts,
    streamed in name order."""
    location = Location.of(root, what="receipts root")
    for rel, entries in groupby(location.files(), key=lambda item: item[0]):
        names = tuple(name for _, name in entries)
        if any(is_part_name(name) for name in names):
            yield ReceiptsFolder(location, rel, names)


def find_receipts(
    root: Any, phone: Any, sender_code: Any = None, *, default_region: str = "US"
) -> Iterator[dict[str, Any]]:
    """Every receipt under ``root`` for ``phone`` (and ``sender_code``, if given), across DAGs,
    runs, tasks, map indexes and tries, ordered by ``processed_at``.

    :param root: any root ``iter_receipts`` reads: ``receipts_path``, a DAG's, a run's or a task
        instance's folder; a path, ``file://`` or fsspec URI, or ``ObjectStoragePath``.
    :param phone: the phone in any format an input may use (``(206) 555-0100``, ``+12065550100``).
    :param sender_code: only this sender code's receipts.
    :param default_region: the region of a phone written without a country code.
    :raises InvalidPhoneNumberError: the phone cannot be read (a ``ValueError``; nothing is read).
    :raises InvalidSenderCodeError: the sender code is not one.
    """
    return (receipt for receipt, _ in find_located(root, phone, sender_code, default_region=default_region))


def find_located(
    root: Any, phone: Any, sender_code: Any = None, *, default_region: str = "US"
) -> Iterator[tuple[dict[str, Any], ReceiptsFolder]]:
    """Like :func:`find_receipts`, each receipt with the folder it was read from."""
    wanted = normalize_phone(phone, default_region)
    code = None if sender_code is None else validate_sender_code(sender_code)
    found = [
        (receipt, folder)
        for folder in receipt_folders(root)
        for receipt in _in_folder(folder, wanted)
        if code is None or receipt.get("sender_code") == code
    ]
    found.sort(key=lambda item: str(item[0].get("processed_at") or ""))
    return iter(found)


def _in_folder(folder: ReceiptsFolder, phone: str) -> Iterator[dict[str, Any]]:
    index = folder.index()
    parts = folder.parts
    if index is not None:
        # Parts the index does not list (added later, or written after it) are read whole.
        holding = set(index.parts_holding(phone)) | (set(parts) - set(index.parts))
        parts = [name for name in parts if name in holding]
    for name in parts:
        for receipt in folder.read_part(name):
            if receipt.get("phone") == phone:
                yield receipt


def index_folder(folder: ReceiptsFolder) -> bytes:
    """The ``phones.idx`` content for a folder's parts as they are now (the ``index`` command)."""
    parts = folder.parts
    entries = (
        entry(receipt["phone"], position)
        for position, name in enumerate(parts)
        for receipt in folder.read_part(name)
        if isinstance(receipt.get("phone"), str) and receipt["phone"]
    )
    return build_index(parts, entries)


def index_missing(root: Any) -> Iterator[tuple[ReceiptsFolder, int]]:
    """Write a ``phones.idx`` into every folder under ``root`` that holds parts but no index;
    yields each folder indexed and its number of parts. A try still running when this runs
    writes its own index at its end, over this one."""
    for folder in receipt_folders(root):
        if INDEX_NAME in folder.files:
            continue
        folder.location.put(INDEX_NAME, index_folder(folder))
        yield folder, len(folder.parts)
