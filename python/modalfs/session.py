"""The process-wide default :class:`~modalfs.client.Client`."""
from __future__ import annotations

import threading
from typing import Optional

from .client import Client

_lock = threading.Lock()
_default: Optional[Client] = None


def default_client() -> Client:
    """The client every call without ``client=`` uses."""
    global _default
    with _lock:
        if _default is None:
            _default = Client()
        return _default


def configure(socket_path: Optional[str] = None,
              timeout: Optional[float] = None) -> Client:
    """Points the default client at another socket or timeout.

    ``socket_path`` defaults to ``$MODALFS_SOCKET`` or the daemon's
    ``/run/modalfs/modalfsd.sock``. Returns the new default client.
    """
    global _default
    with _lock:
        if _default is not None:
            _default.close()
        kw = {} if timeout is None else {"timeout": timeout}
        _default = Client(socket_path, **kw)
        return _default
