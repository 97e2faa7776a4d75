"""modalfs: Modal-style volumes on a modalfs host, from Python.

    import modalfs

    volume = modalfs.NetworkFileSystem.persisted("job-storage-vol")
    app = modalfs.App("demo")

    @app.function(network_file_systems={"/root/cache": volume})
    def expensive_computation(key: str) -> str: ...

    expensive_computation.remote("x")

The package talks to modalfsd's control socket directly (pure Python;
the protocol is in Documentation/protocol.md). See python/README.md.
"""
from .app import App, Function
from .client import Client
from .exceptions import (AlreadyExistsError, ConnectionError,
                         DirectoryNotEmptyError, Error, InvalidError,
                         InvalidNameError, InvalidPathError, IsDirectoryError,
                         MountError, NotDirectoryError, NotFoundError,
                         PermissionDeniedError, ProtocolError,
                         ProtocolVersionError, RemoteError, RemoteTraceback,
                         VolumeBusyError)
from .network_file_system import (FileEntry, FileEntryType,
                                  NetworkFileSystem, VolumeInfo)
from .session import configure
from .stats import stats
from .wire import VERSION as PROTOCOL_VERSION

#: Modal's older name for App.
Stub = App

__version__ = "0.1.0"

__all__ = [
    "App", "Stub", "Function", "Client", "NetworkFileSystem", "FileEntry",
    "FileEntryType", "VolumeInfo", "configure", "stats", "PROTOCOL_VERSION",
    "Error", "AlreadyExistsError", "ConnectionError", "DirectoryNotEmptyError",
    "InvalidError", "InvalidNameError", "InvalidPathError",
    "IsDirectoryError", "MountError", "NotDirectoryError", "NotFoundError",
    "PermissionDeniedError", "ProtocolError", "ProtocolVersionError",
    "RemoteError", "RemoteTraceback", "VolumeBusyError",
]
