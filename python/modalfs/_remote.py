"""Running one call in a child process with volumes mounted privately.

The child is a ``fork()`` of the caller, so the function and its module
state need no pickling; the arguments and the result (or exception)
cross in pickled form, as they would to another machine. In the child:
``unshare(CLONE_NEWNS)``, make every mount a slave (or private) so
nothing propagates back, ``mkdir -p`` each mount point and ``mount(2)``
the volume there, exactly as ``modalfsctl run`` does. The mounts vanish
with the child's namespace when it exits.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import pickle
import selectors
import signal
import sys
import traceback
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from . import exceptions as exc

CLONE_NEWNS = 0x00020000
MS_REC = 16384
MS_PRIVATE = 1 << 18
MS_SLAVE = 1 << 19

_libc: Optional[ctypes.CDLL] = None


def _c() -> ctypes.CDLL:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6",
                            use_errno=True)
        _libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p,
                                ctypes.c_char_p, ctypes.c_ulong,
                                ctypes.c_void_p]
        _libc.unshare.argtypes = [ctypes.c_int]
    return _libc


_MOUNT_HINTS = {
    errno.ENODEV: "the modalfs kernel module is not loaded (modprobe modalfs)",
    errno.ECONNREFUSED: "modalfsd is not running",
    errno.ENOENT: "the volume or the path in it does not exist",
    errno.EPERM: "permission denied (mounting needs root)",
}


def enter_namespace(mounts: Sequence[Tuple[str, str]]) -> None:
    """Moves this process into a new mount namespace and mounts each
    ``(volume, directory)`` pair there; raises MountError."""
    libc = _c()
    if libc.unshare(CLONE_NEWNS) != 0:
        e = ctypes.get_errno()
        raise exc.MountError(
            "cannot make a private mount namespace: " + os.strerror(e)
            + (" (remote() needs root)" if e == errno.EPERM else ""), e)
    if (libc.mount(None, b"/", None, MS_REC | MS_SLAVE, None) != 0 and
            libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0):
        e = ctypes.get_errno()
        raise exc.MountError("cannot make the mounts private: "
                             + os.strerror(e), e)
    for vol, path in mounts:
        os.makedirs(path, exist_ok=True)
        src = f"{vol}:/".encode()
        if libc.mount(src, path.encode(), b"modalfs", 0, None) != 0:
            e = ctypes.get_errno()
            raise exc.MountError(
                f"mounting volume '{vol}' at {path}: "
                + _MOUNT_HINTS.get(e, os.strerror(e)), e)


class _Child:
    """One forked call in flight: its pid and the pipe of its result."""

    def __init__(self, pid: int, fd: int) -> None:
        self.pid = pid
        self.fd = fd
        self.buf = bytearray()

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _run_child(fn: Callable[..., Any], mounts: Sequence[Tuple[str, str]],
               payload: bytes, w: int) -> None:
    """The child's whole life; never returns."""
    tb = ""
    try:
        try:
            enter_namespace(mounts)
            args, kwargs = pickle.loads(payload)
            result: Tuple[Any, ...] = ("ok", fn(*args, **kwargs))
        except BaseException as e:  # noqa: B902 - everything goes back
            tb = traceback.format_exc()
            result = ("err", e, tb)
        try:
            data = pickle.dumps(result)
        except Exception as pe:
            if result[0] == "ok":
                err: BaseException = exc.RemoteError(
                    f"the result of {fn.__qualname__} cannot be pickled: {pe}")
            else:
                err = exc.RemoteError(
                    f"{fn.__qualname__} raised {result[1]!r}, which cannot "
                    f"be pickled: {pe}")
            data = pickle.dumps(("err", err, tb))
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except Exception:
            pass
        view = memoryview(data)
        while view:
            n = os.write(w, view)
            view = view[n:]
    finally:
        os._exit(0)


def spawn(fn: Callable[..., Any], mounts: Sequence[Tuple[str, str]],
          args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> _Child:
    """Starts one call in a child process."""
    payload = pickle.dumps((args, kwargs))
    r, w = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        _run_child(fn, mounts, payload, w)
    os.close(w)
    return _Child(pid, r)


def _outcome(child: _Child, name: str) -> Tuple[bool, Any]:
    """(ok, value-or-exception) of a child whose pipe reached EOF."""
    _, status = os.waitpid(child.pid, 0)
    os.close(child.fd)
    if not child.buf:
        how = (f"was killed by signal {os.WTERMSIG(status)}"
               if os.WIFSIGNALED(status)
               else f"exited with status {os.waitstatus_to_exitcode(status)}")
        return False, exc.RemoteError(
            f"the process running {name} {how} before returning")
    try:
        res = pickle.loads(bytes(child.buf))
    except Exception as e:
        return False, exc.RemoteError(
            f"cannot unpickle what {name} returned or raised: {e}")
    if res[0] == "ok":
        return True, res[1]
    e = res[1]
    if isinstance(e, BaseException) and res[2]:
        e.__cause__ = exc.RemoteTraceback(res[2])
    return False, e


def run_many(fn: Callable[..., Any], mounts: Sequence[Tuple[str, str]],
             calls: Iterator[Tuple[Tuple[Any, ...], Dict[str, Any]]],
             max_workers: int) -> Iterator[Tuple[bool, Any]]:
    """Runs the calls, at most ``max_workers`` at once; yields
    ``(ok, value)`` in the order of ``calls``. Closing the iterator early
    kills the calls still running."""
    name = getattr(fn, "__qualname__", repr(fn))
    sel = selectors.DefaultSelector()
    running: Dict[int, Tuple[int, _Child]] = {}
    done: Dict[int, Tuple[bool, Any]] = {}
    nxt = 0          # index of the next call to start
    want = 0         # index of the next result to yield
    exhausted = False
    try:
        while True:
            while not exhausted and len(running) < max_workers:
                try:
                    args, kwargs = next(calls)
                except StopIteration:
                    exhausted = True
                    break
                ch = spawn(fn, mounts, args, kwargs)
                running[ch.fd] = (nxt, ch)
                sel.register(ch.fd, selectors.EVENT_READ)
                nxt += 1
            while want in done:
                yield done.pop(want)
                want += 1
            if not running:
                if exhausted:
                    return
                continue
            for key, _ in sel.select():
                idx, ch = running[key.fd]
                data = os.read(key.fd, 1 << 16)
                if data:
                    ch.buf += data
                    continue
                sel.unregister(key.fd)
                del running[key.fd]
                done[idx] = _outcome(ch, name)
    finally:
        for _, ch in running.values():
            ch.kill()
            try:
                os.waitpid(ch.pid, 0)
            except ChildProcessError:
                pass
            os.close(ch.fd)
        sel.close()
