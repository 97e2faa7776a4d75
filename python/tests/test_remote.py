"""Functions with volumes attached: .remote, .local, .map (needs mounts)."""
from __future__ import annotations

import importlib.util
import os
import signal
import sys
import types
from pathlib import Path

import pytest

import modalfs
from modalfs import NetworkFileSystem

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load_example(name: str) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class Boom(Exception):
    pass


def test_shelve_example(mountable: str, unique_name: str,
                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The brief's scenario 1 through the API: 8 parallel calls over
    overlapping keys, each in its own mount; each key computed once."""
    monkeypatch.setenv("SHELVE_VOLUME", unique_name)
    monkeypatch.setenv("COMPUTE_SECONDS", "0.5")
    ex = load_example("shelve_cache")
    keys = ["alpha", "beta", "alpha", "gamma", "beta", "alpha", "delta", "gamma"]
    try:
        values = ex.main(keys)
        assert values == [f"{k.upper()}-{sum(map(ord, k))}" for k in keys]
        log = b"".join(ex.volume.read_file("/computed.log")).decode().split()
        assert sorted(log) == sorted(set(keys)), "a key was computed twice"
        # A second run is all cache hits.
        assert ex.main(["delta"]) == values[6:7]
        log = b"".join(ex.volume.read_file("/computed.log")).decode().split()
        assert len(log) == 4
    finally:
        NetworkFileSystem.delete(unique_name)


def test_checkpoint_example(mountable: str, unique_name: str,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CKPT_VOLUME", unique_name)
    ex = load_example("checkpoints")
    try:
        digests = ex.main("run-1", 3, 300000)
        assert len(digests) == 3
        info = ex.volume.info()
        assert info.bytes == sum(300000 + e for e in (1, 2, 3))
        assert info.mounts == 0   # the function's private mount is gone
        names = sorted(e.path for e in ex.volume.listdir("/run-1"))
        assert names == sorted(digests)
    finally:
        NetworkFileSystem.delete(unique_name)


def test_map_over_8_keys(mountable: str) -> None:
    ex = load_example("map_squares")
    before = {v.name for v in NetworkFileSystem.list()}
    results = ex.main()
    assert [r[:2] for r in results] == [(k, k * k) for k in range(8)]
    assert len({r[2] for r in results}) == 8, "each call in its own process"
    assert os.getpid() not in {r[2] for r in results}
    # The ephemeral volume went with the app.
    assert not ex.stub.running
    assert {v.name for v in NetworkFileSystem.list()} == before


app = modalfs.App("pytest-remote")
shared = NetworkFileSystem.new(app)


@app.function(network_file_systems={"/mnt/pytest-a": shared})
def where(x: int, *, y: int = 0) -> tuple:
    with open("/proc/self/mountinfo") as f:
        mounted = any(" /mnt/pytest-a " in line for line in f)
    return x + y, mounted, os.getpid()


@app.function(network_file_systems={"/mnt/pytest-a": shared})
def fail(msg: str) -> None:
    def inner() -> None:
        raise Boom(msg)
    inner()


@app.function(network_file_systems={"/mnt/pytest-a": shared})
def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


@app.function()
def unpicklable() -> object:
    return lambda: None


def test_remote_local_and_isolation(mountable: str) -> None:
    with app.run():
        first = shared.name
        total, mounted, pid = where.remote(1, y=2)
        assert (total, mounted) == (3, True) and pid != os.getpid()
        assert where.local(1, y=2)[:2] == (3, False)
        with open("/proc/self/mountinfo") as f:
            assert " /mnt/pytest-a " not in f.read(), "the mount leaked"
    assert first not in {v.name for v in NetworkFileSystem.list()}
    # The next run of the app gets a new, empty ephemeral volume.
    with app.run():
        assert where.remote(2)[:2] == (2, True)
        assert shared.name != first


def test_remote_exception_carries_traceback(mountable: str) -> None:
    with app.run():
        with pytest.raises(Boom, match="bad key") as ei:
            fail.remote("bad key")
        cause = ei.value.__cause__
        assert isinstance(cause, modalfs.RemoteTraceback)
        assert "in inner" in cause.tb and "Boom: bad key" in cause.tb
        with pytest.raises(modalfs.RemoteError, match="killed by signal 9"):
            die.remote()
        with pytest.raises(modalfs.RemoteError, match="cannot be pickled"):
            unpicklable.remote()
        got = list(fail.map(["a", "b"], return_exceptions=True))
        assert [str(e) for e in got] == ["a", "b"]
        with pytest.raises(Boom):
            list(fail.map(["c"]))


def test_missing_volume_fails_the_mount(mountable: str) -> None:
    ghost = NetworkFileSystem(name="pytest-ghost-volume")
    a = modalfs.App()

    @a.function(network_file_systems={"/mnt/pytest-ghost": ghost})
    def f() -> int:
        return 1

    with pytest.raises(modalfs.MountError, match="pytest-ghost-volume"):
        f.remote()


def test_bad_mount_points() -> None:
    with pytest.raises(modalfs.InvalidPathError):
        modalfs.App().function(network_file_systems={"relative": shared})
    with pytest.raises(modalfs.InvalidError):
        modalfs.App().function(network_file_systems={"/x": "vol"})  # type: ignore[dict-item]


if __name__ == "__main__":
    sys.exit(pytest.main([__file__]))
