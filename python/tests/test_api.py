"""Volumes and files through a running modalfsd, without mounting."""
from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import modalfs
from modalfs import FileEntryType, NetworkFileSystem


def names() -> set:
    return {v.name for v in NetworkFileSystem.list()}


def test_persisted_is_idempotent(daemon: str, unique_name: str) -> None:
    a = NetworkFileSystem.persisted(unique_name)
    b = NetworkFileSystem.persisted(unique_name)
    try:
        assert a.app_id == b.app_id and a.app_id.startswith("ap-")
        info = a.info()
        assert (info.kind, info.files, info.bytes, info.mounts) == \
            ("persisted", 1, 0, 0)
        assert NetworkFileSystem.from_name(unique_name).app_id == a.app_id
    finally:
        NetworkFileSystem.delete(unique_name)
    assert unique_name not in names()
    with pytest.raises(modalfs.NotFoundError):
        NetworkFileSystem.from_name(unique_name)
    with pytest.raises(modalfs.NotFoundError, match=unique_name):
        NetworkFileSystem.delete(unique_name)


def test_from_name_create_if_missing(daemon: str, unique_name: str) -> None:
    v = NetworkFileSystem.from_name(unique_name, create_if_missing=True)
    try:
        assert unique_name in names()
        with pytest.raises(modalfs.AlreadyExistsError):
            NetworkFileSystem.create(unique_name)
    finally:
        NetworkFileSystem.delete(v.name)


def test_write_read_stream_large(volume: NetworkFileSystem) -> None:
    # Not a multiple of 64 KiB, and written from a stream that gives
    # short reads, as pipes do.
    size = 5 * 65536 + 12345
    data = os.urandom(size)

    class Trickle(io.RawIOBase):
        def __init__(self) -> None:
            self.off = 0

        def readable(self) -> bool:
            return True

        def readinto(self, b) -> int:  # type: ignore[no-untyped-def]
            n = min(len(b), 10000, size - self.off)
            b[:n] = data[self.off:self.off + n]
            self.off += n
            return n

    assert volume.write_file("/deep/er/blob.bin", Trickle()) == size
    chunks = list(volume.read_file("deep/er/blob.bin"))
    assert all(len(c) <= 65536 for c in chunks) and len(chunks) >= 6
    assert hashlib.sha256(b"".join(chunks)).digest() == \
        hashlib.sha256(data).digest()
    assert volume.info().bytes == size
    # Rewriting with less truncates.
    volume.write_file("/deep/er/blob.bin", io.BytesIO(b"short"))
    assert b"".join(volume.read_file("/deep/er/blob.bin")) == b"short"
    volume.write_file("/empty", io.BytesIO(b""))
    assert list(volume.read_file("/empty")) == []


def test_listdir_iterdir_entries(volume: NetworkFileSystem, tmp_path: Path) -> None:
    (tmp_path / "tree" / "sub").mkdir(parents=True)
    (tmp_path / "tree" / "a.txt").write_bytes(b"aaa")
    (tmp_path / "tree" / "sub" / "b.txt").write_bytes(b"b" * 70000)
    (tmp_path / "single.bin").write_bytes(b"x" * 10)
    before = time.time()
    assert volume.add_local_dir(tmp_path / "tree", "/t") == "/t"
    assert volume.add_local_file(tmp_path / "single.bin") == "/single.bin"
    assert volume.add_local_file(tmp_path / "single.bin", "/t/sub/") == \
        "/t/sub/single.bin"
    top = {e.path: e for e in volume.listdir("/")}
    assert set(top) == {"t", "single.bin"}
    assert top["t"].type == FileEntryType.DIRECTORY
    assert top["single.bin"].type == FileEntryType.FILE
    assert top["single.bin"].size == 10
    assert abs(top["single.bin"].mtime - before) < 60
    deep = sorted((e.path, e.type, e.size) for e in
                  volume.iterdir("/t", recursive=True))
    assert deep == [("t/a.txt", FileEntryType.FILE, 3),
                    ("t/sub", FileEntryType.DIRECTORY, 0),
                    ("t/sub/b.txt", FileEntryType.FILE, 70000),
                    ("t/sub/single.bin", FileEntryType.FILE, 10)]
    # Listing a file gives that file.
    assert [e.path for e in volume.listdir("/t/sub/b.txt")] == ["t/sub/b.txt"]
    # A directory holding one file of its own name is still a directory.
    volume.write_file("/same/same", io.BytesIO(b"1"))
    assert [e.path for e in volume.listdir("/same")] == ["same/same"]


