"""Where files live: a local path or an object-storage URI, for source files and receipts alike.

:class:`Location` is the one type for both. It is built from whatever a user may pass (a path, a
``file://`` URI, an fsspec URI such as ``s3://conn_id@bucket/prefix``, an ``ObjectStoragePath``)
without any I/O, and offers the few operations the provider needs: open a file, write a new file
whole, list what is below, read a file back.

A ``file://`` URI is percent-decoded as RFC 8089 says (``%20`` is a space, ``%25`` a ``%``), and
:attr:`Location.uri` writes a ``%`` in a path as ``%25``: so ``unquote()`` of any URI the provider
hands out (a record's ``receipts``) names the folder that exists. URIs handed out before receipts layout 2
held a folder name's ``%3A`` as it is; such a URI still reads back (see :meth:`Location.of`).

Object stores cannot append and have no atomic rename, so the only write offered is
:meth:`Location.put`: a new file written whole in one request (object storage), or to a hidden
temporary name and renamed (local), so that a reader never sees half a file.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit, urlunsplit
from urllib.request import url2pathname

from whatcounts_provider.exceptions import WhatCountsInputError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

_LOCAL_SCHEMES = frozenset({"", "file", "local"})
_ACCEPTED = "give a path, a URI or an ObjectStoragePath"


def safe_uri(text: str) -> str:
    """``text`` fit for a message: a URI's password and query replaced by ``***``; a path as is."""
    parts = urlsplit(text)
    if not parts.scheme or len(parts.scheme) == 1:  # a local path (or a Windows drive letter)
        return text
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user, has_password, _ = userinfo.partition(":")
        netloc = f"{user}:***@{host}" if has_password else f"{user}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, "***" if parts.query else "", ""))


def comparable(location: object) -> str:
    """A location as text that compares equal for the same place: no credentials, and a local
    ``file://`` URI as its plain path. Pure text work: nothing is resolved or opened."""
    text = safe_uri(str(location))
    if text.startswith("file://"):
        text = text[len("file://") :]
        text = text[len("localhost") :] if text.startswith("localhost/") else text
    return text


