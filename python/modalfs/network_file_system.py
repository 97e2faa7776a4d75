"""Volumes in the style of ``modal.NetworkFileSystem``.

A :class:`NetworkFileSystem` names one modalfs volume. Its file methods
(``write_file``, ``read_file``, ``listdir``, ...) go through the daemon's
control socket and need no mount; :meth:`modalfs.App.function` mounts it
for a function instead.
"""
from __future__ import annotations

import enum
import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import (TYPE_CHECKING, BinaryIO, Callable, Iterator, List,
                    Optional, Union)

from . import exceptions as exc
from . import wire
from ._paths import check_name, volume_path
from .client import Client, volume_from_nest
from .session import default_client

if TYPE_CHECKING:
    from .app import App

PathLike = Union[str, "os.PathLike[str]"]


class FileEntryType(enum.IntEnum):
    """The type of a :class:`FileEntry`, numbered as in Modal."""

    UNSPECIFIED = 0
    FILE = 1
    DIRECTORY = 2
    SYMLINK = 3
    FIFO = 4
    SOCKET = 5


def _entry_type(mode: int) -> FileEntryType:
    if stat.S_ISREG(mode):
        return FileEntryType.FILE
    if stat.S_ISDIR(mode):
        return FileEntryType.DIRECTORY
    if stat.S_ISLNK(mode):
        return FileEntryType.SYMLINK
    if stat.S_ISFIFO(mode):
        return FileEntryType.FIFO
    if stat.S_ISSOCK(mode):
        return FileEntryType.SOCKET
    return FileEntryType.UNSPECIFIED


@dataclass(frozen=True)
class FileEntry:
    """One file or directory of a volume.

    ``path`` is relative to the volume's root, without a leading slash,
    as in Modal; ``mtime`` is in seconds since the epoch.
    """

    path: str
    type: FileEntryType
    mtime: float
    size: int
    mode: int


@dataclass(frozen=True)
class VolumeInfo:
    """A volume as the daemon lists it (``modalfsctl list --json``)."""

    name: str
    id: int
    app_id: str
    kind: str
    created: int
    bytes: int
    files: int
    mounts: int
    app_name: Optional[str]