def test_remove_file(volume: NetworkFileSystem) -> None:
    volume.write_file("/d/f", io.BytesIO(b"1"))
    with pytest.raises(modalfs.DirectoryNotEmptyError):
        volume.remove_file("/d")
    volume.remove_file("/d", recursive=True)
    assert volume.listdir("/") == []
    with pytest.raises(modalfs.NotFoundError):
        volume.remove_file("/d")


def test_file_errors(volume: NetworkFileSystem) -> None:
    volume.write_file("/dir/f", io.BytesIO(b"1"))
    with pytest.raises(modalfs.NotFoundError):
        volume.read_file("/missing")
    with pytest.raises(modalfs.IsDirectoryError):
        volume.read_file("/dir")
    with pytest.raises(modalfs.NotDirectoryError):
        volume.write_file("/dir/f/g", io.BytesIO(b"1"))
    with pytest.raises(modalfs.NotFoundError):
        volume.listdir("/nowhere")
    with pytest.raises(modalfs.InvalidPathError):
        volume.listdir("/../etc")
    gone = NetworkFileSystem(name="pytest-no-such-volume")
    with pytest.raises(modalfs.NotFoundError, match="does not exist"):
        gone.listdir("/")


def test_app_stop_deletes_ephemeral_volumes(daemon: str) -> None:
    app = modalfs.App("pytest-app")
    vol = NetworkFileSystem.new(app)
    assert not app.running
    name = vol.name            # created on first use
    assert app.running and vol.ephemeral
    info = vol.info()
    assert info.kind == "ephemeral" and info.app_id == app.app_id
    vol.write_file("/x", io.BytesIO(b"data"))
    app.stop()
    assert name not in names()
    app.stop()                 # twice is fine


def test_app_stops_when_its_process_is_killed(daemon: str) -> None:
    code = (
        "import sys, time, modalfs\n"
        "app = modalfs.App('pytest-doomed')\n"
        "v = modalfs.NetworkFileSystem.new(app)\n"
        "print(v.name, flush=True)\n"
        "time.sleep(600)\n")
    env = dict(os.environ, PYTHONPATH=str(Path(modalfs.__file__).parents[1]))
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                         env=env, text=True)
    try:
        name = p.stdout.readline().strip()  # type: ignore[union-attr]
        assert name and name in names()
    finally:
        p.kill()
        p.wait()
    deadline = time.monotonic() + 15
    while name in names() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert name not in names(), "the daemon did not stop the app of a SIGKILLed process"


def test_stats(daemon: str) -> None:
    s = modalfs.stats()
    assert s["started_unix"] <= time.time()
    assert set(s) >= {"commits", "syncs", "batches", "ops"}
    for op in s["ops"].values():
        assert op["requests"] >= op["errors"]


def test_write_file_replaces_atomically(volume: NetworkFileSystem) -> None:
    old = os.urandom(200000)
    volume.write_file("/f", io.BytesIO(old))

    class Failing(io.RawIOBase):
        """Gives 150000 bytes, then fails, as a dying source would."""

        def __init__(self) -> None:
            self.off = 0

        def readable(self) -> bool:
            return True

        def readinto(self, b) -> int:  # type: ignore[no-untyped-def]
            if self.off >= 150000:
                raise OSError("source went away")
            n = min(len(b), 150000 - self.off)
            b[:n] = b"x" * n
            self.off += n
            return n

    with pytest.raises(OSError, match="went away"):
        volume.write_file("/f", Failing())
    assert b"".join(volume.read_file("/f")) == old, "a failed write changed the file"
    assert [e.path for e in volume.listdir("/")] == ["f"], "a staging file is left"
