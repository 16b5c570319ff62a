"""Where receipts live: a local directory or an object-storage prefix, and the task-instance
folder inside it.

Object stores cannot append and have no atomic rename, so the only write offered here is
``put``: a new file written whole in one request (object storage), or to a hidden temporary
name and renamed (local), so that a reader never sees half a file.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

# Only these characters stay as they are in a folder name; everything else is percent-encoded
# (Hive's convention for partition values, which Athena and Spark decode the same way).
_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
# A local file name is at most 255 bytes; a run id may be 250 characters before encoding.
_MAX_COMPONENT = 200
_SHORTENED_KEEP = 180
_LOCAL_PROTOCOLS = frozenset({"", "file", "local"})
_KEYS = ("dag_id", "run_id", "task_id", "map_index")

Location = Union[str, "os.PathLike[str]", Any]
"""A local path, a ``file://`` or fsspec URI (``s3://conn_id@bucket/prefix``), or an
``ObjectStoragePath``."""


def object_storage_path(uri: str) -> Any:
    """``ObjectStoragePath(uri)`` from ``airflow.sdk`` (3.x) or ``airflow.io.path`` (2.11)."""
    try:
        from airflow.sdk import ObjectStoragePath
    except ImportError:  # Airflow 2.11
        from airflow.io.path import ObjectStoragePath  # type: ignore[no-redef,attr-defined,unused-ignore]
    return ObjectStoragePath(uri)


@dataclass(frozen=True)
class TaskIdentity:
    """Who writes a receipt: the task instance (and its try) from ``context["ti"]``."""

    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    try_number: int

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
        """Read the identity from a task's context (its ``ti``)."""
        return cls.from_ti(context["ti"])


def encode_component(value: str) -> str:
    """Encode one identity value as a path-safe, readable folder-name part.

    Letters, digits, ``-``, ``_`` and ``.`` stay; anything else becomes ``%XX`` (UTF-8), and
    so does a leading ``.`` (no hidden folders). ``decode_component`` reverses it. A value
    whose encoding exceeds 200 characters is cut to 180 and suffixed with ``~`` and a hash
    of the whole value: still unique and deterministic, no longer reversible (every receipt
    carries the exact value).
    """
    if not value:
        raise ValueError("an empty dag_id, run_id or task_id cannot name a receipts folder")
    out: list[str] = []
    for index, char in enumerate(value):
        if char in _SAFE and not (index == 0 and char == "."):
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


def task_instance_parts(identity: TaskIdentity) -> tuple[str, str, str, str]:
    """The four folder names under ``receipts_path``: ``dag_id=…/run_id=…/task_id=…/map_index=…``."""
    return (
        f"dag_id={encode_component(identity.dag_id)}",
        f"run_id={encode_component(identity.run_id)}",
        f"task_id={encode_component(identity.task_id)}",
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


class ReceiptsFolder:
    """A folder of receipts: a local directory or an object-storage prefix.

    Build one with ``ReceiptsFolder.of(location)``; ``uri`` is its address for XCom and
    ``iter_receipts`` (``file:///...`` for local folders; ``s3://conn_id@bucket/...`` keeps
    the connection id).
    """

    def __init__(self, *, local: Path | None = None, remote: Any = None) -> None:
        if (local is None) == (remote is None):
            raise ValueError("a ReceiptsFolder is either local or remote")
        self._local = local
        self._remote = remote

    @classmethod
    def of(cls, location: Location) -> ReceiptsFolder:
        """:param location: a local path, ``file://`` URI, fsspec URI or ``ObjectStoragePath``."""
        if isinstance(location, ReceiptsFolder):
            return location
        if isinstance(location, os.PathLike) and not hasattr(location, "protocol"):
            return cls(local=Path(os.fspath(location)).absolute())
        if isinstance(location, str):
            text = location.strip()
            if not text:
                raise ValueError("receipts_path is empty")
            if "://" not in text:
                return cls(local=Path(text).expanduser().absolute())
            split = urlsplit(text)
            if split.scheme.lower() in _LOCAL_PROTOCOLS:
                if split.netloc not in {"", "localhost"}:
                    raise ValueError(f"receipts_path {text!r}: a file:// URI names no host")
                # Not unquoted, like ObjectStoragePath: the URI we hand out must read back.
                return cls(local=Path(split.path).absolute())
            return cls(remote=object_storage_path(text))
        protocol = getattr(location, "protocol", None)
        if protocol is None:
            raise TypeError(
                f"receipts_path must be a path, a URI or an ObjectStoragePath, not {type(location).__name__}"
            )
        storage: Any = location
        if protocol in _LOCAL_PROTOCOLS:
            return cls(local=Path(str(storage.path)).absolute())
        return cls(remote=storage)

    @property
    def is_local(self) -> bool:
        return self._local is not None

    @property
    def uri(self) -> str:
        if self._local is not None:
            return f"file://{self._local.as_posix()}"
        return str(self._remote)

    def __str__(self) -> str:
        return self.uri

    def __repr__(self) -> str:
        return f"ReceiptsFolder({self.uri!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ReceiptsFolder) and other.uri == self.uri

    def __hash__(self) -> int:
        return hash(self.uri)

    def child(self, *names: str) -> ReceiptsFolder:
        for name in names:
            if not name or "/" in name or name in {".", ".."}:
                raise ValueError(f"{name!r} is not a folder name")
        if self._local is not None:
            return ReceiptsFolder(local=self._local.joinpath(*names))
        path = self._remote
        for name in names:
            path = path / name
        return ReceiptsFolder(remote=path)

    def put(self, name: str, data: bytes) -> None:
        """Write a new file ``name`` whole: readers see all of it or none of it."""
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
        """Every file below this folder, sorted: ``(folder names relative to here, file name)``."""
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
        base = str(self._remote.path).rstrip("/")
        # Another process may have written since this filesystem object last listed.
        fs.invalidate_cache(base)
        found = sorted(fs.find(base)) if fs.exists(base) else []
        for full in found:
            rel = full[len(base) :].strip("/").split("/")
            yield tuple(rel[:-1]), rel[-1]

    def read_bytes(self, rel: tuple[str, ...], name: str) -> bytes:
        if self._local is not None:
            return self._local.joinpath(*rel, name).read_bytes()
        path = self._remote
        for part in (*rel, name):
            path = path / part
        return bytes(path.fs.cat_file(path.path))


def task_instance_folder(receipts_path: Location, identity: TaskIdentity) -> ReceiptsFolder:
    """The task instance's own folder under ``receipts_path``:
    ``<receipts_path>/dag_id=<d>/run_id=<r>/task_id=<t>/map_index=<m>`` (``try_number`` is not
    part of it: every try of a task instance shares the folder, which is how a retry resumes).
    """
    return ReceiptsFolder.of(receipts_path).child(*task_instance_parts(identity))