class NetworkFileSystem:
    """A modalfs volume.

    Make one with :meth:`persisted`, :meth:`from_name`, :meth:`create` or
    :meth:`new`; the constructor is internal.
    """

    def __init__(self, *, name: Optional[str] = None,
                 client: Optional[Client] = None,
                 app: Optional["App"] = None, ephemeral: bool = False,
                 info: Optional[VolumeInfo] = None) -> None:
        self._name = name
        self._client = client
        self._app = app
        self._ephemeral = ephemeral
        self._info = info

    def __repr__(self) -> str:
        kind = "ephemeral" if self._ephemeral else "persisted"
        return f"NetworkFileSystem({self._name or '<not created yet>'!s}, {kind})"

    # -- making handles -----------------------------------------------
    @classmethod
    def _make(cls, cmd: int, name: str, client: Optional[Client],
              what: str) -> "NetworkFileSystem":
        check_name(name)
        c = client or default_client()
        r = c.call(c.request(cmd).put_str(wire.A_VOL_NAME, name), what)
        vol = r.first(wire.A_VOLUME)
        info = VolumeInfo(**volume_from_nest(vol)) if vol else None
        return cls(name=name, client=client, info=info)

    @classmethod
    def persisted(cls, name: str, *, client: Optional[Client] = None
                  ) -> "NetworkFileSystem":
        """The persisted volume ``name``, created if missing (idempotent)."""
        return cls._make(wire.CTL_PERSISTED, name, client,
                         f"creating volume '{name}'")

    @classmethod
    def create(cls, name: str, *, client: Optional[Client] = None
               ) -> "NetworkFileSystem":
        """Creates the persisted volume ``name``; AlreadyExistsError if taken."""
        return cls._make(wire.CTL_CREATE, name, client,
                         f"creating volume '{name}'")

    @classmethod
    def from_name(cls, name: str, create_if_missing: bool = False, *,
                  client: Optional[Client] = None) -> "NetworkFileSystem":
        """The existing volume ``name`` (NotFoundError if there is none).

        With ``create_if_missing`` a missing volume is created persisted,
        as :meth:`persisted` does.
        """
        check_name(name)
        if create_if_missing:
            return cls.persisted(name, client=client)
        for v in cls.list(client=client):
            if v.name == name:
                return cls(name=name, client=client,
                           ephemeral=v.kind == "ephemeral", info=v)
        raise exc.NotFoundError(f"volume '{name}' does not exist")

    @classmethod
    def new(cls, app: Optional["App"] = None, *,
            client: Optional[Client] = None) -> "NetworkFileSystem":
        """An empty ephemeral volume that lives as long as its app.

        The app is ``app``, else the app of the first function that mounts
        the volume, else the process's default app (stopped when this
        process exits). The volume is created on first use.
        """
        return cls(client=client, app=app, ephemeral=True)

    @staticmethod
    def list(*, client: Optional[Client] = None) -> List[VolumeInfo]:
        """Every volume the daemon has, persisted and ephemeral."""
        c = client or default_client()
        out: List[VolumeInfo] = []
        for r in c.call_multi(c.request(wire.CTL_LIST), "listing volumes"):
            for nest in r.all(wire.A_VOLUME):
                try:
                    out.append(VolumeInfo(**volume_from_nest(nest)))
                except ValueError as e:
                    raise exc.ProtocolError(
                        f"malformed volume in a list reply: {e}") from None
        return out

    @staticmethod
    def delete(name: str, *, force: bool = False,
               client: Optional[Client] = None) -> None:
        """Deletes volume ``name`` (or the volume of app id ``name``) and
        all its data.

        A mounted volume raises VolumeBusyError unless ``force``; its
        mounts then fail with ESTALE.
        """
        if not (isinstance(name, str) and name.startswith("ap-")):
            check_name(name)
        c = client or default_client()
        m = c.request(wire.CTL_DELETE)
        if name.startswith("ap-"):
            m.put_str(wire.A_APP_ID, name)
        else:
            m.put_str(wire.A_VOL_NAME, name)
        if force:
            m.put_u32(wire.A_FLAGS, wire.F_FORCE)
        c.call(m, f"deleting volume '{name}'")

    # -- identity -----------------------------------------------------
    def _c(self) -> Client:
        return self._client or default_client()

    def _hydrate(self, app: Optional["App"] = None) -> str:
        """The volume's name, creating an ephemeral volume first if needed."""
        if self._name is not None:
            return self._name
        from .app import App  # a cycle: App mounts NetworkFileSystems

        owner = self._app or app or App.default()
        self._app = owner
        c = self._c()
        r = c.call(c.request(wire.CTL_EPHEMERAL)
                   .put_str(wire.A_APP_ID, owner.app_id),
                   f"creating an ephemeral volume for app {owner.app_id}")
        nest = r.first(wire.A_VOLUME)
        if nest is None:
            raise exc.ProtocolError("ephemeral volume reply without VOLUME")
        self._info = VolumeInfo(**volume_from_nest(nest))
        self._name = self._info.name
        owner._adopt(self)
        return self._name

    def _forget(self) -> None:
        """Its app stopped: the next use makes a new ephemeral volume."""
        if self._ephemeral:
            self._name = None
            self._info = None

    @property
    def name(self) -> str:
        """The volume's name (an ephemeral volume is created to have one)."""
        return self._hydrate()

    @property
    def ephemeral(self) -> bool:
        """True for a volume owned by an app, deleted when the app stops."""
        return self._ephemeral

    def info(self) -> VolumeInfo:
        """The volume's current listing: size, files, mounts, app."""
        name = self._hydrate()
        for v in self.list(client=self._client):
            if v.name == name:
                self._info = v
                return v
        raise exc.NotFoundError(f"volume '{name}' does not exist")

    @property
    def app_id(self) -> str:
        """The id of the app that owns the volume."""
        if self._info is None or self._info.name != self._hydrate():
            self.info()
        assert self._info is not None
        return self._info.app_id

    # -- files ----------------------------------------------------------
    def _path(self, path: str) -> str:
        return volume_path(path, self._name or "")

    def _mkdir(self, path: str) -> None:
        c = self._c()
        c.call(c.request(wire.CTL_MKDIR).put_str(wire.A_VOL_NAME, self.name)
               .put_str(wire.A_PATH, path),
               f"{self.name}:{path}: creating the directory")

    def write_file(self, remote_path: str, fp: BinaryIO,
                   progress_cb: Optional[Callable[[int], None]] = None
                   ) -> int:
        """Copies the binary file object ``fp`` to ``remote_path``.

        Missing parent directories are created; an existing file is
        replaced atomically: readers see the old file whole until the last
        chunk arrives, and a writer that fails or dies half-way leaves it
        as it was. Data moves in 64 KiB requests, so files of any size
        stream without being held in memory. Returns the bytes written;
        ``progress_cb`` is called with the count after each request.
        """
        name = self.name
        path = self._path(remote_path)
        if path == "/":
            raise exc.IsDirectoryError(f"{name}:/: is a directory", 21)
        parent = str(PurePosixPath(path).parent)
        if parent != "/":
            self._mkdir(parent)
        base = self._c()
        # The staging file belongs to one connection and its chunks must
        # arrive in order, so a write has a connection of its own.
        with Client(base.socket_path, base.timeout) as c:
            off = 0
            chunk = _read_full(fp)
            while True:
                # Read one ahead: the last chunk carries COMMIT.
                nxt = _read_full(fp) if len(chunk) == wire.IO_MAX else b""
                flags = wire.F_ATOMIC | (0 if nxt else wire.F_COMMIT)
                m = (c.request(wire.CTL_PUT).put_str(wire.A_VOL_NAME, name)
                     .put_str(wire.A_PATH, path).put_u64(wire.A_OFFSET, off)
                     .put_u32(wire.A_FLAGS, flags))
                for i in range(0, len(chunk), wire.DATA_CHUNK):
                    m.put(wire.A_DATA, chunk[i:i + wire.DATA_CHUNK])
                c.call(m, f"{name}:{path}: writing")
                off += len(chunk)
                if progress_cb:
                    progress_cb(off)
                if not nxt:
                    return off
                chunk = nxt

    def _get(self, path: str, off: int) -> bytes:
        c = self._c()
        r = c.call(c.request(wire.CTL_GET).put_str(wire.A_VOL_NAME, self.name)
                   .put_str(wire.A_PATH, path).put_u64(wire.A_OFFSET, off)
                   .put_u32(wire.A_SIZE, wire.IO_MAX),
                   f"{self.name}:{path}: reading")
        return b"".join(r.all(wire.A_DATA))

    def read_file(self, path: str) -> Iterator[bytes]:
        """The contents of file ``path``, as an iterator of byte chunks.

        The first chunk is read at once, so a missing file or a directory
        raises here rather than on iteration; the rest is read as the
        iterator is consumed, 64 KiB at a time.
        """
        p = self._path(path)
        first = self._get(p, 0)

        def chunks() -> Iterator[bytes]:
            data, off = first, 0
            while data:
                yield data
                off += len(data)
                if len(data) < wire.IO_MAX:
                    return
                data = self._get(p, off)

        return chunks()

    def _ls_raw(self, path: str) -> List[FileEntry]:
        """CTL_LS of ``path``: entries named by their bare names."""
        c = self._c()
        out: List[FileEntry] = []
        msg = (c.request(wire.CTL_LS).put_str(wire.A_VOL_NAME, self.name)
               .put_str(wire.A_PATH, path))
        for r in c.call_multi(msg, f"{self.name}:{path}: listing"):
            for nest in r.all(wire.A_ENTRY):
                ename, attr = None, None
                try:
                    for t, p in wire.iter_attrs(nest):
                        if t == wire.ENTRY_NAME:
                            ename = wire.decode_str(p)
                        elif t == wire.ENTRY_ATTR:
                            attr = wire.decode_fields(p, wire.ATTR_FIELDS)
                except ValueError as e:
                    raise exc.ProtocolError(f"malformed entry: {e}") from None
                if ename is None or attr is None:
                    raise exc.ProtocolError("directory entry lacks a member")
                out.append(FileEntry(
                    path=ename, type=_entry_type(attr["mode"]),
                    mtime=attr["mtime_sec"] + attr["mtime_nsec"] / 1e9,
                    size=attr["size"], mode=attr["mode"]))
        return out

    def _ls(self, path: str) -> List[FileEntry]:
        """Entries of directory ``path``, or ``path`` itself if a file;
        paths relative to the root."""
        entries = self._ls_raw(path)
        pp = PurePosixPath(path)
        parent = pp
        # LS of a file answers that file alone, under its own name; a
        # directory holding one entry of the same name looks alike, so
        # ask the parent which of the two it is.
        if (path != "/" and len(entries) == 1 and entries[0].path == pp.name
                and entries[0].type != FileEntryType.DIRECTORY):
            up = self._ls_raw(str(pp.parent))
            if not any(e.path == pp.name and e.type == FileEntryType.DIRECTORY
                       for e in up):
                parent = pp.parent
        return [_with_path(e, str(parent), e.path) for e in entries]

    def iterdir(self, path: str = "/", recursive: bool = False
                ) -> Iterator[FileEntry]:
        """The entries of directory ``path`` (or ``path`` itself if it is a
        file); with ``recursive``, also everything below, depth first."""
        p = self._path(path)
        for e in self._ls(p):
            yield e
            if recursive and e.type == FileEntryType.DIRECTORY:
                yield from self.iterdir("/" + e.path, recursive=True)

    def listdir(self, path: str = "/", recursive: bool = False
                ) -> List[FileEntry]:
        """:meth:`iterdir` as a list."""
        return list(self.iterdir(path, recursive=recursive))

    def add_local_file(self, local_path: PathLike,
                       remote_path: Optional[str] = None) -> str:
        """Copies a local file into the volume; returns its volume path.

        ``remote_path`` defaults to the file's name at the volume's root;
        one ending in ``/`` is a directory to copy into.
        """
        lp = Path(local_path)
        if remote_path is None:
            remote_path = "/" + lp.name
        elif remote_path.endswith("/"):
            remote_path = remote_path + lp.name
        with open(lp, "rb") as f:
            self.write_file(remote_path, f)
        return self._path(remote_path)

    def add_local_dir(self, local_path: PathLike,
                      remote_path: Optional[str] = None) -> str:
        """Copies a local directory tree into the volume; returns its path.

        ``remote_path`` defaults to the directory's name at the root.
        Regular files and directories are copied; other files (symlinks,
        devices) are skipped.
        """
        lp = Path(local_path)
        if not lp.is_dir():
            raise exc.NotDirectoryError(f"{lp}: not a directory")
        base = self._path(remote_path if remote_path is not None
                          else "/" + lp.resolve().name)
        self._mkdir(base)
        for root, dirs, files in os.walk(lp):
            rel = Path(root).relative_to(lp)
            for d in sorted(dirs):
                if not (Path(root) / d).is_symlink():
                    self._mkdir(self._path(f"{base}/{rel.as_posix()}/{d}"))
            for fn in sorted(files):
                src = Path(root) / fn
                if src.is_symlink() or not src.is_file():
                    continue
                with open(src, "rb") as f:
                    self.write_file(f"{base}/{rel.as_posix()}/{fn}", f)
        return base

    def remove_file(self, path: str, recursive: bool = False) -> None:
        """Removes a file or an empty directory; with ``recursive``, a tree.

        A non-empty directory without ``recursive`` raises
        DirectoryNotEmptyError.
        """
        p = self._path(path)
        c = self._c()
        m = (c.request(wire.CTL_RM).put_str(wire.A_VOL_NAME, self.name)
             .put_str(wire.A_PATH, p))
        if recursive:
            m.put_u32(wire.A_FLAGS, wire.F_RECURSIVE)
        c.call(m, f"{self.name}:{p}: removing")


def _with_path(e: FileEntry, parent: str, name: str) -> FileEntry:
    rel = str(PurePosixPath(parent) / name).lstrip("/")
    return FileEntry(path=rel, type=e.type, mtime=e.mtime, size=e.size,
                     mode=e.mode)


def _read_full(fp: BinaryIO) -> bytes:
    """Up to 64 KiB from ``fp``; short reads (pipes) are filled up, so
    fewer bytes mean the end of the stream."""
    buf = b""
    while len(buf) < wire.IO_MAX:
        more = fp.read(wire.IO_MAX - len(buf))
        if more is None:
            raise exc.InvalidError("write_file needs a blocking file object")
        if not isinstance(more, (bytes, bytearray, memoryview)):
            raise exc.InvalidError("write_file needs a binary file object")
        if not more:
            break
        buf += bytes(more)
    return buf
