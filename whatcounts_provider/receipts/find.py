"""Find one phone's receipts under any root, through the index each try writes beside its parts.

Folders are listed one at a time (``Location.files`` streams); a folder with a ``phones.idx``
costs one small read and then only the parts that hold the phone. A folder without one (written
before the index, or by a try that was killed before it finished) is read whole, and so is a
part its index does not list: nothing is missed for want of an index.
``python -m whatcounts_provider.receipts index ROOT`` writes the missing ones.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
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

    def read_part(self, name: str, skipped: list[str] | None = None) -> Iterator[dict[str, Any]]:
        data = self.root.read_bytes(self.rel, name)
        return parse_part(data, name.endswith(".gz"), self.where(name), skipped)

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
    return (folder for folder in _folders(location) if folder.parts)


def _folders(location: Location) -> Iterator[ReceiptsFolder]:
    for rel, entries in groupby(location.files(), key=lambda item: item[0]):
        yield ReceiptsFolder(location, rel, tuple(name for _, name in entries))


@dataclass
class Located:
    """What a search for one phone under a root found (:func:`locate`).

    :param receipts: the phone's receipts, each with its folder, in ``processed_at`` order.
    :param folders: every folder that holds a receipt of the phone or whose index names it: the
        task instances the evidence page verifies (a part deleted since still shows there).
    :param skipped: the lines and parts that could not be read (see ``iter_receipts``).
    :param files: whether the root holds any file at all (a mistyped root holds none).
    """

    receipts: list[tuple[dict[str, Any], ReceiptsFolder]] = field(default_factory=list)
    folders: list[ReceiptsFolder] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    files: bool = False


def locate(
    root: Any, phone: Any, sender_code: Any = None, *, default_region: str = "US", strict: bool = False
) -> Located:
    """Search ``root`` for one phone like :func:`find_receipts`, keeping the folders that name
    the phone (``folders``) and reading on past damaged lines (listed in ``skipped``; with
    ``strict``, the first one raises ``ValueError``)."""
    wanted = normalize_phone(phone, default_region)
    code = None if sender_code is None else validate_sender_code(sender_code)
    found = Located()
    skipped = None if strict else found.skipped
    for folder in _folders(Location.of(root, what="receipts root")):
        found.files = True
        if not folder.parts:
            continue
        named = False
        for receipt, listed in _in_folder(folder, wanted, skipped):
            named = named or listed
            if receipt is not None and (code is None or receipt.get("sender_code") == code):
                found.receipts.append((receipt, folder))
        if named:
            found.folders.append(folder)
    found.receipts.sort(key=lambda item: str(item[0].get("processed_at") or ""))
    return found


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
    :raises ValueError: a part holds a line that is not a receipt (``locate`` reads on past it).
    """
    return (receipt for receipt, _ in find_located(root, phone, sender_code, default_region=default_region))


def find_located(
    root: Any, phone: Any, sender_code: Any = None, *, default_region: str = "US"
) -> Iterator[tuple[dict[str, Any], ReceiptsFolder]]:
    """Like :func:`find_receipts`, each receipt with the folder it was read from."""
    return iter(locate(root, phone, sender_code, default_region=default_region, strict=True).receipts)


def _in_folder(
    folder: ReceiptsFolder, phone: str, skipped: list[str] | None = None
) -> Iterator[tuple[dict[str, Any] | None, bool]]:
    """The phone's receipts in one folder, each with True; ``(None, True)`` first when the
    folder's index names the phone (then even a part deleted since is known to have held it)."""
    index = folder.index()
    parts = folder.parts
    if index is not None:
        listed = set(index.parts_holding(phone))
        if listed:
            yield None, True
        # Parts the index does not list (added later, or written after it) are read whole.
        holding = listed | (set(parts) - set(index.parts))
        parts = [name for name in parts if name in holding]
    for name in parts:
        for receipt in folder.read_part(name, skipped):
            if receipt.get("phone") == phone:
                yield receipt, True


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