class Location:
    """A local folder or file, or one on object storage. Build one with :meth:`of`.

    :param local: the absolute local path, for a local location.
    :param remote: the ``ObjectStoragePath``, for one on object storage.
    :param shown: how the user wrote it (credentials are removed before it is shown).
    """

    __slots__ = ("_local", "_remote", "_shown")

    def __init__(self, *, local: Path | None = None, remote: Any = None, shown: str | None = None) -> None:
        if (local is None) == (remote is None):
            raise ValueError("a Location is either local or remote")
        self._local = local
        self._remote = remote
        self._shown = shown

    @classmethod
    def of(
        cls,
        value: Any,
        *,
        what: str = "location",
        decode: bool = False,
        unreachable: Callable[[str, str], Exception] | None = None,
    ) -> Location:
        """The location ``value`` names.

        :param value: a path (text or ``os.PathLike``), a ``file://`` or fsspec URI, an
            ``ObjectStoragePath``, or a :class:`Location`.
        :param what: the argument's name, for messages (``source``, ``receipts_path``).
        :param decode: a ``file://`` URI is always percent-decoded (RFC 8089); without
            ``decode``, a URI whose decoded path does not exist but whose path as written does
            (a receipts URI handed out before layout 2, with a literal ``%3A``) reads as written
            (one ``stat``). Sources pass ``decode=True``: typed by hand, never the old form.
        :param unreachable: builds the error for a URI that Airflow's ``ObjectStoragePath``
            refuses (``(message, display URI)``); by default a :class:`WhatCountsInputError`.
            A source raises a retryable error here (the file system may be installed later).
        :raises WhatCountsInputError: empty text, a ``file://`` URI naming another host, a
            refused URI (see ``unreachable``), or a value of another type.
        """
        if isinstance(value, Location):
            return value
        if isinstance(value, str):
            return cls._of_text(value, what, decode, unreachable)
        protocol = getattr(value, "protocol", None)
        if protocol is not None:  # an ObjectStoragePath (UPath): its path is taken as it is
            if protocol in _LOCAL_SCHEMES:
                return cls(local=Path(str(value.path)).absolute(), shown=str(value))
            return cls(remote=value, shown=str(value))
        if isinstance(value, os.PathLike):
            path = os.fsdecode(os.fspath(value))
            return cls(local=Path(path).expanduser().absolute(), shown=path)
        raise WhatCountsInputError(
            f"{what} must be a path, a URI or an ObjectStoragePath, got {type(value).__name__}"
        )

    @classmethod
    def _of_text(
        cls, value: str, what: str, decode: bool, unreachable: Callable[[str, str], Exception] | None
    ) -> Location:
        text = value.strip()
        if not text:
            raise WhatCountsInputError(f"{what} is empty: {_ACCEPTED}")
        parts = urlsplit(text)
        scheme = parts.scheme.lower()
        if "://" not in text or len(scheme) <= 1:  # a path (a Windows drive letter is no scheme)
            return cls(local=Path(text).expanduser().absolute(), shown=text)
        if scheme in _LOCAL_SCHEMES:
            if parts.netloc not in ("", "localhost"):
                raise WhatCountsInputError(
                    f"{what} {safe_uri(text)} names host {parts.netloc!r}: a file:// URI must be local"
                )
            decoded = Path(url2pathname(parts.path)).absolute()  # it percent-decodes, once
            if not decode and decoded.as_posix() != parts.path and not decoded.exists():
                # A receipts URI handed out before layout 2 held a folder's "%3A" undecoded.
                literal = Path(parts.path).absolute()
                if literal.exists():
                    return cls(local=literal, shown=text)
            return cls(local=decoded, shown=text)
        from whatcounts_provider._compat import ObjectStoragePath

        try:
            remote = ObjectStoragePath(text)
        except Exception as exc:  # 3.x checks the scheme here ("Unsupported filesystem")
            shown = safe_uri(text)
            reason = str(exc).replace(text, shown)[:300]
            if unreachable is not None:
                message = f"{what} {shown} cannot be opened: {type(exc).__name__}: {reason}"
                raise unreachable(message, shown) from exc
            raise WhatCountsInputError(
                f"{what} {shown} cannot be used: {type(exc).__name__}: {reason}"
            ) from exc
        return cls(remote=remote, shown=text)

    # -- naming ---------------------------------------------------------------------------------
    @property
    def is_local(self) -> bool:
        return self._local is not None

    @property
    def uri(self) -> str:
        """The address that reads back with :meth:`of`: ``file://`` and the path percent-encoded
        (``%``, ``#``, ``?``, spaces and the like; ``:``, ``+`` and ``=`` stay), so that a URI
        parser sees the whole path and ``unquote`` gives it back, for a local location; the
        object-storage URI (``s3://conn_id@bucket/...``) otherwise."""
        if self._local is not None:
            return f"file://{quote(self._local.as_posix(), safe=_URI_PATH_SAFE)}"
        return str(self._remote)

    @property
    def display(self) -> str:
        """How the user wrote it, without a password or query: for messages and records."""
        return safe_uri(self._shown if self._shown is not None else self.uri)

    @property
    def name(self) -> str:
        """The last part of the path (a file's name)."""
        return self._local.name if self._local is not None else str(self._remote.name)

    @property
    def namespace(self) -> str:
        """The dataset namespace in OpenLineage's naming: ``file``, or ``scheme://bucket``."""
        if self._local is not None:
            return "file"
        parts = urlsplit(str(self._remote))
        return f"{parts.scheme}://{parts.hostname or ''}"

    @property
    def dataset_name(self) -> str:
        """The dataset name in OpenLineage's naming: the absolute path, or the key in the bucket."""
        if self._local is not None:
            return self._local.as_posix()
        return urlsplit(str(self._remote)).path.lstrip("/")

    def scrub(self, text: str) -> str:
        """``text`` (a back end's message) with the location as written replaced by :attr:`display`:
        the URI a user wrote may hold credentials."""
        return text.replace(self._shown, self.display) if self._shown else text

    def object_storage_path(self) -> Any:
        """This location as Airflow's ``ObjectStoragePath``."""
        if self._remote is not None:
            return self._remote
        from whatcounts_provider._compat import ObjectStoragePath

        return ObjectStoragePath(f"file://{self._local}")  # UPath takes a file:// path as it is

    def __str__(self) -> str:
        return self.uri

    def __repr__(self) -> str:
        return f"Location({self.uri!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Location) and other.uri == self.uri

    def __hash__(self) -> int:
        return hash(self.uri)

    def child(self, *names: str) -> Location:
        """The location ``names`` below this one; each name is one path segment."""
        for name in names:
            if not name or "/" in name or name in {".", ".."}:
                raise ValueError(f"{name!r} is not a folder or file name")
        if self._local is not None:
            return Location(local=self._local.joinpath(*names))
        path = self._remote
        for name in names:
            path = path / name
        return Location(remote=path)

    # -- I/O ------------------------------------------------------------------------------------
    def open(self) -> IO[bytes]:
        """Open this file for reading, as bytes (the caller closes it)."""
        if self._local is not None:
            return open(self._local, "rb")
        handle: IO[bytes] = self._remote.open("rb")
        return handle

    def put(self, name: str, data: bytes) -> None:
        """Write a new file ``name`` in this folder, whole: readers see all of it or none of it."""
        if self._local is not None:
            self._local.mkdir(parents=True, exist_ok=True)
            final = self._local / name
            temp = self._local / f".{name}.{secrets.token_hex(4)}.tmp"
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temp, final)
            except BaseException:
                temp.unlink(missing_ok=True)
                raise
            return
        path = self._remote / name
        # One PUT: an object appears whole or not at all (no append, no rename on S3).
        path.fs.pipe_file(path.path, data)

    def files(self) -> Iterator[tuple[tuple[str, ...], str]]:
        """Every file below this folder: ``(folder names relative to here, file name)``.

        Streamed one folder at a time, depth first, each folder's files and subfolders in name
        order: nothing is listed whole into memory. A folder that does not exist has no files.
        """
        if self._local is not None:
            if not self._local.is_dir():
                return
            for root, dirs, names in os.walk(self._local):
                dirs.sort()
                rel = Path(root).relative_to(self._local).parts
                for name in sorted(names):
                    yield rel, name
            return
        fs = self._remote.fs
        yield from _walk_remote(fs, str(self._remote.path).rstrip("/"), ())

    def read_bytes(self, rel: tuple[str, ...] = (), name: str | None = None) -> bytes:
        """The content of the file ``rel/name`` below this folder (or of this file)."""
        target = self.child(*rel, name) if name is not None else self.child(*rel) if rel else self
        if target._local is not None:
            return target._local.read_bytes()
        return bytes(target._remote.fs.cat_file(target._remote.path))


# What a file:// URI keeps as it is: layout 2's folder names need no escape at all.
_URI_PATH_SAFE = "/:+=@,"


def _walk_remote(fs: Any, folder: str, rel: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], str]]:
    # Another process may have written since this filesystem object last listed the folder.
    fs.invalidate_cache(folder)
    try:
        entries = fs.ls(folder, detail=True)
    except FileNotFoundError:
        return
    files: list[str] = []
    folders: list[str] = []
    for entry in entries:
        name = str(entry["name"]).rstrip("/").rsplit("/", 1)[-1]
        if not name or str(entry["name"]).rstrip("/") == folder:
            continue
        (folders if entry.get("type") == "directory" else files).append(name)
    for name in sorted(files):
        yield rel, name
    for name in sorted(folders):
        yield from _walk_remote(fs, f"{folder}/{name}", (*rel, name))
