"""Apps and functions, after ``modal.App`` / ``modal.Stub``.

An :class:`App` owns ephemeral volumes (:meth:`NetworkFileSystem.new`).
In the daemon it is an anonymous app owned by the process that created
it, so the daemon stops it -- deleting its ephemeral volumes -- when that
process exits, even by SIGKILL; :meth:`App.stop` (or leaving
``with app.run():``) stops it at once. The app's ``name`` is a label for
people, as a Modal app's name is.
"""
from __future__ import annotations

import functools
import os
import threading
import weakref
from typing import (Any, Callable, Dict, Generic, Iterable, Iterator, List,
                    Optional, Tuple, TypeVar, Union)

from . import _remote
from . import exceptions as exc
from . import wire
from ._paths import check_name
from .client import Client
from .network_file_system import NetworkFileSystem
from .session import default_client

R = TypeVar("R")

_default_lock = threading.Lock()
_default_app: Optional["App"] = None


class App:
    """A group of functions and the ephemeral volumes they use."""

    def __init__(self, name: Optional[str] = None, *,
                 client: Optional[Client] = None) -> None:
        if name is not None:
            check_name(name, "app")
        self.name = name
        self._client = client
        self._app_id: Optional[str] = None
        self._owner_pid = 0
        self._lock = threading.Lock()
        # Ephemeral volumes made for this run of the app; stop() forgets
        # their names so that the next run makes new ones, as in Modal.
        self._volumes: "weakref.WeakSet[NetworkFileSystem]" = weakref.WeakSet()

    def __repr__(self) -> str:
        return f"App({self.name!r}, {self._app_id or 'not started'})"

    @classmethod
    def default(cls) -> "App":
        """The process's default app, for volumes made without one."""
        global _default_app
        with _default_lock:
            if _default_app is None or _default_app._owner_pid not in (0, os.getpid()):
                _default_app = cls()
            return _default_app

    def _c(self) -> Client:
        return self._client or default_client()

    @property
    def app_id(self) -> str:
        """The daemon's id of the app (``ap-...``), created on first use."""
        with self._lock:
            if self._app_id is None:
                c = self._c()
                r = c.call(c.request(wire.CTL_APP_CREATE), "creating an app")
                p = r.first(wire.A_APP_ID)
                if p is None:
                    raise exc.ProtocolError("APP_CREATE reply without APP_ID")
                self._app_id = wire.decode_str(p)
                self._owner_pid = os.getpid()
            return self._app_id

    @property
    def running(self) -> bool:
        """True once the app exists in the daemon and until stop()."""
        return self._app_id is not None

    def stop(self, force: bool = False) -> None:
        """Stops the app and deletes its ephemeral volumes.

        VolumeBusyError while one is still mounted, unless ``force``.
        Stopping an app that never started, or twice, does nothing.
        """
        with self._lock:
            if self._app_id is None:
                return
            c = self._c()
            m = c.request(wire.CTL_APP_STOP).put_str(wire.A_APP_ID,
                                                      self._app_id)
            if force:
                m.put_u32(wire.A_FLAGS, wire.F_FORCE)
            try:
                c.call(m, f"stopping app {self._app_id}")
            except exc.NotFoundError:
                pass  # the daemon reaped it already
            self._app_id = None
            for vol in list(self._volumes):
                vol._forget()
            self._volumes.clear()

    def _adopt(self, vol: NetworkFileSystem) -> None:
        """Records an ephemeral volume created for this run."""
        self._volumes.add(vol)

    def run(self) -> "App":
        """``with app.run():`` -- the app lives for the block."""
        return self

    def __enter__(self) -> "App":
        self.app_id  # noqa: B018 - start it now, owned by this process
        return self

    def __exit__(self, *_: Any) -> None:
        self.stop()

    def function(self, network_file_systems: Optional[
            Dict[str, NetworkFileSystem]] = None, *,
            max_workers: Optional[int] = None
            ) -> Callable[[Callable[..., R]], "Function[R]"]:
        """Decorator: the function runs with these volumes attached.

        ``network_file_systems`` maps absolute mount points to volumes,
        as in Modal. ``max_workers`` bounds the processes of one
        :meth:`Function.map` (default: the number of CPUs).
        """
        nfs = dict(network_file_systems or {})
        for path, vol in nfs.items():
            if not isinstance(path, str) or not path.startswith("/"):
                raise exc.InvalidPathError(
                    f"mount point {path!r} must be an absolute path")
            if not isinstance(vol, NetworkFileSystem):
                raise exc.InvalidError(
                    f"{path}: expected a NetworkFileSystem, got "
                    f"{type(vol).__name__}")
        if max_workers is not None and max_workers < 1:
            raise exc.InvalidError("max_workers must be at least 1")

        def wrap(fn: Callable[..., R]) -> "Function[R]":
            return Function(fn, self, nfs, max_workers)

        return wrap


class Function(Generic[R]):
    """A function decorated by :meth:`App.function`."""

    def __init__(self, fn: Callable[..., R], app: App,
                 nfs: Dict[str, NetworkFileSystem],
                 max_workers: Optional[int]) -> None:
        functools.update_wrapper(self, fn)
        self._fn = fn
        self.app = app
        self.network_file_systems = nfs
        self._max_workers = max_workers or os.cpu_count() or 1

    def _mounts(self) -> List[Tuple[str, str]]:
        return [(vol._hydrate(self.app), os.path.normpath(path))
                for path, vol in sorted(self.network_file_systems.items())]

    def local(self, *args: Any, **kwargs: Any) -> R:
        """Calls the function here, with no volumes mounted."""
        return self._fn(*args, **kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> R:
        return self._fn(*args, **kwargs)

    def remote(self, *args: Any, **kwargs: Any) -> R:
        """Calls the function in a child process with the volumes mounted.

        Arguments and the result travel pickled; an exception raised by
        the function is raised here, with the remote traceback as its
        ``__cause__``.
        """
        mounts = self._mounts()
        ((ok, value),) = list(_remote.run_many(
            self._fn, mounts, iter([(args, kwargs)]), 1))
        if ok:
            return value  # type: ignore[no-any-return]
        raise value

    def map(self, *iterables: Iterable[Any], order_outputs: bool = True,
            return_exceptions: bool = False,
            kwargs: Optional[Dict[str, Any]] = None) -> Iterator[R]:
        """Calls the function once per element (of zipped iterables) in
        parallel processes; yields the results in input order.

        The first failure is raised when its turn comes and the calls
        still running are killed; with ``return_exceptions`` the
        exception is yielded instead. ``order_outputs=False`` is accepted
        for Modal compatibility; results still come in order.
        """
        del order_outputs
        extra = dict(kwargs or {})
        calls = ((tuple(a), extra) for a in zip(*iterables))
        return self._gen(calls, return_exceptions)

    def starmap(self, iterable: Iterable[Tuple[Any, ...]], *,
                return_exceptions: bool = False) -> Iterator[R]:
        """Like :meth:`map`, each element being the argument tuple."""
        return self._gen(((tuple(a), {}) for a in iterable), return_exceptions)

    def _gen(self, calls: Iterator[Tuple[Tuple[Any, ...], Dict[str, Any]]],
             return_exceptions: bool) -> Iterator[Any]:
        mounts = self._mounts()
        it = _remote.run_many(self._fn, mounts, calls, self._max_workers)
        try:
            for ok, value in it:
                if ok or return_exceptions:
                    yield value
                else:
                    raise value
        finally:
            it.close()


